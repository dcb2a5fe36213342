"""Composite appointments through the use cases: a family books several services with a
number of persons each as one appointment, with one clerk who offers them all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from visits.booking import availability
from visits.booking import operations as booking
from visits.extensions import db
from visits.models import Appointment, AppointmentItem, Status

from .. import days
from ..conftest import berlin
from ..factories import ANMELDUNG, PERSONALAUSWEIS

MONDAY = days.BOOKING_MONDAY
NOW = berlin(MONDAY - timedelta(days=7), 9)


@pytest.fixture
def anmeldung(factories):
    return factories.service(**ANMELDUNG)


@pytest.fixture
def ausweis(factories):
    return factories.service(**PERSONALAUSWEIS)


@pytest.fixture
def clerk_for_both(factories, anmeldung, ausweis):
    return factories.clerk([anmeldung, ausweis])


def test_a_family_books_one_appointment_of_the_summed_length_with_one_clerk(
    factories, anmeldung, ausweis, clerk_for_both
):
    factories.clerk([ausweis])  # offers only one of the two: never gets the family
    start = berlin(MONDAY, 8, 10)
    result = booking.book_confirmed([(anmeldung, 1), (ausweis, 2)], start, factories.citizen(), now=NOW, via="api")
    appointment = result.appointment
    assert appointment.clerk_id == clerk_for_both.id and appointment.status == Status.CONFIRMED
    assert appointment.end_at - appointment.start_at == timedelta(minutes=15 + 2 * 20)
    # The largest buffers of the services: 10 minutes before, 5 after.
    assert appointment.blocked_from == start - timedelta(minutes=10)
    assert appointment.blocked_until == appointment.end_at + timedelta(minutes=5)
    assert appointment.service_id == anmeldung.id
    assert [(item.service.slug, item.persons) for item in appointment.items] == [
        ("anmeldung", 1),
        ("personalausweis", 2),
    ]
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_a_single_service_is_an_appointment_with_one_item_for_one_person(factories, ausweis, clerk_for_both):
    appointment = booking.hold(ausweis, berlin(MONDAY, 8, 10), factories.citizen(), now=NOW).appointment
    assert [(item.service_id, item.persons, item.position) for item in appointment.items] == [(ausweis.id, 1, 0)]


def test_the_family_slot_is_offered_only_where_one_clerk_has_the_whole_time(
    factories, anmeldung, ausweis, clerk_for_both
):
    items = [(anmeldung, 1), (ausweis, 2)]
    free = availability.free_slots_of_items(items, MONDAY, MONDAY, NOW)
    # 08:00-12:00 with a 70-minute step: three starts.
    assert [slot.start for slot in free] == [berlin(MONDAY, 8, 10), berlin(MONDAY, 9, 20), berlin(MONDAY, 10, 30)]
    # One ID card at 09:40 (blocked 09:30-10:00) leaves no 70 minutes around 09:20.
    booking.book_confirmed(ausweis, berlin(MONDAY, 9, 40), factories.citizen(email="max@example.org"), now=NOW, via="api")
    free = availability.free_slots_of_items(items, MONDAY, MONDAY, NOW)
    assert [slot.start for slot in free] == [berlin(MONDAY, 8, 10), berlin(MONDAY, 10, 30)]
    with pytest.raises(booking.SlotUnavailable):
        booking.hold(items, berlin(MONDAY, 9, 20), factories.citizen(), now=NOW)


def test_more_persons_than_the_service_takes_are_refused(factories, anmeldung, ausweis, clerk_for_both):
    with pytest.raises(booking.TooManyPersons) as refused:
        booking.hold([(anmeldung, 2)], berlin(MONDAY, 8), factories.citizen(), now=NOW)
    assert refused.value.info == {"service": anmeldung.id, "limit": 1}
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_service_not_marked_combinable_is_refused_in_a_combination(factories, anmeldung, clerk_for_both):
    other = factories.service(slug="wohngeld", combinable=False)
    with pytest.raises(booking.NotCombinable):
        booking.hold([(anmeldung, 1), (other, 1)], berlin(MONDAY, 8), factories.citizen(), now=NOW)


def test_services_of_another_department_do_not_combine(factories, app, anmeldung, clerk_for_both):
    from visits.models import Department

    elsewhere = Department(slug="auslaenderbehoerde", name_de="Ausländerbehörde", name_en="Immigration office", active=True)
    db.session.add(elsewhere)
    db.session.commit()
    other = factories.service(slug="aufenthalt", combinable=True, department_id=elsewhere.id)
    with pytest.raises(booking.NotCombinable):
        booking.book_confirmed([(anmeldung, 1), (other, 1)], berlin(MONDAY, 8), factories.citizen(), now=NOW, via="api")


def test_the_same_service_twice_is_refused(factories, ausweis, clerk_for_both):
    with pytest.raises(booking.DuplicateService):
        booking.hold([(ausweis, 1), (ausweis, 2)], berlin(MONDAY, 8), factories.citizen(), now=NOW)


def test_the_same_family_request_again_finds_its_hold_and_another_combination_is_refused(
    factories, anmeldung, ausweis, clerk_for_both
):
    items = [(anmeldung, 1), (ausweis, 2)]
    citizen = factories.citizen()
    first = booking.hold(items, berlin(MONDAY, 8, 10), citizen, now=NOW)
    again = booking.hold(items, berlin(MONDAY, 8, 10), citizen, now=NOW, own_hold=first.appointment.id)
    assert not again.created and again.appointment.id == first.appointment.id
    with pytest.raises(booking.AlreadyBookedAtThisTime):
        booking.hold([(anmeldung, 1), (ausweis, 1)], berlin(MONDAY, 8, 10), citizen, now=NOW, own_hold=first.appointment.id)


def test_rescheduling_a_family_keeps_its_services_and_length(factories, anmeldung, ausweis, clerk_for_both):
    appointment = booking.book_confirmed(
        [(anmeldung, 1), (ausweis, 2)], berlin(MONDAY, 8, 10), factories.citizen(), now=NOW, via="api"
    ).appointment
    booking.reschedule(appointment, berlin(MONDAY, 10, 30), now=NOW)
    assert appointment.start_at == berlin(MONDAY, 10, 30)
    assert appointment.end_at - appointment.start_at == timedelta(minutes=55)
    assert appointment.blocked_until == appointment.end_at + timedelta(minutes=5)
    with pytest.raises(booking.SlotUnavailable):  # not on the grid of the combination
        booking.reschedule(appointment, berlin(MONDAY, 9), now=NOW)
    assert db.session.scalar(select(func.count()).select_from(AppointmentItem)) == 2


def test_a_family_appointment_is_handed_over_only_to_a_colleague_who_offers_every_service(
    factories, anmeldung, ausweis, clerk_for_both
):
    """The clerk's absence strands the family; a colleague offering only the registration
    (the appointment's first service) is free then but cannot take it, one offering both can."""
    from visits.clerks import absences, conflicts

    start = berlin(MONDAY, 8, 10)
    family = booking.book_confirmed([(anmeldung, 1), (ausweis, 2)], start, factories.citizen(), now=NOW, via="api")
    only_first = factories.clerk([anmeldung], name="Nur Anmeldung")
    absences.add_absence(
        clerk_for_both, start - timedelta(hours=1), start + timedelta(hours=3), "Fortbildung", by=clerk_for_both, now=NOW
    )
    assert [c.id for c in conflicts.free_colleagues(family.appointment, NOW)] == []

    both = factories.clerk([anmeldung, ausweis], name="Beide")
    assert [c.id for c in conflicts.free_colleagues(family.appointment, NOW)] == [both.id]
    assert only_first.id not in {c.id for c in conflicts.free_colleagues(family.appointment, NOW)}
