"""API keys, failed mails, booking pauses, video status, reports and the audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from visits.admin import api_keys
from visits.booking import limits
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import ApiKey, AuditEvent, BookingPause, OutboxMessage, Status

from ..conftest import berlin
from ..factories import Factories


def _event(action: str) -> AuditEvent | None:
    return db.session.scalar(select(AuditEvent).where(AuditEvent.action == action))


# ----------------------------------------------------------------------------- API keys


def test_api_key_is_shown_once_works_and_stops_working_when_revoked(admin_client, admin):
    response = admin_client.post("/admin/api-keys", data={"name": "Serviceportal NRW"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    plain = re.search(
        r'<code class="secret" id="new-key">([^<]+)</code>', response.get_data(as_text=True)
    ).group(1)
    key = db.session.scalar(select(ApiKey))
    assert key.name == "Serviceportal NRW" and key.key_hash != plain and plain.startswith(key.prefix)
    assert _event("api_key.created").actor_id == admin.id
    assert plain not in admin_client.get("/admin/api-keys").get_data(as_text=True)

    assert api_keys.verify(plain).id == key.id  # what the API asks of a Bearer key
    assert admin_client.post(f"/admin/api-keys/{key.id}/revoke").status_code == 302
    assert api_keys.verify(plain) is None
    assert _event("api_key.revoked").object_id == key.id


def test_api_key_needs_a_name(admin_client):
    response = admin_client.post("/admin/api-keys", data={"name": "  "})
    assert response.status_code == 422
    assert 'href="#name"' in response.get_data(as_text=True)
    assert db.session.scalar(select(ApiKey)) is None


# ----------------------------------------------------------------------------- failed mails


def _failed_mail(now: datetime) -> OutboxMessage:
    return Factories.failed_mail(now=now)


def test_failed_mail_is_listed_with_its_error_and_retried(admin_client, admin):
    message = _failed_mail(clock.now() - timedelta(hours=1))
    body = admin_client.get("/admin/mails").get_data(as_text=True)
    assert "erika@example.org" in body and "550 mailbox unavailable" in body and "Bestätigung" in body
    assert admin_client.post(f"/admin/mails/{message.id}/retry").status_code == 302
    db.session.refresh(message)
    assert (message.status, message.attempts) == ("pending", 0)
    assert message.next_attempt_at <= clock.now()
    assert _event("mail.retried").actor_id == admin.id
    assert '<th scope="row">erika@example.org' not in admin_client.get("/admin/mails").get_data(as_text=True)


def test_overview_counts_failed_mails(admin_client):
    _failed_mail(clock.now())
    assert "1 mail(s) could not be delivered" in admin_client.get("/admin/?lang=en").get_data(as_text=True)
    assert "1 E-Mail(s) konnten nicht zugestellt werden" in admin_client.get("/admin/?lang=de").get_data(
        as_text=True
    )


# ----------------------------------------------------------------------------- booking pauses


def _pause(email: str = "oft.weg@example.org") -> BookingPause:
    return Factories.booking_pause(email, reason="repeated_no_shows")


@pytest.mark.parametrize("who", ["admin", "clerk"])
def test_admin_and_clerk_lift_a_booking_pause(who, client, factories, admin):
    user = admin if who == "admin" else factories.clerk()
    factories.login(client, user)
    pause = _pause()
    assert "oft.weg@example.org" in client.get("/admin/pauses").get_data(as_text=True)
    assert client.post(f"/admin/pauses/{pause.id}/lift").status_code == 302
    db.session.refresh(pause)
    assert pause.lifted_at is not None and pause.lifted_by_id == user.id
    assert _event("booking_pause.lifted").actor_id == user.id
    assert limits.active_pause("oft.weg@example.org", clock.now()) is None
    assert '<th scope="row">oft.weg@example.org' not in client.get("/admin/pauses").get_data(as_text=True)


# ----------------------------------------------------------------------------- video


def test_video_page_says_tokens_are_on(admin_client):
    body = admin_client.get("/admin/video?lang=en").get_data(as_text=True)
    assert "Token authentication is on" in body and "meet.visits.test" in body
    assert "jitsi-test-secret" not in body


@pytest.fixture
def no_jitsi_secret(app_config):
    app_config["JITSI_APP_SECRET"] = ""
    app_config["JITSI_PRIVATE_KEY_FILE"] = ""


def test_video_page_warns_when_rooms_open_without_tokens(no_jitsi_secret, client, factories):
    factories.login(client, factories.admin())
    body = client.get("/admin/video?lang=en").get_data(as_text=True)
    assert "Tokens off: rooms open without token authentication" in body


# ----------------------------------------------------------------------------- reports


def test_report_counts_appointments_per_service_and_status(admin_client, factories, monday):
    passport = factories.service(name_de="Reisepass")
    parking = factories.service(name_de="Parkausweis")
    clerk = factories.clerk([passport, parking])
    booking.book_for_caller(passport, berlin(monday, 8), factories.citizen(), clerk=clerk, now=clock.now())
    cancelled = booking.book_for_caller(passport, berlin(monday, 9), factories.citizen(), clerk=clerk, now=clock.now())
    booking.cancel(cancelled, by=clerk, reason="", now=clock.now())
    booking.book_for_caller(parking, berlin(monday, 10), factories.citizen(), clerk=clerk, now=clock.now())
    booking.book_for_caller(parking, berlin(monday + timedelta(days=7), 10), factories.citizen(), clerk=clerk, now=clock.now())

    body = admin_client.get(f"/admin/reports?date_from={monday}&date_until={monday}&lang=en").get_data(
        as_text=True
    )
    rows = {
        m.group(1): [int(n) for n in re.findall(r"<td>(\d+)</td>", m.group(2))]
        for m in re.finditer(r'<th scope="row">([^<]+)</th>(.*?)</tr>', body, re.S)
    }
    statuses = list(Status)
    confirmed, cancelled_col = statuses.index(Status.CONFIRMED), statuses.index(Status.CANCELLED)
    assert (
        rows["Reisepass"][confirmed] == 1
        and rows["Reisepass"][cancelled_col] == 1
        and rows["Reisepass"][-1] == 2
    )
    assert rows["Parkausweis"][confirmed] == 1 and rows["Parkausweis"][-1] == 1  # the next week is outside
    assert rows["Total"][-1] == 3


# ----------------------------------------------------------------------------- audit log


def _audit(action: str, at: datetime, actor=None) -> None:
    db.session.add(
        AuditEvent(
            at=at,
            actor_id=actor.id if actor else None,
            actor_label=actor.email if actor else "system",
            action=action,
            object_type="",
            details={},
        )
    )


def test_audit_log_filters_by_actor_action_and_dates(admin_client, admin, factories):
    clerk = factories.clerk(email="filter.clerk@stadt.example")
    _audit("absence.created", datetime(2026, 3, 2, 9, tzinfo=UTC), clerk)
    _audit("absence.created", datetime(2026, 3, 20, 9, tzinfo=UTC), clerk)
    _audit("hours.created", datetime(2026, 3, 3, 9, tzinfo=UTC), clerk)
    _audit("service.created", datetime(2026, 3, 3, 9, tzinfo=UTC), admin)
    db.session.commit()

    def shown(query: str) -> list[str]:
        body = admin_client.get("/admin/audit?" + query).get_data(as_text=True)
        return re.findall(r"<td><code>([a-z_.]+)</code></td>", body)

    assert shown(f"actor={clerk.id}&date_from=2026-03-01&date_until=2026-03-31") == [
        "absence.created",
        "hours.created",
        "absence.created",
    ]
    assert shown(f"actor={clerk.id}&action=absence.created&date_from=2026-03-01&date_until=2026-03-10") == [
        "absence.created"
    ]
    assert shown("action=service.created&date_from=2026-03-01&date_until=2026-03-31") == ["service.created"]


def test_audit_log_is_paginated(admin_client):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(55):
        _audit("mail.retried", start + timedelta(minutes=i))
    db.session.commit()
    first = admin_client.get("/admin/audit?action=mail.retried").get_data(as_text=True)
    assert first.count("<td><code>mail.retried</code></td>") == 50
    assert (
        'rel="next"' in first and "action=mail.retried" in first.split('rel="next"')[0].rsplit("href", 1)[1]
    )
    second = admin_client.get("/admin/audit?action=mail.retried&page=2").get_data(as_text=True)
    assert second.count("<td><code>mail.retried</code></td>") == 5


# ----------------------------------------------------------------------------- CSRF


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


def test_every_admin_form_needs_a_csrf_token(csrf_on, client, factories):
    admin = factories.admin()
    page = client.get("/staff/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post(
        "/staff/login", data={"email": admin.email, "password": "correct-horse-battery", "csrf_token": token}
    )
    pause = _pause()
    assert client.post("/admin/api-keys", data={"name": "Portal"}).status_code == 400
    assert client.post(f"/admin/pauses/{pause.id}/lift").status_code == 400
    assert client.post(f"/admin/staff/{admin.id}/password").status_code == 400
    assert db.session.scalar(select(ApiKey)) is None
    page = client.get("/admin/api-keys").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/admin/api-keys", data={"name": "Portal", "csrf_token": token}).status_code == 200
    assert db.session.scalar(select(ApiKey)).name == "Portal"
