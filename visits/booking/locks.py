"""Serialising writes that the constraints alone cannot order, and reading which
constraint refused a write.

The database refuses two occupying appointments of one clerk whose blocked ranges overlap
(PostgreSQL exclusion constraint; SQLite triggers plus BEGIN IMMEDIATE) and two active
appointments of one address at one time (a unique index). The use cases catch the
IntegrityError and ask these functions which of the two it was."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from visits.extensions import db


def lock_address(email: str | None, purpose: str) -> None:
    """Serialise, until the transaction ends, everything done for ``purpose`` with one email
    address: bookings (so the per-address limit holds under races), no-show judgements (so
    two of them see each other). PostgreSQL advisory lock; SQLite's BEGIN IMMEDIATE already
    serialises every transaction."""
    if email and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"{purpose}:{email}"}
        )


def is_overlap(exc: IntegrityError) -> bool:
    """The clerk has another occupying appointment over this time."""
    return "appointment_no_overlap" in str(exc.orig)


def is_same_person_same_time(exc: IntegrityError) -> bool:
    """The address has another active appointment starting at this time."""
    message = str(exc.orig)
    return "uq_appointment_email_start_active" in message or (
        "citizen_email" in message and "start_at" in message
    )
