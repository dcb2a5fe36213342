"""Departments, locations and closing days: what administrators change, and the default
department and location every service and staff member belongs to when none is chosen.

Departments are the city administrator's; a department administrator lists and changes
the locations (and their closing days) of their own department only (``visits.admin.scope``).

Every change is recorded in the audit trail in the same transaction as the change itself.
A closing day closes the on-site slots of its location (``visits.booking.availability``);
adding or removing one replaces the slot cache's generation like an absence does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from visits.admin import scope
from visits.admin.changes import create_or_change
from visits.core import audit
from visits.core.refusals import Refused
from visits.core.slugs import is_slug
from visits.extensions import db, transaction
from visits.models import ClosingDay, Department, Location, Service, StaffUser

# The department and location the migration moved the single office into (0006_places).
DEFAULT_SLUG = "buergerservice"
DEFAULT_NAME_DE = "Bürgerservice"
DEFAULT_NAME_EN = "Citizens' service"

# How far ahead the API lists closing days.
CLOSING_DAYS_AHEAD = 60

# Fields of a department the city administrator edits (the order is the form's).
DEPARTMENT_FIELDS = ("slug", "name_de", "name_en", "active", "reserved_share_percent")

# Fields of a location an administrator edits (the order is the form's).
LOCATION_FIELDS = (
    "slug",
    "department_id",
    "name_de",
    "name_en",
    "street",
    "postcode",
    "city",
    "directions_de",
    "directions_en",
    "step_free",
    "hearing_loop",
    "opening_hours_de",
    "opening_hours_en",
    "latitude",
    "longitude",
)


class PlaceError(Refused):
    """A change to locations or closing days the rules do not allow."""


# ----------------------------------------------------------------------------- defaults


def default_location() -> Location:
    """The default location (of the default department), created when a database has none
    (the migration creates both; a database emptied since has neither)."""
    found = db.session.scalar(select(Location).where(Location.slug == DEFAULT_SLUG))
    if found is not None:
        return found
    department = db.session.scalar(select(Department).where(Department.slug == DEFAULT_SLUG))
    if department is None:
        department = Department(slug=DEFAULT_SLUG, name_de=DEFAULT_NAME_DE, name_en=DEFAULT_NAME_EN, active=True)
        db.session.add(department)
    found = Location(slug=DEFAULT_SLUG, name_de=DEFAULT_NAME_DE, name_en=DEFAULT_NAME_EN, department=department)
    db.session.add(found)
    db.session.flush()
    return found


# ----------------------------------------------------------------------------- reading


def all_departments(user: StaffUser | None = None) -> list[Department]:
    """Every department (that ``user`` manages, if given) with its locations (two queries,
    whatever their number)."""
    query = select(Department).options(selectinload(Department.locations)).order_by(Department.name_de)
    if user is not None:
        query = scope.limit(query, user, Department.id)
    return list(db.session.scalars(query))


def department_by_slug(slug: str) -> Department | None:
    """The department with this slug (as typed: case and spaces do not matter), or None."""
    return db.session.scalar(select(Department).where(Department.slug == slug.strip().lower()))


def all_locations(user: StaffUser | None = None) -> list[Location]:
    """Every location (of the departments ``user`` manages, if given) with its department
    and its closing days."""
    query = (
        select(Location)
        .options(selectinload(Location.department), selectinload(Location.closing_days))
        .order_by(Location.name_de, Location.id)
    )
    if user is not None:
        query = scope.limit(query, user, Location.department_id)
    return list(db.session.scalars(query))


def first_location(department_id: int) -> Location | None:
    """Where a service of the department is held when none is chosen: the default location
    for the default department, else the department's first location by name (None if it
    has none)."""
    department = db.session.get(Department, department_id)
    if department is not None and department.slug == DEFAULT_SLUG:
        return default_location()
    return db.session.scalar(
        select(Location).where(Location.department_id == department_id).order_by(Location.name_de, Location.id)
    )


def closing_days(location: Location, first_day: date | None = None, last_day: date | None = None) -> list[ClosingDay]:
    """The closing days of ``location`` (between the days given, both inclusive), by date."""
    query = select(ClosingDay).where(ClosingDay.location_id == location.id)
    if first_day is not None:
        query = query.where(ClosingDay.day >= first_day)
    if last_day is not None:
        query = query.where(ClosingDay.day <= last_day)
    return list(db.session.scalars(query.order_by(ClosingDay.day, ClosingDay.from_time)))


# ----------------------------------------------------------------------------- locations


def _check_location(values: dict[str, Any], location: Location | None, by: StaffUser) -> None:
    if not is_slug(values["slug"]):
        raise PlaceError("slug_invalid", "slug")
    taken = db.session.scalar(select(Location.id).where(Location.slug == values["slug"]))
    if taken is not None and (location is None or taken != location.id):
        raise PlaceError("location_slug_taken", "slug")
    if db.session.get(Department, values["department_id"] or 0) is None:
        raise PlaceError("department_unknown", "department_id")
    if not scope.may_use_department(by, values["department_id"]):
        raise PlaceError("department_unknown", "department_id")
    latitude, longitude = values["latitude"], values["longitude"]
    if (latitude is None) != (longitude is None):
        raise PlaceError("coordinates_incomplete", "longitude" if longitude is None else "latitude")
    if latitude is not None and not -90 <= latitude <= 90:
        raise PlaceError("latitude_invalid", "latitude")
    if longitude is not None and not -180 <= longitude <= 180:
        raise PlaceError("longitude_invalid", "longitude")


def save_location(
    values: dict[str, Any], by: StaffUser, location: Location | None = None, *, now: datetime
) -> Location:
    """Create a location (``location`` None) or change one; records which fields changed."""
    values = {k: values[k] for k in LOCATION_FIELDS}
    values["slug"] = (values["slug"] or "").strip().lower()
    _check_location(values, location, by)
    with transaction():
        return create_or_change(Location, location, values, by, now=now, kind="location")


# ----------------------------------------------------------------------------- departments


def _check_department(values: dict[str, Any], department: Department | None) -> None:
    if not is_slug(values["slug"]):
        raise PlaceError("slug_invalid", "slug")
    taken = db.session.scalar(select(Department.id).where(Department.slug == values["slug"]))
    if taken is not None and (department is None or taken != department.id):
        raise PlaceError("department_slug_taken", "slug")
    if department is not None and department.active and not values["active"]:
        bookable = db.session.scalar(
            select(Service.id).where(Service.department_id == department.id, Service.active.is_(True)).limit(1)
        )
        if bookable is not None:
            # Its services would stay bookable under a department that no longer exists for the city.
            raise PlaceError("department_has_active_services", "active")


def save_department(
    values: dict[str, Any], by: StaffUser, department: Department | None = None, *, now: datetime
) -> Department:
    """Create a department (``department`` None) or change one (the city administrator
    only); records which fields changed. A department with bookable services cannot be
    deactivated: deactivate its services first."""
    if not by.is_admin:
        raise PlaceError("department_unknown")
    values = {k: values[k] for k in DEPARTMENT_FIELDS}
    values["slug"] = (values["slug"] or "").strip().lower()
    values["active"] = bool(values["active"])
    _check_department(values, department)
    with transaction():
        return create_or_change(Department, department, values, by, now=now, kind="department")


# ----------------------------------------------------------------------------- closing days


@dataclass(frozen=True)
class Closing:
    """What an administrator enters for a closing day: a local date, optionally a part of it."""

    day: date
    from_time: time | None = None
    until_time: time | None = None
    reason_de: str = ""
    reason_en: str = ""


def add_closing_day(location: Location, closing: Closing, by: StaffUser, *, now: datetime) -> ClosingDay:
    """The location takes no on-site appointments on that day (or that part of it).

    Appointments already booked then stay as they are (the conflicts page does not list
    them yet)."""
    if closing.from_time is not None and closing.until_time is not None and closing.until_time <= closing.from_time:
        raise PlaceError("closing_ends_before_start", "until_time")
    if not closing.reason_de.strip():
        raise PlaceError("closing_reason_missing", "reason_de")
    with transaction():
        row = ClosingDay(
            location_id=location.id,
            day=closing.day,
            from_time=closing.from_time,
            until_time=closing.until_time,
            reason_de=closing.reason_de.strip(),
            reason_en=closing.reason_en.strip(),
            created_at=now,
        )
        db.session.add(row)
        db.session.flush()
        audit.record(
            "closing_day.added", at=now, actor=by, obj=row, location=location.slug, day=closing.day.isoformat()
        )
    return row


def remove_closing_day(row: ClosingDay, by: StaffUser, *, now: datetime) -> None:
    with transaction():
        audit.record(
            "closing_day.removed", at=now, actor=by, obj=row, location=row.location.slug, day=row.day.isoformat()
        )
        db.session.delete(row)


def upcoming_closing_days(today: date) -> dict[int, list[ClosingDay]]:
    """Closing days of every location from ``today`` for CLOSING_DAYS_AHEAD days, by location id."""
    rows = db.session.scalars(
        select(ClosingDay)
        .where(ClosingDay.day >= today, ClosingDay.day < today + timedelta(days=CLOSING_DAYS_AHEAD))
        .order_by(ClosingDay.day, ClosingDay.from_time)
    )
    found: dict[int, list[ClosingDay]] = {}
    for row in rows:
        found.setdefault(row.location_id, []).append(row)
    return found
