"""Every iCalendar file the app produces or reads (RFC 5545/5546), in one place.

Held to the ``ics-*`` rules of docs/checklist.md: CRLF and folding come from the icalendar
library; times are written in UTC (``...Z``) so no VTIMEZONE is needed; the UID is the
appointment's random ``uid`` for its whole life and SEQUENCE its ``sequence``; text values are
escaped by the library, and parameter values (CN) are cleaned of line breaks and quotes, so a
name cannot add a property or a component."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parseaddr

import recurring_ical_events
from flask_babel import force_locale, format_date, format_time, gettext
from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from visits import settings
from visits.booking import availability, items, links, modes
from visits.core import clock
from visits.core.refusals import Refused
from visits.models import Appointment, Status

PRODID = "-//Visits//Terminbuchung der Stadtverwaltung//DE"
FEED_REFRESH = timedelta(minutes=15)
MAX_UPLOADED_EVENTS = 5000


class CalendarFileError(Refused):
    """An uploaded calendar file that cannot be used; ``code`` says why (``not_icalendar``,
    ``no_events``, ``events_unreadable``, ``too_many_events``, ``repeats_too_often``)."""


@dataclass(frozen=True)
class BusyTime:
    start: datetime  # aware UTC
    end: datetime
    summary: str


def _param(value: str) -> str:
    """A parameter value (CN) cannot hold line breaks or double quotes (RFC 5545 3.2)."""
    return " ".join(value.replace('"', "'").split())[:200]


def _organizer() -> vCalAddress:
    name, address = parseaddr(settings.current().mail_from)
    organizer = vCalAddress(f"mailto:{address}")
    if name:
        organizer.params["CN"] = vText(_param(name))
    return organizer


def _attendee(appointment: Appointment, method: str | None) -> vCalAddress | None:
    if not appointment.citizen_email:
        return None
    attendee = vCalAddress(f"mailto:{appointment.citizen_email}")
    attendee.params["CN"] = vText(_param(appointment.citizen_name))
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "DECLINED" if method == "CANCEL" else "ACCEPTED"
    attendee.params["RSVP"] = "FALSE"
    return attendee


def _when(appointment: Appointment) -> str:
    local = clock.local(appointment.start_at, availability.zone())
    return f"{format_date(local.date(), 'full')}, {format_time(local.time(), 'short')}"


def _summary(appointment: Appointment) -> str:
    return gettext("Appointment: %(service)s", service=items.summary(appointment, appointment.language))


def _location(appointment: Appointment, language: str | None = None) -> str | None:
    """LOCATION: the video call, or the place's name and address (in ``language``, default
    the citizen's); a phone call has none."""
    if appointment.is_video:
        return gettext("Video call – join via the link in this appointment")
    if appointment.is_phone:
        return None
    place = modes.place_of(appointment, language or appointment.language)
    return (place.one_line if place else "") or gettext("On site")


def _description(
    appointment: Appointment, manage_url: str, join_url: str | None, phone_line: str | None = None
) -> str:
    lines = [
        items.summary(appointment, appointment.language),
        _when(appointment),
        gettext("Reference: %(reference)s", reference=appointment.reference),
        "",
    ]
    if appointment.is_video:
        lines += [gettext("Join the video call:"), join_url, ""]
        if phone_line:
            lines += [phone_line, ""]
    elif appointment.is_phone:
        lines += [modes.phone_call(appointment), ""]
    elif place := modes.place_of(appointment, appointment.language):
        lines += [gettext("Address: %(address)s", address=place.one_line)]
        if place.directions:
            lines.append(gettext("Directions: %(directions)s", directions=place.directions))
        if place.accessibility:
            lines.append(gettext("Accessibility: %(features)s", features=", ".join(place.accessibility)))
        lines.append("")
    documents = items.documents_per_service(appointment, appointment.language)
    if documents:
        lines.append(gettext("Please have at hand:"))
        several = len(items.lines(appointment)) > 1
        for label, of_service in documents:
            lines += [f"{label}:"] if several else []
            lines += [f"- {doc}" for doc in of_service]
        lines.append("")
    lines += [gettext("Change or cancel:"), manage_url]
    return "\n".join(lines)


def _timed_event(appointment: Appointment, now: datetime) -> Event:
    """The fields every event of an appointment has, in mails, downloads and the clerk's feed."""
    event = Event()
    event.add("uid", appointment.uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", appointment.start_at.astimezone(UTC))
    event.add("dtend", appointment.end_at.astimezone(UTC))
    event.add("sequence", appointment.sequence)
    return event


def _event(
    appointment: Appointment,
    method: str | None,
    now: datetime,
    manage_url: str,
    join_url: str | None,
    phone_line: str | None = None,
) -> Event:
    event = _timed_event(appointment, now)
    event.add("summary", _summary(appointment))
    location = _location(appointment)
    if location:
        event.add("location", location)
    place = modes.place_of(appointment, appointment.language)
    if place and place.geo:
        event.add("geo", place.geo)
    event.add("description", _description(appointment, manage_url, join_url, phone_line))
    cancelled = method == "CANCEL" or appointment.status in (Status.CANCELLED, Status.EXPIRED)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _organizer())
    attendee = _attendee(appointment, method)
    if attendee is not None:
        event.add("attendee", attendee)
    if appointment.is_video:
        event.add("url", join_url)
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _summary(appointment))
        alarm.add("trigger", timedelta(minutes=-30))
        event.add_component(alarm)
    return event


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def appointment_ics(
    appointment: Appointment,
    *,
    method: str | None,
    now: datetime,
    manage_url: str | None = None,
    join_url: str | None = None,
    phone_line: str | None = None,
) -> bytes:
    """The appointment as a calendar file, in the citizen's language.

    ``method``: "REQUEST" (booking or change, by mail), "CANCEL" (cancellation, by mail) or
    None (a download from the manage page). ``manage_url`` and ``join_url`` stand in for the
    secret links (a mail's file carries the outbox's placeholders, filled in when it is sent).
    ``phone_line``: how to join by phone ("By phone: …, conference PIN …#", from
    ``video.dial_in.line_for``, in the citizen's language), or None for nothing about phones."""
    if method not in (None, "REQUEST", "CANCEL"):
        raise ValueError(method)
    manage_url = manage_url or links.manage_url(appointment)
    if appointment.is_video:
        join_url = join_url or links.join_url(appointment)
    with force_locale(appointment.language):
        calendar = _calendar(method)
        calendar.add_component(_event(appointment, method, now, manage_url, join_url, phone_line))
        return calendar.to_ical()


def _feed_event(appointment: Appointment, now: datetime) -> Event:
    """A clerk's view of an appointment: its services (each with its persons), mode,
    reference and, on site, the location; no citizen data (the feed lands in a calendar
    program outside the city's systems; the agenda has the details)."""
    event = _timed_event(appointment, now)
    kind = {"video": gettext("video"), "phone": gettext("phone")}.get(appointment.mode, gettext("on site"))
    event.add("summary", f"{items.summary(appointment, 'de')} ({kind}, {appointment.reference})")
    event.add("description", "\n".join(items.label(line, "de") for line in items.lines(appointment)))
    if appointment.is_on_site:
        event.add("location", _location(appointment, "de"))
    cancelled = appointment.status in (Status.CANCELLED, Status.EXPIRED)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    event.add("last-modified", appointment.updated_at.astimezone(UTC))
    return event


def feed_ics(appointments: Iterable[Appointment], *, calendar_name: str, now: datetime) -> bytes:
    """A clerk's subscription feed (webcal): no METHOD, refresh hints, stable UIDs."""
    with force_locale("de"):
        calendar = _calendar(None)
        calendar.add("x-wr-calname", calendar_name)
        calendar.add("x-published-ttl", FEED_REFRESH)
        calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
        for appointment in appointments:
            calendar.add_component(_feed_event(appointment, now))
        return calendar.to_ical()


def _instant(value: date | datetime, tz) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating time: the clerk's own local time
            value = value.replace(tzinfo=tz)
        return value.astimezone(UTC)
    return datetime.combine(value, time.min, tz).astimezone(UTC)


# What expanding an uploaded file may cost, in occurrences the expansion steps through: a
# recurrence rule is walked from its DTSTART (dateutil), whatever the window asked for, so
# "FREQ=MINUTELY" in 170 bytes is half a million events a year and a daily rule from the
# year 1 is 740 000. Ten times the events we keep leaves room for old daily and weekly series.
MAX_EXPANSION_STEPS = 10 * MAX_UPLOADED_EVENTS

_PERIOD = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(weeks=1),
    "MONTHLY": timedelta(days=28),
    "YEARLY": timedelta(days=365),
}
# The BY parts that add occurrences within one period of each frequency (RFC 5545 3.3.10,
# "expand"); the others only filter, and filtering does not make the walk shorter.
_EXPANDING = {
    "SECONDLY": (),
    "MINUTELY": ("BYSECOND",),
    "HOURLY": ("BYMINUTE", "BYSECOND"),
    "DAILY": ("BYHOUR", "BYMINUTE", "BYSECOND"),
    "WEEKLY": ("BYDAY", "BYHOUR", "BYMINUTE", "BYSECOND"),
    "MONTHLY": ("BYMONTHDAY", "BYDAY", "BYHOUR", "BYMINUTE", "BYSECOND"),
    "YEARLY": ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYHOUR", "BYMINUTE", "BYSECOND"),
}
# One BYDAY entry ("MO") is every Monday of the period: up to 5 in a month, 53 in a year.
_WEEKDAYS_PER_PERIOD = {"MONTHLY": 5, "YEARLY": 53}


def _rule_steps(event, rule, window_end: datetime, tz) -> int:
    """An upper estimate of the occurrences expanding ``rule`` steps through up to ``window_end``."""
    frequency = str((rule.get("FREQ") or [""])[0]).upper()
    if frequency not in _PERIOD:
        raise CalendarFileError("events_unreadable")
    start = _instant(event.decoded("DTSTART"), tz) if "DTSTART" in event else window_end
    end = window_end
    if rule.get("UNTIL"):
        end = min(end, _instant(rule["UNTIL"][0], tz))
    if end < start:
        return 1
    interval = max(int((rule.get("INTERVAL") or [1])[0]), 1)
    periods = (end - start) // (_PERIOD[frequency] * interval) + 1
    per_period = 1
    for part in _EXPANDING[frequency]:
        values = rule.get(part) or []
        weight = _WEEKDAYS_PER_PERIOD.get(frequency, 1) if part == "BYDAY" else 1
        per_period *= max(len(values) * weight, 1)
    steps = periods * per_period
    filters = [p for p in rule if p.startswith("BY") and p not in _EXPANDING[frequency] and p != "BYSETPOS"]
    if rule.get("COUNT") and not filters:  # COUNT ends the walk, unless filters skip occurrences
        steps = min(steps, int(rule["COUNT"][0]))
    return steps


def _refuse_unbounded_expansion(events, window_end: datetime, tz=UTC) -> None:
    """Refuse a file whose expansion would step through more than MAX_EXPANSION_STEPS
    occurrences, before any expansion happens (a bounded read of the rules, not a run)."""
    steps = 0
    try:
        for event in events:
            steps += 1
            rules = event.get("RRULE")
            for rule in rules if isinstance(rules, list) else [rules] if rules else []:
                steps += _rule_steps(event, rule, window_end, tz)
            dates = event.get("RDATE")
            for listing in dates if isinstance(dates, list) else [dates] if dates else []:
                steps += len(getattr(listing, "dts", []))
            if steps > MAX_EXPANSION_STEPS:
                raise CalendarFileError("repeats_too_often")
    except CalendarFileError:
        raise
    except Exception as exc:  # a rule the parser took but that makes no sense (FREQ missing...)
        raise CalendarFileError("events_unreadable") from exc


def busy_times_from_ics(
    data: bytes,
    *,
    tz=None,
    window_start: datetime,
    window_end: datetime | None = None,
) -> list[BusyTime]:
    """Busy times from a calendar file a clerk exported from their own calendar program.

    Recurring events are expanded inside the window (``window_start``, the upload's now, and by default a year on);
    free (TRANSP:TRANSPARENT) and cancelled events are not busy. Anything that is not a
    usable calendar raises CalendarFileError with the reason's code."""
    tz = tz or availability.zone()
    window_end = window_end or window_start + timedelta(days=366)
    try:
        calendar = Calendar.from_ical(data)
    except Exception as exc:  # the parser raises several kinds on garbage
        raise CalendarFileError("not_icalendar") from exc
    if getattr(calendar, "name", "") != "VCALENDAR":
        raise CalendarFileError("not_icalendar")
    events = calendar.walk("VEVENT")
    if not events:
        raise CalendarFileError("no_events")
    _refuse_unbounded_expansion(events, window_end, tz)
    try:
        occurrences = recurring_ical_events.of(calendar).between(window_start, window_end)
    except Exception as exc:
        raise CalendarFileError("events_unreadable") from exc
    busy: list[BusyTime] = []
    for event in occurrences:
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        if "DTSTART" not in event:
            continue
        start = _instant(event.decoded("DTSTART"), tz)
        if "DTEND" in event:
            end = _instant(event.decoded("DTEND"), tz)
        elif "DURATION" in event:
            end = start + event.decoded("DURATION")
        elif not isinstance(event.decoded("DTSTART"), datetime):
            end = start + timedelta(days=1)
        else:
            continue  # an instant without duration blocks nothing
        if end <= start:
            continue
        busy.append(BusyTime(start, end, " ".join(str(event.get("SUMMARY", "")).split())[:200]))
        if len(busy) > MAX_UPLOADED_EVENTS:
            raise CalendarFileError("too_many_events")
    return sorted(busy, key=lambda b: (b.start, b.end))
