"""Helpers for the clerk's pages: log in through the real login form."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ..conftest import berlin, next_weekday  # noqa: F401  (berlin: re-exported for the tests)
from ..factories import STAFF_PASSWORD

# A Monday two weeks ahead (no public holiday falls on the Mondays tests use: checked below).
MONDAY = next_weekday(date.today() + timedelta(days=14), 0)


def login(client, email: str, password: str = STAFF_PASSWORD, next_url: str | None = None):
    """Log in by the form; returns the response (a redirect on success)."""
    url = "/staff/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password})


@pytest.fixture
def monday(app) -> date:
    """A working Monday ahead that is no public holiday (Easter/Whit Monday are skipped)."""
    from visits import availability

    day = MONDAY
    while availability.public_holidays(day, day):
        day += timedelta(days=7)
    return day


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
