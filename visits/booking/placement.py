"""Where an appointment goes: which free clerk gets it (fair order), writing it with the
first one the database's no-overlap rule lets through, the one-query answer "surely taken"
that keeps a run on a full slot cheap, the person's own booking at that time (the same
request again finds it), and freeing the time of holds that ran out. The use cases in
``operations`` call these and turn what they find into refusals."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from visits import settings
from visits.booking import availability, links, locks
from visits.booking.slots import ServiceRules, Slot, blocked_range
from visits.core.citizen import Citizen
from visits.extensions import db
from visits.models import ApiKey, Appointment, AppointmentItem, Mode, Service, StaffUser, Status
from visits.models.types import UTCDateTime
from visits.video import dial_in


def fair_order(clerk_ids: tuple[int, ...] | list[int], start: datetime) -> list[int]:
    """Free clerks in the order they should get the next appointment: fewest appointments
    that local day first, then the one whose last assignment is longest ago (rotation)."""
    tz = availability.zone()
    day = start.astimezone(tz).date()
    day_start = datetime.combine(day, time.min, tz)
    day_end = day_start + timedelta(days=1)
    ids = list(clerk_ids)
    counts = dict(
        db.session.execute(
            select(Appointment.clerk_id, func.count())
            .where(
                Appointment.clerk_id.in_(ids),
                Appointment.start_at >= day_start,
                Appointment.start_at < day_end,
                Appointment.status.in_([Status.HELD, Status.CONFIRMED]),
            )
            .group_by(Appointment.clerk_id)
        ).all()
    )
    last = dict(
        db.session.execute(
            select(Appointment.clerk_id, func.max(Appointment.id))
            .where(Appointment.clerk_id.in_(ids))
            .group_by(Appointment.clerk_id)
        ).all()
    )
    return sorted(ids, key=lambda c: (counts.get(c, 0), last.get(c, 0), c))


def places_in_fair_order(candidates: Sequence[Slot], start: datetime) -> list[tuple[int, int | None]]:
    """(clerk, location) of the free slots at one instant (one per location), the clerks in
    fair order: the first free slot at any location goes to the clerk whose turn it is."""
    where: dict[int, int | None] = {}
    for slot in candidates:
        for clerk in slot.clerk_ids:
            where.setdefault(clerk, slot.location_id)
    return [(clerk, where[clerk]) for clerk in fair_order(list(where), start)]


def existing_for(email: str | None, start: datetime, now: datetime) -> Appointment | None:
    """The address's occupying appointment starting at ``start``, if it has one."""
    if not email:
        return None
    return db.session.scalar(
        select(Appointment).where(
            Appointment.citizen_email == email,
            Appointment.start_at == start,
            availability.occupying_condition(now),
            Appointment.status.in_([Status.HELD, Status.CONFIRMED]),
        )
    )


def expire_overlapping_holds(clerk_id: int, start: datetime, end: datetime, now: datetime) -> None:
    """A hold whose time ran out frees its slot at once, not only when the job sweeps."""
    db.session.execute(
        update(Appointment)
        .where(
            Appointment.clerk_id == clerk_id,
            Appointment.status == Status.HELD,
            Appointment.hold_expires_at <= now,
            Appointment.blocked_from < end,
            Appointment.blocked_until > start,
        )
        .values(status=Status.EXPIRED, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def first_clerk_that_fits(
    clerk_ids: Iterable[int],
    blocked: tuple[datetime, datetime],
    now: datetime,
    write: Callable[[int], None],
    undo: Callable[[], None] = lambda: None,
) -> int | None:
    """Write the appointment with each clerk in turn (``write(clerk_id)``), each try in a
    savepoint, until the database's no-overlap rule lets one through: that clerk, or None
    when every one was taken a moment ago. Holds that ran out free their time first.
    ``undo`` puts back what a refused ``write`` changed; another refusal than an overlap
    (the same person at the same time) is raised to the caller."""
    for clerk_id in clerk_ids:
        try:
            with db.session.begin_nested():
                expire_overlapping_holds(clerk_id, *blocked, now)
                write(clerk_id)
        except IntegrityError as exc:
            undo()
            if locks.is_overlap(exc):
                continue  # taken a moment ago by someone else: try the next clerk
            raise
        return clerk_id
    return None


def surely_taken(
    service: Service, start: datetime, email: str | None, now: datetime, *, rules: ServiceRules | None = None
) -> bool:
    """Refusal fast path, so that many requests for a slot already taken stay cheap: one
    query. True when every active clerk who offers the service has an occupying appointment
    of someone else over the slot's blocked range, so no clerk could take it; False means
    only "maybe free" and the full path decides.

    Appointments of the asking address do not count, so the same request again still
    finds its first booking. ``rules``: of a combination whose first service is ``service``
    (its clerks are among that service's, so the answer stays sure)."""
    rules = rules or availability.service_rules(service)
    blocked_from, blocked_until = blocked_range(start, start + rules.duration, rules)
    free_clerk = db.session.scalar(
        _free_clerk_query(),
        {
            "service_id": service.id,
            "blocked_from": blocked_from,
            "blocked_until": blocked_until,
            "now": now,
            "email": email or "",
        },
    )
    return free_clerk is None


@lru_cache(maxsize=1)
def _free_clerk_query():
    """Built once (with bound parameters): building it per request cost more than running it."""
    busy = select(Appointment.id).where(
        Appointment.clerk_id == StaffUser.id,
        Appointment.blocked_from < bindparam("blocked_until", type_=UTCDateTime()),
        Appointment.blocked_until > bindparam("blocked_from", type_=UTCDateTime()),
        availability.occupying_condition(bindparam("now", type_=UTCDateTime())),
        or_(Appointment.citizen_email.is_(None), Appointment.citizen_email != bindparam("email")),
    )
    return (
        select(StaffUser.id)
        .where(
            StaffUser.services.any(Service.id == bindparam("service_id")),
            StaffUser.active.is_(True),
            ~busy.exists(),
        )
        .limit(1)
    )


def place(
    service: Service,
    candidates: Sequence[Slot],
    citizen: Citizen,
    now: datetime,
    *,
    status: Status,
    via: str,
    booked_by: StaffUser | None = None,
    api_key: ApiKey | None = None,
    mode: Mode,
    items: availability.Items = (),
) -> Appointment | None:
    """Insert the appointment for the free slot (``candidates``: the free slots at its
    instant, one per location) with the first clerk in fair order who is still free, at
    that clerk's location; None when each was taken a moment ago. Only a video appointment
    gets a Jitsi room and a dial-in PIN. ``items``: the services with their persons when
    there are several (the first is ``service``); else ``service`` for one."""
    slot = candidates[0]
    video = mode == Mode.VIDEO
    items = items or [(service, 1)]
    rules = availability.combination_rules(items)
    blocked_from, blocked_until = blocked_range(slot.start, slot.end, rules)
    placed: list[Appointment] = []
    order = places_in_fair_order(candidates, slot.start)
    location_of = dict(order)

    def write(clerk_id: int) -> None:
        # A video appointment's uid also gives its dial-in PIN, which must be nobody else's.
        uid, pin_hash = dial_in.new_video_uid() if video else (links.new_uid(), None)
        placed.append(
            Appointment(
                reference=links.new_reference(),
                uid=uid,
                service_id=service.id,
                clerk_id=clerk_id,
                location_id=location_of[clerk_id],
                start_at=slot.start,
                end_at=slot.end,
                blocked_from=blocked_from,
                blocked_until=blocked_until,
                status=status,
                sequence=0,
                hold_expires_at=(
                    now + timedelta(minutes=settings.current().hold_minutes)
                    if status == Status.HELD
                    else None
                ),
                confirmed_at=now if status == Status.CONFIRMED else None,
                time_told_at=now if status == Status.CONFIRMED else None,
                citizen_name=citizen.name,
                citizen_email=citizen.email,
                citizen_phone=citizen.phone,
                language=citizen.language,
                citizen_note=citizen.note,
                booked_via=via,
                booked_by_id=booked_by.id if booked_by else None,
                api_key_id=api_key.id if api_key else None,
                manage_token_hash=links.token_hash(links.derive_token("manage", uid)),
                join_token_hash=links.token_hash(links.derive_token("join", uid)),
                room=links.new_room_name() if video else None,
                mode=mode,
                dial_in_pin_hash=pin_hash,
                created_at=now,
                updated_at=now,
                items=[
                    AppointmentItem(service_id=what.id, persons=persons, position=position)
                    for position, (what, persons) in enumerate(items)
                ],
            )
        )
        db.session.add(placed[-1])

    if first_clerk_that_fits([clerk for clerk, _ in order], (blocked_from, blocked_until), now, write) is None:
        return None
    return placed[-1]
