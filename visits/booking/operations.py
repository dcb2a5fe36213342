"""The booking use cases: hold, confirm, cancel, reschedule, book for a caller, mark.

Web pages, the JSON API, the call centre and the scheduled jobs all call these functions;
there is no second way to book. Each function is one transaction: it commits on success and
rolls back on any error, so nothing half-written remains.

No double booking: the database refuses two occupying appointments of one clerk whose
blocked ranges overlap (PostgreSQL exclusion constraint; SQLite triggers plus BEGIN
IMMEDIATE). This module asks the slot engine first, for a clear answer, and relies on the
constraint for the race it cannot see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from visits.booking import availability, links, rules
from visits.booking.slots import blocked_range
from visits.core import audit, clock
from visits.core import citizen as citizen_input
from visits.core.citizen import Citizen
from visits.core.events import appointment_changed
from visits.core.refusals import Refused
from visits.extensions import db, transaction
from visits.models import ApiKey, Appointment, BookingPause, JoinEvent, Service, StaffUser, Status
from visits.models.types import UTCDateTime


class BookingError(Exception):
    """A booking request that cannot be fulfilled; ``code`` is machine-readable, the web
    and API layers turn it into a message in the user's language."""

    code = "booking_error"

    def __init__(self, detail: str = "", **info) -> None:
        super().__init__(detail or self.code)
        self.detail = detail or self.code
        self.info = info


def _refusal(name: str, code: str) -> type[BookingError]:
    """One kind of BookingError: a class of its own (callers catch it by name) with its ``code``."""
    return type(name, (BookingError,), {"code": code, "__module__": __name__, "__qualname__": name})


SlotUnavailable = _refusal("SlotUnavailable", "slot_unavailable")
AlreadyBookedAtThisTime = _refusal("AlreadyBookedAtThisTime", "already_booked_at_this_time")
LimitReached = _refusal("LimitReached", "limit_reached")
BookingPaused = _refusal("BookingPaused", "booking_paused")
NotChangeable = _refusal("NotChangeable", "not_changeable")
HoldExpired = _refusal("HoldExpired", "hold_expired")
InvalidCitizen = _refusal("InvalidCitizen", "invalid_input")


@dataclass(frozen=True)
class HoldResult:
    appointment: Appointment
    created: bool  # False: the same request came again and found its first hold


# -- helpers ---------------------------------------------------------------------------


# What a refusal of the citizen's input says in logs and in the API's field errors; the
# pages show their own message for the code (``info["reason"]``).
_INPUT_DETAILS = {
    "name_missing": "name is required",
    "name_too_long": f"name has at most {citizen_input.NAME_MAX} characters",
    "name_characters": "name must not contain control characters",
    "email_missing": "email is required",
    "email_invalid": "email address is not valid",
    "email_or_phone_missing": "email or phone is required",
    "phone_too_long": f"phone number has at most {citizen_input.PHONE_MAX} characters",
    "phone_invalid": "phone number is not valid",
    "note_too_long": f"note has at most {citizen_input.NOTE_MAX} characters",
    "note_characters": "note must not contain control characters",
    "language_unknown": "language is not offered",
}


def _invalid(refused: Refused) -> InvalidCitizen:
    return InvalidCitizen(_INPUT_DETAILS.get(refused.code, refused.code), field=refused.field, reason=refused.code)


def normalise_email(email: str | None) -> str | None:
    """The address as it is stored and compared (visits/core/citizen.py), None if empty."""
    try:
        return citizen_input.email(email)
    except Refused as refused:
        raise _invalid(refused) from refused


def _clean(citizen: Citizen, *, need_email: bool) -> Citizen:
    """The citizen's input by the one rule set that the forms and the API use too."""
    try:
        return citizen_input.clean(
            citizen, languages=current_app.config["LANGUAGES"], need_email=need_email
        )
    except Refused as refused:
        raise _invalid(refused) from refused


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def lock_address(email: str | None, purpose: str) -> None:
    """Serialise, until the transaction ends, everything done for ``purpose`` with one email
    address: bookings (so the per-address limit holds under races), no-show judgements (so
    two of them see each other). PostgreSQL advisory lock; SQLite's BEGIN IMMEDIATE already
    serialises every transaction."""
    if email and _is_postgres():
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"{purpose}:{email}"}
        )


def _is_overlap(exc: IntegrityError) -> bool:
    return "appointment_no_overlap" in str(exc.orig)


def _is_same_person_same_time(exc: IntegrityError) -> bool:
    message = str(exc.orig)
    return "uq_appointment_email_start_active" in message or (
        "citizen_email" in message and "start_at" in message
    )


def _expire_overlapping_holds(clerk_id: int, start: datetime, end: datetime, now: datetime) -> None:
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


def _existing_for(email: str | None, start: datetime, now: datetime) -> Appointment | None:
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


def active_pause(email: str, now: datetime) -> BookingPause | None:
    return db.session.scalar(
        select(BookingPause)
        .where(
            BookingPause.email == email,
            BookingPause.paused_until > now,
            BookingPause.lifted_at.is_(None),
        )
        .order_by(BookingPause.paused_until.desc())
        .limit(1)
    )


def upcoming_count(email: str, now: datetime) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.citizen_email == email,
            Appointment.start_at > now,
            Appointment.status.in_([Status.HELD, Status.CONFIRMED]),
            availability.occupying_condition(now),
        )
    )


def _surely_taken(service: Service, start: datetime, email: str | None, now: datetime) -> bool:
    """Refusal fast path, so that many requests for a slot already taken stay cheap: one
    query. True when every active clerk who offers the service has an occupying appointment
    of someone else over the slot's blocked range, so no clerk could take it; False means
    only "maybe free" and the full path decides.

    Appointments of the asking address do not count, so the same request again still
    finds its first booking."""
    rules = availability.service_rules(service)
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


def _check_limits(email: str, now: datetime) -> None:
    pause = active_pause(email, now)
    if pause:
        raise BookingPaused(paused_until=pause.paused_until)
    limit = current_app.config["MAX_UPCOMING_PER_EMAIL"]
    if upcoming_count(email, now) >= limit:
        raise LimitReached(limit=limit)


def _place(
    service: Service,
    start: datetime,
    citizen: Citizen,
    now: datetime,
    *,
    status: Status,
    via: str,
    booked_by: StaffUser | None = None,
    api_key: ApiKey | None = None,
) -> Appointment:
    """Insert the appointment with the first free clerk in fair order."""
    if not service.active:
        raise SlotUnavailable("service is not offered")
    slot = availability.slot_at(service, start, now)
    if slot is None:
        raise SlotUnavailable()
    rules = availability.service_rules(service)
    blocked_from, blocked_until = blocked_range(slot.start, slot.end, rules)
    for clerk_id in fair_order(slot.clerk_ids, slot.start):
        uid = links.new_uid()
        appointment = Appointment(
            reference=links.new_reference(),
            uid=uid,
            service_id=service.id,
            clerk_id=clerk_id,
            start_at=slot.start,
            end_at=slot.end,
            blocked_from=blocked_from,
            blocked_until=blocked_until,
            status=status,
            sequence=0,
            hold_expires_at=(
                now + timedelta(minutes=current_app.config["HOLD_MINUTES"])
                if status == Status.HELD
                else None
            ),
            confirmed_at=now if status == Status.CONFIRMED else None,
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
            room=links.new_room_name() if service.video else None,
            created_at=now,
            updated_at=now,
        )
        try:
            with db.session.begin_nested():
                _expire_overlapping_holds(clerk_id, blocked_from, blocked_until, now)
                db.session.add(appointment)
        except IntegrityError as exc:
            if _is_overlap(exc):
                continue  # taken a moment ago by someone else: try the next clerk
            if _is_same_person_same_time(exc):
                raise AlreadyBookedAtThisTime() from exc
            raise
        return appointment
    raise SlotUnavailable()


def _announce(kind: str, appointment: Appointment, now: datetime, **extra) -> None:
    appointment_changed.send(kind, appointment=appointment, now=now, **extra)


# -- use cases ---------------------------------------------------------------------------


def hold(
    service: Service,
    start: datetime,
    citizen: Citizen,
    *,
    now: datetime | None = None,
    via: str = "web",
) -> HoldResult:
    """Hold a slot for a citizen until they confirm by the link in the mail (double opt-in).

    The same person asking again for the same time (a double click, a reload) gets the
    hold they already have; nothing new is created and no second mail is sent."""
    now = now or clock.now()
    citizen = _clean(citizen, need_email=True)
    if _surely_taken(service, start, citizen.email, now):
        db.session.rollback()
        raise SlotUnavailable()
    with transaction():
        lock_address(citizen.email, "email")
        existing = _existing_for(citizen.email, start, now)
        if existing is not None:
            if existing.service_id != service.id:
                raise AlreadyBookedAtThisTime()
            return HoldResult(existing, created=False)
        _check_limits(citizen.email, now)
        appointment = _place(service, start, citizen, now, status=Status.HELD, via=via)
        audit.record("appointment.held", at=now, actor_label="citizen", obj=appointment)
        _announce("held", appointment, now)
    return HoldResult(appointment, created=True)


def book_confirmed(
    service: Service,
    start: datetime,
    citizen: Citizen,
    *,
    now: datetime | None = None,
    via: str,
    booked_by: StaffUser | None = None,
    api_key: ApiKey | None = None,
    enforce_limits: bool = True,
) -> HoldResult:
    """Book a confirmed appointment at once, for a person already identified (a caller on
    the phone, a portal with an API key). Sends the same confirmation mail as online."""
    now = now or clock.now()
    citizen = _clean(citizen, need_email=False)
    if _surely_taken(service, start, citizen.email, now):
        db.session.rollback()
        raise SlotUnavailable()
    with transaction():
        lock_address(citizen.email, "email")
        existing = _existing_for(citizen.email, start, now)
        if existing is not None:
            if existing.service_id != service.id or existing.status != Status.CONFIRMED:
                raise AlreadyBookedAtThisTime()
            return HoldResult(existing, created=False)
        if enforce_limits and citizen.email:
            _check_limits(citizen.email, now)
        appointment = _place(
            service,
            start,
            citizen,
            now,
            status=Status.CONFIRMED,
            via=via,
            booked_by=booked_by,
            api_key=api_key,
        )
        audit.record(
            "appointment.booked",
            at=now,
            actor=booked_by,
            actor_label=(f"api:{api_key.name}" if api_key else None),
            obj=appointment,
            via=via,
        )
        _announce("confirmed", appointment, now)
    return HoldResult(appointment, created=True)


def book_for_caller(
    service: Service, start: datetime, citizen: Citizen, *, clerk: StaffUser, now: datetime | None = None
) -> Appointment:
    """A clerk books for a caller (call centre): confirmed at once, no opt-in."""
    return book_confirmed(
        service, start, citizen, now=now, via="phone", booked_by=clerk, enforce_limits=False
    ).appointment


def confirm(appointment: Appointment, *, now: datetime | None = None) -> Appointment:
    """The citizen confirms their hold (button on the page the mail's link opens).

    Confirming twice is harmless. A hold that ran out (swept by the job or not yet) is still
    confirmed if its slot is free; otherwise HoldExpired."""
    now = now or clock.now()
    with transaction():
        if appointment.status == Status.CONFIRMED:
            return appointment
        if not rules.can_confirm(appointment, now):
            raise NotChangeable(status=appointment.status)
        try:
            with db.session.begin_nested():
                _expire_overlapping_holds(
                    appointment.clerk_id, appointment.blocked_from, appointment.blocked_until, now
                )
                appointment.status = Status.CONFIRMED
                appointment.confirmed_at = now
                appointment.hold_expires_at = None
                appointment.updated_at = now
        except IntegrityError as exc:
            if _is_overlap(exc) or _is_same_person_same_time(exc):
                raise HoldExpired() from exc
            raise
        audit.record("appointment.confirmed", at=now, actor_label="citizen", obj=appointment)
        _announce("confirmed", appointment, now)
    return appointment




def cancel(
    appointment: Appointment,
    *,
    now: datetime | None = None,
    by: StaffUser | None = None,
    reason: str = "",
) -> Appointment:
    """Cancel; the slot is free again at once. The citizen gets a METHOD:CANCEL mail."""
    now = now or clock.now()
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
        _announce("cancelled", appointment, now, by=by, was_confirmed=was_confirmed)
    return appointment


def reschedule(
    appointment: Appointment,
    new_start: datetime,
    *,
    now: datetime | None = None,
    by: StaffUser | None = None,
) -> Appointment:
    """Move the appointment to another free slot: same row, same UID, SEQUENCE raised; the
    old time is freed in the same transaction. Keeps the clerk when they are free."""
    now = now or clock.now()
    with transaction():
        if not rules.can_reschedule(appointment, now):
            raise NotChangeable(status=appointment.status)
        service = appointment.service
        slot = availability.slot_at(service, new_start, now, ignore_appointment=appointment.id)
        if slot is None:
            raise SlotUnavailable()
        blocked_from, blocked_until = blocked_range(
            slot.start, slot.end, availability.service_rules(service)
        )
        order = fair_order(slot.clerk_ids, slot.start)
        if appointment.clerk_id in order:
            order.remove(appointment.clerk_id)
            order.insert(0, appointment.clerk_id)
        old_start = appointment.start_at
        old = (appointment.clerk_id, appointment.start_at, appointment.end_at)
        old_blocked = (appointment.blocked_from, appointment.blocked_until)
        for clerk_id in order:
            try:
                with db.session.begin_nested():
                    _expire_overlapping_holds(clerk_id, blocked_from, blocked_until, now)
                    appointment.clerk_id = clerk_id
                    appointment.start_at, appointment.end_at = slot.start, slot.end
                    appointment.blocked_from, appointment.blocked_until = blocked_from, blocked_until
            except IntegrityError as exc:
                appointment.clerk_id, appointment.start_at, appointment.end_at = old
                appointment.blocked_from, appointment.blocked_until = old_blocked
                if _is_overlap(exc):
                    continue
                if _is_same_person_same_time(exc):
                    raise AlreadyBookedAtThisTime() from exc
                raise
            break
        else:
            raise SlotUnavailable()
        appointment.sequence += 1
        appointment.updated_at = now
        if appointment.status == Status.HELD:
            appointment.hold_expires_at = now + timedelta(minutes=current_app.config["HOLD_MINUTES"])
        audit.record(
            "appointment.rescheduled",
            at=now,
            actor=by,
            actor_label=None if by else "citizen",
            obj=appointment,
            old_start=old_start,
            new_start=appointment.start_at,
        )
        _announce("rescheduled", appointment, now, old_start=old_start, by=by)
    return appointment


def mark(appointment: Appointment, outcome: Status, *, by: StaffUser | None, now: datetime | None = None) -> Appointment:
    """Record how a confirmed appointment went: attended or no_show (a clerk may correct it)."""
    now = now or clock.now()
    if outcome not in (Status.ATTENDED, Status.NO_SHOW):
        raise ValueError(outcome)
    with transaction():
        if not rules.can_mark(appointment, now):
            raise NotChangeable(status=appointment.status)
        appointment.status = outcome
        appointment.marked_at = now
        appointment.updated_at = now
        audit.record(f"appointment.{outcome.value}", at=now, actor=by, obj=appointment)
        _announce(outcome.value, appointment, now, by=by)
    return appointment


def record_join(
    appointment: Appointment,
    role: str,
    staff: StaffUser | None = None,
    *,
    now: datetime | None = None,
) -> JoinEvent:
    """Someone pressed "join" on a video appointment: who (citizen or clerk) and when.

    Every press is a JoinEvent; ``citizen_joined_at``/``clerk_joined_at`` keep the first
    one. The no-show job reads them: a citizen who joined is not a no-show."""
    now = now or clock.now()
    if role not in ("citizen", "clerk"):
        raise ValueError(role)
    with transaction():
        event = JoinEvent(
            appointment_id=appointment.id,
            role=role,
            staff_id=staff.id if staff else None,
            at=now,
        )
        db.session.add(event)
        if role == "citizen" and appointment.citizen_joined_at is None:
            appointment.citizen_joined_at = now
        if role == "clerk" and appointment.clerk_joined_at is None:
            appointment.clerk_joined_at = now
    return event


def expire_holds(now: datetime | None = None) -> int:
    """Holds not confirmed in time become expired and free their slot. Returns how many."""
    now = now or clock.now()
    with transaction():
        result = db.session.execute(
            update(Appointment)
            .where(Appointment.status == Status.HELD, Appointment.hold_expires_at <= now)
            .values(status=Status.EXPIRED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount or 0


def by_manage_token(token: str) -> Appointment | None:
    """The appointment whose manage link carries ``token``; None for anything else."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(Appointment).where(Appointment.manage_token_hash == links.token_hash(token))
    )


def by_join_token(token: str) -> Appointment | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(Appointment).where(Appointment.join_token_hash == links.token_hash(token))
    )


def manage_token(appointment: Appointment) -> str:
    return links.derive_token("manage", appointment.uid)


def join_token(appointment: Appointment) -> str:
    return links.derive_token("join", appointment.uid)
