"""From the database to the slot engine: loads rules, absences, holidays, the closing days
of the location an on-site service is held at (given to the engine as absences of every
clerk) and bookings, and asks ``slots.free_slots`` which slots are free. Reads only; operations.py does the writing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from visits import settings
from visits.booking import combination, slots
from visits.booking.holidays import holidays
from visits.booking.wallclock import first_moment_showing
from visits.extensions import db
from visits.models import (
    OCCUPYING,
    Absence,
    Appointment,
    ClosingDay,
    Service,
    StaffUser,
    Status,
    WeeklyHours,
)


def zone() -> ZoneInfo:
    return settings.current().zone


def service_rules(service: Service) -> slots.ServiceRules:
    return slots.ServiceRules(
        id=service.id,
        duration=timedelta(minutes=service.duration_minutes),
        buffer_before=timedelta(minutes=service.buffer_before_minutes),
        buffer_after=timedelta(minutes=service.buffer_after_minutes),
        min_notice=timedelta(minutes=service.min_notice_minutes),
        horizon=timedelta(days=service.horizon_days),
    )


def bookable_clerks(service: Service) -> list[int]:
    """Active clerks who offer the service."""
    return bookable_clerk_ids(service.id)


def bookable_clerk_ids(service_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(StaffUser.id)
            .where(StaffUser.services.any(Service.id == service_id), StaffUser.active.is_(True))
            .order_by(StaffUser.id)
        )
    )


def weekly_rules(clerk_ids: Iterable[int]) -> list[slots.WeeklyRule]:
    ids = list(clerk_ids)
    if not ids:
        return []
    rows = db.session.scalars(
        select(WeeklyHours)
        .where(WeeklyHours.clerk_id.in_(ids))
        .options(selectinload(WeeklyHours.services))
    )
    return [
        slots.WeeklyRule(
            clerk_id=row.clerk_id,
            weekday=row.weekday,
            start=row.start_time,
            end=row.end_time,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            service_ids=frozenset(s.id for s in row.services) or None,
        )
        for row in rows
    ]


def _local_range_utc(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """The UTC span that covers the local days, widened by a day for buffers."""
    tz = zone()
    start = datetime.combine(first_day - timedelta(days=1), time.min, tz)
    end = datetime.combine(last_day + timedelta(days=2), time.min, tz)
    return start, end


def absences(clerk_ids: list[int], start: datetime, end: datetime) -> list[slots.Interval]:
    if not clerk_ids:
        return []
    rows = db.session.execute(
        select(Absence.clerk_id, Absence.start_at, Absence.end_at).where(
            Absence.clerk_id.in_(clerk_ids), Absence.start_at < end, Absence.end_at > start
        )
    )
    return [slots.Interval(c, s, e) for c, s, e in rows]


def closed_periods(
    service_ids: Iterable[int], first_day: date, last_day: date
) -> dict[int, list[tuple[datetime, datetime]]]:
    """The closing periods, as instants, of the location each on-site service is held at,
    on the local days first_day..last_day (a day's margin either side, for buffers), in one
    query. A video service is not held at a location and is missing from the answer, as is
    a service whose location is open throughout."""
    ids = set(service_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Service.id, ClosingDay.day, ClosingDay.from_time, ClosingDay.until_time)
        .join(ClosingDay, ClosingDay.location_id == Service.location_id)
        .where(
            Service.id.in_(ids),
            Service.video.is_(False),
            ClosingDay.day >= first_day - timedelta(days=1),
            ClosingDay.day <= last_day + timedelta(days=1),
        )
    )
    tz = zone()
    found: dict[int, list[tuple[datetime, datetime]]] = {}
    for service_id, day, from_time, until_time in rows:
        # Wall-clock times become instants the way a clerk's hours do (wallclock.py).
        start = first_moment_showing(day, from_time or time.min, tz)
        end = (
            first_moment_showing(day, until_time, tz)
            if until_time is not None
            else first_moment_showing(day + timedelta(days=1), time.min, tz)
        )
        found.setdefault(service_id, []).append((start, end))
    return found


def closed_for_clerks(periods: Iterable[tuple[datetime, datetime]], clerk_ids: Iterable[int]) -> list[slots.Interval]:
    """A closed location is, for the slot engine, an absence of every clerk at it."""
    ids = list(clerk_ids)
    return [slots.Interval(clerk, start, end) for start, end in periods for clerk in ids]


def occupying_condition(now: datetime):
    """Appointments that take a clerk's time: a hold counts only until it runs out."""
    return or_(
        Appointment.status.in_([s.value for s in OCCUPYING if s != Status.HELD]),
        and_(Appointment.status == Status.HELD, Appointment.hold_expires_at > now),
    )


def booked(
    clerk_ids: list[int], start: datetime, end: datetime, now: datetime, *, ignore: int | None = None
) -> list[slots.Interval]:
    """Blocked ranges of occupying appointments (``ignore``: one being rescheduled)."""
    if not clerk_ids:
        return []
    query = select(Appointment.clerk_id, Appointment.blocked_from, Appointment.blocked_until).where(
        Appointment.clerk_id.in_(clerk_ids),
        Appointment.blocked_from < end,
        Appointment.blocked_until > start,
        occupying_condition(now),
    )
    if ignore is not None:
        query = query.where(Appointment.id != ignore)
    return [slots.Interval(c, s, e) for c, s, e in db.session.execute(query)]


def free_slots(
    service: Service,
    first_day: date,
    last_day: date,
    now: datetime,
    *,
    clerk_ids: list[int] | None = None,
    ignore_appointment: int | None = None,
    rules: slots.ServiceRules | None = None,
) -> list[slots.Slot]:
    """Free slots of ``service`` on the local days first_day..last_day (inclusive).

    ``rules`` replaces the service's own (slot_cache.py widens the horizon); then
    ``service`` needs only its ``id``."""
    ids = bookable_clerk_ids(service.id) if clerk_ids is None else clerk_ids
    span_start, span_end = _local_range_utc(first_day, last_day)
    closed = closed_periods([service.id], first_day, last_day).get(service.id, ())
    return slots.free_slots(
        service=rules or service_rules(service),
        clerk_ids=ids,
        rules=weekly_rules(ids),
        absences=[*absences(ids, span_start, span_end), *closed_for_clerks(closed, ids)],
        booked=booked(ids, span_start, span_end, now, ignore=ignore_appointment),
        holidays=holidays(first_day, last_day).keys(),
        first_day=first_day,
        last_day=last_day,
        now=now,
        tz=zone(),
    )


def slot_at(
    service: Service, start: datetime, now: datetime, *, ignore_appointment: int | None = None
) -> slots.Slot | None:
    """The free slot of ``service`` starting exactly at ``start``, if there is one."""
    day = start.astimezone(zone()).date()
    for slot in free_slots(service, day, day, now, ignore_appointment=ignore_appointment):
        if slot.start == start:
            return slot
    return None


# -- many questions at once --------------------------------------------------------------


@dataclass(frozen=True)
class SlotQuestion:
    """Which slots of a service are free on some local days with some clerks; one of the
    questions a page asks together (one per row) with ``free_slots_of_many``."""

    rules: slots.ServiceRules
    first_day: date
    last_day: date
    clerk_ids: tuple[int, ...]


def free_slots_of_many(questions: Sequence[SlotQuestion], now: datetime) -> list[list[slots.Slot]]:
    """The free slots for each question, in the questions' order, from one load of the
    clerks' hours, absences and bookings: a page with 30 rows costs what one with 3 does.
    The slot engine ignores what belongs to clerks a question does not name."""
    if not questions:
        return []
    ids = sorted({clerk for question in questions for clerk in question.clerk_ids})
    first = min(question.first_day for question in questions)
    last = max(question.last_day for question in questions)
    span_start, span_end = _local_range_utc(first, last)
    hours = weekly_rules(ids)
    away = absences(ids, span_start, span_end)
    taken = booked(ids, span_start, span_end, now)
    public_holidays = holidays(first, last).keys()
    closed = closed_periods({question.rules.id for question in questions}, first, last)
    tz = zone()
    return [
        slots.free_slots(
            service=question.rules,
            clerk_ids=question.clerk_ids,
            rules=hours,
            absences=[*away, *closed_for_clerks(closed.get(question.rules.id, ()), question.clerk_ids)],
            booked=taken,
            holidays=public_holidays,
            first_day=question.first_day,
            last_day=question.last_day,
            now=now,
            tz=tz,
        )
        for question in questions
    ]


def bookable_clerk_ids_of(service_ids: Iterable[int]) -> dict[int, list[int]]:
    """``bookable_clerk_ids`` of several services in one query (a service nobody offers
    is missing from the answer)."""
    ids = set(service_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Service.id, StaffUser.id)
        .join(StaffUser.services)
        .where(Service.id.in_(ids), StaffUser.active.is_(True))
        .order_by(StaffUser.id)
    )
    found: dict[int, list[int]] = {}
    for service_id, clerk_id in rows:
        found.setdefault(service_id, []).append(clerk_id)
    return found


# -- several services in one appointment ---------------------------------------------------
# (booking/combination.py): a list of (service, persons). One service for one person is
# exactly the functions above, so a single booking takes the same path as before.

Items = Sequence[tuple[Service, int]]


def is_single(items: Items) -> bool:
    """One service for one person: the plain case."""
    return len(items) == 1 and items[0][1] == 1


def combination_rules(items: Items) -> slots.ServiceRules:
    """The slot engine's rules for the services with their persons (summed duration...)."""
    return combination.combined([(service_rules(service), persons) for service, persons in items])


def clerks_offering_all(items: Items) -> list[int]:
    """Active clerks who offer every service of the items, in one query."""
    offering = bookable_clerk_ids_of(service.id for service, _persons in items)
    return combination.common_clerks([offering.get(service.id, []) for service, _persons in items])


def free_slots_of_items(
    items: Items, first_day: date, last_day: date, now: datetime, *, ignore_appointment: int | None = None
) -> list[slots.Slot]:
    """Free slots for all the items as one appointment with one clerk who offers them all
    (the closing days are those of the first service's location: combinable services are
    of one department)."""
    first = items[0][0]
    if is_single(items):
        return free_slots(first, first_day, last_day, now, ignore_appointment=ignore_appointment)
    return free_slots(
        first,
        first_day,
        last_day,
        now,
        clerk_ids=clerks_offering_all(items),
        ignore_appointment=ignore_appointment,
        rules=combination_rules(items),
    )


def slot_of_items_at(
    items: Items, start: datetime, now: datetime, *, ignore_appointment: int | None = None
) -> slots.Slot | None:
    """The free slot for all the items starting exactly at ``start``, if there is one."""
    if is_single(items):
        return slot_at(items[0][0], start, now, ignore_appointment=ignore_appointment)
    day = start.astimezone(zone()).date()
    found = free_slots_of_items(items, day, day, now, ignore_appointment=ignore_appointment)
    return next((slot for slot in found if slot.start == start), None)
