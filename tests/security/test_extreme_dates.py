"""Extreme dates and page numbers in the query: a clear answer (400, a redirect, the nearest
valid page), never a 500 - the server's error page tells an attacker it found a weak spot,
and the log fills with stack traces."""

from __future__ import annotations

import pytest

EXTREMES = ["9999-12-31", "0001-01-01", "0001-01-02", "9999-12-25", "10000-01-01", "2026-02-30", "-1", "x" * 300]


@pytest.fixture
def staff_client(factories):
    service = factories.service()
    clerk = factories.clerk([service])
    client = factories.staff_client()
    factories.login(client, clerk)
    return client, service


@pytest.fixture
def admin_client(factories):
    admin = factories.admin()
    client = factories.staff_client()
    factories.login(client, admin)
    return client


def _clear(status: int) -> bool:
    return status in (200, 302, 303, 400, 404)


@pytest.mark.parametrize("value", EXTREMES)
def test_the_clerks_day_at_the_ends_of_the_calendar_is_no_server_error(staff_client, value):
    client, _ = staff_client
    assert _clear(client.get(f"/staff/?date={value}").status_code)


@pytest.mark.parametrize("value", EXTREMES)
def test_phone_booking_weeks_at_the_ends_of_the_calendar_are_no_server_error(staff_client, value):
    client, service = staff_client
    assert _clear(client.get(f"/staff/phone-booking?service={service.id}&week={value}").status_code)


@pytest.mark.parametrize("field", ["date_from", "date_until"])
@pytest.mark.parametrize("value", EXTREMES)
def test_report_filters_at_the_ends_of_the_calendar_are_no_server_error(admin_client, field, value):
    assert _clear(admin_client.get(f"/admin/reports?{field}={value}").status_code)


@pytest.mark.parametrize("field", ["date_from", "date_until"])
@pytest.mark.parametrize("value", EXTREMES)
def test_audit_filters_at_the_ends_of_the_calendar_are_no_server_error(admin_client, field, value):
    assert _clear(admin_client.get(f"/admin/audit?{field}={value}").status_code)


@pytest.mark.parametrize("page", ["99999999999999999999", "999999999999999999", str(2**63), "1e9", "-5", "0"])
def test_a_huge_audit_page_is_the_last_page_not_a_server_error(admin_client, page):
    response = admin_client.get(f"/admin/audit?page={page}")
    assert response.status_code == 200


def test_a_huge_clerk_or_actor_id_is_no_server_error(admin_client):
    assert _clear(admin_client.get(f"/staff/?clerk={10**30}").status_code)
    assert _clear(admin_client.get(f"/admin/audit?actor={10**30}").status_code)


@pytest.mark.parametrize("value", EXTREMES)
def test_public_slot_weeks_at_the_ends_of_the_calendar_are_no_server_error(client, factories, value):
    service = factories.service()
    factories.clerk([service])
    assert _clear(client.get(f"/dienstleistungen/{service.slug}?week={value}").status_code)
