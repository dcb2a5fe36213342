"""Running in production: probes, a request id in every log line, JSON logs, metrics.

- ``/healthz``: the process answers (no database call; a load balancer's liveness check).
- ``/readyz``: the database answers *and* carries the schema this code expects (its
  ``alembic_version`` equals the head of ``migrations/``); otherwise 503 with a JSON reason,
  so a new instance gets traffic only after ``flask db upgrade`` ran.
- Request id: ``X-Request-ID`` from the proxy when well-formed (nginx's ``$request_id``),
  else a fresh one; echoed in the response and attached to every log record of the request
  (a log-record factory, so every handler and every library's logger sees it).
- Logs: ``LOG_FORMAT=json`` (one JSON object per line) or ``text``; one line per request
  with method, route pattern (never the path: citizens' paths carry secret tokens), status
  and duration.
- Metrics (prometheus-flask-exporter + prometheus_client): HTTP requests per endpoint,
  bookings per kind (``events.appointment_changed``), mails sent/failed
  (``events.mail_delivered``/``mail_failed``) and job runs with their duration
  (``events.job_ran``). Under gunicorn the workers share ``PROMETHEUS_MULTIPROC_DIR``
  (set by gunicorn.conf.py) and ``/metrics`` adds up every worker.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import Flask, Response, abort, current_app, g, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_flask_exporter import PrometheusMetrics
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from visits import settings
from visits.extensions import db

log = logging.getLogger(__name__)
request_log = logging.getLogger("visits.request")

# What a proxy may hand us as a request id: nginx's $request_id (32 hex), UUIDs, ULIDs and
# the like. Anything else (too long, spaces, quotes, newlines) is replaced, so a client
# cannot forge log lines or stuff the logs.
REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")
REQUEST_ID_HEADER = "X-Request-ID"
PROBE_PATHS = ("/healthz", "/readyz", "/metrics")

# -- metrics of the domain (one set per process; workers add up via the multiprocess dir) --

BOOKINGS = Counter(
    "visits_appointment_changes_total",
    "Appointment changes by kind (held, confirmed, cancelled, rescheduled, attended, no_show, expired, reassigned)",
    ["kind"],
)
MAILS = Counter("visits_mails_total", "Mails handed to the mail server, or given up on", ["kind", "outcome"])
JOB_RUNS = Counter("visits_job_runs_total", "Scheduled job runs", ["job", "outcome"])
JOB_DURATION = Histogram(
    "visits_job_duration_seconds",
    "How long one run of a scheduled job took",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


def count_appointment_change(kind: str, **_: Any) -> None:
    BOOKINGS.labels(kind=kind).inc()


def count_mail_sent(kind: str, **_: Any) -> None:
    MAILS.labels(kind=kind, outcome="sent").inc()


def count_mail_failed(kind: str, **_: Any) -> None:
    MAILS.labels(kind=kind, outcome="failed").inc()


def count_job(name: str, *, seconds: float, failed: bool = False, **_: Any) -> None:
    JOB_RUNS.labels(job=name, outcome="failed" if failed else "ok").inc()
    JOB_DURATION.labels(job=name).observe(seconds)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def metrics_text() -> tuple[bytes, str]:
    """The exposition text: every gunicorn worker added up, or this process's registries."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    own = current_app.extensions.get("visits_metrics_registry")
    body = generate_latest(REGISTRY) + (generate_latest(own) if own is not None else b"")
    return body, CONTENT_TYPE_LATEST


# -- request id and logs ----------------------------------------------------------------


def current_request_id() -> str:
    if has_request_context():
        return request.environ.get("visits.request_id", "-")
    return "-"


_record_factory_installed = False


def _install_record_factory() -> None:
    """Every log record gets ``request_id`` (``-`` outside a request), whoever logs it."""
    global _record_factory_installed
    if _record_factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if not hasattr(record, "request_id"):
            try:
                record.request_id = current_request_id()
            except RuntimeError:  # a request context being torn down
                record.request_id = "-"
        return record

    logging.setLogRecordFactory(factory)
    _record_factory_installed = True


_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def make_formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    """One handler on the root logger, to stderr (systemd's journal, gunicorn's error log).

    Replaces the handler this function installed before, so calling it again (a second app
    in the same process) neither doubles the lines nor loses them."""
    _install_record_factory()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_visits", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._visits = True  # type: ignore[attr-defined]
    handler.setFormatter(make_formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # visits.jobs logs every run with what it did; APScheduler's "Running job"/"executed
    # successfully" pair around it would only triple the lines.
    logging.getLogger("apscheduler.executors").setLevel(max(logging.WARNING, root.level))


def _start_request() -> None:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    request.environ["visits.request_id"] = offered if REQUEST_ID.match(offered) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    request_id = request.environ.get("visits.request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    if request.path in PROBE_PATHS:
        return response
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    route = request.url_rule.rule if request.url_rule is not None else "-"
    request_log.info(
        "%s %s %s",
        request.method,
        route,
        response.status_code,
        extra={
            "method": request.method,
            "route": route,
            "endpoint": request.endpoint or "-",
            "status": response.status_code,
            "duration_ms": duration_ms,
        },
    )
    return response


# -- probes ------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def migration_heads(directory: str) -> frozenset[str]:
    """The head revision(s) of the migration scripts this code ships with (read once)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(directory).get_heads())


def readiness(expected_heads: frozenset[str]) -> tuple[bool, dict[str, Any]]:
    """(ready, details): the database answers and its schema is the one the code expects."""
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            try:
                found = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
            except Exception:
                return False, {"reason": "database_not_migrated", "expected": sorted(expected_heads)}
    except Exception as exc:
        log.warning("readiness: database unreachable: %s", exc.__class__.__name__)
        return False, {"reason": "database_unreachable", "error": exc.__class__.__name__}
    if found != expected_heads:
        return False, {
            "reason": "migrations_pending" if found else "database_not_migrated",
            "expected": sorted(expected_heads),
            "found": sorted(found),
        }
    return True, {"database": "ok", "migrations": sorted(found)}


def _probe_response(body: dict[str, Any], status: int) -> Response:
    response = current_app.json.response(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


# -- wiring ------------------------------------------------------------------------------


def _warn_about_state_in_one_process(app: Flask) -> None:
    """In production (an https base URL), say so when something would differ per instance."""
    if not os.environ.get("SECRET_KEY"):
        log.warning(
            "SECRET_KEY is not set: this instance uses instance/secret_key; set the same "
            "SECRET_KEY on every instance, or sessions and links work on one instance only"
        )
    config = settings.of(app)
    if config.ratelimit_enabled and not config.redis_url:
        log.warning("REDIS_URL is not set: rate limits are counted per process, not per site")


class _FromProxies:
    """ProxyFix for requests whose peer is a configured proxy; others pass untouched."""

    def __init__(self, wsgi_app, hops: int, proxies: list) -> None:
        self.direct = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=0)
        self.proxies = proxies

    def __call__(self, environ, start_response):
        try:
            peer = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            return self.direct(environ, start_response)
        if any(peer in network for network in self.proxies):
            return self.fixed(environ, start_response)
        return self.direct(environ, start_response)


def networks(listing: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The addresses and networks of a comma-separated setting ("127.0.0.1,10.0.0.0/8")."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in listing.split(",") if part.strip()]


def _client_in(allowed: list) -> bool:
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped is not None:
        client = client.ipv4_mapped
    return any(client in network for network in allowed)


def register(app: Flask) -> None:
    """Attach proxy handling, request ids, request logs, probes and metrics to ``app``."""
    from visits.extensions import limiter

    config = settings.of(app)
    trusted = config.trusted_proxies
    proxies = networks(config.trusted_proxy_addresses)
    if trusted > 0 and not proxies:
        log.warning("TRUSTED_PROXIES is set but TRUSTED_PROXY_ADDRESSES is empty: X-Forwarded-* is ignored")
    elif trusted > 0:
        # Behind nginx: the client's address (rate limits, audit), scheme and host come
        # from X-Forwarded-* set by that many proxies, and only when the request comes
        # from one of them; from any other peer those headers are the client's own words.
        app.wsgi_app = _FromProxies(app.wsgi_app, trusted, proxies)

    _install_record_factory()
    if not app.testing:  # tests keep pytest's log capture
        configure_logging(config.log_format, config.log_level)

    if not app.testing and config.public_base_url.startswith("https://"):
        _warn_about_state_in_one_process(app)

    # The request id must exist before any other hook runs (limits, login) and logs.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)

    migrations = str(app.extensions["migrate"].directory)

    @app.get("/healthz")
    @limiter.exempt
    def healthz():
        return _probe_response({"status": "ok"}, 200)

    @app.get("/readyz")
    @limiter.exempt
    def readyz():
        ready, details = readiness(migration_heads(migrations))
        return _probe_response(
            {"status": "ready" if ready else "not_ready", **details}, 200 if ready else 503
        )

    if not config.metrics_enabled:
        return
    # HTTP metrics per endpoint name, not per path: paths carry secret tokens and would
    # make one time series per citizen. A registry per app keeps tests (many apps in one
    # process) apart; under gunicorn there is one app per worker anyway.
    registry = CollectorRegistry(auto_describe=True)
    app.extensions["visits_metrics_registry"] = registry
    PrometheusMetrics(
        app,
        path=None,
        registry=registry,
        group_by="endpoint",
        defaults_prefix="visits",
        excluded_paths=[rf"^{re.escape(p)}$" for p in PROBE_PATHS],
    )

    # Metrics tell how busy the site is and which errors it has: only for the monitoring
    # hosts, whatever proxy is (or is not) in front; anyone else finds nothing there.
    readers = networks(config.metrics_allowed_addresses)

    @app.get("/metrics")
    @limiter.exempt
    def metrics():
        if not _client_in(readers):
            abort(404)
        body, content_type = metrics_text()
        return Response(body, status=200, content_type=content_type, headers={"Cache-Control": "no-store"})


def serve_scheduler_metrics(app: Flask) -> int:
    """scheduler.py: serve this process's metrics (job runs, mails) on 127.0.0.1.

    Returns the port, 0 when SCHEDULER_METRICS_PORT is unset. Each scheduler process has
    its own port (Prometheus scrapes each, then adds up)."""
    from prometheus_client import start_http_server

    port = settings.of(app).scheduler_metrics_port
    if port:
        start_http_server(port, addr="127.0.0.1")
        log.info("scheduler metrics on http://127.0.0.1:%s/metrics", port)
    return port
