"""Helpers for the administration pages: an admin and a clerk, logged in by the real form."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import g

from ..conftest import next_weekday
from ..factories import Factories


@pytest.fixture
def admin(factories):
    return factories.admin(name="Ada Admin", email="ada@stadt.example")


@pytest.fixture
def admin_client(client, admin):
    return Factories.login(client, admin)


@pytest.fixture
def monday(app) -> date:
    """A Monday two weeks ahead that is no public holiday."""
    from visits import availability

    day = next_weekday(date.today() + timedelta(days=14), 0)
    while availability.public_holidays(day, day):
        day += timedelta(days=7)
    return day


@pytest.fixture
def client(app):
    """The shared ``client``, with one fix for tests that log in several people: tests keep
    one app context open, and Flask reuses it for every request, so ``g`` (where Flask-Login
    caches the user and Flask-WTF the CSRF token) would carry one request's user or token
    into the next. Forget them at the start of each request, as a real server does."""

    @app.before_request
    def _forget_cached_user() -> None:
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        g.pop("_flask_babel", None)  # Flask-Babel's locale of the previous request

    return app.test_client()
