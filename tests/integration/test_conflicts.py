"""A stranded appointment the clerk keeps as it is stays settled for exactly that conflict:
a fact of its own (kept_conflict), not read back from the audit log."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from visits.booking import operations as booking
from visits.clerks import conflicts, hours
from visits.core import clock
from visits.extensions import db
from visits.models import AuditEvent, KeptConflict, WeeklyHours

from .. import days
from ..conftest import berlin

MONDAY = days.BOOKING_MONDAY


def _stranded_monday(factories):
    service = factories.service(duration_minutes=30)
    clerk = factories.clerk([service])
    appointment = booking.book_for_caller(
        service, berlin(MONDAY, 9), factories.citizen(), clerk=clerk, now=clock.now()
    )
    monday = db.session.scalar(sa.select(WeeklyHours).where(WeeklyHours.clerk_id == clerk.id, WeeklyHours.weekday == 0))
    hours.remove_weekly_hours(monday, by=clerk, now=clock.now())
    return clerk, appointment


def test_keeping_a_stranded_appointment_is_stored_for_exactly_its_conflict(factories):
    clerk, appointment = _stranded_monday(factories)
    (stranded,) = conflicts.stranded_appointments(clerk, clock.now())
    conflicts.keep(stranded, by=clerk, now=clock.now())

    kept = db.session.scalar(sa.select(KeptConflict))
    assert (kept.appointment_id, kept.start_at, kept.clerk_id, kept.conflict, kept.kept_by_id) == (
        appointment.id, appointment.start_at, clerk.id, "hours", clerk.id,
    )
    db.session.execute(sa.delete(AuditEvent))  # the audit log is history, not the answer
    db.session.commit()
    assert conflicts.stranded_appointments(clerk, clock.now()) == []
    assert len(conflicts.stranded_appointments(clerk, clock.now(), include_kept=True)) == 1


def test_a_new_conflict_of_a_kept_appointment_lists_it_again(factories):
    clerk, appointment = _stranded_monday(factories)
    (stranded,) = conflicts.stranded_appointments(clerk, clock.now())
    conflicts.keep(stranded, by=clerk, now=clock.now())
    factories.absence(clerk, appointment.start_at - timedelta(hours=1), appointment.end_at)
    (again,) = conflicts.stranded_appointments(clerk, clock.now())
    assert again.appointment.id == appointment.id and again.absences
