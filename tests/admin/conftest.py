"""Helpers for the administration pages: an admin and a clerk, logged in by the real form."""

from __future__ import annotations

from datetime import date

import pytest

from ..factories import Factories


@pytest.fixture
def admin(factories):
    return factories.admin(name="Ada Admin", email="ada@stadt.example")


@pytest.fixture
def admin_client(client, admin):
    return Factories.login(client, admin)


@pytest.fixture
def monday(factories) -> date:
    """A Monday two weeks ahead that is no public holiday."""
    return factories.working_monday()


@pytest.fixture
def client(factories):
    """The shared ``client``, fit for tests that log in several people."""
    return factories.staff_client()
