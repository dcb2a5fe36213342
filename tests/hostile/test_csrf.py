"""CSRF on every state-changing form: a walk over ``app.url_map``. Every POST,
PUT, PATCH and DELETE route outside the API refuses a request without the form's token
(anonymous, as clerk and as admin) and changes nothing. The API and Prosody's presence
events are exempt because they use no cookies (an API key, a bearer token): a staff
member's session cookie gives them no power at all."""

from __future__ import annotations

import pytest

from visits.extensions import db
from visits.models import Appointment, Status

from ..factories import STAFF_PASSWORD
from .conftest import csrf_token_of, log_in, snapshot, url_for_rule

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Fewer than this many state-changing routes: the walk itself is broken.
MINIMUM_WALKED = 25


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def state_changing_routes(app) -> list[tuple[str, object]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/jitsi/presence/")):
            continue
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            found.append((method, rule))
    return sorted(found, key=lambda item: (item[1].rule, item[0]))


def plausible_form(world) -> dict[str, str]:
    """Values a real form would send, so a refusal is the missing token and nothing else."""
    return {
        "email": world.clerk.email,
        "password": STAFF_PASSWORD,
        "name": "Erika Mustermann",
        "start": "2030-01-07T08:00:00Z",
        "reason": "test",
        "note": "test",
        "status": "attended",
        "confirm": "y",
        "consent": "y",
        "language": "de",
    }


def test_every_state_changing_route_refuses_a_request_without_the_csrf_token(app, client, world):
    routes = state_changing_routes(app)
    assert len(routes) >= MINIMUM_WALKED, f"only {len(routes)} routes walked"
    walked = {rule.endpoint for _m, rule in routes}
    assert {
        "public.details",
        "manage.confirm",
        "manage.cancel",
        "join.enter",
        "join.clerk",
        "staff.login",
        "staff.logout",
        "admin.staff_new",
    } <= walked

    before = snapshot()
    problems = []
    for who in (None, world.clerk, world.admin):
        for method, rule in routes:
            url = url_for_rule(app, rule, world)
            log_in(client, who)
            response = client.open(url, method=method, data=plausible_form(world))
            if response.status_code != 400:
                problems.append(f"{who and who.email} {method} {url}: {response.status_code}")
            # The same with a token that belongs to no session (a forged form).
            log_in(client, who)
            forged = client.open(url, method=method, data={**plausible_form(world), "csrf_token": "x" * 40})
            if forged.status_code != 400:
                problems.append(f"{who and who.email} {method} {url} forged token: {forged.status_code}")
    assert not problems, "\n".join(problems)
    assert snapshot() == before  # nothing was booked, changed, logged in or audited


def test_the_refusal_is_a_clear_page_that_says_nothing_changed(client, world):
    response = client.post(f"/termin/{world.manage_token}/absagen", headers={"Accept-Language": "de"})
    assert response.status_code == 400
    assert "Es wurde nichts gebucht oder geändert" in response.get_data(as_text=True)


def test_with_the_token_of_the_page_the_same_requests_go_through(client, world):
    """The walk's refusals come from the missing token: with it, the forms work."""
    login_page = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={
            "email": world.clerk.email,
            "password": STAFF_PASSWORD,
            "csrf_token": csrf_token_of(login_page),
        },
    )
    assert response.status_code == 302

    log_in(client, None)
    page = client.get(f"/termin/{world.manage_token}")
    response = client.post(f"/termin/{world.manage_token}/absagen", data={"csrf_token": csrf_token_of(page)})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Appointment, world.appointment.id).status == Status.CANCELLED


def test_the_api_takes_no_authority_from_a_staff_session_cookie(client, world):
    """Why the API may skip CSRF: a logged-in admin's browser cookie cannot cancel anything."""
    log_in(client, world.admin)
    response = client.delete(f"/api/v1/bookings/{world.appointment.reference}")
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    db.session.expire_all()
    assert db.session.get(Appointment, world.appointment.id).status == Status.CONFIRMED
