"""Administrators invite staff, choose their services, reset passwords and deactivate them."""

from __future__ import annotations

import re

from sqlalchemy import select

from visits.extensions import db
from visits.models import AuditEvent, StaffUser

from ..factories import STAFF_PASSWORD


def _shown_password(body: str) -> str:
    return re.search(r'<code class="secret" id="password">([^<]+)</code>', body).group(1)


def _is_checked(page: str, service_id: int) -> bool:
    tag = re.search(rf'<input[^>]*name="services"[^>]*value="{service_id}"[^>]*>', page).group(0)
    return " checked" in tag


def test_invited_clerk_logs_in_with_the_password_shown_once(admin_client, app, factories, admin):
    service = factories.service(name_de="Wohngeld")
    response = admin_client.post(
        "/admin/staff/new",
        data={
            "email": "Neu@Stadt.example",
            "name": "Nina Neu",
            "role": "clerk",
            "services": [str(service.id)],
        },
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = _shown_password(response.get_data(as_text=True))
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "neu@stadt.example"))
    assert user.role == "clerk" and [s.name_de for s in user.services] == ["Wohngeld"]
    assert password not in user.password_hash
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.invited"))
    assert event.actor_id == admin.id and password not in str(event.details)
    # the list never shows the password again
    assert password not in admin_client.get("/admin/staff").get_data(as_text=True)
    fresh = app.test_client()
    assert (
        fresh.post("/staff/login", data={"email": "neu@stadt.example", "password": password}).status_code
        == 302
    )


def test_invite_refuses_an_existing_address(admin_client, factories):
    clerk = factories.clerk(email="anna@stadt.example")
    response = admin_client.post(
        "/admin/staff/new", data={"email": clerk.email, "name": "Anna 2", "role": "clerk"}
    )
    assert response.status_code == 422
    assert 'href="#email"' in response.get_data(as_text=True)
    assert db.session.scalar(select(StaffUser).where(StaffUser.name == "Anna 2")) is None


def test_admin_sets_which_services_a_clerk_offers(admin_client, factories):
    a, b = factories.service(name_de="Ausweis"), factories.service(name_de="Meldebescheinigung")
    clerk = factories.clerk([a], name="Carl Clerk")
    page = admin_client.get(f"/admin/staff/{clerk.id}").get_data(as_text=True)
    assert _is_checked(page, a.id) and not _is_checked(page, b.id)
    response = admin_client.post(
        f"/admin/staff/{clerk.id}", data={"name": "Carl Clerk", "role": "clerk", "services": [str(b.id)]}
    )
    assert response.status_code == 302
    db.session.refresh(clerk)
    assert [s.name_de for s in clerk.services] == ["Meldebescheinigung"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.updated"))
    assert event.details["fields"] == "services"


def test_deactivated_clerk_is_logged_out_and_cannot_log_in(admin_client, app, factories):
    clerk = factories.clerk(name="Dora Done")
    clerk_client = factories.login(app.test_client(), clerk)
    assert clerk_client.get("/staff/").status_code == 200
    assert admin_client.post(f"/admin/staff/{clerk.id}/deactivate").status_code == 302
    assert clerk_client.get("/staff/").status_code == 302  # session no longer valid
    refused = app.test_client().post("/staff/login", data={"email": clerk.email, "password": STAFF_PASSWORD})
    # Refused: the login form again (200), not the redirect into the agenda (302).
    assert refused.status_code == 200, (refused.status, refused.location, refused.text[:500])
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.deactivated")) is not None
    admin_client.post(f"/admin/staff/{clerk.id}/reactivate")
    assert factories.login(app.test_client(), clerk)


def test_the_last_admin_cannot_be_deactivated_or_demoted(admin_client, admin):
    admin_client.post(f"/admin/staff/{admin.id}/deactivate")
    db.session.refresh(admin)
    assert admin.active is True
    response = admin_client.post(f"/admin/staff/{admin.id}", data={"name": admin.name, "role": "clerk"})
    assert response.status_code == 422
    db.session.refresh(admin)
    assert admin.role == "admin"


def test_password_reset_replaces_the_old_password(admin_client, app, factories):
    clerk = factories.clerk()
    response = admin_client.post(f"/admin/staff/{clerk.id}/password")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = _shown_password(response.get_data(as_text=True))
    old = app.test_client().post("/staff/login", data={"email": clerk.email, "password": STAFF_PASSWORD})
    # Refused: the login form again (200), not the redirect into the agenda (302).
    assert old.status_code == 200, (old.status, old.location, old.text[:500])
    new = app.test_client().post("/staff/login", data={"email": clerk.email, "password": password})
    assert new.status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.password_reset"))
    assert event.object_id == clerk.id and password not in str(event.details)
