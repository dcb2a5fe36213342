"""What the clerk's pages share: the date and time filters of the templates, the status
labels, who acts and which day it is, the messages for refused changes (by refusal code),
and the step after a change to hours or absences."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import flash, redirect, url_for
from flask_babel import format_date, format_time, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from visits.booking import availability, items, modes, rules
from visits.clerks import conflicts as clerk_conflicts
from visits.core import clock
from visits.models import StaffUser, Status
from visits.video import jitsi
from visits.web.staff import bp

STATUS_LABELS = {
    Status.HELD: _l("awaiting confirmation"),
    Status.CONFIRMED: _l("confirmed"),
    Status.ATTENDED: _l("attended"),
    Status.NO_SHOW: _l("no-show"),
    Status.CANCELLED: _l("cancelled"),
    Status.EXPIRED: _l("expired"),
}

# What visits/clerks refuses (StaffingError), by refusal code.
STAFFING_MESSAGES = {
    "weekday_invalid": _l("Choose a weekday."),
    "end_before_start": _l("The end must be after the start."),
    "valid_until_before_from": _l("“Valid until” must not be before “valid from”."),
    "service_not_offered": _l("Choose only services you offer."),
    "location_unknown": _l("Choose a location from the list."),
    "times_required": _l("For an absence of some hours, enter both times."),
    "wrong_password": _l("The current password is not correct."),
    "password_too_short": _l("The new password is too short."),
    "password_too_long": _l("The new password is too long."),
    "password_too_common": _l(
        "This password is too easy to guess: it is a common password, a word, a name or a pattern. "
        "Choose a longer one, e.g. several unrelated words."
    ),
    "password_unchanged": _l("Choose a password different from the current one."),
    "too_many_tries": _l("Too many attempts. Please wait a few minutes and try again."),
}

# What the booking use cases refuse (BookingError), by refusal code.
BOOKING_MESSAGES = {
    "slot_unavailable": _l("This time is no longer free. Please choose another one."),
    "already_booked_at_this_time": _l("This person already has an appointment at this time."),
    "not_changeable": _l("This appointment can no longer be changed."),
    "invalid_input": _l("Please check the caller's details."),
    "mode_not_offered": _l("This service is not offered that way."),
}


# Why an uploaded calendar file cannot be used (CalendarFileError), by refusal code.
CALENDAR_FILE_MESSAGES = {
    "not_icalendar": _l("The file is not a valid iCalendar (.ics) file."),
    "no_events": _l("The file contains no events."),
    "events_unreadable": _l("The events in the file could not be read."),
    "too_many_events": _l("The file contains too many events."),
    "repeats_too_often": _l(
        "An event in the file repeats too often (every minute or second, or for too many years). "
        "Please export only the coming months."
    ),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def booking_message(error) -> str:
    """The message for a refused booking change, chosen by its code."""
    return str(BOOKING_MESSAGES.get(error.code, error.code))


@bp.app_template_filter("staff_date")
def staff_date(value, fmt: str = "full") -> str:
    if isinstance(value, datetime):
        value = clock.local(value, availability.zone()).date()
    return format_date(value, fmt)


@bp.app_template_filter("staff_time")
def staff_time(value: datetime) -> str:
    return format_time(clock.local(value, availability.zone()), "short", rebase=False)


@bp.app_template_filter("services")
def services(appointment, language: str) -> str:
    """All services of an appointment with their persons: "Anmeldung, Personalausweis (2 Personen)"."""
    return items.summary(appointment, language)


@bp.app_template_filter("place")
def place(appointment, language: str) -> modes.Place | None:
    """Where an on-site appointment is held (its location's name and address); None for
    video and phone."""
    return modes.place_of(appointment, language)


@bp.app_template_filter("staff_datetime")
def staff_datetime(value: datetime) -> str:
    local = clock.local(value, availability.zone())
    return f"{format_date(local.date(), 'medium')}, {format_time(local, 'short', rebase=False)}"


@bp.app_template_filter("staff_iso_day")
def staff_iso_day(value: datetime) -> str:
    return clock.local(value, availability.zone()).date().isoformat()


@bp.app_context_processor
def _staff_context() -> dict:
    return {
        "staff_status_label": status_label,
        # What may be done with an appointment now, asked as ``can_mark(item, now)``: the
        # rules of visits/booking/rules.py, the same the use cases enforce.
        "can_mark": rules.can_mark,
        "can_cancel": rules.can_cancel,
        "join_offered": jitsi.join_offered,
    }


def me() -> StaffUser:
    """The staff member who acts."""
    return current_user._get_current_object()


def lang() -> str:
    return str(get_locale() or "de")


def today(now: datetime) -> date:
    """The local day at ``now``."""
    return clock.local(now, availability.zone()).date()


# How far from today a page of days may go: far enough for any real planning or look back,
# near enough that a week on either side (or a day's end in UTC) stays a valid date; a
# request for 9999-12-31 or 0001-01-01 shows the nearest day in reach instead of failing.
DAYS_IN_REACH = timedelta(days=366 * 20)


def within_reach(day: date, now: datetime) -> date:
    """``day``, or the nearest day within twenty years of today."""
    here = today(now)
    return min(max(day, here - DAYS_IN_REACH), here + DAYS_IN_REACH)


def parse_day(value: str | None, now: datetime) -> date:
    """A day from the query (YYYY-MM-DD); today if there is none or it is unreadable, the
    nearest day in reach if it is too far off."""
    try:
        day = date.fromisoformat(value) if value else today(now)
    except ValueError:
        return today(now)
    return within_reach(day, now)


def row_id(value: str | None) -> int | None:
    """A database id from the query: digits that fit the database's 64-bit integers."""
    if not value or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def changed(message: str, endpoint: str, *, now: datetime):
    """Say what changed; then on to the conflicts page if the change strands an
    appointment, else back to ``endpoint``."""
    flash(message, "success")
    stranded = clerk_conflicts.stranded_appointments(me(), now)
    if stranded:
        flash(
            gettext(
                "%(count)d booked appointment(s) no longer fit your hours or absences. "
                "Please decide for each one.",
                count=len(stranded),
            ),
            "warning",
        )
        return redirect(url_for("staff.conflicts"))
    return redirect(url_for(endpoint))
