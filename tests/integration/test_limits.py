"""The address's limits hold on every way to an appointment, confirming an old hold too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import Appointment, Status

from ..conftest import berlin


@pytest.fixture
def service(factories):
    return factories.service(duration_minutes=30)


@pytest.fixture
def clerk(factories, service):
    return factories.clerk([service])


@pytest.fixture
def monday(factories):
    return factories.working_monday()


def _confirmed() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Appointment).where(Appointment.status == Status.CONFIRMED)
    )


def test_confirming_holds_that_ran_out_cannot_pass_the_limit(reconfigure, factories, service, clerk, monday):
    reconfigure(MAX_UPCOMING_PER_EMAIL=2)
    person = factories.citizen(email="erika@example.org")
    old = [booking.hold(service, berlin(monday, h), person, now=clock.now()).appointment for h in (9, 10)]
    later = clock.now() + timedelta(hours=1)  # both holds ran out
    new = [booking.hold(service, berlin(monday, 10, 30), person, now=later).appointment] + [
        booking.hold(service, berlin(monday, 11), person, now=later).appointment
    ]
    for appointment in new:
        booking.confirm(appointment, now=later)
    for appointment in old:
        with pytest.raises(booking.LimitReached):
            booking.confirm(appointment, now=later)
    assert _confirmed() == 2


def test_confirming_a_hold_after_a_pause_began_is_refused(factories, service, clerk, monday):
    held = booking.hold(
        service, berlin(monday, 9), factories.citizen(email="erika@example.org"), now=clock.now()
    )
    factories.booking_pause(email="erika@example.org")
    with pytest.raises(booking.BookingPaused):
        booking.confirm(held.appointment, now=clock.now())
    assert _confirmed() == 0
