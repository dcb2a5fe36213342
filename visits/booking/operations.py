"""The booking use cases: hold, confirm, cancel, reschedule, book for a caller. Beside them:
a request's checks (request.py), the refusals (refusals.py), joins and marks (attendance.py).

Web pages, the JSON API, the call centre and the scheduled jobs all call these functions;
there is no second way to book. Each function is one transaction: it commits on success and
rolls back on any error, so nothing half-written remains.

No double booking: the database refuses two occupying appointments of one clerk whose
blocked ranges overlap (PostgreSQL exclusion constraint; SQLite triggers plus BEGIN
IMMEDIATE). This module asks the slot engine first, for a clear answer, and relies on the
constraint for the race it cannot see."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from visits import settings
from visits.booking import availability, limits, locks, modes, placement, rules
from visits.booking.attendance import mark, record_join  # noqa: F401  (callers: booking.mark)
from visits.booking.availability import ANY, Audience, LocationChoice
from visits.booking.items import booked as booked_items
from visits.booking.refusals import (  # noqa: F401  (callers catch them as booking.<Name>)
    COMBINATION_REFUSALS,
    AlreadyBookedAtThisTime,
    BookingError,
    BookingPaused,
    DuplicateService,
    HoldExpired,
    InvalidCitizen,
    LimitReached,
    ModeNotOffered,
    NoService,
    NotChangeable,
    NotCombinable,
    SlotUnavailable,
    TooManyPersons,
)
from visits.booking.request import (  # noqa: F401  (callers use them as booking.<name>)
    Booked,
    choose_mode,
    clean_citizen,
    first_service,
    items_of,
)
from visits.booking.slots import Slot, blocked_range
from visits.core import audit
from visits.core.citizen import Citizen
from visits.core.events import Change, appointment_changed
from visits.extensions import db, transaction
from visits.models import ApiKey, Appointment, Service, StaffUser, Status


@dataclass(frozen=True)
class HoldResult:
    appointment: Appointment
    created: bool  # False: the same request came again and found its first hold


def _check_limits(email: str, now: datetime, *, leaving_out: int | None = None) -> None:
    pause = limits.active_pause(email, now)
    if pause:
        raise BookingPaused(paused_until=pause.paused_until)
    limit = settings.current().max_upcoming_per_email
    if limits.upcoming_count(email, now, leaving_out=leaving_out) >= limit:
        raise LimitReached(limit=limit)


def _same_items(appointment: Appointment, items: availability.Items) -> bool:
    """Whether the appointment is for exactly these services and persons (a repeat of its request)."""
    return [(s.id, n) for s, n in booked_items(appointment)] == [(s.id, n) for s, n in items]


def _free_slots(
    service: Service,
    start: datetime,
    now: datetime,
    *,
    items: availability.Items = (),
    location: LocationChoice = ANY,
    audience: Audience = Audience.PUBLIC,
    mode: str | None = None,
) -> Sequence[Slot]:
    """The free slots at ``start`` (one per location) for an appointment in ``mode``, as
    anyone of ``audience`` would find them (the public: no reserved hours before their
    release); SlotUnavailable otherwise. ``items``: when there are several services or
    persons (the first is ``service``)."""
    items = items or [(service, 1)]
    if not all(what.active for what, _persons in items):
        raise SlotUnavailable("service is not offered")
    found = availability.slots_of_items_at(
        items,
        start,
        now,
        location=location,
        audience=audience,
        on_site=availability.is_on_site(modes.offered_by_all(what for what, _persons in items), mode),
    )
    if not found:
        raise SlotUnavailable()
    return found


def _place(
    service: Service,
    start: datetime,
    citizen: Citizen,
    now: datetime,
    *,
    candidates: Sequence[Slot] | None = None,
    location: LocationChoice = ANY,
    audience: Audience = Audience.PUBLIC,
    items: availability.Items = (),
    **how,
) -> Appointment:
    """Insert the appointment with the first free clerk in fair order; ``how``: its status
    and who booked it which way, as ``placement.place`` takes them."""
    candidates = candidates or _free_slots(
        service, start, now, items=items, location=location, audience=audience, mode=how.get("mode")
    )
    with _same_person_refused():
        appointment = placement.place(service, candidates, citizen, now, items=items, **how)
    if appointment is None:
        raise SlotUnavailable()
    return appointment


@contextmanager
def _same_person_refused() -> Iterator[None]:
    """The database's answer that this person has another appointment at this time."""
    try:
        yield
    except IntegrityError as exc:
        if locks.is_same_person_same_time(exc):
            raise AlreadyBookedAtThisTime() from exc
        raise


def _announce(kind: Change, appointment: Appointment, now: datetime, **extra) -> None:
    appointment_changed.send(kind, appointment=appointment, now=now, **extra)


# -- use cases ---------------------------------------------------------------------------


def _already_there(
    service: Service, start: datetime, email: str | None, now: datetime, items: availability.Items = ()
) -> Appointment | None:
    """The person's own appointment at ``start``, if they have one (a second click, a reload).

    Refuses at once when the slot is surely taken by someone else; otherwise takes the
    person's address lock, so two requests of the same person are decided one after the other."""
    combined = availability.combination_rules(items) if items else None
    if placement.surely_taken(service, start, email, now, rules=combined):
        raise SlotUnavailable()
    locks.lock_address(email, "email")
    return placement.existing_for(email, start, now)


def hold(
    service: Booked,
    start: datetime,
    citizen: Citizen,
    *,
    now: datetime,
    via: str = "web",
    own_hold: int | None = None,
    location: LocationChoice = ANY,
    mode: str | None = None,
) -> HoldResult:
    """Hold a slot for a citizen until they confirm by the link in the mail (double opt-in).

    The same person asking again for the same time (a double click, a reload) gets the
    hold they already have; nothing new is created and no second mail is sent.

    Whoever asks is only known by the address they typed, so the slot is judged as anyone
    would find it before anything about the address: a slot nobody else could have is
    SlotUnavailable even when the address holds it itself, unless ``own_hold`` (the hold
    this browser placed, from its signed session) is that very hold. Otherwise a stranger
    could learn that the address has an appointment at a time the picker shows as taken.
    The public is refused reserved hours before their release (SlotUnavailable).

    ``service``: one service for one person, or a list of (service, persons) to be one
    appointment (refused as ``items_of`` says when they cannot). ``mode``: one of the
    services' modes (None: the first one's default); ModeNotOffered otherwise."""
    items = items_of(service)
    service = first_service(items)
    chosen = choose_mode(service, mode, items)
    citizen = clean_citizen(citizen, need_email=True, mode=chosen)
    with transaction():
        existing = _already_there(service, start, citizen.email, now, items)
        if existing is not None:
            if existing.id != own_hold:
                _free_slots(service, start, now, items=items, location=location, mode=chosen)
            if not _same_items(existing, items):
                raise AlreadyBookedAtThisTime()
            return HoldResult(existing, created=False)
        candidates = _free_slots(service, start, now, items=items, location=location, mode=chosen)
        _check_limits(citizen.email, now)
        appointment = _place(
            service,
            start,
            citizen,
            now,
            candidates=candidates,
            items=items,
            status=Status.HELD,
            via=via,
            mode=chosen,
        )
        audit.record("appointment.held", at=now, actor_label="citizen", obj=appointment)
        _announce(Change.HELD, appointment, now)
    return HoldResult(appointment, created=True)


def book_confirmed(
    service: Booked,
    start: datetime,
    citizen: Citizen,
    *,
    now: datetime,
    via: str,
    booked_by: StaffUser | None = None,
    api_key: ApiKey | None = None,
    enforce_limits: bool = True,
    location: LocationChoice = ANY,
    audience: Audience = Audience.PUBLIC,
    mode: str | None = None,
) -> HoldResult:
    """Book a confirmed appointment at once, for a person already identified (a caller on
    the phone: ``audience`` staff; a portal with an API key: the public). Sends the same
    confirmation mail as online. ``service`` and ``mode`` as for ``hold``."""
    items = items_of(service)
    service = first_service(items)
    chosen = choose_mode(service, mode, items)
    citizen = clean_citizen(citizen, need_email=False, mode=chosen)
    with transaction():
        existing = _already_there(service, start, citizen.email, now, items)
        if existing is not None:
            if not _same_items(existing, items) or existing.status != Status.CONFIRMED:
                raise AlreadyBookedAtThisTime()
            return HoldResult(existing, created=False)
        if enforce_limits and citizen.email:
            _check_limits(citizen.email, now)
        appointment = _place(
            service,
            start,
            citizen,
            now,
            location=location,
            audience=audience,
            items=items,
            status=Status.CONFIRMED,
            via=via,
            booked_by=booked_by,
            api_key=api_key,
            mode=chosen,
        )
        audit.record(
            "appointment.booked",
            at=now,
            actor=booked_by,
            actor_label=(f"api:{api_key.name}" if api_key else None),
            obj=appointment,
            via=via,
        )
        _announce(Change.CONFIRMED, appointment, now)
    return HoldResult(appointment, created=True)


def book_for_caller(
    service: Booked,
    start: datetime,
    citizen: Citizen,
    *,
    clerk: StaffUser,
    now: datetime,
    location: LocationChoice = ANY,
    mode: str | None = None,
) -> Appointment:
    """A clerk books for a caller (call centre): confirmed at once, no opt-in, reserved
    hours included. ``service``: one service, or (service, persons) items as for ``hold``."""
    return book_confirmed(
        service,
        start,
        citizen,
        now=now,
        via="phone",
        booked_by=clerk,
        enforce_limits=False,
        location=location,
        audience=Audience.STAFF,
        mode=mode,
    ).appointment


def confirm(appointment: Appointment, *, now: datetime) -> Appointment:
    """The citizen confirms their hold (button on the page the mail's link opens).

    Confirming twice is harmless. A hold that ran out (swept by the job or not yet) is still
    confirmed if its slot is free; otherwise HoldExpired. The address's limits are asked
    again (LimitReached, BookingPaused): holds that ran out do not count while they wait."""
    with transaction():
        if appointment.status == Status.CONFIRMED:
            return appointment
        if not rules.can_confirm(appointment, now):
            raise NotChangeable(status=appointment.status)
        # A hold that ran out stopped counting against its address, which may have booked
        # up to its limit since (or been paused): confirming it is a new booking for that.
        locks.lock_address(appointment.citizen_email, "email")
        if appointment.citizen_email:
            _check_limits(appointment.citizen_email, now, leaving_out=appointment.id)
        try:
            with db.session.begin_nested():
                placement.expire_overlapping_holds(
                    appointment.clerk_id, appointment.blocked_from, appointment.blocked_until, now
                )
                appointment.status = Status.CONFIRMED
                appointment.confirmed_at = now
                appointment.time_told_at = now
                appointment.hold_expires_at = None
                appointment.updated_at = now
        except IntegrityError as exc:
            if locks.is_overlap(exc) or locks.is_same_person_same_time(exc):
                raise HoldExpired() from exc
            raise
        audit.record("appointment.confirmed", at=now, actor_label="citizen", obj=appointment)
        _announce(Change.CONFIRMED, appointment, now)
    return appointment


def cancel(
    appointment: Appointment,
    *,
    now: datetime,
    by: StaffUser | None = None,
    reason: str = "",
) -> Appointment:
    """Cancel; the slot is free again at once. The citizen gets a METHOD:CANCEL mail."""
    with transaction():
        if not rules.can_cancel(appointment, now):
            raise NotChangeable(status=appointment.status)
        was_confirmed = appointment.status == Status.CONFIRMED
        appointment.status = Status.CANCELLED
        appointment.sequence += 1
        appointment.cancelled_at = now
        appointment.cancel_reason = reason.strip()[:2000]
        appointment.updated_at = now
        audit.record(
            "appointment.cancelled",
            at=now,
            actor=by,
            actor_label=None if by else "citizen",
            obj=appointment,
            reason=appointment.cancel_reason,
        )
        _announce(Change.CANCELLED, appointment, now, by=by, was_confirmed=was_confirmed)
    return appointment


def reschedule(
    appointment: Appointment,
    new_start: datetime,
    *,
    now: datetime,
    by: StaffUser | None = None,
    location: LocationChoice = ANY,
) -> Appointment:
    """Move the appointment to another free slot: same row, same UID, SEQUENCE raised; the
    old time is freed in the same transaction. Keeps the clerk when they are free, and the
    mode (with its room and PIN) as it is; an on-site appointment is then held at the new
    slot's location. Staff (``by``) may move it into reserved hours, the citizen only into
    what the public is offered."""
    with transaction():
        if not rules.can_reschedule(appointment, now):
            raise NotChangeable(status=appointment.status)
        service = appointment.service
        items = booked_items(appointment)
        candidates = availability.slots_of_items_at(
            items,
            new_start,
            now,
            location=location,
            audience=Audience.STAFF if by is not None else Audience.PUBLIC,
            ignore_appointment=appointment.id,
            on_site=availability.is_on_site(service.modes, appointment.mode),
        )
        if not candidates:
            raise SlotUnavailable()
        slot = candidates[0]
        blocked_from, blocked_until = blocked_range(
            slot.start, slot.end, availability.combination_rules(items)
        )
        location_of = dict(placement.places_in_fair_order(candidates, slot.start))
        order = list(location_of)
        if appointment.clerk_id in order:
            order.remove(appointment.clerk_id)
            order.insert(0, appointment.clerk_id)
        old_start = appointment.start_at
        old = (appointment.clerk_id, appointment.start_at, appointment.end_at, appointment.location_id)
        old_blocked = (appointment.blocked_from, appointment.blocked_until)

        def move(clerk_id: int) -> None:
            appointment.clerk_id = clerk_id
            appointment.location_id = location_of[clerk_id]
            appointment.start_at, appointment.end_at = slot.start, slot.end
            appointment.blocked_from, appointment.blocked_until = blocked_from, blocked_until

        def undo() -> None:
            appointment.clerk_id, appointment.start_at, appointment.end_at, appointment.location_id = old
            appointment.blocked_from, appointment.blocked_until = old_blocked

        with _same_person_refused():
            moved = placement.first_clerk_that_fits(order, (blocked_from, blocked_until), now, move, undo)
        if moved is None:
            raise SlotUnavailable()
        appointment.sequence += 1
        appointment.updated_at = now
        appointment.time_told_at = now  # the citizen is told the new time
        if appointment.status == Status.HELD:
            appointment.hold_expires_at = now + timedelta(minutes=settings.current().hold_minutes)
        audit.record(
            "appointment.rescheduled",
            at=now,
            actor=by,
            actor_label=None if by else "citizen",
            obj=appointment,
            old_start=old_start,
            new_start=appointment.start_at,
        )
        _announce(Change.RESCHEDULED, appointment, now, old_start=old_start, by=by)
    return appointment


def expire_holds(*, now: datetime) -> int:
    """Holds not confirmed in time become expired and free their slot. Returns how many."""
    with transaction():
        result = db.session.execute(
            update(Appointment)
            .where(Appointment.status == Status.HELD, Appointment.hold_expires_at <= now)
            .values(status=Status.EXPIRED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount or 0
