"""Fixtures of the API tests: one service with a clerk working Monday to Friday 08-12
(Europe/Berlin), a working Monday ahead, and a portal's API key."""

from __future__ import annotations

from datetime import date

import pytest

from visits.admin import api_keys
from visits.core import clock

from ..conftest import berlin
from ..factories import HOUSING_BENEFIT

API = "/api/v1"


@pytest.fixture
def monday(factories) -> date:
    """A Monday two weeks ahead that is no public holiday."""
    return factories.working_monday()


@pytest.fixture
def service(factories):
    return factories.service(
        **HOUSING_BENEFIT,
        description_de="Beratung zum Wohngeld",
        description_en="Advice on housing benefit",
        duration_minutes=30,
    )


@pytest.fixture
def clerk(factories, service):
    return factories.clerk([service], name="Anna Schmidt")


@pytest.fixture
def portal_key(app, factories) -> str:
    """The plain key of a portal, as an admin created it."""
    admin = factories.admin()
    _key, plain = api_keys.create("Serviceportal", admin, now=clock.now())
    return plain


def bearer(plain: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plain}"}


def request_body(service, start, **fields) -> dict:
    body = {
        "service": service.slug,
        "start": start.isoformat(),
        "name": "Erika Mustermann",
        "email": "erika@example.org",
    }
    body.update(fields)
    return body


__all__ = ["API", "bearer", "berlin", "request_body"]
