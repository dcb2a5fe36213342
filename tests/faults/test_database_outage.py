"""PostgreSQL goes away while the app serves: a clear 503, recovery by itself, nothing
half-written. Always on PostgreSQL (production's database), whatever DATABASE_URL says."""

from __future__ import annotations

import os
from datetime import date, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import func, select

from visits import booking, create_app
from visits.events import appointment_changed
from visits.extensions import db
from visits.models import Appointment

from ..conftest import _postgres_schema_url, _test_config, berlin, next_weekday
from ..factories import Factories
from .proxy import TcpProxy

PG_URL = os.environ.get("DATABASE_URL", "")
if not PG_URL.startswith("postgres"):
    PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_URL = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)

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
    monday = next_weekday(date.today() + timedelta(days=14), 0)
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
