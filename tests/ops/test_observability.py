"""What operations sees of a running instance: probes, request ids in logs, metrics."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import sqlalchemy as sa
from flask_migrate import upgrade

from visits import create_app, jobs
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.ops.observability import JsonFormatter

from .. import days
from ..conftest import _test_config, berlin


def _sample(metrics_text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics_text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, value = line.rsplit(" ", 1)
        metric, _, rest = series.partition("{")
        found = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if metric == name and found == wanted:
            return float(value)
    return 0.0


# -- probes ------------------------------------------------------------------------------


def test_healthz_answers_without_asking_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_on_a_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"
    assert response.json["migrations"]  # the head revision(s) the database carries


def test_readyz_refuses_traffic_while_the_database_is_unreachable(app_config):
    app_config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://visits@127.0.0.1:9/visits"
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"connect_timeout": 2}}
    response = create_app(app_config).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not_ready"
    assert response.json["reason"] == "database_unreachable"


def test_readyz_refuses_traffic_before_the_migrations_ran(app_config, tmp_path):
    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'empty.db'}"
    response = create_app(app_config).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["reason"] == "database_not_migrated"


def test_readyz_refuses_traffic_while_migrations_are_pending(tmp_path):
    """A new release started before ``flask db upgrade``: its code expects a newer schema."""
    config = _test_config(f"sqlite:///{tmp_path / 'old.db'}", tmp_path)
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = '0000_older'"))
        db.session.commit()
        db.engine.dispose()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["reason"] == "migrations_pending"
    assert response.json["found"] == ["0000_older"]
    assert response.json["expected"] and "0000_older" not in response.json["expected"]


# -- request ids and logs ----------------------------------------------------------------


def test_a_well_formed_request_id_from_the_proxy_is_kept_and_echoed(client):
    response = client.get("/", headers={"X-Request-ID": "3f2a9c0d1e4b5a6978877665544332211"})
    assert response.headers["X-Request-ID"] == "3f2a9c0d1e4b5a6978877665544332211"


def test_a_forged_request_id_is_replaced_by_a_fresh_one(client):
    forged = 'x" injected {"level": "ERROR"} ' + "A" * 200
    response = client.get("/", headers={"X-Request-ID": forged})
    echoed = response.headers["X-Request-ID"]
    assert echoed != forged and len(echoed) == 32 and echoed.isalnum()
    other = client.get("/").headers["X-Request-ID"]
    assert other != echoed  # one per request


def test_every_log_line_of_a_request_carries_its_id(app, client, caplog):
    @app.get("/_ops_test_logs")
    def noisy():
        logging.getLogger("visits.somewhere").warning("something worth a line")
        return "ok"

    with caplog.at_level(logging.INFO):
        response = client.get("/_ops_test_logs", headers={"X-Request-ID": "req-0123456789abcdef"})
    lines = [r for r in caplog.records if r.name in ("visits.somewhere", "visits.request")]
    assert {r.name for r in lines} == {"visits.somewhere", "visits.request"}
    assert all(r.request_id == "req-0123456789abcdef" for r in lines)
    assert response.headers["X-Request-ID"] == "req-0123456789abcdef"


def test_the_request_line_names_the_route_not_the_secret_path(app, client, caplog):
    @app.get("/_ops_test/<token>")
    def secret(token):
        return "ok"

    with caplog.at_level(logging.INFO, logger="visits.request"):
        client.get("/_ops_test/very-secret-token-value")
    (line,) = [r for r in caplog.records if r.name == "visits.request"]
    assert line.route == "/_ops_test/<token>" and line.status == 200
    assert "very-secret-token-value" not in line.getMessage()


def test_json_log_lines_are_one_object_each_with_request_id_and_extras():
    record = logging.LogRecord("visits.request", logging.INFO, __file__, 1, 'GET %s "quoted"', ("/",), None)
    record.request_id = "abc123456789"
    record.status = 200
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == 'GET / "quoted"'
    assert entry["request_id"] == "abc123456789"
    assert entry["level"] == "INFO" and entry["logger"] == "visits.request"
    assert entry["status"] == 200


# -- reverse proxy ------------------------------------------------------------------------


def test_behind_one_trusted_proxy_the_client_address_comes_from_x_forwarded_for(app_config):
    app_config["TRUSTED_PROXIES"] = 1
    app_config["TRUSTED_PROXY_ADDRESSES"] = "127.0.0.1"
    app = create_app(app_config)

    @app.get("/_ops_test_addr")
    def addr():
        from flask import request

        return f"{request.remote_addr} {request.scheme}"

    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    assert app.test_client().get("/_ops_test_addr", headers=headers).text == "203.0.113.7 https"


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(app):
    @app.get("/_ops_test_addr")
    def addr():
        from flask import request

        return f"{request.remote_addr} {request.scheme}"

    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    assert app.test_client().get("/_ops_test_addr", headers=headers).text == "127.0.0.1 http"


# -- metrics -----------------------------------------------------------------------------


def test_metrics_count_requests_per_endpoint(client):
    before = _sample(client.get("/metrics").text, "visits_http_request_total", method="GET", status="200")
    client.get("/")
    client.get("/")
    text = client.get("/metrics").text
    assert _sample(text, "visits_http_request_total", method="GET", status="200") == before + 2
    assert 'endpoint="public.index"' in text
    assert "/metrics" not in text  # the scrape itself is not a request worth counting


def test_metrics_count_bookings_by_kind(app, client, factories):
    service = factories.service()
    factories.clerk([service])
    monday = days.TODAY + timedelta(days=7)
    now = berlin(monday - timedelta(days=3), 9)
    before = client.get("/metrics").text
    held = booking.hold(service, berlin(monday, 8), factories.citizen(), now=now).appointment
    booking.confirm(held, now=now)
    booking.cancel(held, now=now)
    after = client.get("/metrics").text
    for kind in ("held", "confirmed", "cancelled"):
        name = "visits_appointment_changes_total"
        assert _sample(after, name, kind=kind) == _sample(before, name, kind=kind) + 1, kind


def test_metrics_count_mails_sent_and_job_runs(app, client, smtp_server):
    from email.message import EmailMessage

    from visits.mail import outbox

    now = clock.now()
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@stadt.example", "b@example.org", "Hallo"
    message["Message-ID"] = "<ops-metrics-1@visits.test>"
    message.set_content("Guten Tag")
    before = client.get("/metrics").text
    outbox.add(message, kind="confirm_request", dedupe_key="ops-metrics-1", now=now)
    db.session.commit()
    assert outbox.deliver_due(now=now) == 1
    jobs.run_job(app, "expire_holds")
    after = client.get("/metrics").text
    sent = "visits_mails_total"
    assert _sample(after, sent, kind="confirm_request", outcome="sent") == (
        _sample(before, sent, kind="confirm_request", outcome="sent") + 1
    )
    runs = "visits_job_runs_total"
    assert _sample(after, runs, job="expire_holds", outcome="ok") == (
        _sample(before, runs, job="expire_holds", outcome="ok") + 1
    )
    assert _sample(after, "visits_job_duration_seconds_count", job="expire_holds") >= 1


def test_metrics_can_be_switched_off(app_config):
    app_config["METRICS_ENABLED"] = False
    assert create_app(app_config).test_client().get("/metrics").status_code == 404
