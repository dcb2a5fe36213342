"""Reminders before an appointment, at the offsets in REMINDER_OFFSETS (default "24h,1h").

One periodic sweep, no job per appointment: the truth is in rows. A reminder counts as
given once its outbox row exists; the row's unique ``dedupe_key`` names the appointment,
its start time and the offset, so two workers, a retry or a restart queue it once, and a
rescheduled appointment (new start) earns reminders for its new time. The outbox sends it
(at least once, with a stable Message-ID).

Which reminders still make sense:

- only for a confirmed appointment with an email address that has not started yet (a
  cancelled, expired or anonymised one gets none);
- the reminder for offset ``o`` is due at ``start - o``; of the due ones only the nearest
  to the start is sent, so a worker that was down for a day sends one reminder, not two;
- only if its moment lies after the moment the citizen last heard about the time (the
  confirmation, or the rescheduling): booked 30 minutes ahead, no reminder at all; booked
  5 hours ahead, only the 1 h one; moved to tomorrow morning late tonight, only the 1 h one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select

from visits import settings
from visits.core.events import Change
from visits.extensions import db, transaction
from visits.mail import compose as mail
from visits.models import Appointment, OutboxMessage, Status

BATCH_SIZE = 100

_OFFSET = re.compile(r"^\s*(\d+)\s*(d|h|m|min)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "min": 60}


def parse_offsets(text: str) -> tuple[timedelta, ...]:
    """``"24h,1h"`` -> (1 h, 24 h), nearest first. Units: d, h, m (or min). Empty: none."""
    offsets = set()
    for part in (text or "").split(","):
        if not part.strip():
            continue
        match = _OFFSET.match(part)
        if not match or int(match.group(1)) == 0:
            raise ValueError(f"REMINDER_OFFSETS: cannot read {part.strip()!r} (use e.g. 24h, 90m, 2d)")
        offsets.add(timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]))
    return tuple(sorted(offsets))


def configured_offsets() -> tuple[timedelta, ...]:
    return parse_offsets(settings.current().reminder_offsets)


def dedupe_key(appointment: Appointment, offset: timedelta) -> str:
    """One reminder per appointment, start time and offset (a new time, new reminders)."""
    return _key(appointment.id, appointment.start_at, offset)


def _key(appointment_id: int, start: datetime, offset: timedelta) -> str:
    return f"reminder:{appointment_id}:{int(start.timestamp())}:{int(offset.total_seconds())}"


def send_due(
    *, now: datetime, offsets: Sequence[timedelta] | None = None, batch_size: int | None = None
) -> int:
    """Queue every reminder that is due at ``now``; returns how many were queued."""
    batch_size = batch_size or BATCH_SIZE
    offsets = tuple(sorted(offsets)) if offsets is not None else configured_offsets()
    queued = 0
    nearer = timedelta(0)
    for offset in offsets:
        # Appointments starting in (now + nearer, now + offset]: ``offset`` is the nearest
        # reminder that is due for them (the next nearer one is not due yet).
        queued += _sweep_window(now, offset, now + nearer, now + offset, batch_size)
        nearer = offset
    return queued


def _sweep_window(now: datetime, offset: timedelta, after: datetime, until: datetime, batch_size: int) -> int:
    """Walk the window in batches (keyset order over start and id, so memory stays flat).

    Reading the window locks nothing (most of it was reminded on earlier sweeps); only the
    appointments still owed a reminder are locked, while theirs is composed and queued."""
    window = and_(
        Appointment.status == Status.CONFIRMED,
        Appointment.citizen_email.is_not(None),
        Appointment.anonymised_at.is_(None),
        Appointment.start_at > after,
        Appointment.start_at <= until,
    )
    queued = 0
    resume = window
    while True:
        with transaction():  # a short read; ends before anything is locked
            rows = db.session.execute(
                select(Appointment.id, Appointment.start_at)
                .where(resume)
                .order_by(Appointment.start_at, Appointment.id)
                .limit(batch_size)
            ).all()
            keys = {_key(id_, start, offset): id_ for id_, start in rows}
            given = set(
                db.session.scalars(
                    select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(keys)))
                )
            )
        owed = [id_ for key, id_ in keys.items() if key not in given]
        if owed:
            queued += _queue(owed, window, offset, now)
        if len(rows) < batch_size:
            return queued
        last_id, last_start = rows[-1]
        resume = and_(
            window,
            or_(
                Appointment.start_at > last_start,
                and_(Appointment.start_at == last_start, Appointment.id > last_id),
            ),
        )


def _queue(ids: list[int], window, offset: timedelta, now: datetime) -> int:
    """Lock the appointments (SKIP LOCKED: a second worker takes others instead of waiting,
    and never composes the same reminder at the same time), check them again, queue."""
    with transaction():
        locked = db.session.scalars(
            select(Appointment)
            .where(Appointment.id.in_(ids), window)
            .order_by(Appointment.start_at, Appointment.id)
            .with_for_update(skip_locked=True, of=Appointment)
            .execution_options(populate_existing=True)
        ).all()
        told = last_told(locked)
        queued = 0
        for appointment in locked:
            if appointment.start_at - offset <= told[appointment.id]:
                continue  # the citizen heard about this time after the reminder's moment
            key = dedupe_key(appointment, offset)
            if mail.enqueue("reminder", appointment, now=now, dedupe_key=key):
                queued += 1
    return queued


def last_told(appointments: Iterable[Appointment]) -> dict[int, datetime]:
    """When each citizen last heard about the appointment's time: the confirmation (or the
    booking, for one confirmed at once), or the last rescheduling (``time_told_at``, which
    the booking use cases keep)."""
    return {a.id: a.time_told_at or a.confirmed_at or a.created_at for a in appointments}


def withdraw_pending(kind: Change, *, appointment: Appointment, **_extra) -> None:
    """A reminder queued but not sent yet must not follow a cancellation or point to the
    old time: it is taken back in the same transaction as the change. (The sweep queues
    none for a cancelled appointment, and the key of a moved one names its new time.)"""
    if kind in (Change.CANCELLED, Change.RESCHEDULED):
        db.session.execute(
            delete(OutboxMessage)
            .where(
                OutboxMessage.appointment_id == appointment.id,
                OutboxMessage.kind == "reminder",
                OutboxMessage.status == "pending",
            )
            .execution_options(synchronize_session=False)
        )
