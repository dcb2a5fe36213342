"""SQL-ish, oversized and odd input on every form and query parameter: a clear
refusal (400/404/409/413/422) or a normal answer, never a 500.

The forms are not listed by hand: every page (anonymous, as clerk, as admin) is fetched,
its forms are read as a browser reads them, and each field in turn is sent with each odd
value while the other fields keep what the page filled in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from visits.booking import availability
from visits.core import clock
from visits.extensions import db
from visits.models import Appointment

from .conftest import log_in, page_rules, url_for_rule
from .forms import forms_of

ODD_VALUES = {
    "sql": "x' OR '1'='1'; DROP TABLE appointments; --",
    "huge": "ä" * 60_000,
    "nul": "Erika\x00Muster\x1b[31m\x7f",
    "unicode": "\u202eЕрика 🧑🏽‍💻 \U000e0041\ufeff\u0301ﷺ",
    "number": "-99999999999999999999999",
    "date": "2026-02-30T25:61:00+99:00",
}
# Each answer below 500; these are the clear refusals (everything else is a normal page).
CLEAR = {200, 201, 204, 302, 303, 400, 403, 404, 405, 409, 413, 415, 422}


def get_pages(app, world):
    """(who, url) of every GET page, with a free slot for the booking form."""
    free = availability.free_slots(world.service, world.monday, world.monday + timedelta(days=4), clock.now())
    start = free[0].start.strftime("%Y-%m-%dT%H:%M:%SZ")
    pages = []
    for rule in page_rules(app):
        url = url_for_rule(app, rule, world)
        if rule.endpoint == "public.details":
            url += f"?start={start}"
        if rule.endpoint == "staff.phone_booking":
            url += f"?service={world.service.id}&week={world.monday.isoformat()}"
        who = [None]
        if rule.rule.startswith("/staff") or rule.rule.startswith("/admin"):
            who = [world.clerk, world.admin]
        pages.extend((user, url) for user in who)
    return pages


def test_every_form_field_survives_odd_input(app, client, world):
    problems, sent = [], 0
    seen_forms = set()
    for who, url in get_pages(app, world):
        log_in(client, who)
        page = client.get(url)
        if page.status_code != 200 or "html" not in page.content_type:
            continue
        for form in forms_of(page.get_data(as_text=True), url):
            if form.method != "POST" or (who and who.id, form.action) in seen_forms:
                continue
            if form.action.endswith("/logout"):
                continue
            seen_forms.add((who and who.id, form.action))
            for name in form.fields:
                if name == "csrf_token":
                    continue
                for label, value in ODD_VALUES.items():
                    log_in(client, who)
                    response = client.post(form.action, data={**form.fields, name: value})
                    sent += 1
                    if response.status_code not in CLEAR:
                        problems.append(
                            f"{who and who.email} {form.action} {name}={label}: {response.status_code}"
                        )
                    db.session.rollback()
    assert len(seen_forms) >= 15, sorted(seen_forms)  # the walk reached the forms
    assert sent >= 300
    assert not problems, "\n".join(problems)


def test_every_page_survives_odd_query_parameters(app, client, world):
    names = ["q", "week", "date", "day", "view", "start", "service", "lang", "page", "status", "next", "kind"]
    problems = []
    for who, url in get_pages(app, world):
        base = url.split("?")[0]
        for label, value in ODD_VALUES.items():
            value = value[:2000]  # a URL (servers take about 8 KB of them)
            log_in(client, who)
            response = client.get(base, query_string={name: value for name in names})
            if response.status_code >= 500:
                problems.append(f"{who and who.email} {base} {label}: {response.status_code}")
    assert not problems, "\n".join(problems)


def test_the_booking_form_refuses_odd_values_clearly_and_books_nothing(app, client, world):
    free = availability.free_slots(world.service, world.monday, world.monday + timedelta(days=4), clock.now())
    start = free[-1].start.strftime("%Y-%m-%dT%H:%M:%SZ")
    good = {
        "start": start,
        "name": "Max Mustermann",
        "email": "max@example.org",
        "phone": "",
        "language": "de",
        "note": "",
        "consent": "y",
    }
    # A NUL byte in any value is refused before a view runs (visits/web/__init__.py): 400;
    # the rest reaches the form, whose validation names the field: 422.
    refused_with = {"sql": 422, "huge": 422, "nul": 400}
    before = db.session.scalar(select(func.count()).select_from(Appointment))
    for field in ("name", "email", "phone", "language", "note"):
        for label in ("sql", "huge", "nul"):
            if (field, label) in {("name", "sql"), ("note", "sql")}:
                continue  # ordinary text for a name or a note: a valid booking
            response = client.post(
                "/dienstleistungen/wohngeld/buchen", data={**good, field: ODD_VALUES[label]}
            )
            assert response.status_code == refused_with[label], (
                field,
                label,
                response.status,
                response.location,
                response.text[:300],
            )
            assert db.session.scalar(select(func.count()).select_from(Appointment)) == before
    # What a person may well type is booked, and stored exactly as typed (no SQL ran).
    response = client.post("/dienstleistungen/wohngeld/buchen", data={**good, "name": ODD_VALUES["sql"]})
    assert response.status_code == 303
    stored = db.session.scalar(select(Appointment).where(Appointment.citizen_email == "max@example.org"))
    assert stored.citizen_name == ODD_VALUES["sql"]


@pytest.mark.parametrize("label", list(ODD_VALUES))
def test_api_paths_headers_and_parameters_survive_odd_input(client, world, label):
    value = ODD_VALUES[label]
    answers = [
        client.get("/api/v1/services/" + value.replace("/", "%2F")[:3000] + "/slots"),
        client.get(
            "/api/v1/services/wohngeld/slots", query_string={"from": value, "to": value, "days": value}
        ),
        client.get(
            "/api/v1/bookings/" + value.replace("/", "%2F")[:3000],
            headers={"X-Manage-Token": value.encode("utf-8", "replace").decode("latin-1")[:8000]},
        ),
        client.get(
            f"/api/v1/bookings/{world.appointment.reference}",
            headers={"Authorization": "Bearer " + value.encode().decode("latin-1")[:8000]},
        ),
        client.delete(
            "/api/v1/bookings/" + value.replace("/", "%2F")[:3000], headers={"X-Manage-Token": "x"}
        ),
        client.post(
            "/api/v1/bookings", json={"service": value, "start": value, "name": value, "email": value}
        ),
    ]
    for response in answers:
        assert response.status_code < 500, response.get_data(as_text=True)[:500]
        if response.status_code >= 400:
            assert response.content_type == "application/problem+json"
