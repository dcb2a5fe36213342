"""POST /api/v1/bookings, GET and DELETE /api/v1/bookings/{reference}: the same booking
service as the web underneath, so holds, mails and the clerk's agenda behave alike."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from visits.admin import api_keys
from visits.booking import links
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.mail import outbox
from visits.models import ApiKey, Appointment, AuditEvent, OutboxMessage, Status

from ..factories import STAFF_PASSWORD
from .conftest import API, bearer, berlin, request_body

BERLIN = ZoneInfo("Europe/Berlin")


def _mails(appointment_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(OutboxMessage.kind)
            .where(OutboxMessage.appointment_id == appointment_id)
            .order_by(OutboxMessage.id)
        )
    )


def _appointment(reference: str) -> Appointment:
    db.session.expire_all()
    return db.session.scalar(select(Appointment).where(Appointment.reference == reference))


# -- holds (no API key): double opt-in as on the web -------------------------------------------


def test_booking_without_a_key_is_a_hold_awaiting_the_citizens_email(client, service, clerk, monday):
    before = clock.now()
    response = client.post(f"{API}/bookings", json=request_body(service, berlin(monday, 9)))
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "held"
    assert body["reference"].startswith("T-")
    assert body["start"] == berlin(monday, 9).astimezone(BERLIN).isoformat()
    expires = datetime.fromisoformat(body["hold_expires_at"])
    assert expires.utcoffset() is not None
    assert timedelta(minutes=14) < expires - before <= timedelta(minutes=16)
    # Whoever called the API cannot confirm without the mail: no manage link in the answer.
    assert "manage_url" not in body and "join_url" not in body
    appointment = _appointment(body["reference"])
    assert appointment.booked_via == "api"
    assert appointment.clerk_id == clerk.id
    assert _mails(appointment.id) == ["confirm_request"]


def test_api_hold_mails_the_same_as_a_web_hold(client, factories, service, clerk, monday, smtp_server):
    response = client.post(
        f"{API}/bookings", json=request_body(service, berlin(monday, 9), email="api@example.org")
    )
    assert response.status_code == 201
    web = booking.hold(
        service, berlin(monday, 10), factories.citizen(email="web@example.org"), now=clock.now()
    )
    assert outbox.deliver_due(now=clock.now()) == 2
    by_address = {m["To"].addresses[0].addr_spec: m for m in smtp_server.wait_for(2)}
    api_mail, web_mail = by_address["api@example.org"], by_address["web@example.org"]
    assert api_mail["Subject"].replace("09:00", "10:00") == web_mail["Subject"]
    assert [p.get_content_type() for p in api_mail.walk()] == [p.get_content_type() for p in web_mail.walk()]
    # The link in the API's mail confirms the hold, exactly as the web's does.
    appointment = _appointment(response.get_json()["reference"])
    token = links.derive_token("manage", appointment.uid)
    assert links.manage_url(appointment) in api_mail.get_body(("plain",)).get_content()
    booking.confirm(links.by_manage_token(token), now=clock.now())
    status = client.get(
        f"{API}/bookings/{appointment.reference}", headers={"X-Manage-Token": token}
    ).get_json()["status"]
    assert status == "confirmed"
    assert web.appointment.status == Status.HELD


def test_the_same_request_twice_holds_once_and_mails_once(client, service, clerk, monday):
    # Without a key the repeat is answered as anyone asking for a taken slot is answered.
    body = request_body(service, berlin(monday, 9))
    first = client.post(f"{API}/bookings", json=body)
    again = client.post(f"{API}/bookings", json=body)
    assert first.status_code == 201
    _problem(again, 409, "slot-unavailable")
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert _mails(_appointment(first.get_json()["reference"]).id) == ["confirm_request"]


def test_language_of_the_mail_follows_the_field_then_accept_language(client, service, clerk, monday):
    english = client.post(
        f"{API}/bookings",
        json=request_body(service, berlin(monday, 9), email="a@example.org"),
        headers={"Accept-Language": "en"},
    ).get_json()
    german = client.post(
        f"{API}/bookings",
        json=request_body(service, berlin(monday, 10), email="b@example.org", language="de"),
        headers={"Accept-Language": "en"},
    ).get_json()
    assert english["language"] == "en" and english["service_name"] == "Housing benefit advice"
    assert german["language"] == "de" and german["service_name"] == "Wohngeldberatung"


# -- conflicts (409) ---------------------------------------------------------------------------


def _problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == f"/api/v1/problems/{slug}"
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]
    return problem


def test_a_time_that_is_not_a_free_slot_is_refused(client, service, clerk, monday):
    for start in (berlin(monday, 9, 10), berlin(monday, 13), berlin(monday + timedelta(days=5), 9)):
        response = client.post(f"{API}/bookings", json=request_body(service, start))
        _problem(response, 409, "slot-unavailable")


def test_a_slot_taken_meanwhile_is_409(client, factories, service, clerk, monday):
    booking.hold(service, berlin(monday, 9), factories.citizen(), now=clock.now())
    response = client.post(f"{API}/bookings", json=request_body(service, berlin(monday, 9)))
    _problem(response, 409, "slot-unavailable")


def test_far_away_or_past_starts_are_slot_unavailable_not_errors(client, service, clerk):
    for start in ("2999-01-04T09:00:00+01:00", "2001-01-01T09:00:00+01:00"):
        response = client.post(f"{API}/bookings", json=request_body(service, datetime.fromisoformat(start)))
        _problem(response, 409, "slot-unavailable")


# A portal with a key has identified the citizen: it hears every refusal as such (a caller
# without a key hears none of these, tests/api/test_disclosure.py).


def test_limit_per_email_is_409_with_the_limit_for_a_portal(
    reconfigure, client, service, clerk, monday, portal_key
):
    reconfigure(MAX_UPCOMING_PER_EMAIL=1)
    first = client.post(
        f"{API}/bookings", json=request_body(service, berlin(monday, 9)), headers=bearer(portal_key)
    )
    assert first.status_code == 201
    response = client.post(
        f"{API}/bookings", json=request_body(service, berlin(monday, 10)), headers=bearer(portal_key)
    )
    assert _problem(response, 409, "limit-reached")["limit"] == 1


def test_a_paused_address_gets_409_booking_paused_at_a_portal(
    client, factories, service, clerk, monday, portal_key
):
    factories.booking_pause()
    response = client.post(
        f"{API}/bookings", json=request_body(service, berlin(monday, 9)), headers=bearer(portal_key)
    )
    assert "paused_until" in _problem(response, 409, "booking-paused")


def test_the_same_person_at_the_same_time_in_another_service_is_409_at_a_portal(
    client, factories, service, clerk, monday, portal_key
):
    other = factories.service(slug="ausweis")
    factories.clerk([other])
    client.post(f"{API}/bookings", json=request_body(service, berlin(monday, 9)), headers=bearer(portal_key))
    response = client.post(
        f"{API}/bookings", json=request_body(other, berlin(monday, 9)), headers=bearer(portal_key)
    )
    _problem(response, 409, "already-booked-at-this-time")


# -- invalid input (422, with the field) -------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "x" * 201}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "Erika\x00"}, "name"),
        ({"note": "n" * 1001}, "note"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "erika@"}, "email"),
        ({"phone": "0" * 41}, "phone"),
        ({"language": "fr"}, "language"),
        ({"start": "2026-12-07T09:00:00"}, "start"),  # no offset: which 09:00?
        ({"start": "morgen"}, "start"),
        ({"service": "gibt-es-nicht"}, "service"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_input_is_422_naming_the_field(client, service, clerk, monday, fields, field):
    body = request_body(service, berlin(monday, 9))
    body.update(fields)
    problem = _problem(client.post(f"{API}/bookings", json=body), 422, "invalid-input")
    assert field in problem["errors"], problem
    assert all(isinstance(m, str) for m in problem["errors"][field])


def test_missing_fields_are_each_named(client):
    problem = _problem(client.post(f"{API}/bookings", json={}), 422, "invalid-input")
    assert {"service", "start", "name"} <= set(problem["errors"])


def test_without_a_key_an_email_is_required(client, service, clerk, monday):
    body = request_body(service, berlin(monday, 9), phone="0221 123456")
    del body["email"]
    problem = _problem(client.post(f"{API}/bookings", json=body), 422, "invalid-input")
    assert "email" in problem["errors"]


def test_a_body_that_is_not_json_is_a_problem_not_a_crash(client):
    response = client.post(f"{API}/bookings", data="{not json", content_type="application/json")
    _problem(response, 400, "bad-request")  # unreadable, not invalid input (422)


def test_note_and_name_limits_are_inclusive(client, service, clerk, monday):
    body = request_body(service, berlin(monday, 9), name="N" * 200, note="n" * 1000)
    response = client.post(f"{API}/bookings", json=body)
    assert response.status_code == 201
    appointment = _appointment(response.get_json()["reference"])
    assert len(appointment.citizen_note) == 1000 and len(appointment.citizen_name) == 200


# -- portals with an API key --------------------------------------------------------------------


def test_a_portal_books_confirmed_and_the_clerk_sees_it_in_the_agenda(
    client, app, service, clerk, monday, portal_key
):
    response = client.post(
        f"{API}/bookings",
        json=request_body(service, berlin(monday, 9), name="Paula Portal", note="Rollstuhl"),
        headers=bearer(portal_key),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "confirmed"
    assert body["hold_expires_at"] is None
    assert body["manage_url"].startswith("https://visits.test/termin/")
    assert body["join_url"].startswith("https://visits.test/video/")
    appointment = _appointment(body["reference"])
    key = db.session.scalar(select(ApiKey))
    assert appointment.api_key_id == key.id and appointment.booked_via == "api"
    assert _mails(appointment.id) == ["confirmation"]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.booked"))
    assert audit.actor_label == "api:Serviceportal"

    staff = app.test_client()
    assert (
        staff.post("/staff/login", data={"email": clerk.email, "password": STAFF_PASSWORD}).status_code == 302
    )
    agenda = staff.get(f"/staff/?view=day&date={monday.isoformat()}").get_data(as_text=True)
    assert "Paula Portal" in agenda and "Rollstuhl" in agenda


def test_a_portal_may_book_with_a_phone_number_only(client, service, clerk, monday, portal_key):
    body = request_body(service, berlin(monday, 9), phone="0221 123456")
    del body["email"]
    response = client.post(f"{API}/bookings", json=body, headers=bearer(portal_key))
    assert response.status_code == 201
    assert _mails(_appointment(response.get_json()["reference"]).id) == []  # nobody to mail


def test_an_unknown_or_revoked_key_is_401(client, service, clerk, monday, portal_key):
    response = client.post(
        f"{API}/bookings", json=request_body(service, berlin(monday, 9)), headers=bearer("vk_wrong")
    )
    _problem(response, 401, "invalid-api-key")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    api_keys.revoke(db.session.scalar(select(ApiKey)), None, now=clock.now())
    response = client.post(
        f"{API}/bookings", json=request_body(service, berlin(monday, 9)), headers=bearer(portal_key)
    )
    _problem(response, 401, "invalid-api-key")
    assert db.session.scalar(select(Appointment)) is None


# -- reading and cancelling ------------------------------------------------------------------------


@pytest.fixture
def held(client, service, clerk, monday) -> tuple[str, str]:
    """(reference, manage token) of a hold made through the API."""
    reference = client.post(f"{API}/bookings", json=request_body(service, berlin(monday, 9))).get_json()[
        "reference"
    ]
    return reference, links.derive_token("manage", _appointment(reference).uid)


def test_the_manage_token_shows_the_booking(client, held, monday):
    reference, token = held
    response = client.get(f"{API}/bookings/{reference}", headers={"X-Manage-Token": token})
    assert response.status_code == 200
    body = response.get_json()
    assert body["reference"] == reference and body["status"] == "held"
    assert body["manage_url"] == f"https://visits.test/termin/{token}"


def test_a_wrong_token_and_an_unknown_reference_answer_the_same_404(client, held):
    reference, token = held
    wrong = client.get(f"{API}/bookings/{reference}", headers={"X-Manage-Token": "x" + token[1:]})
    unknown = client.get(f"{API}/bookings/T-0000-0000", headers={"X-Manage-Token": token})
    odd = client.get(f"{API}/bookings/nonsense", headers={"X-Manage-Token": token})
    for response in (wrong, unknown, odd):
        _problem(response, 404, "not-found")
    assert wrong.get_data() == unknown.get_data() == odd.get_data()


def test_no_credentials_at_all_is_401(client, held):
    reference, _token = held
    _problem(client.get(f"{API}/bookings/{reference}"), 401, "authentication-required")
    _problem(client.delete(f"{API}/bookings/{reference}"), 401, "authentication-required")


def test_a_portal_sees_only_what_it_booked(client, factories, held, service, clerk, monday, portal_key):
    reference, _token = held  # booked without a key
    _problem(client.get(f"{API}/bookings/{reference}", headers=bearer(portal_key)), 404, "not-found")
    own = client.post(
        f"{API}/bookings",
        json=request_body(service, berlin(monday, 10), email="p@example.org"),
        headers=bearer(portal_key),
    ).get_json()["reference"]
    assert client.get(f"{API}/bookings/{own}", headers=bearer(portal_key)).status_code == 200
    _other, other_plain = api_keys.create("Anderes Portal", None, now=clock.now())
    _problem(client.get(f"{API}/bookings/{own}", headers=bearer(other_plain)), 404, "not-found")


def test_cancel_frees_the_slot_and_mails_the_citizen(client, held, monday):
    reference, token = held
    response = client.delete(f"{API}/bookings/{reference}", headers={"X-Manage-Token": token})
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    appointment = _appointment(reference)
    assert appointment.status == Status.CANCELLED
    assert _mails(appointment.id) == ["confirm_request", "cancellation"]
    day = monday.isoformat()
    starts = [
        s["start"]
        for s in client.get(f"{API}/services/wohngeld/slots?from={day}&to={day}").get_json()["slots"]
    ]
    assert berlin(monday, 9).astimezone(BERLIN).isoformat() in starts
    again = client.delete(f"{API}/bookings/{reference}", headers={"X-Manage-Token": token})
    _problem(again, 409, "not-changeable")


def test_a_portal_cancels_what_it_booked(client, service, clerk, monday, portal_key):
    reference = client.post(
        f"{API}/bookings", json=request_body(service, berlin(monday, 9)), headers=bearer(portal_key)
    ).get_json()["reference"]
    response = client.delete(f"{API}/bookings/{reference}", headers=bearer(portal_key))
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert _mails(_appointment(reference).id) == ["confirmation", "cancellation"]


def test_a_wrong_token_cannot_cancel(client, held):
    reference, token = held
    response = client.delete(f"{API}/bookings/{reference}", headers={"X-Manage-Token": token[::-1]})
    _problem(response, 404, "not-found")
    assert _appointment(reference).status == Status.HELD


def test_a_portal_repeating_a_web_booking_gets_no_links_to_it(
    client, factories, service, clerk, monday, portal_key
):
    citizen = factories.citizen(email="erika@example.org")
    web = booking.book_for_caller(service, berlin(monday, 9), citizen, clerk=clerk, now=clock.now())
    response = client.post(
        f"{API}/bookings", json=request_body(service, berlin(monday, 9)), headers=bearer(portal_key)
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["reference"] == web.reference
    assert "manage_url" not in body and "join_url" not in body
