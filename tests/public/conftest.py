"""The citizen's pages at a fixed moment: 09:00 Berlin time on a Monday, one week before
the Monday the tests book on. One clerk works Monday to Friday 08:00-12:00 (30-minute slots)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from flask import g, has_app_context
from flask.testing import FlaskClient

from visits.mail import outbox

from .. import days
from ..conftest import berlin
from ..factories import HOUSING_BENEFIT

MONDAY = days.BOOKING_MONDAY
NOW = berlin(MONDAY - timedelta(days=7), 9)

MANAGE_LINK = re.compile(r"https://visits\.test(/termin/[A-Za-z0-9_-]+)")


class PageClient(FlaskClient):
    """The app fixture keeps one app context (one ``g``) for the whole test, where a
    browser gets a fresh one per request; forget the language chosen for the last page."""

    def open(self, *args, **kwargs):
        if has_app_context():  # (the browser tests' requests come without one)
            g.pop("_flask_babel", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = PageClient
    return app.test_client()


@pytest.fixture
def traveller(app):
    """Time stands still at NOW; ``traveller.move_to(...)`` jumps."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def service(factories):
    service = factories.service(**HOUSING_BENEFIT)
    factories.clerk([service])
    return service


def slot(day: date, hour: int, minute: int = 0) -> str:
    """A slot's value as the picker sends it (ISO 8601, UTC)."""
    return berlin(day, hour, minute).strftime("%Y-%m-%dT%H:%M:%SZ")


def berlin_at(day: date, hour: int, minute: int = 0):
    return berlin(day, hour, minute)


def details(**fields) -> dict:
    values = {
        "start": slot(MONDAY, 8),
        "name": "Erika Mustermann",
        "email": "erika@example.org",
        "phone": "",
        "language": "de",
        "note": "",
        "consent": "y",
    }
    values.update(fields)
    return {key: value for key, value in values.items() if value is not None}  # None: not sent


def deliver(smtp_server, total: int, now=None):
    """Send what the outbox holds; return all mails received so far (``total`` of them)."""
    outbox.deliver_due(now=now or NOW + timedelta(minutes=1))
    return smtp_server.wait_for(total)


def text_of(message) -> str:
    return next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()


def manage_path(message) -> str:
    found = MANAGE_LINK.search(text_of(message))
    assert found, "no manage link in the mail"
    return found.group(1)


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def traveller_free_client(app_config, request):
    """A client with the booking rate limit on (2 per hour)."""
    app_config.update(RATELIMIT_ENABLED=True, RATELIMIT_BOOKING="2 per hour")
    request.getfixturevalue("traveller")
    return request.getfixturevalue("client")


@pytest.fixture
def limited_links_client(app_config, request):
    """A client with the link look-up limit on (3 per minute)."""
    app_config.update(RATELIMIT_ENABLED=True, RATELIMIT_LINKS="3 per minute")
    return request.getfixturevalue("client")


@pytest.fixture
def csrf_client(app_config, request):
    """A client with CSRF protection on, as in production."""
    app_config.update(WTF_CSRF_ENABLED=True)
    return request.getfixturevalue("client")
