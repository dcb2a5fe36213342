"""Schemathesis against the generated OpenAPI document, in process (WSGI, no network):
valid and invalid requests for every operation; no answer may be a server error, an
undocumented status, or a body, header or content type that breaks the document, and
invalid requests must be refused.

Driven through schemathesis' Python API (``APIOperation.as_strategy`` with Hypothesis; its
pytest plugin's lazy loader does not run under pytest 9). Random slugs, starts and
references would all end at 404/409 before any real work, so half of the valid cases are
steered onto the real service, its free slots and existing bookings (with their manage
token or the portal's key), while schemathesis still makes up the rest (names, notes,
emails, dates, languages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from visits.admin import api_keys, places
from visits.booking import availability, links
from visits.booking import operations as booking
from visits.core import clock

from .conftest import API

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]

OPERATIONS = [
    ("GET", "/api/v1/services"),
    ("GET", "/api/v1/departments"),
    ("GET", "/api/v1/locations"),
    ("GET", "/api/v1/services/{slug}/slots"),
    ("GET", "/api/v1/slots"),
    ("POST", "/api/v1/bookings"),
    ("GET", "/api/v1/bookings/{reference}"),
    ("DELETE", "/api/v1/bookings/{reference}"),
]
EMAIL = r"[a-z0-9._-]{1,30}@(example\.org|beispiel\.de)"
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# These take no input at all, so there is no invalid request to make of them.
WITHOUT_INPUT = {("GET", "/api/v1/services"), ("GET", "/api/v1/departments"), ("GET", "/api/v1/locations")}
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (POSITIVE, NEGATIVE)
    if not (mode == NEGATIVE and (method, path) in WITHOUT_INPUT)
]


@dataclass
class World:
    schema: schemathesis.BaseSchema
    key: str
    starts: list[str]
    bookings: list[tuple[str, str]]  # (reference, manage token)


@pytest.fixture
def world(app, factories) -> World:
    """The document as the app serves it, a bookable service, a portal key, bookings."""
    service = factories.service(slug="wohngeld")
    factories.clerk([service])
    _key, plain = api_keys.create("Serviceportal", None, now=clock.now())
    today = clock.now().date()
    free = availability.free_slots(service, today, today + timedelta(days=21), clock.now())
    assert len(free) > 40
    made = [booking.hold(service, slot.start, factories.citizen(), now=clock.now()).appointment for slot in free[-3:]]
    # A location with a part-day and a whole closing day, and one without coordinates.
    admin = factories.admin()
    location = places.default_location()
    location.latitude, location.longitude = 51.2277, 6.7735
    places.add_closing_day(location, places.Closing(today, from_time=time(12), reason_de="Versammlung"), admin,
                           now=clock.now())
    places.add_closing_day(location, places.Closing(today + timedelta(days=3), reason_de="Rosenmontag"), admin,
                           now=clock.now())
    return World(
        schema=schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app),
        key=plain,
        starts=[slot.start.isoformat() for slot in free[:-3]],
        bookings=[(a.reference, links.derive_token("manage", a.uid)) for a in made],
    )


def test_the_document_lists_exactly_the_tested_operations(world):
    listed = {
        (operation.method.upper(), operation.path)
        for operation in (result.ok() for result in world.schema.get_all_operations())
    }
    assert listed == set(OPERATIONS)


def _steer(case, world: World, data) -> None:
    """Point a valid case at real things (only valid ones: an invalid case must stay invalid)."""
    if not data.draw(st.booleans(), label="steer"):
        return
    path = case.operation.path
    if path == "/api/v1/slots":
        case.query = {**(case.query or {}), "items": "wohngeld:1"}
    elif path.endswith("/slots"):
        case.path_parameters = {**(case.path_parameters or {}), "slug": "wohngeld"}
    elif path == "/api/v1/bookings" and isinstance(case.body, dict):
        case.body.pop("items", None)
        case.body["service"] = "wohngeld"
        case.body["start"] = data.draw(st.sampled_from(world.starts), label="start")
        if data.draw(st.booleans(), label="deliverable email"):
            case.body["email"] = data.draw(st.from_regex(EMAIL, fullmatch=True), label="email")
        if data.draw(st.booleans(), label="portal"):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {world.key}"}
    elif path.startswith("/api/v1/bookings/"):
        reference, token = data.draw(st.sampled_from(world.bookings), label="booking")
        case.path_parameters = {**(case.path_parameters or {}), "reference": reference}
        case.headers = {**(case.headers or {}), "X-Manage-Token": token}


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {g}" for m, p, g in CASES])
def test_api_conforms_to_its_document(world, method, path, mode):
    operation = world.schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases every run: a failure here is reproducible
        suppress_health_check=list(HealthCheck),
    )
    def run(case, data):
        if mode == POSITIVE:
            _steer(case, world, data)
        case.call_and_validate(checks=CHECKS)

    run()
