"""From the database to the slot engine: loads rules (with their location and whether they
are reserved), absences, holidays, the closing days of the locations and bookings, and asks
``slots.free_slots`` which slots are free, where (``location``: a location's id or ANY; on
site or not, decided by ``is_on_site``) and for whom (``Audience``: the public does not get
reserved hours, nor its department's reserved share, until their release; staff always do).
Reads only; operations.py does the writing."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from visits import settings
from visits.booking import combination, slots
from visits.booking.holidays import holidays
from visits.booking.wallclock import wall_period
from visits.core import clock
from visits.extensions import db
from visits.models import (
    OCCUPYING,
    Absence,
    Appointment,
    ClosingDay,
    Location,
    Mode,
    Service,
    StaffUser,
    Status,
    WeeklyHours,
)


def zone() -> ZoneInfo:
    return settings.current().zone


def local(moment: datetime) -> datetime:
    """The instant ``moment`` as the wall-clock time of the city (Europe/Berlin): how pages,
    mails and the API show it."""
    return clock.local(moment, zone())


ANY: Final = "any"  # every location where the service is held
LocationChoice = int | Literal["any"]  # a location's id, or ANY


class Audience(StrEnum):
    """Who a listing is for: the public (web, portals with an API key) does not get reserved
    hours before their release; staff (clerks, the phone centre) get every free slot."""

    PUBLIC = "public"
    STAFF = "staff"


def is_on_site(offered: Collection[str], mode: str | None = None) -> bool:
    """Whether an appointment in ``mode`` is held at a location: the one place this is
    decided (its slots then come from hours at a location, and name it). ``offered``: the
    modes of the service (of an appointment for several: the modes they all share). Without
    a mode (a listing before the citizen chose one): whether on site is offered; the slots
    then name their location and can be booked in any offered mode (``modes.of_slot``)."""
    if mode is not None:
        return mode == Mode.ON_SITE
    return Mode.ON_SITE in offered


def reserved_release(service: Service) -> timedelta:
    """How long before their start reserved hours are offered to the public: the service's
    department's setting, else RESERVED_RELEASE_HOURS."""
    department = service.department
    hours = department.reserved_release_hours if department is not None else None
    return timedelta(hours=settings.current().reserved_release_hours if hours is None else hours)


def reserved_hidden_after(release: timedelta, now: datetime, audience: Audience) -> datetime | None:
    """For the public, the moment after which reserved hours offer no start yet (None: staff)."""
    return now + release if audience == Audience.PUBLIC else None


def location_choice(slug: str | None) -> LocationChoice | None:
    """A location asked for by its slug ("any", empty or None: ANY); None when there is no such location."""
    if not slug or slug == ANY:
        return ANY
    return db.session.scalar(select(Location.id).where(Location.slug == slug))


def locations_by_id(ids: Iterable[int | None]) -> dict[int, Location]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {row.id: row for row in db.session.scalars(select(Location).where(Location.id.in_(wanted)))}


def on_site_locations(service: Service) -> list[Location]:
    """The locations where the service is held on site: those of the hours of its active
    clerks that apply to it (by name)."""
    applies = or_(~WeeklyHours.services.any(), WeeklyHours.services.any(Service.id == service.id))
    return list(
        db.session.scalars(
            select(Location)
            .where(
                Location.id.in_(
                    select(WeeklyHours.location_id).where(
                        WeeklyHours.clerk_id.in_(bookable_clerk_ids_query(service.id)), applies
                    )
                )
            )
            .order_by(Location.name_de)
        )
    )


def service_rules(service: Service) -> slots.ServiceRules:
    """The slot engine's rules of ``service``, its department's reserved share with them."""
    department = service.department
    return slots.ServiceRules(
        id=service.id,
        duration=timedelta(minutes=service.duration_minutes),
        buffer_before=timedelta(minutes=service.buffer_before_minutes),
        buffer_after=timedelta(minutes=service.buffer_after_minutes),
        min_notice=timedelta(minutes=service.min_notice_minutes),
        horizon=timedelta(days=service.horizon_days),
        reserved_share=department.reserved_share_percent if department is not None else 0,
    )


def bookable_clerks(service: Service) -> list[int]:
    """Active clerks who offer the service."""
    return bookable_clerk_ids(service.id)


def bookable_clerk_ids(service_id: int) -> list[int]:
    return list(db.session.scalars(bookable_clerk_ids_query(service_id).order_by(StaffUser.id)))


def bookable_clerk_ids_query(service_id: int):
    return select(StaffUser.id).where(StaffUser.services.any(Service.id == service_id), StaffUser.active.is_(True))


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
            location_id=row.location_id,
            reserved=row.reserved,
        )
        for row in rows
    ]


def has_reserved_hours(clerk_ids: list[int]) -> bool:
    if not clerk_ids:
        return False
    found = db.session.scalar(
        select(WeeklyHours.id).where(WeeklyHours.clerk_id.in_(clerk_ids), WeeklyHours.reserved.is_(True)).limit(1)
    )
    return found is not None


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


def closings(first_day: date, last_day: date) -> list[slots.Closing]:
    """The closing days of every location on the local days first_day..last_day (a day's
    margin either side, for buffers), as instants, in one query."""
    rows = db.session.execute(
        select(ClosingDay.location_id, ClosingDay.day, ClosingDay.from_time, ClosingDay.until_time).where(
            ClosingDay.day >= first_day - timedelta(days=1), ClosingDay.day <= last_day + timedelta(days=1)
        )
    )
    tz = zone()
    found = []
    for location_id, day, from_time, until_time in rows:
        # Wall-clock times become instants the way a clerk's hours do (wallclock.py).
        start, end = wall_period(day, from_time, until_time, tz)
        found.append(slots.Closing(location_id, start, end))
    return found


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
    location: LocationChoice = ANY,
    audience: Audience = Audience.PUBLIC,
    clerk_ids: list[int] | None = None,
    ignore_appointment: int | None = None,
    rules: slots.ServiceRules | None = None,
    on_site: bool | None = None,
    release: timedelta | None = None,
) -> list[slots.Slot]:
    """Free slots of ``service`` on the local days first_day..last_day (inclusive), at
    ``location`` (on site) and for ``audience``.

    ``rules``, ``on_site`` and ``release`` replace what the service says (slot_cache.py keeps
    them per generation and widens the horizon); then ``service`` needs only its ``id``."""
    ids = bookable_clerk_ids(service.id) if clerk_ids is None else clerk_ids
    span_start, span_end = _local_range_utc(first_day, last_day)
    return slots.free_slots(
        service=rules or service_rules(service),
        clerk_ids=ids,
        rules=weekly_rules(ids),
        absences=absences(ids, span_start, span_end),
        booked=booked(ids, span_start, span_end, now, ignore=ignore_appointment),
        holidays=holidays(first_day, last_day).keys(),
        first_day=first_day,
        last_day=last_day,
        now=now,
        tz=zone(),
        on_site=is_on_site(service.modes) if on_site is None else on_site,
        location_id=None if location == ANY else location,
        closings=closings(first_day, last_day),
        reserved_hidden_after=reserved_hidden_after(
            reserved_release(service) if release is None else release, now, audience
        ),
    )


def slots_at(
    service: Service,
    start: datetime,
    now: datetime,
    *,
    location: LocationChoice = ANY,
    audience: Audience = Audience.PUBLIC,
    ignore_appointment: int | None = None,
    on_site: bool | None = None,
) -> list[slots.Slot]:
    """The free slots of ``service`` starting exactly at ``start`` (one per location);
    ``on_site``: as ``is_on_site`` says for the appointment's mode (None: for the service)."""
    day = start.astimezone(zone()).date()
    found = free_slots(
        service,
        day,
        day,
        now,
        location=location,
        audience=audience,
        ignore_appointment=ignore_appointment,
        on_site=on_site,
    )
    return [slot for slot in found if slot.start == start]


def slot_at(service: Service, start: datetime, now: datetime, **where_and_whom) -> slots.Slot | None:
    """The (first) free slot of ``service`` starting exactly at ``start``, if there is one;
    ``where_and_whom`` as ``slots_at`` takes them."""
    found = slots_at(service, start, now, **where_and_whom)
    return found[0] if found else None


# -- many questions at once --------------------------------------------------------------


@dataclass(frozen=True)
class SlotQuestion:
    """Which slots of a service are free on some local days with some clerks; one of the
    questions a page asks together (one per row) with ``free_slots_of_many``."""

    rules: slots.ServiceRules
    first_day: date
    last_day: date
    clerk_ids: tuple[int, ...]
    on_site: bool = False  # ``is_on_site`` of the service
    location: LocationChoice = ANY
    reserved_hidden_after: datetime | None = None  # ``reserved_hidden_after``: None for staff


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
    closed = closings(first, last)
    tz = zone()
    return [
        slots.free_slots(
            service=question.rules,
            clerk_ids=question.clerk_ids,
            rules=hours,
            absences=away,
            booked=taken,
            holidays=public_holidays,
            first_day=question.first_day,
            last_day=question.last_day,
            now=now,
            tz=tz,
            on_site=question.on_site,
            location_id=None if question.location == ANY else question.location,
            closings=closed,
            reserved_hidden_after=question.reserved_hidden_after,
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
    items: Items, first_day: date, last_day: date, now: datetime, **where_and_whom
) -> list[slots.Slot]:
    """Free slots for all the items as one appointment with one clerk who offers them all;
    ``where_and_whom`` as ``free_slots`` takes them (location, audience, on_site,
    ignore_appointment). Reserved hours and on site follow the first service: combinable
    services are of one department."""
    first = items[0][0]
    if is_single(items):
        return free_slots(first, first_day, last_day, now, **where_and_whom)
    return free_slots(
        first,
        first_day,
        last_day,
        now,
        clerk_ids=clerks_offering_all(items),
        rules=combination_rules(items),
        **where_and_whom,
    )


def slots_of_items_at(items: Items, start: datetime, now: datetime, **where_and_whom) -> list[slots.Slot]:
    """The free slots for all the items starting exactly at ``start`` (one per location)."""
    if is_single(items):
        return slots_at(items[0][0], start, now, **where_and_whom)
    day = start.astimezone(zone()).date()
    return [slot for slot in free_slots_of_items(items, day, day, now, **where_and_whom) if slot.start == start]


def slot_of_items_at(items: Items, start: datetime, now: datetime, **where_and_whom) -> slots.Slot | None:
    """The (first) free slot for all the items starting exactly at ``start``, if there is one."""
    found = slots_of_items_at(items, start, now, **where_and_whom)
    return found[0] if found else None
