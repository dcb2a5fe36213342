"""Helpers for the clerk's pages: log in through the real login form."""

from __future__ import annotations

from datetime import date

import pytest

from ..conftest import berlin  # noqa: F401  (re-exported for the tests)
from ..factories import STAFF_PASSWORD

# Every page of the staff menu (GET).
STAFF_PAGES = [
    "/staff/",
    "/staff/?view=week",
    "/staff/password",
    "/staff/hours",
    "/staff/absences",
    "/staff/conflicts",
    "/staff/phone-booking",
    "/staff/calendar",
]


def login(client, email: str, password: str = STAFF_PASSWORD, next_url: str | None = None):
    """Log in by the form; returns the response (a redirect on success)."""
    url = "/staff/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password})


@pytest.fixture
def monday(factories) -> date:
    """A working Monday ahead that is no public holiday (Easter/Whit Monday are skipped)."""
    return factories.working_monday()


@pytest.fixture
def service(factories):
    return factories.service(duration_minutes=30)


@pytest.fixture
def clerk(factories, service):
    return factories.clerk([service], name="Anna Schmidt")


@pytest.fixture
def colleague(factories, service):
    return factories.clerk([service], name="Jonas Weber")


@pytest.fixture
def clerk_client(client, clerk):
    response = login(client, clerk.email)
    assert response.status_code == 302
    return client
