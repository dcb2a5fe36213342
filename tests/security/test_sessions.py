"""Staff sessions end on the server: logout, a new password, a reset and deactivation end
every session of that person; idle and absolute lifetimes; the current-password check is
throttled; production refuses a weak SECRET_KEY and the demo data."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from config import InsecureSecretKey
from visits import create_app
from visits.clerks.accounts import check_password
from visits.core import clock
from visits.extensions import db
from visits.models import StaffUser

from ..factories import STAFF_PASSWORD, Factories

ROOT = Path(__file__).resolve().parents[2]
NEW_PASSWORD = "Kastanienbaum-Hafenkran-47"


@pytest.fixture
def browsers(factories, app):
    """Makes browsers (test clients) that forget the previous request's user, as servers do."""
    factories.staff_client()  # installs the forgetting once, before any request
    return app.test_client


@pytest.fixture
def clerk(factories):
    return factories.clerk(name="Anna Schmidt")


@pytest.fixture
def admin(factories):
    return factories.admin(name="Ada Admin", email="ada@stadt.example")


def _logged_in(browsers, user, password: str = STAFF_PASSWORD):
    return Factories.login(browsers(), user, password)


def _opens_agenda(client) -> bool:
    return client.get("/staff/").status_code == 200


def _copy_of(client, browsers):
    """A second browser holding a copy of ``client``'s session cookie (as a thief would)."""
    thief = browsers()
    cookie = client.get_cookie("session")
    thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain or "localhost")
    return thief


def test_a_cookie_copied_before_logout_opens_nothing_after_it(browsers, clerk):
    browser = _logged_in(browsers, clerk)
    stolen = _copy_of(browser, browsers)
    assert _opens_agenda(stolen)
    assert browser.post("/staff/logout").status_code == 302
    assert stolen.get("/staff/").status_code == 302  # to the login


def test_logout_ends_the_persons_other_sessions_too(browsers, clerk):
    office, laptop = _logged_in(browsers, clerk), _logged_in(browsers, clerk)
    office.post("/staff/logout")
    assert laptop.get("/staff/").status_code == 302


def test_a_new_password_ends_other_sessions_but_keeps_this_one(browsers, clerk):
    here, elsewhere = _logged_in(browsers, clerk), _logged_in(browsers, clerk)
    changed = here.post(
        "/staff/password",
        data={
            "current_password": STAFF_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert _opens_agenda(here)
    assert elsewhere.get("/staff/").status_code == 302


def test_an_admin_reset_ends_every_session(browsers, clerk, admin):
    victim = _logged_in(browsers, clerk)
    admin_client = _logged_in(browsers, admin)
    assert admin_client.post(f"/admin/staff/{clerk.id}/password").status_code == 200
    assert victim.get("/staff/").status_code == 302


def test_deactivation_ends_sessions_and_reactivation_revives_none(browsers, clerk, admin):
    victim = _logged_in(browsers, clerk)
    admin_client = _logged_in(browsers, admin)
    admin_client.post(f"/admin/staff/{clerk.id}/deactivate")
    assert victim.get("/staff/").status_code == 302
    admin_client.post(f"/admin/staff/{clerk.id}/reactivate")
    db.session.refresh(clerk)
    assert clerk.active
    assert victim.get("/staff/").status_code == 302


def test_a_session_unused_for_the_idle_time_ends(browsers, clerk, reconfigure):
    reconfigure(STAFF_SESSION_IDLE_MINUTES=30)
    with time_machine.travel(clock.now(), tick=False) as traveller:
        browser = _logged_in(browsers, clerk)
        traveller.shift(timedelta(minutes=29))
        assert _opens_agenda(browser)  # in use: the idle time starts again
        traveller.shift(timedelta(minutes=29))
        assert _opens_agenda(browser)
        traveller.shift(timedelta(minutes=31))
        assert browser.get("/staff/").status_code == 302


def test_a_session_in_constant_use_still_ends_after_the_absolute_lifetime(browsers, clerk, reconfigure):
    reconfigure(STAFF_SESSION_IDLE_MINUTES=30, STAFF_SESSION_MAX_HOURS=10)
    with time_machine.travel(clock.now(), tick=False) as traveller:
        browser = _logged_in(browsers, clerk)
        for _ in range(9 * 3):  # every 20 minutes for nine hours
            traveller.shift(timedelta(minutes=20))
            assert _opens_agenda(browser)
        traveller.shift(timedelta(hours=1, minutes=1))
        assert browser.get("/staff/").status_code == 302


def test_guessing_the_current_password_is_throttled(browsers, clerk, reconfigure):
    browser = _logged_in(browsers, clerk)
    reconfigure(
        RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="100 per minute", RATELIMIT_LOGIN_ACCOUNT="3 per hour"
    )
    answers = [
        browser.post(
            "/staff/password",
            data={"current_password": guess, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        ).status_code
        for guess in ("guess-number-one", "guess-number-two", "guess-number-three", STAFF_PASSWORD)
    ]
    assert answers == [200, 200, 200, 429]  # the right password, once the tries are used up, too
    db.session.refresh(clerk)
    assert check_password(clerk, STAFF_PASSWORD)


# -- production refuses what would let anyone forge a session ------------------------------


def _placeholder(path: Path) -> str:
    return re.search(r"^SECRET_KEY=(.*)$", path.read_text(), re.MULTILINE).group(1).strip()


@pytest.mark.parametrize(
    "secret_key",
    [
        _placeholder(ROOT / "deploy" / "visits.env.example"),
        "CHANGE-ME",
        "short-but-random-Xq3",
        "a" * 31,
    ],
)
def test_production_refuses_to_start_with_a_weak_or_published_secret_key(app_config, secret_key):
    app_config.update(SECRET_KEY=secret_key, PUBLIC_BASE_URL="https://termine.stadt.example")
    with pytest.raises(InsecureSecretKey):
        create_app(app_config)


def test_production_starts_with_a_long_random_key_and_development_with_any(app_config):
    app_config.update(
        SECRET_KEY="x" * 8 + "-7f3c9a1e5b2d4f6a8c0e2b4d6f8a0c2e", PUBLIC_BASE_URL="https://t.example"
    )
    assert create_app(app_config).config["SECRET_KEY"]
    app_config.update(SECRET_KEY="dev", PUBLIC_BASE_URL="http://127.0.0.1:5000")
    assert create_app(app_config).config["SECRET_KEY"] == "dev"


def test_env_example_placeholders_are_known():
    """Every SECRET_KEY an example file publishes is refused (an empty one means "random")."""
    from config import PLACEHOLDER_SECRET_KEYS

    for example in (ROOT / ".env.example", ROOT / "deploy" / "visits.env.example"):
        key = _placeholder(example)
        assert key == "" or key in PLACEHOLDER_SECRET_KEYS, example


def test_seed_demo_refuses_to_run_in_production(app):
    assert app.config["PUBLIC_BASE_URL"].startswith("https://")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "production" in result.output
    assert db.session.scalar(select(func.count(StaffUser.id))) == 0
