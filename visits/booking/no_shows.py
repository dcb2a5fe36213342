"""No-shows: judged automatically for video appointments, and a gentle policy for repeats.

Once a confirmed video appointment's end plus NO_SHOW_GRACE_MINUTES has passed and the
clerk has not marked it, the job judges it if the clerk was there: if the clerk did not
turn up, the citizen is not to blame, and the clerk marks it. With presence from Jitsi
(JITSI_EVENTS_TOKEN, ``visits.video.presence``) it goes by who was really in the room and
the lobby and also marks calls ``attended``; without, by the join buttons (``sweep``).
On-site appointments leave no join data: only the clerk can judge them. The job goes through ``booking.mark``, so the ``no_show`` event is announced
(the citizen gets a friendly mail with a link to book again) as when a clerk marks it.

Repeated no-shows (NO_SHOW_PAUSE_AFTER within NO_SHOW_WINDOW_DAYS, default 2 in 90 days)
pause online booking for that email address for NO_SHOW_PAUSE_DAYS: a ``BookingPause``
row, which ``booking`` refuses with ``BookingPaused``. This follows every ``no_show``
event, the clerk's mark included. No-shows before an address's last pause do not count
again: they led to that pause already (and lifting it forgives them). Staff can lift a
pause early with ``lift_pause``; phone bookings by staff are never paused."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select

from visits import settings
from visits.booking import limits, locks
from visits.booking import operations as booking
from visits.core import audit
from visits.core.events import Change
from visits.extensions import db, transaction
from visits.models import Appointment, BookingPause, JoinEvent, RoomPresence, StaffUser, Status
from visits.video import presence

log = logging.getLogger(__name__)

# BookingPause.reason of the pauses this module sets (a code: pages say it in their language).
PAUSE_REASON = "repeated_no_shows"

BATCH_SIZE = 100


def _joined(role: str):
    return exists().where(JoinEvent.appointment_id == Appointment.id, JoinEvent.role == role)


def _in_room(who: str):
    return exists().where(
        RoomPresence.appointment_id == Appointment.id, RoomPresence.who == who, RoomPresence.place == "room"
    )


def sweep(*, now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """Mark the video appointments that are over and can be judged; returns how many.

    With presence from Jitsi (``visits.video.presence``): a call the clerk was in is
    ``attended`` when the citizen was in it with them, ``no_show`` when the citizen never
    came, not even to the lobby (pressing "join" is not coming); a citizen who waited in
    the lobby and was never let in is left to the clerk, as is any call the clerk never
    entered. Without presence: ``no_show`` when the clerk joined and the citizen never
    pressed "join"."""
    grace = timedelta(minutes=settings.current().no_show_grace_minutes)
    by_presence = presence.enabled()
    over = [
        Appointment.status == Status.CONFIRMED,
        Appointment.room.is_not(None),
        Appointment.end_at <= now - grace,
        Appointment.marked_at.is_(None),
    ]
    if by_presence:
        over.append(_in_room("clerk"))
    else:
        over += [
            Appointment.citizen_joined_at.is_(None),
            ~_joined("citizen"),
            or_(Appointment.clerk_joined_at.is_not(None), _joined("clerk")),
        ]
    decide = _by_presence if by_presence else _by_join_buttons
    marked = 0
    for ids in _batches(over, batch_size):
        marked += sum(_mark_one(appointment_id, now, decide) for appointment_id in ids)
    return marked


def _batches(over: list, batch_size: int) -> Iterator[list[int]]:
    """The candidates, oldest end first, a batch at a time, each read in a short transaction.

    Paged by (end_at, id), not by "the first ``batch_size``": candidates the sweep leaves to
    the clerk stay candidates, and a plain LIMIT would read those same ones on every run
    and never reach the newer calls behind them."""
    after: tuple[datetime, int] | None = None
    while True:
        query = select(Appointment.id, Appointment.end_at).where(*over)
        if after is not None:
            end_at, last_id = after
            query = query.where(
                or_(Appointment.end_at > end_at, and_(Appointment.end_at == end_at, Appointment.id > last_id))
            )
        with transaction():  # a short read: each candidate is locked and checked on its own
            rows = db.session.execute(
                query.order_by(Appointment.end_at, Appointment.id).limit(batch_size)
            ).all()
        if rows:
            yield [appointment_id for appointment_id, _end in rows]
        if len(rows) < batch_size:
            return
        last_id, end_at = rows[-1]
        after = (end_at, last_id)


def _by_join_buttons(appointment: Appointment, now: datetime) -> Status | None:
    return Status.NO_SHOW if appointment.citizen_joined_at is None else None  # a late join counts


def _by_presence(appointment: Appointment, now: datetime) -> Status | None:
    if presence.together(appointment.id, now=now) >= presence.TOGETHER_AT_LEAST:
        return Status.ATTENDED
    if not presence.came(appointment.id, "citizen"):
        return Status.NO_SHOW
    return None  # came, but not into the call with the clerk: the clerk knows why


def _mark_one(appointment_id: int, now: datetime, decide) -> int:
    """Lock the row (a second worker skips it), decide again, mark it in the same transaction."""
    with transaction():
        appointment = db.session.scalar(
            select(Appointment)
            .where(
                Appointment.id == appointment_id,
                Appointment.status == Status.CONFIRMED,
                Appointment.marked_at.is_(None),
            )
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if appointment is None:
            return 0  # another worker (or the clerk) was first
        outcome = decide(appointment, now)
        if outcome is None:
            return 0
        try:
            booking.mark(appointment, outcome, by=None, now=now)  # commits, releases the lock
        except booking.BookingError as exc:  # changed in between: leave it to the clerk
            log.warning("appointment %s not marked %s: %s", appointment_id, outcome, exc.code)
            return 0
    return 1


# -- repeated no-shows pause online booking ----------------------------------------------


def pause_if_repeated(email: str, *, now: datetime) -> BookingPause | None:
    """Pause online booking for ``email`` when its recent no-shows reach the limit (no commit)."""
    config = settings.current()
    limit = config.no_show_pause_after
    if limit <= 0:
        return None  # the policy is switched off
    locks.lock_address(email, "no-show")  # two judgements of one address see each other
    if limits.active_pause(email, now) is not None:
        return None
    since = now - timedelta(days=config.no_show_window_days)
    last_pause = db.session.scalar(
        select(func.max(BookingPause.created_at)).where(BookingPause.email == email)
    )
    if last_pause is not None and last_pause > since:
        since = last_pause
    count = db.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.citizen_email == email,
            Appointment.status == Status.NO_SHOW,
            Appointment.start_at > since,
            Appointment.start_at <= now,
        )
    )
    if count < limit:
        return None
    pause = BookingPause(
        email=email,
        paused_until=now + timedelta(days=config.no_show_pause_days),
        reason=PAUSE_REASON,
        created_at=now,
    )
    db.session.add(pause)
    db.session.flush()
    audit.record("booking_pause.created", at=now, actor_label="system", obj=pause, no_shows=count)
    return pause


def on_appointment_changed(kind: Change, *, appointment: Appointment, now: datetime, **_extra) -> None:
    """Every no-show (the job's or a clerk's mark) may complete a repeat: inside the same
    transaction, so the pause commits with the mark (wired in ``visits.listeners``)."""
    if kind == Change.NO_SHOW and appointment.citizen_email:
        pause_if_repeated(appointment.citizen_email, now=now)


def active_pauses(now: datetime) -> list[BookingPause]:
    """Pauses in force now, the newest first (for the admin page)."""
    return list(
        db.session.scalars(
            select(BookingPause)
            .where(BookingPause.paused_until > now, BookingPause.lifted_at.is_(None))
            .order_by(BookingPause.created_at.desc(), BookingPause.id.desc())
        )
    )


def lift_pause(pause: BookingPause, by: StaffUser | None, *, now: datetime) -> BookingPause:
    """A clerk or admin lets the address book online again at once (recorded in the audit
    trail). Lifting a pause already lifted or run out changes nothing."""
    with transaction():
        if pause.lifted_at is None and pause.paused_until > now:
            pause.lifted_at = now
            pause.lifted_by_id = by.id if by is not None else None
            audit.record("booking_pause.lifted", at=now, actor=by, obj=pause)
    return pause
