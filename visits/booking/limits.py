"""How much one email address may book: not while a no-show pause lasts, and no more than
MAX_UPCOMING_PER_EMAIL upcoming appointments at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from visits.booking import availability
from visits.extensions import db
from visits.models import Appointment, BookingPause, Status


def active_pause(email: str, now: datetime) -> BookingPause | None:
    """The pause that keeps the address from booking now, if there is one."""
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


def upcoming_count(email: str, now: datetime, *, leaving_out: int | None = None) -> int:
    """The address's booked appointments still to come (holds count until they run out);
    ``leaving_out``: an appointment not to count (the hold being confirmed)."""
    statement = (
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.citizen_email == email,
            Appointment.start_at > now,
            Appointment.status.in_([Status.HELD, Status.CONFIRMED]),
            availability.occupying_condition(now),
        )
    )
    if leaving_out is not None:
        statement = statement.where(Appointment.id != leaving_out)
    return db.session.scalar(statement)
