"""Administrators keep the locations of the departments and their closing days."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from visits.admin import places
from visits.core import clock
from visits.extensions import db
from visits.models import AuditEvent, ClosingDay, Location, Service

from .test_services import FORM as SERVICE_FORM


def _form(**changes) -> dict:
    default = places.default_location()
    db.session.commit()
    form = {
        "slug": "buergerbuero-nord",
        "department_id": str(default.department_id),
        "name_de": "Bürgerbüro Nord",
        "name_en": "Citizens' office North",
        "street": "Nordstraße 5",
        "postcode": "40477",
        "city": "Düsseldorf",
        "directions_de": "U-Bahn bis Nordstraße, zweiter Stock",
        "directions_en": "Underground to Nordstraße, second floor",
        "opening_hours_de": "Mo–Fr 8–12 Uhr",
        "opening_hours_en": "Mon–Fri 8 am–12 noon",
        "step_free": "y",
        "latitude": "51.2401",
        "longitude": "6.7812",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def test_admin_creates_a_location_of_a_department_and_sees_it_in_the_list(admin_client, admin):
    response = admin_client.post("/admin/locations/new", data=_form())
    assert response.status_code == 302
    location = db.session.scalar(select(Location).where(Location.slug == "buergerbuero-nord"))
    assert location.department.slug == "buergerservice"
    assert location.address == "Nordstraße 5, 40477 Düsseldorf"
    assert (location.step_free, location.hearing_loop) == (True, False)
    assert (location.latitude, location.longitude) == (51.2401, 6.7812)
    assert location.opening_hours("en") == "Mon–Fri 8 am–12 noon"
    assert db.session.scalar(select(AuditEvent.object_id).where(AuditEvent.action == "location.created")) == location.id
    listing = admin_client.get("/admin/locations").get_data(as_text=True)
    assert "Bürgerbüro Nord" in listing and "Nordstraße 5, 40477 Düsseldorf" in listing


def test_a_refused_postcode_is_shown_at_its_field(admin_client):
    response = admin_client.post("/admin/locations/new", data=_form(postcode="4047"))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'href="#postcode"' in body and 'aria-invalid="true"' in body
    assert db.session.scalar(select(Location).where(Location.slug == "buergerbuero-nord")) is None


def test_a_latitude_without_longitude_is_refused_at_the_longitude(admin_client):
    response = admin_client.post("/admin/locations/new", data=_form(longitude=None))
    assert response.status_code == 422
    assert 'href="#longitude"' in response.get_data(as_text=True)


def test_admin_changes_a_location(admin_client):
    location = places.default_location()
    db.session.commit()
    response = admin_client.post(f"/admin/locations/{location.id}", data=_form(slug="buergerservice", hearing_loop="y"))
    assert response.status_code == 302
    db.session.refresh(location)
    assert (location.name_de, location.hearing_loop) == ("Bürgerbüro Nord", True)


def test_admin_adds_a_part_day_closing_and_removes_it(admin_client, monday):
    location = places.default_location()
    db.session.commit()
    page = f"/admin/locations/{location.id}/closing-days"
    response = admin_client.post(page, data={
        "day": monday.isoformat(), "from_time": "12:00", "reason_de": "Personalversammlung",
        "reason_en": "Staff meeting",
    })
    assert response.status_code == 302
    row = db.session.scalar(select(ClosingDay))
    assert (row.day, row.from_time, row.until_time, row.reason("en")) == (monday, time(12), None, "Staff meeting")
    listing = admin_client.get(page).get_data(as_text=True)
    assert "Personalversammlung" in listing and "12:00–24:00" in listing

    removed = admin_client.post(f"{page}/{row.id}/remove", data={})
    assert removed.status_code == 302
    assert db.session.scalar(select(ClosingDay)) is None
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "closing_day.removed"))


def test_a_closing_that_ends_before_it_starts_is_refused_at_the_end_time(admin_client, monday):
    location = places.default_location()
    db.session.commit()
    response = admin_client.post(f"/admin/locations/{location.id}/closing-days", data={
        "day": monday.isoformat(), "from_time": "14:00", "until_time": "10:00", "reason_de": "Schulung",
    })
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'href="#until_time"' in body and "Das Ende muss nach dem Beginn liegen." in body
    assert db.session.scalar(select(ClosingDay)) is None


def test_a_closing_day_of_another_location_cannot_be_removed_through_this_one(admin_client, admin, monday):
    location = places.default_location()
    other = Location(slug="nord", name_de="Nord", name_en="North", department=location.department)
    db.session.add(other)
    db.session.commit()
    row = places.add_closing_day(other, places.Closing(monday, reason_de="Umzug"), admin, now=clock.now())
    response = admin_client.post(f"/admin/locations/{location.id}/closing-days/{row.id}/remove", data={})
    assert response.status_code == 404
    assert db.session.get(ClosingDay, row.id) is not None


def test_a_new_service_is_held_at_the_location_chosen_or_else_at_the_default(admin_client, admin):
    assert admin_client.post("/admin/locations/new", data=_form()).status_code == 302
    other = db.session.scalar(select(Location).where(Location.slug == "buergerbuero-nord"))
    assert admin_client.post("/admin/services/new", data={**SERVICE_FORM, "location_id": str(other.id)}).status_code == 302
    assert admin_client.post("/admin/services/new", data={**SERVICE_FORM, "slug": "ohne-ort"}).status_code == 302
    held = dict(db.session.execute(select(Service.slug, Service.location_id)).all())
    assert held == {"wohnsitz-anmelden": other.id, "ohne-ort": places.default_location().id}
    department = db.session.scalar(select(Service.department_id).where(Service.slug == "ohne-ort"))
    assert department == places.default_location().department_id


def test_the_closing_days_page_names_tomorrows_closing(admin_client, admin):
    location = places.default_location()
    tomorrow = clock.now().date() + timedelta(days=1)
    places.add_closing_day(location, places.Closing(tomorrow, reason_de="Heiligabend"), admin, now=clock.now())
    body = admin_client.get(f"/admin/locations/{location.id}/closing-days").get_data(as_text=True)
    assert tomorrow.strftime("%d.%m.%Y") in body and "ganzer Tag" in body
