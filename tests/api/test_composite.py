"""Several services in one appointment through the API: GET /api/v1/slots?items=... lists
the starts for the whole family, POST /api/v1/bookings books them with `items`; today's
single-service body keeps working; refusals are problem+json with their code."""

from __future__ import annotations

import pytest

from ..factories import ANMELDUNG, PERSONALAUSWEIS
from .conftest import API, bearer, berlin

FAMILY = [{"service": "anmeldung", "persons": 1}, {"service": "personalausweis", "persons": 2}]


@pytest.fixture
def family_services(factories):
    anmeldung = factories.service(**ANMELDUNG)
    ausweis = factories.service(**PERSONALAUSWEIS)
    factories.clerk([anmeldung, ausweis])
    return anmeldung, ausweis


def body(start, **fields) -> dict:
    return {"items": FAMILY, "start": start.isoformat(), "name": "Familie Yılmaz", "email": "yilmaz@example.org",
            **fields}


def test_the_slots_of_a_family_are_the_whole_summed_time_with_one_clerk(client, family_services, monday):
    response = client.get(f"{API}/slots", query_string={
        "items": "anmeldung:1,personalausweis:2", "from": monday.isoformat(), "to": monday.isoformat()
    })
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["items"] == FAMILY
    assert [(slot["start"], slot["end"]) for slot in answer["slots"]] == [
        (f"{monday}T08:10:00+02:00", f"{monday}T09:05:00+02:00"),
        (f"{monday}T09:20:00+02:00", f"{monday}T10:15:00+02:00"),
        (f"{monday}T10:30:00+02:00", f"{monday}T11:25:00+02:00"),
    ]


def test_a_portal_books_the_family_as_one_appointment(client, family_services, monday, portal_key):
    response = client.post(f"{API}/bookings", json=body(berlin(monday, 8, 10)), headers=bearer(portal_key))
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["status"] == "confirmed" and answer["items"] == FAMILY
    assert answer["service"] == "anmeldung"
    assert answer["service_name"] == "Anmeldung, Personalausweis (2 Personen)"
    assert answer["end"] == f"{monday}T09:05:00+02:00"
    again = client.get(f"{API}/slots", query_string={"items": "anmeldung:1,personalausweis:2",
                                                     "from": monday.isoformat(), "to": monday.isoformat()})
    assert f"{monday}T08:10:00+02:00" not in [slot["start"] for slot in again.get_json()["slots"]]


def test_without_a_key_the_family_gets_a_hold_in_their_language(client, family_services, monday):
    response = client.post(f"{API}/bookings", json=body(berlin(monday, 8, 10), language="en"))
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["status"] == "held" and answer["service_name"] == "Registration, ID card (2 persons)"


def test_the_single_service_body_still_books_one_item(client, family_services, monday, portal_key):
    response = client.post(f"{API}/bookings", headers=bearer(portal_key), json={
        "service": "personalausweis", "start": berlin(monday, 8, 10).isoformat(), "name": "Max Muster", "phone": "0211 123",
    })
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["items"] == [{"service": "personalausweis", "persons": 1}]


@pytest.mark.parametrize(
    ("items", "problem"),
    [
        ([{"service": "anmeldung", "persons": 2}], "too-many-persons"),
        ([{"service": "personalausweis", "persons": 1}, {"service": "personalausweis", "persons": 1}],
         "duplicate-service"),
        ([{"service": "anmeldung", "persons": 1}, {"service": "wohngeld", "persons": 1}], "not-combinable"),
    ],
)
def test_combinations_the_rules_refuse_are_problems_with_their_code(
    client, factories, family_services, monday, portal_key, items, problem
):
    factories.service(slug="wohngeld")  # not combinable
    response = client.post(f"{API}/bookings", json=body(berlin(monday, 8, 10), items=items),
                           headers={**bearer(portal_key), "Accept-Language": "de"})
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.get_json()["type"] == f"/api/v1/problems/{problem}"
    slots = client.get(f"{API}/slots", query_string={
        "items": ",".join(f"{item['service']}:{item['persons']}" for item in items)
    })
    assert slots.status_code == 422 and slots.get_json()["type"] == f"/api/v1/problems/{problem}"


def test_too_many_persons_says_the_limit(client, family_services, monday, portal_key):
    response = client.post(f"{API}/bookings", headers=bearer(portal_key),
                           json=body(berlin(monday, 8, 10), items=[{"service": "personalausweis", "persons": 5}]))
    assert response.get_json()["limit"] == 4


def test_naming_both_service_and_items_or_neither_is_invalid_input(client, family_services, monday):
    both = client.post(f"{API}/bookings", json=body(berlin(monday, 8, 10), service="anmeldung"))
    neither = dict(body(berlin(monday, 8, 10)))
    del neither["items"]
    assert both.status_code == 422 and client.post(f"{API}/bookings", json=neither).status_code == 422


def test_badly_written_items_and_unknown_services_are_refused(client, family_services):
    assert client.get(f"{API}/slots", query_string={"items": "anmeldung:0"}).status_code == 422
    assert client.get(f"{API}/slots", query_string={"items": "anmeldung:1\n"}).status_code == 422
    assert client.get(f"{API}/slots", query_string={"items": "gibt-es-nicht:1"}).status_code == 404


def test_without_a_key_a_family_request_the_address_may_not_have_is_answered_like_a_new_hold(
    client, factories, family_services, monday
):
    factories.clerk(family_services)  # a second clerk: the time stays free for others
    first = client.post(f"{API}/bookings", json=body(berlin(monday, 8, 10)))
    again = client.post(f"{API}/bookings", json=body(berlin(monday, 8, 10), items=FAMILY[1:]))
    assert first.status_code == again.status_code == 201
    assert set(first.get_json()) == set(again.get_json())
    assert again.get_json()["items"] == FAMILY[1:] and again.get_json()["status"] == "held"
    assert again.get_json()["end"] == f"{monday}T08:50:00+02:00"  # two ID cards: 40 minutes
    assert again.get_json()["reference"] != first.get_json()["reference"]
