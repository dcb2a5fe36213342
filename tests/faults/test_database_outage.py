"""PostgreSQL goes away while the app serves: a clear 503, recovery by itself, nothing
half-written. On the PostgreSQL of the run (DATABASE_URL, a schema of its own) behind a TCP
proxy that the tests stop and cut. Skipped in the SQLite run: SQLite is a file in the app's
own process, with no server that could go away and no connection to cut (CI runs the suite
on both databases, so these run there on PostgreSQL)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import func, select

from visits import create_app
from visits.booking import operations as booking
from visits.core import clock
from visits.core.events import appointment_changed
from visits.extensions import db
from visits.models import Appointment

from .. import days
from ..conftest import _postgres_schema_url, _test_config, berlin
from ..factories import Factories
from .proxy import TcpProxy

PG_URL = os.environ.get("DATABASE_URL", "")
PG_URL = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1) if PG_URL.startswith("postgres") else ""

# A database server going away does not apply to SQLite: the SQLite run leaves these out
# (tests/conftest.py), the PostgreSQL run of CI has them.
pytestmark = pytest.mark.postgres


@pytest.fixture
def proxied_app(tmp_path):
    _, schema = _postgres_schema_url(PG_URL)
    upstream = sa.engine.make_url(PG_URL)
    proxy = TcpProxy(upstream.host or "127.0.0.1", upstream.port or 5432).start()
    url = upstream.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    url += ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={schema},public")
    config = _test_config(url, tmp_path)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 3}}
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
        yield app, proxy
        db.session.remove()
        db.engine.dispose()
    proxy.stop()
    cleanup = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with cleanup.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    cleanup.dispose()


def test_requests_during_the_gap_get_a_clear_503_and_the_app_recovers_by_itself(proxied_app):
    app, proxy = proxied_app
    Factories(app).service(name_de="Wohngeldberatung")
    db.session.remove()
    client = app.test_client()
    assert client.get("/").status_code == 200

    proxy.stop()
    during = client.get("/", headers={"Accept-Language": "de"})
    assert during.status_code == 503
    assert "Vorübergehend nicht erreichbar" in during.text
    assert "nichts verloren" in during.text
    assert during.headers["Retry-After"]

    proxy.start()
    after = client.get("/")
    assert after.status_code == 200 and "Wohngeldberatung" in after.text


def test_a_booking_cut_off_mid_transaction_leaves_nothing_half_written(proxied_app):
    app, proxy = proxied_app
    factories = Factories(app)
    service = factories.service()
    factories.clerk([service])
    monday = days.BOOKING_MONDAY
    now = berlin(monday - timedelta(days=3), 9)

    def cut_before_commit(kind, **_):
        proxy.cut_connections()  # the row is written, the commit has not happened

    appointment_changed.connect(cut_before_commit)
    try:
        with pytest.raises(sa.exc.DBAPIError):
            booking.hold(service, berlin(monday, 8), factories.citizen(), now=now)
    finally:
        appointment_changed.disconnect(cut_before_commit)
    db.session.remove()

    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0
    service = db.session.merge(service)
    again = booking.hold(service, berlin(monday, 8), factories.citizen(), now=now)
    assert again.created  # the slot is free: nothing was left behind


# -- more of the same fault, through the web, the API and the scheduler ----------------------


def _free_start(service):
    from visits.booking import availability

    today = clock.now().date()
    return availability.free_slots(
        service, today + timedelta(days=7), today + timedelta(days=21), clock.now()
    )[0].start


def _booking_form(start) -> dict[str, str]:
    return {
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "name": "Erika Mustermann",
        "email": "erika@example.org",
        "language": "de",
        "consent": "y",
    }


def _web_booking(proxied_app):
    """A service ``wohngeld`` with a clerk: a test client, the proxy and the first free start
    (no session left open)."""
    app, proxy = proxied_app
    factories = Factories(app)
    service = factories.service(slug="wohngeld")
    factories.clerk([service])
    start = _free_start(service)
    db.session.remove()
    return app.test_client(), proxy, start


def _appointments() -> int:
    count = db.session.scalar(select(func.count()).select_from(Appointment))
    db.session.rollback()
    return count


def test_a_booking_sent_during_the_gap_gets_the_503_page_and_books_nothing(proxied_app):
    client, proxy, start = _web_booking(proxied_app)

    proxy.stop()
    during = client.post(
        "/dienstleistungen/wohngeld/buchen", data=_booking_form(start), headers={"Accept-Language": "de"}
    )
    assert during.status_code == 503 and "Vorübergehend nicht erreichbar" in during.text
    proxy.start()
    assert _appointments() == 0
    after = client.post("/dienstleistungen/wohngeld/buchen", data=_booking_form(start))
    assert after.status_code == 303  # the same form, sent again, books
    assert _appointments() == 1


def test_a_web_booking_cut_off_before_its_commit_is_a_503_and_leaves_nothing(proxied_app):
    client, proxy, start = _web_booking(proxied_app)

    def cut_before_commit(kind, **_):
        proxy.cut_connections()  # like a restart between the INSERT and the COMMIT

    appointment_changed.connect(cut_before_commit)
    try:
        response = client.post("/dienstleistungen/wohngeld/buchen", data=_booking_form(start))
    finally:
        appointment_changed.disconnect(cut_before_commit)
    assert response.status_code == 503
    assert _appointments() == 0
    assert client.post("/dienstleistungen/wohngeld/buchen", data=_booking_form(start)).status_code == 303


def test_after_a_quick_restart_the_next_request_succeeds_without_an_error(proxied_app):
    """Every pooled connection died while nobody asked: pre-ping notices, the user does not."""
    app, proxy = proxied_app
    Factories(app).service(name_de="Wohngeldberatung")
    db.session.remove()
    client = app.test_client()

    def get(path):
        """In a thread of its own: a fresh app context per request, as in production (the
        test's own context would keep one session, and its connection, across requests)."""
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(client.get, path).result()

    assert get("/").status_code == 200
    proxy.cut_connections()
    response = get("/")
    assert response.status_code == 200 and "Wohngeldberatung" in response.text


def test_the_api_answers_503_problem_json_during_the_gap(proxied_app):
    app, proxy = proxied_app
    Factories(app).service(slug="wohngeld")
    db.session.remove()
    client = app.test_client()
    proxy.stop()
    response = client.get("/api/v1/services")
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"]
    proxy.start()
    assert client.get("/api/v1/services").status_code == 200


def test_the_scheduler_survives_the_gap_and_catches_up(proxied_app, caplog):
    from visits import jobs

    app, proxy = proxied_app
    factories = Factories(app)
    service = factories.service()
    factories.clerk([service])
    monday = days.BOOKING_MONDAY
    booking.hold(service, berlin(monday, 8), factories.citizen(), now=berlin(monday - timedelta(days=3), 9))
    db.session.remove()

    proxy.stop()
    during = jobs.run_once(app, berlin(monday - timedelta(days=3), 9, 5))
    assert set(during.values()) == {-1}  # every job failed, the round itself went on
    assert "job deliver_mail failed" in caplog.text
    proxy.start()
    after = jobs.run_once(app, berlin(monday - timedelta(days=3), 9, 6))
    assert after["deliver_mail"] == 1  # the request to confirm, written to MAIL_DIR
    assert -1 not in after.values()
