"""Reserved hours for the phone centre and "any location", end to end: a reserved time is
refused to the public (booking form and API), booked by the phone centre, and offered to
the public once it is released (48 hours before it starts, even from a cached listing);
an on-site service held at two locations lists both, sorted by time, each slot naming its
location, and can be filtered and booked by location."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from visits.admin import places
from visits.extensions import db
from visits.models import Appointment, Department, Location, Status

from .. import days
from ..staff.conftest import login

API = "/api/v1"
RELEASE = timedelta(hours=48)


@pytest.fixture
def monday(factories) -> date:
    return factories.working_monday()


@pytest.fixture
def town_hall(app) -> Location:
    found = places.default_location()
    db.session.commit()
    return found


@pytest.fixture
def annex(app, town_hall) -> Location:
    location = Location(slug="nebenstelle-nord", name_de="Nebenstelle Nord", name_en="North office",
                        department_id=town_hall.department_id)
    db.session.add(location)
    db.session.commit()
    return location


@pytest.fixture
def ausweis(factories):
    return factories.service(slug="ausweis", video=False, name_de="Personalausweis", name_en="ID card")


def api_slots(client, day: date, **query) -> list[dict]:
    args = "".join(f"&{key}={value}" for key, value in query.items())
    response = client.get(f"{API}/services/ausweis/slots?from={day}&to={day}{args}")
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.rollback()  # the request ran in the test's session: let the next one see fresh data
    return response.get_json()["slots"]


def api_booking(client, day: date, hour: int, **more):
    body = {"service": "ausweis", "start": days.berlin(day, hour).isoformat(), "name": "Erika",
            "email": "erika@example.org", **more}
    response = client.post(f"{API}/bookings", json=body)
    db.session.rollback()
    return response


# --- reserved hours ---------------------------------------------------------------------------


@pytest.fixture
def phone_clerk(factories, ausweis):
    """Works Monday to Friday 08:00-12:00 at the town hall, all of it reserved for the phone centre."""
    return factories.clerk([ausweis], reserved=True, name="Petra Telefon")


def test_a_reserved_time_is_refused_to_the_public_by_form_and_api(client, phone_clerk, monday):
    assert api_slots(client, monday) == []
    response = api_booking(client, monday, 9)
    assert response.status_code == 409 and response.get_json()["type"].endswith("slot-unavailable")

    start = days.berlin(monday, 9).strftime("%Y-%m-%dT%H:%M:%SZ")
    page = client.get(f"/dienstleistungen/ausweis/buchen?start={start}")
    assert page.status_code == 303  # back to the picker: "this time is not free"
    sent = client.post("/dienstleistungen/ausweis/buchen", data={
        "start": start, "name": "Erika Mustermann", "email": "erika@example.org", "language": "de", "consent": "y",
    })
    assert sent.status_code == 409
    assert db.session.scalar(select(Appointment)) is None


def test_the_phone_centre_sees_and_books_a_reserved_time(client, factories, phone_clerk, ausweis, town_hall, monday):
    caller_desk = factories.clerk([], name="Bürgertelefon")
    login(client, caller_desk.email)
    url = f"/staff/phone-booking?service={ausweis.id}&week={monday.isoformat()}"
    page = client.get(url).get_data(as_text=True)
    value = f"{days.berlin(monday, 9).isoformat()}@{town_hall.id}"
    assert f'value="{value}"' in page and "reserviert" in page and "Bürgerservice" in page

    response = client.post(url, data={"start": value, "name": "Karl Anrufer", "phone": "0221 123456", "language": "de"})

    assert response.status_code == 302, response.get_data(as_text=True)
    appointment = db.session.scalar(select(Appointment))
    assert appointment.status == Status.CONFIRMED and appointment.clerk_id == phone_clerk.id
    assert appointment.location_id == town_hall.id and appointment.booked_via == "phone"


def test_a_reserved_time_reaches_the_public_at_its_release_even_from_the_cached_listing(client, phone_clerk, monday):
    nine = days.berlin(monday, 9)
    with time_machine.travel(nine - RELEASE - timedelta(minutes=1), tick=False) as traveller:
        before = [s["start"][11:16] for s in api_slots(client, monday)]
        assert before == ["08:00", "08:30"]  # released already: up to 48 hours ahead
        traveller.shift(timedelta(minutes=1))  # 09:00 is 48 hours away: released, no write needed
        assert [s["start"][11:16] for s in api_slots(client, monday)] == ["08:00", "08:30", "09:00"]
        assert api_booking(client, monday, 9).status_code == 201


def test_a_department_sets_its_own_release(client, phone_clerk, town_hall, monday):
    department = db.session.get(Department, town_hall.department_id)
    department.reserved_release_hours = 24
    db.session.commit()
    with time_machine.travel(days.berlin(monday, 9) - RELEASE, tick=False):
        assert api_slots(client, monday) == []


def test_public_hours_beside_reserved_ones_are_booked_with_the_public_clerk(client, factories, phone_clerk, ausweis, monday):
    public_clerk = factories.clerk([ausweis], name="Jonas Weber")
    assert len(api_slots(client, monday)) == 8
    assert api_booking(client, monday, 9).status_code == 201
    assert db.session.scalar(select(Appointment.clerk_id)) == public_clerk.id
    assert "09:00" not in [s["start"][11:16] for s in api_slots(client, monday)]


# --- any location ----------------------------------------------------------------------------


@pytest.fixture
def two_offices(factories, ausweis, town_hall, annex):
    """The town hall from 09:00, the north office from 08:00 (both until 12:00)."""
    factories.clerk([ausweis], hours=[(d, time(9), time(12)) for d in range(5)], location_id=town_hall.id)
    factories.clerk([ausweis], location_id=annex.id)
    factories.clerk([ausweis], location_id=None)  # video and phone only: not on site



def test_any_location_lists_both_offices_sorted_by_time_each_slot_naming_its_location(client, two_offices, monday):
    found = api_slots(client, monday)
    assert [(s["start"][11:16], s["location"]["slug"]) for s in found[:4]] == [
        ("08:00", "nebenstelle-nord"),
        ("08:30", "nebenstelle-nord"),
        ("09:00", "buergerservice"),
        ("09:00", "nebenstelle-nord"),
    ]
    assert len(found) == 8 + 6
    assert found[0]["location"] == {"slug": "nebenstelle-nord", "name": "Nebenstelle Nord"}
    english = client.get(f"{API}/services/ausweis/slots?from={monday}&to={monday}", headers={"Accept-Language": "en"})
    assert english.get_json()["slots"][0]["location"]["name"] == "North office"


def test_the_listing_can_be_filtered_by_location_and_refuses_an_unknown_one(client, two_offices, monday):
    assert {s["location"]["slug"] for s in api_slots(client, monday, location="buergerservice")} == {"buergerservice"}
    assert len(api_slots(client, monday, location="buergerservice")) == 6
    response = client.get(f"{API}/services/ausweis/slots?from={monday}&to={monday}&location=nirgendwo")
    assert response.status_code == 422 and "location" in response.get_data(as_text=True)


def test_a_booking_names_its_location_or_takes_the_first_free_one(client, two_offices, town_hall, annex, monday):
    assert api_booking(client, monday, 9, location="buergerservice").status_code == 201
    assert db.session.scalar(select(Appointment.location_id)) == town_hall.id
    assert api_booking(client, monday, 8, email="max@example.org").status_code == 201  # today's body, no location
    assert db.session.scalar(select(Appointment.location_id).where(Appointment.citizen_email == "max@example.org")) == annex.id
    refused = api_booking(client, monday, 8, email="ida@example.org", location="buergerservice")
    assert refused.status_code == 409  # the town hall opens at 9
    unknown = api_booking(client, monday, 10, email="ida@example.org", location="nirgendwo")
    assert unknown.status_code == 422


def test_the_slot_picker_filters_by_location_and_names_each_slots_location(client, two_offices, monday):
    page = client.get(f"/dienstleistungen/ausweis?week={monday}").get_data(as_text=True)
    assert "Alle Standorte (früheste zuerst)" in page
    assert '<option value="nebenstelle-nord"' in page
    assert "08:00 Uhr · Nebenstelle Nord" in page and "09:00 Uhr · Bürgerservice" in page
    assert page.index("08:00 Uhr · Nebenstelle Nord") < page.index("09:00 Uhr · Bürgerservice")

    only_town_hall = client.get(f"/dienstleistungen/ausweis?week={monday}&location=buergerservice").get_data(as_text=True)
    assert "Nebenstelle Nord</span>" not in only_town_hall and "09:00 Uhr · Bürgerservice" in only_town_hall


def test_the_booking_form_holds_the_chosen_location(client, two_offices, annex, monday):
    start = days.berlin(monday, 9).strftime("%Y-%m-%dT%H:%M:%SZ") + "@nebenstelle-nord"
    page = client.get(f"/dienstleistungen/ausweis/buchen?start={start}").get_data(as_text=True)
    assert "Nebenstelle Nord" in page
    sent = client.post("/dienstleistungen/ausweis/buchen", data={
        "start": start, "name": "Erika Mustermann", "email": "erika@example.org", "language": "de", "consent": "y",
    })
    assert sent.status_code == 303, sent.get_data(as_text=True)
    assert db.session.scalar(select(Appointment.location_id)) == annex.id
