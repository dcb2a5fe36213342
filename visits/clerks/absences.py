"""A clerk's absences: entered by hand (whole days or hours of one day) or taken from an
uploaded calendar, whose busy times replace those of the previous upload."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

from sqlalchemy import delete, select

from visits.booking import availability
from visits.booking.calendar import BusyTime, busy_times_from_ics
from visits.booking.wallclock import wall_instant
from visits.clerks.agenda import local_days
from visits.clerks.errors import StaffingError
from visits.core import audit
from visits.extensions import db, transaction
from visits.models import Absence, StaffUser

CALENDAR_SOURCE = "calendar"


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


def own_absence(clerk: StaffUser, absence_id: int) -> Absence | None:
    """The absence if it is this clerk's (None for another's, so ids reveal nothing)."""
    absence = db.session.get(Absence, absence_id)
    return absence if absence is not None and absence.clerk_id == clerk.id else None


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


def upload_calendar(clerk: StaffUser, data: bytes, *, by: StaffUser, now: datetime, filename: str = "") -> int:
    """The busy times of an uploaded calendar file (from ``now`` on) as the clerk's calendar
    absences, replacing the previous upload; how many there are. A file that cannot be used
    raises CalendarFileError and changes nothing."""
    busy = busy_times_from_ics(data, tz=availability.zone(), window_start=now)
    return replace_calendar_busy_times(clerk, busy, by=by, now=now, filename=filename)
