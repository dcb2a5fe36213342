"""Administrators keep the catalogue of services."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import AuditEvent, Service

from ..conftest import berlin

FORM = {
    "slug": "wohnsitz-anmelden",
    "name_de": "Wohnsitz anmelden",
    "name_en": "Register your address",
    "description_de": "Anmeldung nach Umzug",
    "description_en": "Registration after a move",
    "documents_de": "Personalausweis\nWohnungsgeberbestätigung",
    "documents_en": "ID card\nLandlord's confirmation",
    "duration_minutes": "20",
    "buffer_before_minutes": "5",
    "buffer_after_minutes": "10",
    "modes": "on_site",
    "address": "Rathaus, Markt 1, Zimmer 12",
    "min_notice_minutes": "120",
    "horizon_days": "30",
    "active": "y",
}


def test_admin_creates_a_service_with_every_field(admin_client, admin):
    response = admin_client.post("/admin/services/new", data=FORM)
    assert response.status_code == 302
    service = db.session.scalar(select(Service).where(Service.slug == "wohnsitz-anmelden"))
    assert (service.name_de, service.name_en) == ("Wohnsitz anmelden", "Register your address")
    assert service.documents("en") == ["ID card", "Landlord's confirmation"]
    assert (service.duration_minutes, service.buffer_before_minutes, service.buffer_after_minutes) == (
        20,
        5,
        10,
    )
    assert service.modes == ["on_site"] and service.address == "Rathaus, Markt 1, Zimmer 12"
    assert (service.min_notice_minutes, service.horizon_days, service.active) == (120, 30, True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "service.created"))
    assert event.actor_id == admin.id and event.object_id == service.id
    assert "Wohnsitz anmelden" in admin_client.get("/admin/services").get_data(as_text=True)


def test_on_site_service_needs_an_address_and_the_error_points_at_the_field(admin_client):
    response = admin_client.post("/admin/services/new", data={**FORM, "address": ""})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'href="#address"' in body and 'aria-describedby="address-hint address-error"' in body
    assert db.session.scalar(select(Service)) is None


def test_slug_must_be_unique_and_plain(admin_client, factories):
    factories.service(slug="taken")
    assert admin_client.post("/admin/services/new", data={**FORM, "slug": "taken"}).status_code == 422
    assert admin_client.post("/admin/services/new", data={**FORM, "slug": "Nicht gut!"}).status_code == 422
    assert db.session.scalar(select(Service).where(Service.slug == "wohnsitz-anmelden")) is None


def test_edit_changes_fields_and_records_which(admin_client, factories):
    service = factories.service(slug="ausweis", name_de="Personalausweis")
    page = admin_client.get(f"/admin/services/{service.id}").get_data(as_text=True)
    assert 'value="Personalausweis"' in page
    response = admin_client.post(
        f"/admin/services/{service.id}", data={**FORM, "slug": "ausweis", "modes": "video", "address": ""}
    )
    assert response.status_code == 302
    db.session.refresh(service)
    assert service.name_de == "Wohnsitz anmelden" and service.video is True and service.duration_minutes == 20
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "service.updated"))
    assert "name_de" in event.details["fields"] and "slug" not in event.details["fields"]


def test_deactivated_service_can_no_longer_be_booked(admin_client, factories, monday):
    service = factories.service(name_de="Hundesteuer")
    factories.clerk([service])
    response = admin_client.post(f"/admin/services/{service.id}/deactivate")
    assert response.status_code == 302
    db.session.refresh(service)
    assert service.active is False
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "service.deactivated"))
    assert event.object_id == service.id
    with pytest.raises(booking.SlotUnavailable):
        booking.hold(service, berlin(monday, 9), factories.citizen(), now=clock.now())


def test_unknown_service_is_404(admin_client):
    assert admin_client.get("/admin/services/9999").status_code == 404


def test_pages_speak_english_when_asked(admin_client):
    german = admin_client.get("/admin/services/new?lang=de").get_data(as_text=True)
    assert "Neue Dienstleistung" in german
    english = admin_client.get("/admin/services/new?lang=en").get_data(as_text=True)
    assert "New service" in english


def test_a_service_allows_the_modes_ticked_in_the_order_on_site_video_phone(admin_client):
    response = admin_client.post("/admin/services/new", data={**FORM, "modes": ["phone", "on_site", "video"]})
    assert response.status_code == 302
    service = db.session.scalar(select(Service).where(Service.slug == "wohnsitz-anmelden"))
    assert service.modes == ["on_site", "video", "phone"]
    page = admin_client.get(f"/admin/services/{service.id}").get_data(as_text=True)
    assert page.count("checked") == 3 + 1  # the three modes and "bookable"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Wählen Sie mindestens eine Möglichkeit: vor Ort, Videoanruf oder telefonisch."),
        ("en", "Choose at least one way: on site, video call or by phone."),
    ],
)
def test_a_service_without_any_mode_is_refused_with_a_message_at_the_checkboxes(admin_client, language, message):
    data = {key: value for key, value in FORM.items() if key != "modes"}
    response = admin_client.post(f"/admin/services/new?lang={language}", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and 'href="#modes-0"' in body and 'id="modes-error"' in body
    assert db.session.scalar(select(Service)) is None

def test_admin_says_how_many_persons_a_service_takes_and_that_it_combines(admin_client):
    form = {**FORM, "max_persons": "4", "combinable": "y"}
    assert admin_client.post("/admin/services/new", data=form).status_code == 302
    service = db.session.scalar(select(Service).where(Service.slug == "wohnsitz-anmelden"))
    assert (service.max_persons, service.combinable) == (4, True)
    page = admin_client.get(f"/admin/services/{service.id}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'value="4"' in page and "Personen je Termin (höchstens)" in page
    assert "Darf mit anderen Dienstleistungen ihres Fachbereichs kombiniert werden" in page
    refused = admin_client.post(f"/admin/services/{service.id}", data={**form, "max_persons": "0"})
    assert refused.status_code == 422
    db.session.refresh(service)
    assert service.max_persons == 4


def test_a_new_service_takes_one_person_and_does_not_combine(admin_client):
    assert admin_client.post("/admin/services/new", data=FORM).status_code == 302
    service = db.session.scalar(select(Service).where(Service.slug == "wohnsitz-anmelden"))
    assert (service.max_persons, service.combinable) == (1, False)
