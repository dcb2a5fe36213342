"""Departments: the city administrator keeps them; a department administrator manages only
their own department's services, locations, closing days and clerks, and cannot raise
anyone's rights (their own neither)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from visits.admin import places
from visits.core import clock
from visits.extensions import db
from visits.models import AuditEvent, ClosingDay, Department, Location, Role, Service, StaffUser

from ..factories import Factories
from .test_locations import _form as location_form
from .test_services import FORM as SERVICE_FORM

DEPARTMENT_FORM = {"slug": "auslaenderbehoerde", "name_de": "Ausländerbehörde", "name_en": "Immigration office", "active": "y"}


@pytest.fixture
def department_b(factories) -> Department:
    return factories.department("verkehrsamt", "Straßenverkehrsamt", "Road traffic office", location="haus-b")


@pytest.fixture
def home(factories) -> Department:
    """Department A: the default department."""
    location = places.default_location()
    db.session.commit()
    return location.department


@pytest.fixture
def admin_a(factories, home):
    return factories.department_admin(home, name="Dora Fachbereich", email="dora@stadt.example")


@pytest.fixture
def client_a(client, admin_a):
    return Factories.login(client, admin_a)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# -- the city administrator's department pages ------------------------------------------------


def test_the_city_admin_creates_and_renames_a_department(admin_client):
    response = admin_client.post("/admin/departments/new", data=DEPARTMENT_FORM)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/departments")
    department = db.session.scalar(select(Department).where(Department.slug == "auslaenderbehoerde"))
    assert (department.name_de, department.name_en, department.active) == ("Ausländerbehörde", "Immigration office", True)
    assert "Ausländerbehörde" in admin_client.get("/admin/departments").get_data(as_text=True)

    changed = admin_client.post(f"/admin/departments/{department.id}", data={**DEPARTMENT_FORM, "name_en": "Foreigners' office"})
    assert changed.status_code == 302
    db.session.refresh(department)
    assert department.name_en == "Foreigners' office"
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "department")).all()
    assert sorted(actions) == ["department.created", "department.updated"]


def test_a_taken_department_slug_is_refused_at_its_field(admin_client, home):
    response = admin_client.post("/admin/departments/new?lang=en", data={**DEPARTMENT_FORM, "slug": home.slug})
    assert response.status_code == 422
    assert "Another department uses this address part already." in response.get_data(as_text=True)
    assert _count(Department) == 1


def test_a_department_with_bookable_services_cannot_be_deactivated(admin_client, factories, department_b):
    service = factories.service(department_id=department_b.id, location_id=department_b.locations[0].id)
    form = {"slug": department_b.slug, "name_de": department_b.name_de, "name_en": department_b.name_en}  # unticked
    response = admin_client.post(f"/admin/departments/{department_b.id}?lang=en", data=form)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "still has bookable services" in body and 'aria-invalid="true"' in body and 'href="#active"' in body
    db.session.refresh(department_b)
    assert department_b.active

    service.active = False
    db.session.commit()
    assert admin_client.post(f"/admin/departments/{department_b.id}", data=form).status_code == 302
    db.session.refresh(department_b)
    assert not department_b.active


def test_the_refusal_to_deactivate_is_in_german_too(admin_client, factories, department_b):
    factories.service(department_id=department_b.id, location_id=department_b.locations[0].id)
    form = {"slug": department_b.slug, "name_de": department_b.name_de, "name_en": department_b.name_en}
    body = admin_client.post(f"/admin/departments/{department_b.id}?lang=de", data=form).get_data(as_text=True)
    assert "buchbare Dienstleistungen" in body


def test_only_the_city_admin_sees_departments_in_the_navigation(admin_client, client, admin_a):
    assert 'href="/admin/departments"' in admin_client.get("/admin/").get_data(as_text=True)
    admin_client.post("/staff/logout")
    Factories.login(client, admin_a)
    page = client.get("/admin/")
    assert page.status_code == 200 and 'href="/admin/departments"' not in page.get_data(as_text=True)
    assert client.get("/admin/departments").status_code == 403


# -- a department administrator cannot reach department B or raise rights ---------------------


def test_a_department_admin_invites_clerks_into_their_own_department_only(client_a, home, department_b):
    invite = {"email": "neu@stadt.example", "name": "Nina Neu", "role": "clerk", "department_id": str(home.id)}
    for refused in ({"role": "admin"}, {"role": "department_admin"}, {"department_id": str(department_b.id)}):
        response = client_a.post("/admin/staff/new", data={**invite, **refused})
        assert response.status_code == 422, refused
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "neu@stadt.example")) is None

    assert client_a.post("/admin/staff/new", data={**invite, "department_id": ""}).status_code == 200
    created = db.session.scalar(select(StaffUser).where(StaffUser.email == "neu@stadt.example"))
    assert (created.role, created.department_id) == (Role.CLERK, home.id)


def test_a_department_admin_cannot_promote_a_clerk_or_move_them_to_another_department(
    client_a, factories, home, department_b
):
    clerk = factories.clerk(name="Anna Amsel")
    for refused in ({"role": "admin"}, {"role": "department_admin"}, {"department_id": str(department_b.id)}):
        form = {"name": "Anna Amsel", "role": "clerk", "department_id": str(home.id), **refused}
        assert client_a.post(f"/admin/staff/{clerk.id}", data=form).status_code == 422, refused
    db.session.refresh(clerk)
    assert (clerk.role, clerk.department_id) == (Role.CLERK, home.id)


def test_a_department_admin_cannot_change_administrators_or_themselves(client_a, admin_a, factories):
    city_admin = factories.admin(name="Ada Admin")
    for person in (city_admin, admin_a):
        assert client_a.get(f"/admin/staff/{person.id}").status_code == 404
        assert client_a.post(f"/admin/staff/{person.id}", data={"name": "X", "role": "admin"}).status_code == 404
        assert client_a.post(f"/admin/staff/{person.id}/deactivate").status_code == 404
        assert client_a.post(f"/admin/staff/{person.id}/password").status_code == 404
    db.session.refresh(admin_a)
    assert admin_a.role == Role.DEPARTMENT_ADMIN and city_admin.active


def test_department_b_objects_answer_404_to_department_a_by_id(client_a, factories, department_b):
    location_b = department_b.locations[0]
    service_b = factories.service(name_de="Fahrerlaubnis", department_id=department_b.id, location_id=location_b.id)
    clerk_b = factories.clerk([service_b], name="Bruno Behörde", department=department_b)
    closing_b = places.add_closing_day(
        location_b, places.Closing(factories.working_monday(), reason_de="Ausflug"), clerk_b, now=clock.now()
    )
    default_location = places.default_location()
    db.session.commit()
    posts = {
        f"/admin/services/{service_b.id}": {**SERVICE_FORM, "slug": service_b.slug, "name_de": "Übernommen"},
        f"/admin/services/{service_b.id}/deactivate": {},
        f"/admin/staff/{clerk_b.id}": {"name": "Übernommen", "role": "clerk"},
        f"/admin/staff/{clerk_b.id}/deactivate": {},
        f"/admin/locations/{location_b.id}": location_form(slug=location_b.slug, name_de="Übernommen"),
        f"/admin/locations/{location_b.id}/closing-days": {"day": "2027-07-01", "reason_de": "Übernommen"},
        f"/admin/locations/{location_b.id}/closing-days/{closing_b.id}/remove": {},
        # B's closing day through A's location: no way round the rule either.
        f"/admin/locations/{default_location.id}/closing-days/{closing_b.id}/remove": {},
    }
    for url, data in posts.items():
        assert client_a.post(url, data=data).status_code == 404, url
        if not url.endswith(("deactivate", "remove")):
            assert client_a.get(url).status_code == 404, url
    db.session.expire_all()
    assert db.session.get(Service, service_b.id).name_de == "Fahrerlaubnis" and db.session.get(Service, service_b.id).active
    assert db.session.get(StaffUser, clerk_b.id).name == "Bruno Behörde" and db.session.get(StaffUser, clerk_b.id).active
    assert db.session.get(Location, location_b.id).name_de == "Haus-B"
    assert db.session.scalars(select(ClosingDay.reason_de)).all() == ["Ausflug"]


def test_a_department_admin_cannot_put_a_service_or_location_into_another_department(
    client_a, home, department_b
):
    service = client_a.post("/admin/services/new", data={**SERVICE_FORM, "department_id": str(department_b.id)})
    location = client_a.post("/admin/locations/new", data=location_form(department_id=str(department_b.id)))
    assert (service.status_code, location.status_code) == (422, 422)
    assert _count(Service) == 0 and _count(Location) == 2

    assert client_a.post("/admin/services/new", data=SERVICE_FORM).status_code == 302
    assert db.session.scalar(select(Service.department_id)) == home.id


def test_the_city_admin_puts_a_service_into_a_department_at_one_of_its_locations(admin_client, department_b):
    location_b = department_b.locations[0]
    form = {**SERVICE_FORM, "department_id": str(department_b.id)}
    assert admin_client.post("/admin/services/new", data=form).status_code == 302
    service = db.session.scalar(select(Service))
    assert (service.department_id, service.location_id) == (department_b.id, location_b.id)

    elsewhere = places.default_location()
    db.session.commit()
    refused = admin_client.post(f"/admin/services/{service.id}?lang=en", data={**form, "location_id": str(elsewhere.id)})
    assert refused.status_code == 422
    assert "Choose a location of the service&#39;s department." in refused.get_data(as_text=True)


def test_the_city_admin_makes_someone_a_department_admin_of_a_department(admin_client, factories, department_b):
    clerk = factories.clerk(name="Bea Bald")
    form = {"name": "Bea Bald", "role": "department_admin", "department_id": str(department_b.id)}
    assert admin_client.post(f"/admin/staff/{clerk.id}", data=form).status_code == 302
    db.session.refresh(clerk)
    assert (clerk.role, clerk.department_id) == (Role.DEPARTMENT_ADMIN, department_b.id)
    listing = admin_client.get("/admin/staff").get_data(as_text=True)
    assert "Fachbereichs-Admin" in listing


def test_reports_of_a_department_admin_count_their_departments_services_only(
    client_a, factories, department_b, monday
):
    from visits.booking import operations as booking

    from ..conftest import berlin

    own = factories.service(name_de="Wohngeld")
    other = factories.service(name_de="Fahrerlaubnis", department_id=department_b.id, location_id=department_b.locations[0].id)
    for service in (own, other):
        clerk = factories.clerk([service], department=service.department)
        booking.book_for_caller(service, berlin(monday, 9), factories.citizen(), clerk=clerk, now=clock.now())
    body = client_a.get(f"/admin/reports?date_from={monday}&date_until={monday}").get_data(as_text=True)
    assert "Wohngeld" in body and "Fahrerlaubnis" not in body


def test_a_clerk_sees_their_department_on_their_pages(client, factories, department_b):
    clerk = factories.clerk(department=department_b)
    Factories.login(client, clerk)
    assert "Road traffic office" in client.get("/staff/?lang=en").get_data(as_text=True)
    assert "Straßenverkehrsamt" in client.get("/staff/?lang=de").get_data(as_text=True)


# -- the share kept for the phone centre ------------------------------------------------------


def _form_of(department: Department, **changes) -> dict:
    return {"slug": department.slug, "name_de": department.name_de, "name_en": department.name_en, "active": "y", **changes}


def test_the_city_admin_sets_the_share_kept_for_the_phone_centre(admin_client, home):
    page = admin_client.get(f"/admin/departments/{home.id}").get_data(as_text=True)
    assert "Anteil für das Bürgertelefon (Prozent)" in page and 'name="reserved_share_percent"' in page
    english = admin_client.get(f"/admin/departments/{home.id}?lang=en").get_data(as_text=True)
    assert "Share kept for the phone centre (percent)" in english and "spread evenly over the day" in english

    response = admin_client.post(f"/admin/departments/{home.id}", data=_form_of(home, reserved_share_percent="25"))

    assert response.status_code == 302
    db.session.refresh(home)
    assert home.reserved_share_percent == 25


@pytest.mark.parametrize("share", ["101", "-1", "viel"])
def test_a_share_outside_0_to_100_is_refused_at_its_field(admin_client, home, share):
    response = admin_client.post(f"/admin/departments/{home.id}?lang=en", data=_form_of(home, reserved_share_percent=share))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'href="#reserved_share_percent"' in body and 'aria-invalid="true"' in body
    db.session.refresh(home)
    assert home.reserved_share_percent == 0
