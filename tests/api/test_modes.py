"""Modes in the JSON API: the catalogue and the slots name them, a booking may choose one
(without it, today's body books as before), a mode not offered is a 422 problem."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from visits.extensions import db
from visits.models import Appointment, Mode

from .conftest import API, bearer, berlin, request_body


@pytest.fixture
def service(factories):
    return factories.service(slug="wohngeld", name_de="Wohngeldberatung", modes=[Mode.ON_SITE, Mode.PHONE])


def test_the_catalogue_names_the_modes_and_keeps_video_as_it_was(client, clerk, service):
    (listed,) = client.get(f"{API}/services").get_json()
    assert listed["modes"] == ["on_site", "phone"] and listed["video"] is False


def test_each_slot_names_its_modes_and_a_mode_not_offered_lists_none(client, clerk, service, monday):
    day = monday.isoformat()
    slots = client.get(f"{API}/services/wohngeld/slots?from={day}&to={day}").get_json()["slots"]
    assert slots and all(slot["modes"] == ["on_site", "phone"] for slot in slots)
    assert all(slot["location"]["slug"] == "buergerservice" for slot in slots)
    # By phone the same times, held nowhere (the clerk calls from wherever they work).
    by_phone = client.get(f"{API}/services/wohngeld/slots?from={day}&to={day}&mode=phone").get_json()["slots"]
    assert [(s["start"], s["location"], s["modes"]) for s in by_phone] == [(s["start"], None, ["phone"]) for s in slots]
    on_site = client.get(f"{API}/services/wohngeld/slots?from={day}&to={day}&mode=on_site").get_json()["slots"]
    assert on_site == slots
    assert client.get(f"{API}/services/wohngeld/slots?from={day}&to={day}&mode=video").get_json()["slots"] == []


def test_without_a_mode_the_body_books_as_before_video_else_on_site(client, clerk, service, monday, portal_key):
    answer = client.post(f"{API}/bookings", json=request_body(service, berlin(monday, 9)), headers=bearer(portal_key))
    assert answer.status_code == 201 and answer.get_json()["mode"] == "on_site" and answer.get_json()["video"] is False
    assert db.session.scalar(select(Appointment)).mode == Mode.ON_SITE


def test_a_portal_books_a_phone_appointment_with_the_number(client, clerk, service, monday, portal_key):
    body = request_body(service, berlin(monday, 9), mode="phone", phone="0221 123456")
    answer = client.post(f"{API}/bookings", json=body, headers=bearer(portal_key))
    assert answer.status_code == 201 and answer.get_json()["mode"] == "phone"
    assert "join_url" not in answer.get_json()


def test_phone_without_a_number_is_refused_at_the_phone_field(client, clerk, service, monday, portal_key):
    body = request_body(service, berlin(monday, 9), mode="phone")
    answer = client.post(f"{API}/bookings", json=body, headers=bearer(portal_key))
    assert answer.status_code == 422 and list(answer.get_json()["errors"]) == ["phone"]
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


@pytest.mark.parametrize("with_key", [True, False])
def test_a_mode_the_service_does_not_offer_is_a_422_problem(client, clerk, service, monday, portal_key, with_key):
    body = request_body(service, berlin(monday, 9), mode="video")
    answer = client.post(f"{API}/bookings", json=body, headers=bearer(portal_key) if with_key else {})
    assert answer.status_code == 422
    problem = answer.get_json()
    assert problem["type"].endswith("/mode-not-offered") and problem["errors"] == {"mode": ["mode_not_offered"]}
    assert answer.mimetype == "application/problem+json"
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_booking_names_where_it_is_held_and_the_answer_as_if_held_names_the_same(
    client, factories, clerk, service, monday, portal_key
):
    on_site = client.post(f"{API}/bookings", json=request_body(service, berlin(monday, 9)), headers=bearer(portal_key))
    assert on_site.get_json()["location"] == {"slug": "buergerservice", "name": "Bürgerservice"}
    by_phone = request_body(service, berlin(monday, 10), mode="phone", phone="0221 123456")
    assert client.post(f"{API}/bookings", json=by_phone, headers=bearer(portal_key)).get_json()["location"] is None
    # Without a key: an address that is paused (answered as if held), then a fresh hold of that time.
    factories.booking_pause(email="pausiert@example.org")
    paused = client.post(f"{API}/bookings", json=request_body(service, berlin(monday, 11), email="pausiert@example.org"))
    fresh = client.post(f"{API}/bookings", json=request_body(service, berlin(monday, 11), email="neu@example.org"))
    assert fresh.status_code == paused.status_code == 201
    assert paused.get_json()["location"] == fresh.get_json()["location"] == on_site.get_json()["location"]
