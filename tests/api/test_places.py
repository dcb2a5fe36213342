"""The departments and locations a portal can show: names in the caller's language, the
accessibility of each location and its closing days from today for the next 60 days."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from visits.admin import places
from visits.core import clock
from visits.extensions import db
from visits.models import Department, Location

from .conftest import API


@pytest.fixture
def city(factories):
    """The default Bürgerservice and a road traffic office with one step-free location."""
    admin = factories.admin()
    places.default_location()
    department = Department(slug="strassenverkehrsamt", name_de="Straßenverkehrsamt", name_en="Road traffic office")
    location = Location(
        slug="kfz-zulassung", name_de="Kfz-Zulassungsstelle", name_en="Vehicle registration", department=department,
        street="Höherweg 101", postcode="40233", city="Düsseldorf", step_free=True, hearing_loop=True,
        opening_hours_de="Mo–Fr 7:30–12:30", opening_hours_en="Mon–Fri 7:30 am–12:30 pm",
        latitude=51.2204, longitude=6.8166,
    )
    db.session.add(location)
    db.session.commit()
    return location, admin


def test_departments_name_their_locations_in_the_callers_language(client, city):
    response = client.get(f"{API}/departments", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "en"
    assert sorted(response.get_json(), key=lambda d: d["slug"]) == [
        {"slug": "buergerservice", "name": "Citizens' service", "locations": ["buergerservice"]},
        {"slug": "strassenverkehrsamt", "name": "Road traffic office", "locations": ["kfz-zulassung"]},
    ]


def test_a_location_says_where_it_is_how_accessible_and_when_it_is_open(client, city):
    response = client.get(f"{API}/locations")
    found = {location["slug"]: location for location in response.get_json()}
    assert found["kfz-zulassung"] == {
        "slug": "kfz-zulassung", "name": "Kfz-Zulassungsstelle", "department": "strassenverkehrsamt",
        "address": "Höherweg 101, 40233 Düsseldorf", "street": "Höherweg 101", "postcode": "40233",
        "city": "Düsseldorf", "directions": "", "step_free": True, "hearing_loop": True,
        "opening_hours": "Mo–Fr 7:30–12:30", "latitude": 51.2204, "longitude": 6.8166, "closing_days": [],
    }
    assert found["buergerservice"]["latitude"] is None


def test_closing_days_are_listed_from_today_for_sixty_days_with_their_times(client, city):
    location, admin = city
    today = clock.now().date()
    for day, from_time, until_time, reason in [
        (today - timedelta(days=1), None, None, "Gestern"),
        (today, time(12), None, "Personalversammlung"),
        (today + timedelta(days=59), None, time(10), "Schulung"),
        (today + timedelta(days=60), None, None, "Zu spät"),
    ]:
        closing = places.Closing(day, from_time, until_time, reason_de=reason, reason_en=f"{reason} (en)")
        places.add_closing_day(location, closing, admin, now=clock.now())

    response = client.get(f"{API}/locations", headers={"Accept-Language": "en"})
    [listed] = [entry for entry in response.get_json() if entry["slug"] == "kfz-zulassung"]
    assert listed["closing_days"] == [
        {"date": today.isoformat(), "from": "12:00", "until": None, "reason": "Personalversammlung (en)"},
        {"date": (today + timedelta(days=59)).isoformat(), "from": None, "until": "10:00", "reason": "Schulung (en)"},
    ]
