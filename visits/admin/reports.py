"""The administrators' report: appointments per service and status over a span of days.

A composite appointment (Anmeldung x1 + Personalausweis x2) counts once under each of its
services, with that service's persons; an appointment from before items existed counts
under its service, for one person. The report can be narrowed to one location (where an
on-site appointment is held, ``visits.booking.modes.where``; video and phone are held
nowhere) and to one mode, and its rows split by location or by mode. A department
administrator counts their department's services only (``visits.admin.scope``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, null, select
from sqlalchemy.orm import aliased

from visits.admin import scope
from visits.booking import modes
from visits.extensions import db
from visits.models import Appointment, AppointmentItem, Location, Mode, Service, StaffUser, Status

STATUSES = tuple(Status)


class Split(StrEnum):
    """What the rows are, beside the service."""

    SERVICE = "service"  # one row per service
    LOCATION = "location"  # one per service and location (video and phone: no location)
    MODE = "mode"  # one per service and mode


@dataclass(frozen=True)
class ReportFilter:
    """The local days ``first``..``last`` (both included), narrowed to a location and a mode
    if given, split as ``split`` says."""

    first: date
    last: date
    location_id: int | None = None
    mode: Mode | None = None
    split: Split = Split.SERVICE


@dataclass(frozen=True)
class ReportRow:
    service: Service
    counts: dict[str, int]
    persons: int  # the persons of the row's appointments, summed
    location: Location | None = None  # split by location: where (None: held nowhere)
    mode: str | None = None  # split by mode: the mode

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Report:
    rows: list[ReportRow]
    totals: dict[str, int]  # appointments per status; one with two services counts in two rows
    persons: int


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def report(flt: ReportFilter, zone: ZoneInfo, user: StaffUser | None = None) -> Report:
    """Appointments starting on the filter's days, counted per service (and location or
    mode) and status; of the departments ``user`` manages, if given."""
    counted = aliased(Service)  # the service a row counts
    first_service = aliased(Service)  # the appointment's own (its location for older bookings)
    service_id = func.coalesce(AppointmentItem.service_id, Appointment.service_id)
    held_at = modes.where_column(first_service)
    split = {Split.SERVICE: None, Split.LOCATION: held_at, Split.MODE: Appointment.mode}[flt.split]
    query = (
        select(
            service_id,
            Appointment.status,
            split if split is not None else null(),
            func.count(Appointment.id),
            func.sum(func.coalesce(AppointmentItem.persons, 1)),
        )
        .select_from(Appointment)
        .outerjoin(AppointmentItem, AppointmentItem.appointment_id == Appointment.id)
        .join(first_service, first_service.id == Appointment.service_id)
        .join(counted, counted.id == service_id)
        .where(
            Appointment.start_at >= _day_start(flt.first, zone),
            Appointment.start_at < _day_start(flt.last + timedelta(days=1), zone),
        )
        .group_by(service_id, Appointment.status, *([split] if split is not None else []))
    )
    if flt.location_id is not None:
        query = query.where(held_at == flt.location_id)
    if flt.mode is not None:
        query = query.where(Appointment.mode == flt.mode)
    if user is not None:
        query = scope.limit(query, user, counted.department_id)
    found: dict[tuple[int, object], tuple[dict[str, int], list[int]]] = {}
    for sid, status, part, count, persons in db.session.execute(query).all():
        counts, summed = found.setdefault((sid, part), ({st: 0 for st in STATUSES}, [0]))
        counts[status] = count
        summed[0] += persons
    return _report(found, flt.split)


def _report(found: dict, split: Split) -> Report:
    """The rows with their services and locations (one query each), sorted by service name,
    then by location name (held nowhere last) or in the modes' order."""
    services = _by_id(Service, {sid for sid, _ in found})
    locations = (
        _by_id(Location, {part for _, part in found if part is not None}) if split == Split.LOCATION else {}
    )
    rows = [
        ReportRow(
            services[sid],
            counts,
            summed[0],
            location=locations.get(part),
            mode=part if split == Split.MODE else None,
        )
        for (sid, part), (counts, summed) in found.items()
    ]
    rows.sort(key=_order)
    totals = {st: sum(r.counts[st] for r in rows) for st in STATUSES}
    return Report(rows, totals, sum(r.persons for r in rows))


def _order(row: ReportRow) -> tuple:
    where = (row.location is None, row.location.name_de if row.location else "")
    how = modes.ORDER.index(row.mode) if row.mode in modes.ORDER else len(modes.ORDER)
    return row.service.name_de, row.service.id, where, how


def _by_id(model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {obj.id: obj for obj in db.session.scalars(select(model).where(model.id.in_(sorted(ids))))}
