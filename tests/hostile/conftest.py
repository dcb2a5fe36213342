"""A small world for the hostile-input tests: a video service, a clerk, an admin, a confirmed
appointment (its manage and join links), and every object the routes' path arguments name,
so a walk over ``app.url_map`` can fill in any route."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import g

from visits.admin import api_keys, places
from visits.booking import documents, holidays, links
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import WeeklyHours
from visits.web.staff import access as staff_access

from .. import days
from ..conftest import berlin
from ..documents import pdf

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@dataclass
class World:
    service: object
    clerk: object
    admin: object
    appointment: object
    monday: date
    args: dict[str, object]

    @property
    def manage_token(self) -> str:
        return links.derive_token("manage", self.appointment.uid)

    @property
    def join_token(self) -> str:
        return links.join_token(self.appointment)


@pytest.fixture
def client(app):
    """One app context per test, one request after the other: forget the per-request
    caches (logged-in user, CSRF token, locale) the way a fresh request would."""

    @app.before_request
    def _fresh_request() -> None:
        for name in ("_login_user", "csrf_token", "_flask_babel"):
            g.pop(name, None)

    return app.test_client()


def first_monday_without_holiday() -> date:
    monday = days.BOOKING_MONDAY
    while holidays.holidays(monday, monday + timedelta(days=4)):
        monday += timedelta(days=7)
    return monday


@pytest.fixture
def world(app, factories) -> World:
    monday = first_monday_without_holiday()
    service = factories.service(slug="wohngeld", name_de="Wohngeldberatung", name_en="Housing benefit advice")
    clerk = factories.clerk([service], name="Clara Clerk", email="clara@stadt.test")
    admin = factories.admin(name="Ada Admin", email="ada@stadt.test")
    citizen = factories.citizen(name="Erika Mustermann", email="erika@example.org")
    appointment = booking.book_for_caller(service, berlin(monday, 9), citizen, clerk=clerk, now=clock.now())
    absence = factories.absence(
        clerk, berlin(monday + timedelta(days=2), 8), berlin(monday + timedelta(days=2), 9)
    )
    hours = db.session.scalar(
        sa.select(WeeklyHours).where(WeeklyHours.clerk_id == clerk.id, WeeklyHours.weekday == 0)
    )
    key, _plain = api_keys.create("Portal", admin, now=clock.now())
    failed = factories.failed_mail()
    pause = factories.booking_pause("pausiert@example.org")
    document = documents.hand_in(appointment, filename="Mietvertrag.pdf", data=pdf(), now=clock.now())
    location = places.default_location()
    # Four weeks on: a closing day that no booking of the walk runs into.
    closing = places.add_closing_day(
        location, places.Closing(monday + timedelta(days=28), reason_de="Rosenmontag"), admin, now=clock.now()
    )
    args = {
        "appointment_id": appointment.id,
        "absence_id": absence.id,
        "hours_id": hours.id,
        "service_id": service.id,
        "user_id": clerk.id,
        "key_id": key.id,
        "message_id": failed.id,
        "pause_id": pause.id,
        "document_id": document.id,
        "location_id": location.id,
        "closing_day_id": closing.id,
        "department_id": location.department_id,
        "slug": service.slug,
        "reference": appointment.reference,
    }
    world = World(service, clerk, admin, appointment, monday, args)
    return world


# Machine answers (probes, metrics): no forms, no links.
PROBES = {"/healthz", "/readyz", "/metrics"}


def page_rules(app):
    """Every GET rule that answers a person with a page (not static files, probes or the API)."""
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static" or rule.rule in PROBES:
            continue
        if not rule.rule.startswith("/api/"):
            yield rule


def url_for_rule(app, rule, world: World) -> str:
    """The rule's URL with the world's objects; a path argument the world lacks fails loudly."""
    values = dict(world.args)
    if "token" in rule.arguments:
        values["token"] = world.join_token if rule.rule.startswith("/video") else world.manage_token
    if rule.endpoint == "feed.calendar":
        values["token"] = "not-a-feed-token"
    unknown = set(rule.arguments) - set(values)
    assert not unknown, f"{rule.rule}: the hostile walk has no object for {sorted(unknown)}"
    with app.test_request_context():
        return app.url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})


def log_in(client, user) -> None:
    """Logged in the way Flask-Login keeps it (no form, so no CSRF token is needed)."""
    with client.session_transaction() as session:
        session.clear()
        if user is not None:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
            session.update(staff_access.session_fields(user, now=clock.now()))


def csrf_token_of(response) -> str:
    found = CSRF_FIELD.search(response.get_data(as_text=True))
    assert found, "the page has no CSRF token"
    return found.group(1) or found.group(2)


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table: a request that changed nothing leaves this as it was."""
    db.session.expire_all()
    rows = {}
    for table in db.metadata.sorted_tables:
        rows[table.name] = sorted(
            tuple(str(v) for v in row) for row in db.session.execute(sa.select(table)).all()
        )
    db.session.rollback()
    return rows
