"""What every answer tells the browser (no-store where a page holds something of one person,
Permissions-Policy, HSTS from the app, the __Host- session cookie), who may read /metrics,
and the limits on anonymous slot listings and calendar feeds (an IPv6 client by its /64)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from config import load_settings
from visits import create_app
from visits.admin import api_keys
from visits.booking import links
from visits.booking import operations as booking
from visits.core import clock

from ..conftest import berlin


@pytest.fixture
def service(factories):
    return factories.service(slug="wohngeld")


@pytest.fixture
def clerk(factories, service):
    return factories.clerk([service])


@pytest.fixture
def held(factories, service, clerk):
    start = berlin(factories.working_monday(), 9)
    return booking.hold(service, start, factories.citizen(), now=clock.now()).appointment


def _path(url: str) -> str:
    return urlsplit(url).path


# -- what a browser or proxy may keep -------------------------------------------------------


def test_pages_with_a_persons_data_are_never_stored(app, factories, clerk, held):
    staff = factories.login(factories.staff_client(), clerk)
    feed_page = staff.post("/staff/calendar/feed")
    assert "/feed/" in feed_page.get_data(as_text=True)
    answers = {
        "agenda": staff.get("/staff/"),
        "the page with the feed address": feed_page,
        "the calendar page": staff.get("/staff/calendar"),
        "the manage page": app.test_client().get(_path(links.manage_url(held))),
        "the join page": app.test_client().get(_path(links.join_url(held))),
    }
    for name, response in answers.items():
        assert response.status_code == 200, name
        assert "no-store" in response.headers["Cache-Control"], name


def test_check_your_inbox_is_never_stored(client, service, clerk, factories):
    start = berlin(factories.working_monday(), 10)
    sent = client.post(
        f"/dienstleistungen/{service.slug}/buchen",
        data={
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "name": "Erika",
            "email": "erika@example.org",
            "language": "de",
            "consent": "y",
        },
    )
    assert sent.status_code == 303
    inbox = client.get(sent.headers["Location"])
    assert inbox.status_code == 200 and "erika@example.org" in inbox.get_data(as_text=True)
    assert inbox.headers["Cache-Control"] == "no-store"


def test_api_answers_with_links_are_never_stored(client, app, factories, service, clerk):
    admin = factories.admin()
    _key, plain = api_keys.create("Portal", admin, now=clock.now())
    start = berlin(factories.working_monday(), 11)
    answer = client.post(
        "/api/v1/bookings",
        json={"service": service.slug, "start": start.isoformat(), "name": "Erika", "email": "e@example.org"},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert answer.status_code == 201 and answer.json["manage_url"].startswith("https://")
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_public_catalogue_may_be_cached(client, service, clerk):
    for path in ("/", f"/dienstleistungen/{service.slug}", "/api/v1/services"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" not in response.headers.get("Cache-Control", ""), path


# -- what the browser may do ----------------------------------------------------------------


def test_every_page_denies_camera_microphone_and_location(client, service):
    for path in ("/", f"/dienstleistungen/{service.slug}", "/staff/login", "/api/v1/services"):
        policy = client.get(path).headers["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in policy, (path, feature)


def test_an_https_site_sends_hsts_itself_and_a_plain_http_one_does_not(app_config):
    https = create_app(app_config).test_client().get("/staff/login")
    assert https.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    app_config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    plain = create_app(app_config).test_client().get("/staff/login")
    assert "Strict-Transport-Security" not in plain.headers


def test_over_https_the_session_cookie_is_bound_to_the_host(tmp_path):
    production = load_settings({"PUBLIC_BASE_URL": "https://termine.stadt.example"}, tmp_path)
    assert production["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production.get("SESSION_COOKIE_DOMAIN") is None  # __Host- forbids a Domain
    development = load_settings({"PUBLIC_BASE_URL": "http://127.0.0.1:5000"}, tmp_path)
    assert not development["SESSION_COOKIE_NAME"].startswith("__Host-")  # browsers drop it without Secure


# -- /metrics ---------------------------------------------------------------------------------


def _metrics(app, peer: str, **headers):
    return app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": peer}, headers=headers)


def test_metrics_answer_loopback_and_nobody_else_by_default(app):
    assert _metrics(app, "127.0.0.1").status_code == 200
    assert _metrics(app, "::1").status_code == 200
    for stranger in ("192.0.2.10", "10.1.2.3", "2001:db8::1"):
        response = _metrics(app, stranger)
        assert response.status_code == 404, stranger
        assert "visits_" not in response.get_data(as_text=True)


def test_metrics_answer_the_configured_monitoring_network(app_config):
    app_config["METRICS_ALLOWED_ADDRESSES"] = "127.0.0.1, 10.0.0.0/8"
    app = create_app(app_config)
    assert _metrics(app, "10.20.30.40").status_code == 200
    assert _metrics(app, "192.0.2.10").status_code == 404


def test_a_forged_forwarded_address_does_not_open_metrics(app_config):
    app_config["TRUSTED_PROXIES"] = 1
    app_config["TRUSTED_PROXY_ADDRESSES"] = "10.0.0.5"
    app = create_app(app_config)
    # Straight from the internet, claiming to be loopback: the peer counts.
    assert _metrics(app, "192.0.2.10", **{"X-Forwarded-For": "127.0.0.1"}).status_code == 404
    # Through the configured proxy, a client on the internet: the forwarded address counts.
    assert _metrics(app, "10.0.0.5", **{"X-Forwarded-For": "192.0.2.10"}).status_code == 404
    assert _metrics(app, "10.0.0.5", **{"X-Forwarded-For": "127.0.0.1"}).status_code == 200


# -- anonymous listing and feeds are limited ------------------------------------------------


@pytest.fixture
def limited(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    app_config["RATELIMIT_SLOTS"] = "3 per minute"
    app_config["RATELIMIT_FEED"] = "3 per minute"
    return app_config


def _statuses(client, path: str, times: int, peer: str = "192.0.2.20", **kwargs) -> list[int]:
    return [client.get(path, environ_base={"REMOTE_ADDR": peer}, **kwargs).status_code for _ in range(times)]


def test_the_slot_page_is_limited_per_client(limited, app, client, service, clerk):
    path = f"/dienstleistungen/{service.slug}"
    assert _statuses(client, path, 4) == [200, 200, 200, 429]
    limited_page = client.get(path, environ_base={"REMOTE_ADDR": "192.0.2.20"})
    assert "Retry-After" in limited_page.headers
    # Another client still gets its own budget.
    assert _statuses(client, path, 1, peer="192.0.2.21") == [200]


def test_one_ipv6_network_shares_one_budget(limited, app, client, service, clerk):
    path = f"/dienstleistungen/{service.slug}"
    codes = [
        client.get(path, environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{n:x}"}).status_code for n in range(1, 5)
    ]
    assert codes == [200, 200, 200, 429]  # four addresses of one /64 are one client
    assert _statuses(client, path, 1, peer="2001:db8:1:3::1") == [200]  # the next /64 is another


def test_the_api_slot_list_is_limited_for_anonymous_callers_but_not_for_a_portal(
    limited, app, client, factories, service, clerk
):
    path = f"/api/v1/services/{service.slug}/slots"
    assert _statuses(client, path, 4) == [200, 200, 200, 429]
    admin = factories.admin()
    _key, plain = api_keys.create("Portal", admin, now=clock.now())
    assert _statuses(client, path, 5, headers={"Authorization": f"Bearer {plain}"}) == [200] * 5


def test_the_calendar_feed_is_limited_per_client(limited, app, factories, clerk):
    staff = factories.login(factories.staff_client(), clerk)
    page = staff.post("/staff/calendar/feed").get_data(as_text=True)
    feed = re.search(r"https://visits\.test(/feed/[A-Za-z0-9_-]+\.ics)", page).group(1)
    fetcher = app.test_client()
    assert _statuses(fetcher, feed, 4) == [200, 200, 200, 429]
    # Guessing tokens uses up the same budget.
    assert _statuses(fetcher, "/feed/guessed-token.ics", 4, peer="192.0.2.30") == [404, 404, 404, 429]
