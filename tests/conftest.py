"""Shared fixtures: an app per test on a database built by the migrations, and factories.

The database is SQLite in a temporary folder, or the PostgreSQL named by DATABASE_URL. On
PostgreSQL each test session works in a schema of its own, so two runs (or two developers)
never see each other's rows."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time as _time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from visits import create_app
from visits.core.language import compile_catalogues
from visits.extensions import db

from . import days
from .browser.support import axe_summary, chromium
from .days import berlin, next_weekday  # noqa: F401  (the helpers tests import from here)
from .factories import Factories
from .mailserver import SmtpServer, free_port

compile_catalogues()  # tests see the texts as they are in the .po files now

TIMESHIFT = Path(__file__).resolve().parent / "timeshift"


def pytest_configure(config) -> None:
    """Start the suite's clock at ``days.NOW`` and let it tick: no test sees the machine's date.
    Processes the suite starts read the same clock (tests/timeshift/sitecustomize.py)."""
    import time_machine

    os.environ["VISITS_TEST_CLOCK_OFFSET"] = repr(days.NOW.timestamp() - _time.time())
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TIMESHIFT), os.environ.get("PYTHONPATH")]))
    config._visits_clock = time_machine.travel(days.NOW, tick=True)
    config._visits_clock.start()
    _time.time()  # time-machine ticks from the first reading: start it now (tests/timeshift)
    _cheap_password_hashing()


def _cheap_password_hashing() -> None:
    """Argon2id with argon2-cffi's cheapest parameters in this process: hashing at production
    strength (RFC 9106's low-memory profile) was about a third of the suite's CPU. The hashes
    are still Argon2id and carry their parameters, so checking works as in production."""
    from argon2 import PasswordHasher, profiles

    from visits.clerks import accounts as staff_accounts

    staff_accounts._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked ``postgres`` need the PostgreSQL server itself (cut off, restarted): on a
    SQLite run they are left out, not skipped; CI runs the suite on both."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    left_out = [item for item in items if item.get_closest_marker("postgres")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]


def pytest_unconfigure(config) -> None:
    clock = getattr(config, "_visits_clock", None)
    if clock is not None:
        clock.stop()
    _cancel_timer_threads()


def _cancel_timer_threads() -> None:
    """Flask-Limiter's in-memory storage (the limits package) arms a non-daemon
    ``threading.Timer`` to expire its counters, and Python waits for such threads before it
    exits. Under libfaketime (make test-on) a timed wait never ends, so the run would finish
    its tests and then never exit. Cancelling wakes the wait at once; nothing is lost, the
    process is ending."""
    import threading

    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()

BERLIN = "Europe/Berlin"


def _postgres_schema_url(url: str) -> tuple[str, str]:
    """Create a fresh schema for this session; return (url with search_path, schema)."""
    schema = f"t_{os.getpid()}_{secrets.token_hex(3)}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for _ in range(5):  # two sessions starting at once may race on CREATE EXTENSION
            try:
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
                break
            except sa.exc.DBAPIError:
                _time.sleep(0.2)
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema},public')}", schema


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        session_url, schema = _postgres_schema_url(url)
        yield session_url
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'visits.db'}"


@pytest.fixture(scope="session")
def migrated(database_url, tmp_path_factory) -> str:
    """The schema, built once per session by the migrations (as production builds it)."""
    from flask_migrate import upgrade

    app = create_app(_test_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
    return database_url


def _test_config(database_url: str, folder: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-for-visits-0123456789abcdef",
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Room for 50 concurrent connections in the race tests.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 60},
        "PUBLIC_BASE_URL": "https://visits.test",
        "MAIL_DIR": str(folder / "mail"),
        "DOCUMENTS_DIR": str(folder / "documents"),
        "SLOT_CACHE_FILE": str(folder / "slot-cache-generation"),
        "SMTP_HOST": "",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "TIMEZONE": BERLIN,
        "HOLIDAY_STATE": "NW",
        "JITSI_DOMAIN": "meet.visits.test",
        "JITSI_APP_ID": "visits-test",
        "JITSI_APP_SECRET": "jitsi-test-secret-0123456789abcdef",
        "JITSI_AUDIENCE": "visits-test",
        "JITSI_SUBJECT": "meet.visits.test",
    }


def _empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(sa.text(f"DELETE FROM {name}"))
    db.session.commit()


def ready_database(app, fresh: bool) -> None:
    """A fresh database gets its schema from the migrations; the session's shared one (the
    PostgreSQL schema) is emptied instead."""
    from flask_migrate import upgrade

    with app.app_context():
        if fresh:
            upgrade(revision="heads")
        else:
            _empty_all_tables()
        db.session.remove()


@pytest.fixture
def app_config(migrated, tmp_path) -> dict:
    """Override entries in a test (``app_config["HOLD_MINUTES"] = 5``) before using ``app``."""
    return _test_config(migrated, tmp_path)


@pytest.fixture
def smtp_server(app_config) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback; the app under test sends to it."""
    server = SmtpServer().start()
    app_config.update(server.config())
    yield server
    server.stop()


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    """A Redis server of the test's own on loopback (Debian's redis-server), empty; tests
    that use it start a process, so they are marked ``processes``."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = _time.monotonic() + 10
        while _time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                _time.sleep(0.05)
        else:
            raise AssertionError("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium for tests that open in-process tabs (``tests.browser.support.open_page``);
    tests/browser overrides it with the one for the live server."""
    with chromium() as launched:
        yield launched


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    axe_summary(terminalreporter)  # pages checked by axe in the browser tests, if any


@pytest.fixture
def app(request, app_config) -> Iterator:
    if "smtp_server" in request.fixturenames:
        request.getfixturevalue("smtp_server")  # configure SMTP before the app reads it
    application = create_app(app_config)
    with application.app_context():
        _empty_all_tables()
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def reconfigure(app):
    """Change settings of the running app (``reconfigure(HOLD_MINUTES=5)``): the typed
    settings are built once in ``create_app``, so they are built again from the config."""
    from visits import settings

    def change(**config) -> None:
        app.config.update(config)
        settings.init_app(app)

    return change


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factories(app) -> Factories:
    return Factories(app)


@pytest.fixture
def is_postgres(app) -> bool:
    return db.engine.dialect.name == "postgresql"
