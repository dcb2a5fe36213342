"""A booking attempt without a key, with someone else's address, tells nothing about what
that address has: the answer is the one a new hold gets, and the facts go to its mailbox."""

from __future__ import annotations

from sqlalchemy import func, select

from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import Appointment, OutboxMessage

from .conftest import API, berlin, request_body

VICTIM = "erika@example.org"
SHAPE = {
    "reference",
    "status",
    "hold_expires_at",
    "service",
    "service_name",
    "items",
    "start",
    "end",
    "video",
    "mode",
    "location",
    "language",
}


def _answer(client, service, start, email=VICTIM):
    response = client.post(f"{API}/bookings", json=request_body(service, start, email=email))
    return response.status_code, set(response.get_json()), response.get_json()["status"]


def _notices() -> list[tuple[str, str]]:
    rows = db.session.execute(select(OutboxMessage.kind, OutboxMessage.recipient).order_by(OutboxMessage.id))
    return [tuple(row) for row in rows]


def test_a_paused_address_is_answered_as_a_new_hold_and_told_by_mail(
    client, factories, service, clerk, monday
):
    fresh = _answer(client, service, berlin(monday, 9), email="someone@example.org")
    factories.booking_pause(email=VICTIM)
    assert _answer(client, service, berlin(monday, 10)) == fresh == (201, SHAPE, "held")
    assert ("booking_paused", VICTIM) in _notices()
    assert "paused_until" not in str(
        client.post(f"{API}/bookings", json=request_body(service, berlin(monday, 11))).data
    )


def test_an_address_at_its_limit_is_answered_as_a_new_hold(reconfigure, client, service, clerk, monday):
    reconfigure(MAX_UPCOMING_PER_EMAIL=1)
    first = _answer(client, service, berlin(monday, 9))
    assert _answer(client, service, berlin(monday, 10)) == first == (201, SHAPE, "held")
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert ("limit_reached", VICTIM) in _notices()


def test_the_victims_appointment_in_another_service_is_not_revealed(
    client, factories, service, clerk, monday
):
    other = factories.service(slug="ausweis")
    factories.clerk([other])
    victim = booking.hold(service, berlin(monday, 9), factories.citizen(email=VICTIM), now=clock.now())
    response = client.post(f"{API}/bookings", json=request_body(other, berlin(monday, 9), email=VICTIM))
    assert response.status_code == 201 and set(response.get_json()) == SHAPE
    assert response.get_json()["reference"] != victim.appointment.reference
    assert ("address_busy", VICTIM) in _notices()


def test_a_slot_the_victim_holds_answers_as_taken_for_anyone(client, factories, service, clerk, monday):
    booking.hold(service, berlin(monday, 9), factories.citizen(email=VICTIM), now=clock.now())
    stranger = client.post(
        f"{API}/bookings", json=request_body(service, berlin(monday, 9), email="x@example.org")
    )
    with_victims = client.post(f"{API}/bookings", json=request_body(service, berlin(monday, 9), email=VICTIM))
    assert stranger.status_code == with_victims.status_code == 409
    assert stranger.get_json()["type"] == with_victims.get_json()["type"]
