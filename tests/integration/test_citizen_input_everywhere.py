"""One table of odd input, sent through every way in: the citizen's booking form, the
clerk's phone booking form and the API. Each row gets the same verdict everywhere (booked,
or refused naming the same field) and, when booked, the same cleaned value is stored.

A NUL is left out: the app refuses it with 400 before any view (visits/web/__init__.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from visits.extensions import db
from visits.models import Appointment

from ..days import BOOKING_MONDAY, berlin

REFUSED = object()
COLUMNS = {"name": "citizen_name", "email": "citizen_email", "phone": "citizen_phone", "note": "citizen_note"}
COLUMNS["language"] = "language"

# (field, as typed, what is stored or REFUSED)
ROWS = [
    ("name", "Erika\tMustermann", REFUSED),
    ("name", "Erika\x1b[31mMustermann", REFUSED),
    ("name", "Erika\x7fMustermann", REFUSED),
    ("name", "Erika\u009bMustermann", REFUSED),  # a C1 control (CSI)
    ("name", "\u202enamrestsuM akirE", REFUSED),  # right-to-left override
    ("name", "Erika \u2066Mustermann\u2069", REFUSED),  # an isolate
    ("name", "   ", REFUSED),
    ("name", "  Erika   Mustermann  ", "Erika Mustermann"),
    ("name", "Zoë Ğül 李", "Zoë Ğül 李"),
    ("name", "N" * 200, "N" * 200),
    ("name", " " + "N" * 200 + " ", "N" * 200),  # the limit counts what is left once trimmed
    ("name", "N" * 201, REFUSED),
    ("email", "  erika@example.org  ", "erika@example.org"),
    ("email", "Erika.Muster@Example.ORG", "erika.muster@example.org"),
    ("email", "erika@BÜCHER.de", "erika@bücher.de"),
    ("email", "erika @example.org", REFUSED),
    ("email", "érika@example.org", REFUSED),  # non-ASCII before the @: most servers cannot deliver
    ("email", "erika@", REFUSED),
    ("phone", "+49 221 123456", "+49 221 123456"),
    ("phone", "0221/123-456", "0221/123-456"),
    ("phone", " (0221) 123.456 ", "(0221) 123.456"),
    ("phone", "12", "12"),
    ("phone", "call me maybe", REFUSED),
    ("phone", "0221\t123456", REFUSED),
    ("phone", "0" * 41, REFUSED),
    ("note", "Rollstuhl\r\nGebärdensprache\r\n", "Rollstuhl\nGebärdensprache"),  # as browsers send it
    ("note", "Rollstuhl\rGebärdensprache", "Rollstuhl\nGebärdensprache"),
    ("note", "n" * 500 + "\r\n" + "n" * 499, "n" * 500 + "\n" + "n" * 499),  # 1000 once CRLF is LF
    ("note", "n" * 1000, "n" * 1000),
    ("note", "n" * 1001, REFUSED),  # refused, never cut
    ("note", "n" * 2001, REFUSED),
    ("note", "Rollstuhl\tGebärdensprache", REFUSED),
    ("note", "Rollstuhl\u009b", REFUSED),
    ("note", "\u202eRollstuhl", REFUSED),
    ("language", "fr", REFUSED),
]

MONDAY = BOOKING_MONDAY
BASE = {"name": "Erika Mustermann", "email": "erika@example.org", "phone": "", "note": "", "language": "de"}


@pytest.fixture
def world(app_config, request):
    app_config["MAX_UPCOMING_PER_EMAIL"] = 10  # one address books through all three ways
    factories = request.getfixturevalue("factories")
    service = factories.service(slug="wohngeld")
    clerk = factories.clerk([service])
    staff = factories.login(factories.staff_client(), clerk)
    return service, staff, request.getfixturevalue("app").test_client()


def web_form(world, start, fields) -> str | None:
    service, _staff, client = world
    data = {**fields, "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "consent": "y"}
    answer = client.post(f"/dienstleistungen/{service.slug}/buchen", data=data)
    assert answer.status_code in (303, 422), answer.status
    return None if answer.status_code == 303 else _field_with_error(answer.text)


def phone_form(world, start, fields) -> str | None:
    service, staff, _client = world
    answer = staff.post(
        f"/staff/phone-booking?service={service.id}&week={MONDAY.isoformat()}",
        data={**fields, "start": start.isoformat()},
    )
    assert answer.status_code in (302, 400), answer.status
    return None if answer.status_code == 302 else _field_with_error(answer.text)


def api(world, start, fields) -> str | None:
    service, _staff, client = world
    body = {"service": service.slug, "start": start.isoformat(), **{k: v for k, v in fields.items() if v}}
    answer = client.post("/api/v1/bookings", json=body)
    assert answer.status_code in (201, 422), answer.get_data(as_text=True)
    return None if answer.status_code == 201 else ",".join(sorted(answer.get_json()["errors"]))


def _field_with_error(html: str) -> str:
    return ",".join(sorted(field for field in COLUMNS if f'id="{field}-error"' in html))


ENTRY_POINTS = {"web form": web_form, "phone form": phone_form, "api": api}


@pytest.mark.parametrize(
    ("field", "typed", "stored"), ROWS, ids=[f"{field}-{n}" for n, (field, _t, _s) in enumerate(ROWS)]
)
def test_every_way_in_gives_the_same_verdict_and_stores_the_same_value(world, field, typed, stored):
    verdicts, values = {}, {}
    for n, (way, send) in enumerate(ENTRY_POINTS.items()):
        start = berlin(MONDAY, 8) + timedelta(minutes=30 * n)
        verdicts[way] = send(world, start, {**BASE, field: typed})
        db.session.expire_all()
        appointment = db.session.scalar(select(Appointment).where(Appointment.start_at == start))
        values[way] = REFUSED if appointment is None else getattr(appointment, COLUMNS[field])
        assert (appointment is None) == (verdicts[way] is not None), (way, verdicts[way])

    expected_verdict = None if stored is not REFUSED else field
    assert verdicts == dict.fromkeys(ENTRY_POINTS, expected_verdict)
    assert values == dict.fromkeys(ENTRY_POINTS, stored)
