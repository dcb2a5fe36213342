"""Who came to an appointment: each press of "join" on a video appointment (citizen, clerk
or guest), and the clerk's mark afterwards, attended or no-show. The no-show job
(visits/booking/no_shows.py) reads the joins; reports count the marks."""

from __future__ import annotations

from datetime import datetime

from visits.booking import rules
from visits.booking.refusals import NotChangeable
from visits.core import audit
from visits.core.events import Change, appointment_changed
from visits.extensions import db, transaction
from visits.models import Appointment, JoinEvent, StaffUser, Status


def mark(appointment: Appointment, outcome: Status, *, by: StaffUser | None, now: datetime) -> Appointment:
    """Record how a confirmed appointment went: attended or no_show (a clerk may correct it)."""
    if outcome not in (Status.ATTENDED, Status.NO_SHOW):
        raise ValueError(outcome)
    with transaction():
        if not rules.can_mark(appointment, now):
            raise NotChangeable(status=appointment.status)
        appointment.status = outcome
        appointment.marked_at = now
        appointment.updated_at = now
        audit.record(f"appointment.{outcome.value}", at=now, actor=by, obj=appointment)
        appointment_changed.send(Change(outcome.value), appointment=appointment, now=now, by=by)
    return appointment


def record_join(
    appointment: Appointment,
    role: str,
    staff: StaffUser | None = None,
    *,
    now: datetime,
) -> JoinEvent:
    """Someone pressed "join" on a video appointment: who (citizen, clerk or guest) and when.

    Every press is a JoinEvent; ``citizen_joined_at``/``clerk_joined_at`` keep the first
    one. The no-show job reads them: a citizen who joined is not a no-show."""
    if role not in ("citizen", "clerk", "guest"):
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
