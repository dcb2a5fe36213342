"""The clerk's own side of the calendar: weekly hours, absences, uploaded busy times, the
appointments a change would strand and how each is resolved (keep, hand to a colleague,
cancel), the agenda and the calendar feed.

No request handling here: the staff pages call these functions, as could a command or a
job. Every change is one transaction and leaves an audit event (who, what, when).

A change to hours or absences is saved at once and never moves or cancels an appointment
by itself: booked appointments keep their time in the database. What the change does is
make some of them *stranded* (outside the new hours, inside an absence or on a public
holiday); ``stranded_appointments`` lists those until the clerk resolves each one."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import holidays as holidays_lib
from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from visits.booking import availability, links, rules
from visits.booking import operations as booking
from visits.booking.calendar import BusyTime
from visits.booking.slots import wall_instant
from visits.clerks.accounts import AccountError, check_password, hash_password
from visits.core import audit
from visits.core.events import appointment_changed
from visits.core.refusals import Refused
from visits.extensions import db, transaction
from visits.models import Absence, Appointment, AuditEvent, Service, StaffUser, Status, WeeklyHours

# A cancelled appointment stays in the clerk's feed (STATUS:CANCELLED) this long, so
# subscribed calendar programs see the cancellation instead of the event just vanishing.
FEED_KEEPS_CANCELLED = timedelta(days=14)
# How far back the feed reaches: enough for "what did I have last week".
FEED_PAST = timedelta(days=30)
CALENDAR_SOURCE = "calendar"


class StaffingError(Refused):
    """A change to a clerk's calendar or account that cannot be made."""


# -- weekly hours ------------------------------------------------------------------------


@dataclass(frozen=True)
class HoursSpec:
    """One interval of weekly hours as the clerk enters it (local wall-clock times)."""

    weekday: int
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None
    service_ids: frozenset[int] = frozenset()  # empty: every service the clerk offers


def _checked(clerk: StaffUser, spec: HoursSpec) -> list[Service]:
    if not 0 <= spec.weekday <= 6:
        raise StaffingError("weekday_invalid", "weekday")
    if spec.end <= spec.start:
        raise StaffingError("end_before_start", "end")
    if spec.valid_from and spec.valid_until and spec.valid_until < spec.valid_from:
        raise StaffingError("valid_until_before_from", "valid_until")
    offered = {s.id: s for s in clerk.services}
    if not spec.service_ids <= offered.keys():
        raise StaffingError("service_not_offered", "services")
    return [offered[i] for i in sorted(spec.service_ids)]


def _hours_details(hours: WeeklyHours) -> dict:
    return {
        "weekday": hours.weekday,
        "start": hours.start_time.strftime("%H:%M"),
        "end": hours.end_time.strftime("%H:%M"),
        "valid_from": hours.valid_from.isoformat() if hours.valid_from else None,
        "valid_until": hours.valid_until.isoformat() if hours.valid_until else None,
        "services": ",".join(str(s.id) for s in hours.services),
    }


def weekly_hours_of(clerk: StaffUser) -> list[WeeklyHours]:
    return list(
        db.session.scalars(
            select(WeeklyHours)
            .where(WeeklyHours.clerk_id == clerk.id)
            .options(selectinload(WeeklyHours.services))
            .order_by(WeeklyHours.weekday, WeeklyHours.start_time, WeeklyHours.id)
        )
    )


def add_weekly_hours(clerk: StaffUser, spec: HoursSpec, *, by: StaffUser, now: datetime) -> WeeklyHours:
    services = _checked(clerk, spec)
    with transaction():
        hours = WeeklyHours(
            clerk_id=clerk.id,
            weekday=spec.weekday,
            start_time=spec.start,
            end_time=spec.end,
            valid_from=spec.valid_from,
            valid_until=spec.valid_until,
            services=services,
        )
        db.session.add(hours)
        db.session.flush()
        audit.record("hours.added", at=now, actor=by, obj=hours, clerk_id=clerk.id, **_hours_details(hours))
    return hours


def update_weekly_hours(hours: WeeklyHours, spec: HoursSpec, *, by: StaffUser, now: datetime) -> WeeklyHours:
    services = _checked(hours.clerk, spec)
    with transaction():
        before = _hours_details(hours)
        hours.weekday = spec.weekday
        hours.start_time, hours.end_time = spec.start, spec.end
        hours.valid_from, hours.valid_until = spec.valid_from, spec.valid_until
        hours.services = services
        audit.record(
            "hours.changed",
            at=now,
            actor=by,
            obj=hours,
            clerk_id=hours.clerk_id,
            before=str(before),
            **_hours_details(hours),
        )
    return hours


def remove_weekly_hours(hours: WeeklyHours, *, by: StaffUser, now: datetime) -> None:
    with transaction():
        audit.record(
            "hours.removed", at=now, actor=by, obj=hours, clerk_id=hours.clerk_id, **_hours_details(hours)
        )
        db.session.delete(hours)


# -- absences and busy times -------------------------------------------------------------


def absence_span(
    first_day: date,
    last_day: date | None = None,
    start: time | None = None,
    end: time | None = None,
) -> tuple[datetime, datetime]:
    """Local days (whole days) or a local day with times (hours) as UTC instants."""
    if start is None and end is None:
        last_day = last_day or first_day
        if last_day < first_day:
            raise StaffingError("end_before_start", "end_date")
        return local_days(first_day, last_day)
    if start is None or end is None:
        raise StaffingError("times_required", "start_time" if start is None else "end_time")
    if end <= start:
        raise StaffingError("end_before_start", "end_time")
    tz = availability.zone()
    begins, ends = wall_instant(first_day, start, tz), wall_instant(first_day, end, tz)
    if ends <= begins:  # both inside the hour the clocks skip in spring: no time at all
        raise StaffingError("end_before_start", "end_time")
    return begins, ends


def absences_of(clerk: StaffUser, *, since: datetime, source: str | None = None) -> list[Absence]:
    query = select(Absence).where(Absence.clerk_id == clerk.id, Absence.end_at > since)
    if source is not None:
        query = query.where(Absence.source == source)
    return list(db.session.scalars(query.order_by(Absence.start_at, Absence.id)))


def _absence_details(absence: Absence) -> dict:
    return {"clerk_id": absence.clerk_id, "start": absence.start_at, "end": absence.end_at}


def add_absence(
    clerk: StaffUser, start: datetime, end: datetime, reason: str, *, by: StaffUser, now: datetime
) -> Absence:
    if end <= start:
        raise StaffingError("end_before_start", "end_date")
    with transaction():
        absence = Absence(
            clerk_id=clerk.id,
            start_at=start,
            end_at=end,
            reason=" ".join(reason.split())[:200],
            source="manual",
            created_at=now,
        )
        db.session.add(absence)
        db.session.flush()
        audit.record(
            "absence.added", at=now, actor=by, obj=absence, **_absence_details(absence), reason=absence.reason
        )
    return absence


def remove_absence(absence: Absence, *, by: StaffUser, now: datetime) -> None:
    with transaction():
        audit.record(
            "absence.removed", at=now, actor=by, obj=absence, **_absence_details(absence), source=absence.source
        )
        db.session.delete(absence)


def replace_calendar_busy_times(
    clerk: StaffUser, busy: Iterable[BusyTime], *, by: StaffUser, now: datetime, filename: str = ""
) -> int:
    """The busy times of a new upload replace those of the previous one, in one transaction:
    a file that cannot be read never gets here, so a bad upload changes nothing."""
    busy = list(busy)
    with transaction():
        removed = db.session.execute(
            delete(Absence).where(Absence.clerk_id == clerk.id, Absence.source == CALENDAR_SOURCE)
        ).rowcount
        for item in busy:
            db.session.add(
                Absence(
                    clerk_id=clerk.id,
                    start_at=item.start,
                    end_at=item.end,
                    reason=item.summary[:200],
                    source=CALENDAR_SOURCE,
                    created_at=now,
                )
            )
        audit.record(
            "busy_times.uploaded",
            at=now,
            actor=by,
            obj=clerk,
            added=len(busy),
            removed=removed or 0,
            filename=filename[:200],
        )
    return len(busy)


def holiday_names(first_day: date, last_day: date, language: str = "de") -> dict[date, str]:
    """Public holidays of the configured state, named in the page's language."""
    found = holidays_lib.country_holidays(
        "DE",
        subdiv=current_app.config["HOLIDAY_STATE"],
        years=range(first_day.year, last_day.year + 1),
        language="en_US" if language == "en" else "de",
    )
    return {d: name for d, name in sorted(found.items()) if first_day <= d <= last_day}


# -- stranded appointments ---------------------------------------------------------------


@dataclass(frozen=True)
class Stranded:
    """A booked appointment that the clerk's current hours or absences no longer cover."""

    appointment: Appointment
    outside_hours: bool
    absences: tuple[Absence, ...]
    holiday: str | None

    @property
    def fingerprint(self) -> str:
        """What the conflict is; keeping the appointment settles exactly this conflict, a
        later change that strands it anew (another absence) lists it again."""
        parts = ["hours"] if self.outside_hours else []
        parts += [f"absence:{a.id}" for a in self.absences]
        if self.holiday:
            parts.append("holiday")
        return ",".join(parts)




def _covered_by_hours(appointment: Appointment, rules: list[WeeklyHours], tz) -> bool:
    """The appointment lies wholly in the joined windows of its local day for its service."""
    day = appointment.start_at.astimezone(tz).date()
    windows = sorted(
        (wall_instant(day, r.start_time, tz), wall_instant(day, r.end_time, tz))
        for r in rules
        if r.weekday == day.weekday()
        and (r.valid_from is None or r.valid_from <= day)
        and (r.valid_until is None or day <= r.valid_until)
        and (not r.services or any(s.id == appointment.service_id for s in r.services))
    )
    joined: list[list[datetime]] = []
    for start, end in windows:
        if joined and start <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end])
    return any(start <= appointment.start_at and appointment.end_at <= end for start, end in joined)


def _kept_fingerprints(appointment_ids: list[int]) -> dict[int, set[str]]:
    if not appointment_ids:
        return {}
    kept: dict[int, set[str]] = {}
    for event in db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "appointment.kept",
            AuditEvent.object_type == "appointment",
            AuditEvent.object_id.in_(appointment_ids),
        )
    ):
        details = event.details or {}
        kept.setdefault(event.object_id, set()).add(
            f"{details.get('start')}|{details.get('clerk_id')}|{details.get('conflict')}"
        )
    return kept


def _key(stranded: Stranded) -> str:
    appointment = stranded.appointment
    return f"{appointment.start_at.isoformat()}|{appointment.clerk_id}|{stranded.fingerprint}"


def stranded_appointments(
    clerk: StaffUser, now: datetime, *, include_kept: bool = False, language: str = "de"
) -> list[Stranded]:
    """The clerk's upcoming booked appointments outside their hours, in an absence or on a
    public holiday, minus those the clerk chose to keep as they are."""
    appointments = list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.clerk_id == clerk.id,
                Appointment.start_at > now,
                Appointment.status.in_([Status.HELD, Status.CONFIRMED]),
                availability.occupying_condition(now),
            )
            .options(selectinload(Appointment.service))
            .order_by(Appointment.start_at)
        )
    )
    if not appointments:
        return []
    tz = availability.zone()
    rules = weekly_hours_of(clerk)
    last = max(a.end_at for a in appointments)
    absences = absences_of(clerk, since=appointments[0].start_at)
    absences = [a for a in absences if a.start_at < last]
    first_day = appointments[0].start_at.astimezone(tz).date()
    holidays = holiday_names(first_day, last.astimezone(tz).date(), language)
    found = []
    for appointment in appointments:
        hits = tuple(
            a for a in absences if a.start_at < appointment.end_at and a.end_at > appointment.start_at
        )
        holiday = holidays.get(appointment.start_at.astimezone(tz).date())
        outside = not _covered_by_hours(appointment, rules, tz)
        if outside or hits or holiday:
            found.append(Stranded(appointment, outside, hits, holiday))
    if include_kept:
        return found
    kept = _kept_fingerprints([s.appointment.id for s in found])
    return [s for s in found if _key(s) not in kept.get(s.appointment.id, set())]


def stranded_one(clerk: StaffUser, appointment_id: int, now: datetime) -> Stranded | None:
    for stranded in stranded_appointments(clerk, now):
        if stranded.appointment.id == appointment_id:
            return stranded
    return None


def keep(stranded: Stranded, *, by: StaffUser, now: datetime) -> None:
    """The clerk takes the appointment as it is (they will be there after all)."""
    appointment = stranded.appointment
    with transaction():
        audit.record(
            "appointment.kept",
            at=now,
            actor=by,
            obj=appointment,
            start=appointment.start_at,
            clerk_id=appointment.clerk_id,
            conflict=stranded.fingerprint,
        )


def free_colleagues(appointment: Appointment, now: datetime) -> list[StaffUser]:
    """Active colleagues who offer the service and have exactly this slot free.

    The slot engine decides "free" as it does for citizens (hours, absences, holidays,
    bookings, buffers), without the minimum notice: handing over an appointment that starts
    soon is exactly when it is needed."""
    return free_colleagues_of([appointment], now)[appointment.id]


def _handover_rules(appointment: Appointment, now: datetime):
    service = appointment.service
    return dataclasses.replace(
        availability.service_rules(service),
        min_notice=timedelta(0),
        horizon=max(timedelta(days=service.horizon_days), appointment.start_at - now + timedelta(days=1)),
    )


def free_colleagues_of(appointments: list[Appointment], now: datetime) -> dict[int, list[StaffUser]]:
    """``free_colleagues`` of each appointment (by id), asked together: the same few
    queries for one appointment as for a page of them."""
    offering = availability.bookable_clerk_ids_of({a.service_id for a in appointments})
    tz = availability.zone()
    asked, questions = [], []
    for appointment in appointments:
        ids = tuple(c for c in offering.get(appointment.service_id, ()) if c != appointment.clerk_id)
        if ids:
            day = appointment.start_at.astimezone(tz).date()
            asked.append(appointment)
            questions.append(availability.SlotQuestion(_handover_rules(appointment, now), day, day, ids))
    free_ids: dict[int, tuple[int, ...]] = {}
    for appointment, found in zip(asked, availability.free_slots_of_many(questions, now), strict=True):
        free_ids[appointment.id] = next((s.clerk_ids for s in found if s.start == appointment.start_at), ())
    wanted = {clerk for ids in free_ids.values() for clerk in ids}
    people = (
        list(db.session.scalars(select(StaffUser).where(StaffUser.id.in_(wanted)).order_by(StaffUser.name)))
        if wanted
        else []
    )
    return {a.id: [p for p in people if p.id in free_ids.get(a.id, ())] for a in appointments}


def stranded_with_colleagues(
    clerk: StaffUser, now: datetime, *, language: str = "de"
) -> list[tuple[Stranded, list[StaffUser]]]:
    """What the conflicts page lists: each stranded appointment with the colleagues free to
    take it over."""
    stranded = stranded_appointments(clerk, now, language=language)
    colleagues = free_colleagues_of([s.appointment for s in stranded], now)
    return [(s, colleagues[s.appointment.id]) for s in stranded]


def reassign(appointment: Appointment, colleague: StaffUser, *, by: StaffUser, now: datetime) -> Appointment:
    """Hand the appointment to a free colleague: same time, same room, same links; the
    citizen's calendar entry stays valid, so no SEQUENCE change."""
    if not rules.can_reschedule(appointment, now):
        raise booking.NotChangeable(status=appointment.status)
    if colleague.id not in {c.id for c in free_colleagues(appointment, now)}:
        raise booking.SlotUnavailable()
    previous = appointment.clerk
    with transaction():
        try:
            with db.session.begin_nested():
                appointment.clerk_id = colleague.id
                appointment.updated_at = now
        except IntegrityError as exc:  # taken a moment ago
            appointment.clerk_id = previous.id
            raise booking.SlotUnavailable() from exc
        audit.record(
            "appointment.reassigned",
            at=now,
            actor=by,
            obj=appointment,
            from_clerk=previous.id,
            to_clerk=colleague.id,
        )
        appointment_changed.send(
            "reassigned", appointment=appointment, now=now, by=by, previous_clerk=previous
        )
    return appointment


# -- the clerk's appointments ------------------------------------------------------------


def local_days(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """The UTC span of the local days first_day..last_day (inclusive)."""
    tz = availability.zone()
    return wall_instant(first_day, time.min, tz), wall_instant(last_day + timedelta(days=1), time.min, tz)


def agenda(clerk_id: int | None, first_day: date, last_day: date) -> list[Appointment]:
    """Appointments on the local days, of one clerk (None: everyone's, for administrators).
    Expired holds never happened and are left out; cancelled ones are shown as such."""
    start, end = local_days(first_day, last_day)
    query = (
        select(Appointment)
        .where(
            Appointment.start_at >= start,
            Appointment.start_at < end,
            Appointment.status != Status.EXPIRED,
        )
        .options(selectinload(Appointment.service), selectinload(Appointment.clerk))
        .order_by(Appointment.start_at, Appointment.id)
    )
    if clerk_id is not None:
        query = query.where(Appointment.clerk_id == clerk_id)
    return list(db.session.scalars(query))


def agenda_days(clerk_id: int | None, first_day: date, last_day: date, language: str = "de") -> list[dict]:
    """The agenda of each local day first_day..last_day: its public holiday, its appointments
    (``agenda``) and, for one clerk, the absences that touch it."""
    appointments = agenda(clerk_id, first_day, last_day)
    holidays = holiday_names(first_day, last_day, language)
    absences: list[Absence] = []
    if clerk_id is not None:
        start, end = local_days(first_day, last_day)
        absences = list(
            db.session.scalars(
                select(Absence)
                .where(Absence.clerk_id == clerk_id, Absence.start_at < end, Absence.end_at > start)
                .order_by(Absence.start_at)
            )
        )
    tz = availability.zone()
    days = []
    current = first_day
    while current <= last_day:
        day_start, day_end = local_days(current, current)
        days.append(
            {
                "day": current,
                "holiday": holidays.get(current),
                "appointments": [a for a in appointments if a.start_at.astimezone(tz).date() == current],
                "absences": [a for a in absences if a.start_at < day_end and a.end_at > day_start],
            }
        )
        current += timedelta(days=1)
    return days


def staff_by_name() -> list[StaffUser]:
    """Everyone on the staff, for an administrator's choice of whose agenda to see."""
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.name)))


def phone_booking_services() -> list[Service]:
    """The services a clerk can book for a caller: the active ones, by name."""
    return list(db.session.scalars(select(Service).where(Service.active.is_(True)).order_by(Service.name_de)))


def visible_appointment(user: StaffUser, appointment_id: int) -> Appointment | None:
    """The appointment if this staff member may see it: their own, or any for an admin."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or not (user.is_admin or appointment.clerk_id == user.id):
        return None
    return appointment


def set_internal_note(appointment: Appointment, note: str, *, by: StaffUser, now: datetime) -> None:
    with transaction():
        appointment.internal_note = note.strip()[:4000]
        appointment.updated_at = now
        audit.record("appointment.note_changed", at=now, actor=by, obj=appointment)


def preview(
    clerk: StaffUser, first_day: date, last_day: date, now: datetime, *, language: str = "de"
) -> list[dict]:
    """The clerk's own free slots per local day and service, as citizens would see them."""
    tz = availability.zone()
    holidays = holiday_names(first_day, last_day, language)
    days: dict[date, dict] = {}
    day = first_day
    while day <= last_day:
        days[day] = {"day": day, "holiday": holidays.get(day), "services": []}
        day += timedelta(days=1)
    offered = [s for s in sorted(clerk.services, key=lambda s: s.name_de) if s.active]
    questions = [
        availability.SlotQuestion(availability.service_rules(s), first_day, last_day, (clerk.id,)) for s in offered
    ]
    for service, found in zip(offered, availability.free_slots_of_many(questions, now), strict=True):
        by_day: dict[date, list[datetime]] = {}
        for slot in found:
            by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot.start)
        for found_day, starts in by_day.items():
            if found_day in days:
                days[found_day]["services"].append((service, starts))
    return list(days.values())


# -- calendar feed -----------------------------------------------------------------------


def renew_feed_token(clerk: StaffUser, *, by: StaffUser, now: datetime) -> str:
    """A new secret feed URL; the old one stops working at once. Only the hash is kept, so
    the URL is shown once."""
    token = links.new_feed_token()
    with transaction():
        renewed = clerk.feed_token_hash is not None
        clerk.feed_token_hash = links.token_hash(token)
        audit.record("feed.renewed" if renewed else "feed.created", at=now, actor=by, obj=clerk)
    return token


def clerk_by_feed_token(token: str) -> StaffUser | None:
    if not token or len(token) > 100:
        return None
    clerk = db.session.scalar(select(StaffUser).where(StaffUser.feed_token_hash == links.token_hash(token)))
    return clerk if clerk is not None and clerk.active else None


def feed_appointments(clerk: StaffUser, now: datetime) -> list[Appointment]:
    """Booked appointments from a month ago on, and cancellations of the last two weeks."""
    return [
        a
        for a in db.session.scalars(
            select(Appointment)
            .where(
                Appointment.clerk_id == clerk.id,
                Appointment.start_at >= now - FEED_PAST,
                Appointment.status.in_([Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW, Status.CANCELLED]),
            )
            .options(selectinload(Appointment.service))
            .order_by(Appointment.start_at, Appointment.id)
        )
        if a.status != Status.CANCELLED or (a.cancelled_at and a.cancelled_at >= now - FEED_KEEPS_CANCELLED)
    ]


# -- account -----------------------------------------------------------------------------


def change_password(user: StaffUser, current: str, new: str, *, now: datetime) -> None:
    if not check_password(user, current):
        raise StaffingError("wrong_password", "current_password")
    try:
        new_hash = hash_password(new)
    except AccountError as exc:
        raise StaffingError("password_too_short", "new_password") from exc
    with transaction():
        user.password_hash = new_hash
        audit.record("staff.password_changed", at=now, actor=user, obj=user)
