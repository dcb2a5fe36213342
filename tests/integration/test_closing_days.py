"""A closing day of a location (whole or part of a day) takes away exactly the slots of the
hours worked there on that day: not other days, not other locations, not a clerk's hours
without a location (video); and the cached listing shows it (and its removal) at once."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from visits.admin import places
from visits.booking import holidays
from visits.core import clock
from visits.extensions import db
from visits.models import Department, Location

from .. import days

EIGHT_TO_TWELVE = ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


@pytest.fixture
def monday(app) -> date:
    day = days.BOOKING_MONDAY
    while holidays.holidays(day, day + timedelta(days=1)):
        day += timedelta(days=7)
    return day


@pytest.fixture
def town_hall(app) -> Location:
    return places.default_location()


@pytest.fixture
def other_office(app, town_hall) -> Location:
    department = Department(slug="strassenverkehrsamt", name_de="Straßenverkehrsamt", name_en="Road traffic office")
    location = Location(slug="kfz-zulassung", name_de="Kfz-Zulassung", name_en="Vehicle registration", department=department)
    db.session.add(location)
    db.session.commit()
    return location


@pytest.fixture
def admin(factories):
    return factories.admin()


@pytest.fixture(autouse=True)
def services(factories, town_hall, other_office):
    found = [
        factories.service(slug="ausweis", video=False, address="Markt 1", location_id=town_hall.id),
        factories.service(slug="zulassung", video=False, address="Ring 2", location_id=other_office.id,
                          department_id=other_office.department_id),
        factories.service(slug="wohngeld", video=True, location_id=town_hall.id),
    ]
    ausweis, zulassung, wohngeld = found
    factories.clerk([ausweis], location_id=town_hall.id)
    factories.clerk([zulassung], location_id=other_office.id)
    factories.clerk([wohngeld], location_id=None)  # video from anywhere
    return found


def listed(client, slug: str, day: date) -> list[str]:
    """Local wall-clock times (HH:MM) the API offers for ``slug`` on ``day`` (the cached listing)."""
    response = client.get(f"/api/v1/services/{slug}/slots?from={day}&to={day}")
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.rollback()
    return [s["start"][11:16] for s in response.get_json()["slots"]]


def test_a_whole_closing_day_removes_that_days_on_site_slots_of_that_location_only(client, town_hall, admin, monday):
    tuesday = monday + timedelta(days=1)
    assert listed(client, "ausweis", monday) == EIGHT_TO_TWELVE  # cached before the change

    places.add_closing_day(town_hall, places.Closing(monday, reason_de="Rosenmontag"), admin, now=clock.now())

    assert listed(client, "ausweis", monday) == []
    assert listed(client, "ausweis", tuesday) == EIGHT_TO_TWELVE
    assert listed(client, "zulassung", monday) == EIGHT_TO_TWELVE  # another location
    assert listed(client, "wohngeld", monday) == EIGHT_TO_TWELVE  # by video, hours without a location


def test_a_part_day_closing_removes_only_the_slots_in_that_part(client, town_hall, admin, monday):
    closing = places.Closing(monday, from_time=time(10), reason_de="Personalversammlung")
    places.add_closing_day(town_hall, closing, admin, now=clock.now())
    assert listed(client, "ausweis", monday) == ["08:00", "08:30", "09:00", "09:30"]

    morning = places.Closing(monday + timedelta(days=1), until_time=time(9), reason_de="Schulung")
    places.add_closing_day(town_hall, morning, admin, now=clock.now())
    assert listed(client, "ausweis", monday + timedelta(days=1)) == EIGHT_TO_TWELVE[2:]


def test_removing_a_closing_day_offers_its_slots_again_at_once(client, town_hall, admin, monday):
    row = places.add_closing_day(town_hall, places.Closing(monday, reason_de="Silvester"), admin, now=clock.now())
    assert listed(client, "ausweis", monday) == []

    places.remove_closing_day(row, admin, now=clock.now())

    assert listed(client, "ausweis", monday) == EIGHT_TO_TWELVE


def test_a_closed_slot_cannot_be_booked(client, town_hall, admin, monday):
    places.add_closing_day(town_hall, places.Closing(monday, reason_de="Heiligabend"), admin, now=clock.now())
    response = client.post("/api/v1/bookings", json={
        "service": "ausweis", "start": days.berlin(monday, 9).isoformat(), "name": "Erika", "email": "erika@example.org",
    })
    assert response.status_code == 409, response.get_data(as_text=True)


# -- appointments booked before the location closed ----------------------------------------


def _booked(factories, service, start):
    from visits.booking import operations as booking

    clerk = service.clerks[0]
    return booking.book_for_caller(service, start, factories.citizen(), clerk=clerk, now=clock.now()), clerk


def test_an_on_site_appointment_on_a_day_closed_later_is_a_conflict_for_its_clerk(factories, town_hall, admin, monday):
    from visits.clerks import conflicts

    ausweis, _zulassung, wohngeld = services_by_slug("ausweis", "zulassung", "wohngeld")
    on_site, clerk = _booked(factories, ausweis, days.berlin(monday, 9))
    by_video, _ = _booked(factories, wohngeld, days.berlin(monday, 10))
    afternoon, _ = _booked(factories, ausweis, days.berlin(monday, 11))
    assert conflicts.stranded_appointments(clerk, clock.now()) == []

    places.add_closing_day(
        town_hall, places.Closing(monday, until_time=time(10, 30), reason_de="Personalversammlung"), admin, now=clock.now()
    )

    (stranded,) = conflicts.stranded_appointments(clerk, clock.now())
    assert stranded.appointment.id == on_site.id  # not the video call, not 11:00 after the reopening
    assert [c.reason_de for c in stranded.closing_days] == ["Personalversammlung"]
    assert not stranded.outside_hours and not stranded.absences
    assert {by_video.id, afternoon.id}.isdisjoint({s.appointment.id for s in conflicts.stranded_appointments(clerk, clock.now())})


def test_the_conflicts_page_names_the_closing_day_and_keeping_settles_it(client, factories, town_hall, admin, monday):
    from visits.clerks import conflicts

    (ausweis,) = services_by_slug("ausweis")
    _appointment, clerk = _booked(factories, ausweis, days.berlin(monday, 9))
    places.add_closing_day(town_hall, places.Closing(monday, reason_de="Rosenmontag"), admin, now=clock.now())
    factories.login(client, clerk)

    page = client.get("/staff/conflicts").get_data(as_text=True)
    assert "Der Standort ist geschlossen: Rosenmontag" in page

    (stranded,) = conflicts.stranded_appointments(clerk, clock.now())
    conflicts.keep(stranded, by=clerk, now=clock.now())
    assert conflicts.stranded_appointments(clerk, clock.now()) == []


def services_by_slug(*slugs: str):
    from visits.models import Service

    found = {s.slug: s for s in db.session.scalars(db.select(Service))}
    return [found[slug] for slug in slugs]


def test_a_closing_day_closes_video_hours_worked_at_that_location_too(client, factories, town_hall, admin, monday):
    """Hours worked in the closed building are closed, whatever the appointment's mode."""
    factories.clerk([factories.service(slug="beratung", video=True)], location_id=town_hall.id)
    places.add_closing_day(town_hall, places.Closing(monday, reason_de="Rosenmontag"), admin, now=clock.now())
    assert listed(client, "beratung", monday) == []
    assert listed(client, "beratung", monday + timedelta(days=1)) == EIGHT_TO_TWELVE
