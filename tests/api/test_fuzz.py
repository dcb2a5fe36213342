"""Random and odd input to POST /api/v1/bookings (Hypothesis): whatever arrives — any
Unicode (control characters, lone surrogates, NUL), wrong types, huge or nested values,
bodies that are not JSON — the answer is never a 500, and every refusal is problem+json."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visits.booking import availability
from visits.core import clock

from .conftest import API

FIELDS = ["service", "start", "name", "email", "phone", "language", "note"]

any_text = st.text(st.characters(exclude_categories=[]), max_size=300)
# What passes validation yet is exotic: emoji, right-to-left and combining marks, zero-width
# and format characters, private-use and unassigned code points.
exotic_text = st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=200)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    any_text,
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=6,
)

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def starts(service, clerk) -> list[str]:
    today = clock.now().date()
    free = availability.free_slots(service, today, today + timedelta(days=14), clock.now())
    return [slot.start.isoformat() for slot in free]


def _answer_is_sound(response, held: set[str]) -> None:
    """Never a 500; a refusal is problem+json (which refusal depends on the random input in
    ways only the app's validation knows, so any 4xx is fine); a success is the hold: 201
    when it is new, 200 when the same request came before and got it (``held``: the
    references answered so far in this test)."""
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.content_type == "application/problem+json"
        problem = response.get_json()
        assert problem["status"] == response.status_code and problem["type"]
    else:
        booking = response.get_json()
        expected = 200 if booking["reference"] in held else 201
        assert response.status_code == expected, (expected, response.get_data(as_text=True))
        assert booking["status"] == "held", booking
        held.add(booking["reference"])


def test_random_bodies_never_crash(client, starts):
    held: set[str] = set()

    @given(
        body=st.fixed_dictionaries(
            {},
            optional={field: values for field in FIELDS} | {"extra": values},
        )
    )
    @SETTINGS
    def run(body):
        _answer_is_sound(client.post(f"{API}/bookings", json=body), held)

    run()


def test_unicode_in_every_field_of_a_real_slot_never_crashes(client, starts):
    """A real service and a free start, so the text goes all the way to the database."""
    held: set[str] = set()

    @given(
        start=st.sampled_from(starts),
        name=st.one_of(exotic_text, exotic_text, any_text),
        email=st.one_of(
            st.from_regex(r"[a-z0-9._-]{1,40}@(example\.org|xn--bcher-kva\.example)", fullmatch=True),
            st.emails(),
            exotic_text.map(lambda t: t[:60] + "@example.org"),
            any_text,
        ),
        phone=st.one_of(st.none(), exotic_text.map(lambda t: t[:40]), any_text),
        note=st.one_of(st.none(), exotic_text, any_text),
        language=st.sampled_from(["de", "en", "de", "en", "tr", ""]),
    )
    @SETTINGS
    def run(start, name, email, phone, note, language):
        body = {"service": "wohngeld", "start": start, "name": name, "email": email}
        for key, value in (("phone", phone), ("note", note), ("language", language)):
            if value is not None:
                body[key] = value
        _answer_is_sound(client.post(f"{API}/bookings", json=body), held)

    run()


def test_bodies_that_are_not_json_objects_never_crash(client):
    held: set[str] = set()

    @given(
        raw=st.one_of(
            st.binary(max_size=200),
            any_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
            values.map(lambda v: json.dumps(v).encode()),
        ),
        content_type=st.sampled_from(
            [
                "application/json",
                "text/plain",
                "application/x-www-form-urlencoded",
                "application/json; charset=latin-1",
            ]
        ),
    )
    @SETTINGS
    def run(raw, content_type):
        _answer_is_sound(client.post(f"{API}/bookings", data=raw, content_type=content_type), held)

    run()
