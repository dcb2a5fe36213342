"""The staff login counts every try before the password is checked: per address (IPv6 per
/64) and per account, not raced by parallel requests, and forged X-Forwarded-For from a
peer that is not a configured proxy counts as the peer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
import redis

from visits import create_app
from visits.clerks import throttle
from visits.extensions import db
from visits.models import StaffUser

from ..factories import STAFF_PASSWORD

TRIES = 30


@pytest.fixture
def app_config(app_config) -> dict:
    app_config["RATELIMIT_ENABLED"] = True
    app_config["RATELIMIT_LOGIN"] = "5 per minute"
    app_config["RATELIMIT_LOGIN_ACCOUNT"] = "5 per minute"
    return app_config


def _parallel(app, attempts: list[dict], *, workers: list | None = None) -> list[int]:
    """POST every attempt at once from its own thread and client; the status codes.
    ``workers``: apps (workers of one site) the attempts are spread over, in turn."""
    db.session.rollback()  # this thread's read must not hold SQLite's lock meanwhile
    start = Barrier(len(attempts))
    apps = workers or [app]

    def one(numbered: tuple[int, dict]) -> int:
        n, attempt = numbered
        client = apps[n % len(apps)].test_client()
        start.wait()
        response = client.post(
            "/staff/login",
            data={"email": attempt["email"], "password": attempt.get("password", "wrong password")},
            environ_base={"REMOTE_ADDR": attempt.get("ip", "192.0.2.1")},
            headers=attempt.get("headers", {}),
        )
        return response.status_code

    with ThreadPoolExecutor(len(attempts)) as pool:
        return list(pool.map(one, enumerate(attempts)))


def test_thirty_parallel_wrong_passwords_from_one_address_get_five_tries(app, factories):
    clerk = factories.clerk()
    codes = _parallel(app, [{"email": clerk.email} for _ in range(TRIES)])
    # Tries that commit at once may all see each other and all be refused; never more than five pass.
    assert codes.count(200) <= 5 and codes.count(429) >= TRIES - 5 and set(codes) <= {200, 429}


def test_thirty_addresses_at_one_account_get_five_tries_and_then_not_even_the_right_password(app, factories):
    clerk = factories.clerk()
    codes = _parallel(app, [{"email": clerk.email, "ip": f"198.51.100.{n + 1}"} for n in range(TRIES)])
    assert codes.count(200) <= 5 and codes.count(429) >= TRIES - 5 and set(codes) <= {200, 429}
    right = app.test_client().post(
        "/staff/login", data={"email": clerk.email, "password": STAFF_PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert right.status_code == 429


def test_unknown_accounts_are_refused_alike_once_the_address_is_used_up(app, factories):
    clerk = factories.clerk()
    client = app.test_client()
    for n in range(5):
        client.post("/staff/login", data={"email": f"nobody{n}@stadt.test", "password": "x"})
    known = client.post("/staff/login", data={"email": clerk.email, "password": STAFF_PASSWORD})
    unknown = client.post("/staff/login", data={"email": "nobody@stadt.test", "password": "x"})
    assert known.status_code == unknown.status_code == 429
    assert "Too many login attempts" in known.text or "Zu viele Anmeldeversuche" in known.text


def test_one_ipv6_network_counts_as_one_address(app, factories):
    clerk = factories.clerk()
    codes = _parallel(app, [{"email": f"x{n}@stadt.test", "ip": f"2001:db8:1:2::{n + 1:x}"} for n in range(10)])
    assert codes.count(200) <= 5 and codes.count(429) >= 5
    other_network = app.test_client().post(
        "/staff/login", data={"email": clerk.email, "password": STAFF_PASSWORD},
        environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"},
    )
    assert other_network.status_code == 302


def test_an_admin_reset_lets_the_owner_of_a_locked_account_in(app, factories):
    clerk = factories.clerk()
    _parallel(app, [{"email": clerk.email, "ip": f"198.51.100.{n + 1}"} for n in range(10)])
    throttle.forget_account(clerk.email)
    response = app.test_client().post(
        "/staff/login", data={"email": clerk.email, "password": STAFF_PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 302


def test_forged_x_forwarded_for_from_an_untrusted_peer_counts_as_the_peer(app_config):
    app_config["TRUSTED_PROXIES"] = 1
    app_config["TRUSTED_PROXY_ADDRESSES"] = "10.0.0.5"
    app = create_app(app_config)
    with app.app_context():
        from tests.factories import Factories

        clerk = Factories(app).clerk()
        forged = [
            {"email": clerk.email, "ip": "192.0.2.50", "headers": {"X-Forwarded-For": f"203.0.113.{n + 1}"}}
            for n in range(10)
        ]
        # A different account for every try, so only the address limit can stop them.
        for n, attempt in enumerate(forged):
            attempt["email"] = f"someone{n}@stadt.test"
        codes = _parallel(app, forged)
        assert codes.count(200) <= 5 and codes.count(429) >= 5
        # Through the configured proxy the forwarded address is the client's.
        via_proxy = app.test_client().post(
            "/staff/login", data={"email": clerk.email, "password": STAFF_PASSWORD},
            environ_base={"REMOTE_ADDR": "10.0.0.5"}, headers={"X-Forwarded-For": "192.0.2.77"},
        )
        assert via_proxy.status_code == 302
        assert StaffUser.query.count() >= 1


@pytest.mark.processes
def test_with_redis_workers_share_one_count_and_a_reset_clears_it(app_config, redis_url, factories):
    """Two workers (apps with memories of their own) count in one Redis: thirty parallel
    tries from thirty addresses at one account get five in all, not five per worker."""
    app_config["REDIS_URL"] = redis_url
    workers = [create_app(app_config), create_app(app_config)]
    with workers[0].app_context():
        from tests.factories import Factories

        clerk = Factories(workers[0]).clerk()
        email = clerk.email
        db.session.rollback()
    attempts = [{"email": email, "ip": f"198.51.100.{n + 1}"} for n in range(TRIES)]
    codes = _parallel(workers[0], attempts, workers=workers)
    # Each hit is one atomic step in Redis: exactly five pass.
    assert codes.count(200) == 5 and codes.count(429) == TRIES - 5
    right = {"email": email, "password": STAFF_PASSWORD}
    for worker in workers:  # locked in every worker, whichever counted
        locked = worker.test_client().post("/staff/login", data=right, environ_base={"REMOTE_ADDR": "203.0.113.9"})
        assert locked.status_code == 429
    assert redis.Redis.from_url(redis_url).keys(f"*{throttle.NAMESPACE}*"), "counted in Redis"
    with workers[1].app_context():
        throttle.forget_account(email)  # an admin's reset, in the other worker
    opened = workers[0].test_client().post("/staff/login", data=right, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert opened.status_code == 302
