"""GET /api/v1/services and GET /api/v1/services/{slug}/slots."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from visits.booking import operations as booking
from visits.core import clock

from .conftest import API, berlin

BERLIN = ZoneInfo("Europe/Berlin")


def test_services_lists_active_services_in_german_by_default(client, factories, service, clerk):
    factories.service(slug="alt", name_de="Eingestellt", active=False)
    response = client.get(f"{API}/services")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "de"
    listed = response.get_json()
    assert [s["slug"] for s in listed] == ["wohngeld"]
    (wohngeld,) = listed
    assert wohngeld["name"] == "Wohngeldberatung"
    assert wohngeld["description"] == "Beratung zum Wohngeld"
    assert wohngeld["documents"] == ["Personalausweis", "Mietvertrag"]
    assert wohngeld["duration_minutes"] == 30
    assert wohngeld["video"] is True
    assert wohngeld["booking_url"] == "https://visits.test/dienstleistungen/wohngeld"


def test_services_speak_english_when_the_portal_asks_for_it(client, service):
    response = client.get(f"{API}/services", headers={"Accept-Language": "en-GB,en;q=0.9"})
    (wohngeld,) = response.get_json()
    assert wohngeld["name"] == "Housing benefit advice"
    assert wohngeld["documents"] == ["ID card", "Tenancy agreement"]
    assert response.headers["Content-Language"] == "en"


def test_slots_carry_the_berlin_offset_and_local_wall_clock(client, service, clerk, monday):
    day = monday.isoformat()
    response = client.get(f"{API}/services/wohngeld/slots?from={day}&to={day}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["from"] == body["to"] == day
    starts = [s["start"] for s in body["slots"]]
    assert len(starts) == 8  # 08:00-12:00 in 30-minute slots
    first = datetime.fromisoformat(starts[0])
    assert first.utcoffset() == datetime.combine(monday, first.time(), BERLIN).utcoffset()
    assert starts[0] == berlin(monday, 8).astimezone(BERLIN).isoformat()
    assert body["slots"][-1]["end"] == berlin(monday, 12).astimezone(BERLIN).isoformat()


def test_a_booked_slot_is_no_longer_listed(client, factories, service, clerk, monday):
    booking.hold(service, berlin(monday, 9), factories.citizen(), now=clock.now())
    day = monday.isoformat()
    starts = [
        s["start"]
        for s in client.get(f"{API}/services/wohngeld/slots?from={day}&to={day}").get_json()["slots"]
    ]
    assert berlin(monday, 9).astimezone(BERLIN).isoformat() not in starts
    assert len(starts) == 7


def test_slots_default_to_a_week_from_today(client, service, clerk):
    body = client.get(f"{API}/services/wohngeld/slots").get_json()
    first = datetime.fromisoformat(body["from"]).date()
    last = datetime.fromisoformat(body["to"]).date()
    assert (last - first).days == 6


def test_slots_range_is_bounded_with_a_clear_422(client, service, clerk, monday):
    too_far = (monday + timedelta(days=62)).isoformat()
    response = client.get(f"{API}/services/wohngeld/slots?from={monday}&to={too_far}")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["type"].endswith("/invalid-input")
    assert "to" in problem["errors"]
    just_fits = (monday + timedelta(days=61)).isoformat()
    assert client.get(f"{API}/services/wohngeld/slots?from={monday}&to={just_fits}").status_code == 200


def test_slots_refuse_a_range_that_ends_before_it_starts(client, service, clerk, monday):
    before = (monday - timedelta(days=1)).isoformat()
    response = client.get(f"{API}/services/wohngeld/slots?from={monday}&to={before}")
    assert response.status_code == 422
    assert "to" in response.get_json()["errors"]


def test_slots_refuse_a_malformed_date_naming_the_field(client, service):
    response = client.get(f"{API}/services/wohngeld/slots?from=31.12.2026")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert "from" in response.get_json()["errors"]


def test_far_away_dates_answer_an_empty_list_not_an_error(client, service, clerk):
    response = client.get(f"{API}/services/wohngeld/slots?from=9999-12-01&to=9999-12-31")
    assert response.status_code == 200
    assert response.get_json()["slots"] == []
    response = client.get(f"{API}/services/wohngeld/slots?from=0001-01-01&to=0001-01-31")
    assert response.status_code == 200


def test_slots_of_an_unknown_or_inactive_service_are_404(client, factories):
    factories.service(slug="alt", active=False)
    for slug in ("gibt-es-nicht", "alt", "UPPER%00"):
        response = client.get(f"{API}/services/{slug}/slots")
        assert response.status_code == 404
        assert response.content_type == "application/problem+json"
        assert response.get_json()["type"].endswith("/not-found")
