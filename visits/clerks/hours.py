"""A clerk's weekly hours: the intervals they work each weekday, for some or all of the
services they offer, at a location (or none: video and phone only), perhaps reserved for
bookings by staff and the phone centre. Saving hours never moves an appointment;
``conflicts`` lists the ones a change leaves outside them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from visits.clerks.errors import StaffingError
from visits.core import audit
from visits.extensions import db, transaction
from visits.models import Location, Service, StaffUser, WeeklyHours


@dataclass(frozen=True)
class HoursSpec:
    """One interval of weekly hours as the clerk enters it (local wall-clock times)."""

    weekday: int
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None
    service_ids: frozenset[int] = frozenset()  # empty: every service the clerk offers
    location_id: int | None = None  # where they are worked; None: video and phone only
    reserved: bool = False  # for bookings by staff and the phone centre


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
    if spec.location_id is not None and db.session.get(Location, spec.location_id) is None:
        raise StaffingError("location_unknown", "location")
    return [offered[i] for i in sorted(spec.service_ids)]


def _hours_details(hours: WeeklyHours) -> dict:
    return {
        "weekday": hours.weekday,
        "start": hours.start_time.strftime("%H:%M"),
        "end": hours.end_time.strftime("%H:%M"),
        "valid_from": hours.valid_from.isoformat() if hours.valid_from else None,
        "valid_until": hours.valid_until.isoformat() if hours.valid_until else None,
        "services": ",".join(str(s.id) for s in hours.services),
        "location_id": hours.location_id,
        "reserved": hours.reserved,
    }


def weekly_hours_of(clerk: StaffUser) -> list[WeeklyHours]:
    return list(
        db.session.scalars(
            select(WeeklyHours)
            .where(WeeklyHours.clerk_id == clerk.id)
            .options(selectinload(WeeklyHours.services), selectinload(WeeklyHours.location))
            .order_by(WeeklyHours.weekday, WeeklyHours.start_time, WeeklyHours.id)
        )
    )


def own_weekly_hours(clerk: StaffUser, hours_id: int) -> WeeklyHours | None:
    """The interval if it is this clerk's (None for another's, so ids reveal nothing)."""
    hours = db.session.get(WeeklyHours, hours_id)
    return hours if hours is not None and hours.clerk_id == clerk.id else None


def locations() -> list[Location]:
    """Where hours may be worked, by name."""
    return list(db.session.scalars(select(Location).order_by(Location.name_de)))


def usual_location(clerk: StaffUser) -> Location | None:
    """Where new hours are worked unless the clerk says otherwise: where their last hours
    are, else the first location of their department."""
    last = db.session.scalar(
        select(WeeklyHours.location_id)
        .where(WeeklyHours.clerk_id == clerk.id, WeeklyHours.location_id.is_not(None))
        .order_by(WeeklyHours.id.desc())
        .limit(1)
    )
    if last is not None:
        return db.session.get(Location, last)
    return db.session.scalar(
        select(Location).where(Location.department_id == clerk.department_id).order_by(Location.name_de).limit(1)
    )


def offered_services(clerk: StaffUser) -> list[Service]:
    """The services the clerk offers, by name: what their hours may be limited to."""
    return sorted(clerk.services, key=lambda s: s.name_de)


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
            location_id=spec.location_id,
            reserved=spec.reserved,
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
        hours.location_id, hours.reserved = spec.location_id, spec.reserved
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
