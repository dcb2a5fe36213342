"""Logging in and out, the password, and the throttle on failed logins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from visits.clerks.accounts import check_password
from visits.extensions import db
from visits.models import AuditEvent

from .conftest import login


def test_anonymous_is_sent_to_login_with_the_page_to_return_to(client):
    response = client.get("/staff/hours")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")


def test_login_lands_on_the_agenda_and_shows_the_staff_nav(client, clerk):
    response = login(client, clerk.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    page = client.get("/staff/").get_data(as_text=True)
    assert 'class="staff-nav"' in page
    assert "/staff/phone-booking" in page


def test_wrong_password_is_refused_with_a_message_and_audited(client, clerk):
    response = login(client, clerk.email, "wrong-password-123")
    assert response.status_code == 200
    assert "E-Mail-Adresse oder Passwort ist falsch" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "staff.login_failed" in actions


def test_next_goes_only_to_local_paths(client, clerk):
    assert login(client, clerk.email, next_url="/staff/hours").headers["Location"] == "/staff/hours"
    client.post("/staff/logout")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = login(client, clerk.email, next_url=evil)
        assert response.headers["Location"] == "/staff/"
        client.post("/staff/logout")


def test_logout_ends_the_session(clerk_client):
    assert clerk_client.post("/staff/logout").status_code == 302
    assert clerk_client.get("/staff/").status_code == 302


def test_deactivated_account_cannot_log_in(client, clerk):
    clerk.active = False
    db.session.commit()
    assert login(client, clerk.email).status_code == 200
    assert client.get("/staff/").status_code == 302


def _change_password(client, current: str, new: str = "a-new-secret-pass"):
    return client.post(
        "/staff/password", data={"current_password": current, "new_password": new, "confirm_password": new}
    )


def test_password_change_needs_the_current_password(clerk_client, clerk):
    wrong = _change_password(clerk_client, "nope-nope-nope")
    assert wrong.status_code == 200
    assert 'aria-invalid="true"' in wrong.get_data(as_text=True)
    ok = _change_password(clerk_client, "correct-horse-battery")
    assert ok.status_code == 302
    db.session.refresh(clerk)
    assert check_password(clerk, "a-new-secret-pass")


@pytest.fixture
def throttled(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    app_config["RATELIMIT_LOGIN"] = "3 per minute"


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


def test_failed_logins_are_throttled(throttled, client, clerk):
    for _ in range(3):
        assert login(client, clerk.email, "wrong-password-123").status_code == 200
    assert login(client, clerk.email, "wrong-password-123").status_code == 429
    # once the limit is hit, even the right password waits (guessing gains nothing)
    assert login(client, clerk.email).status_code == 429


def test_every_try_counts_before_the_password_is_checked(throttled, client, clerk):
    # Counting only failures would need the answer before the count: parallel tries race it.
    for _ in range(3):
        assert login(client, clerk.email).status_code == 302
        client.post("/staff/logout")
    assert login(client, clerk.email).status_code == 429


def test_login_form_needs_a_csrf_token_when_csrf_is_on(csrf_on, client, clerk):
    assert login(client, clerk.email).status_code == 400
    page = client.get("/staff/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/staff/login", data={"email": clerk.email, "password": "correct-horse-battery", "csrf_token": token}
    )
    assert response.status_code == 302
