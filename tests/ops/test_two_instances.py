"""Two gunicorn instances and two scheduler processes on one database, as in production.

Real processes (``gunicorn -c gunicorn.conf.py``, ``python scheduler.py``), real sockets,
a real Redis for the rate-limit counters and a real SMTP server on loopback. The database is
the session's: PostgreSQL (its own schema, handed to the subprocesses through the
``search_path`` option of DATABASE_URL) in the PostgreSQL run, where the exclusion
constraint and SKIP LOCKED are what is proved; in the SQLite run the four processes share
one database file, and the write lock taken at BEGIN plus the overlap triggers have to give
the same answer.

What must hold: clients racing for the same slots through both instances get one booking
per slot; the booking rate limit is one budget across the instances (Redis), not one per
instance; every mail (confirmations and reminders alike) reaches the mail server exactly
once although two schedulers sweep and deliver at the same time; and every log line of a
request carries the id the proxy gave it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from contextlib import ExitStack, suppress
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import func, select

from visits import create_app
from visits.booking import availability
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import OCCUPYING, Appointment, OutboxMessage, Service

from ..conftest import _postgres_schema_url, _test_config
from ..factories import Factories
from ..mailserver import SmtpServer, free_port
from ..waiting import job_runs, wait_until

pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "two-instances-share-this-secret-key"
RACE_SLOTS = 6
RACERS_PER_SLOT = 4  # two through each instance
REMINDED = 4  # confirmed appointments whose 24 h reminder is due
BOOKING_BUDGET = 30  # RATELIMIT_BOOKING per client address, shared by both instances


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgres") else ""


@pytest.fixture
def shared_database(tmp_path):
    """A database of its own, built by the migrations, that subprocesses can open."""
    pg = _database_url()
    if not pg:
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    _, schema = _postgres_schema_url(pg)
    yield pg + ("&" if "?" in pg else "?") + "options=" + quote(f"-csearch_path={schema},public")
    engine = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


class Processes:
    """Subprocesses in their own process groups, killed in the end whatever happens."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Path:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.running.append((name, process))
        return log

    def stop_all(self) -> None:
        for _, process in self.running:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in self.running:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def assert_alive(self) -> None:
        for name, process in self.running:
            if process.poll() is not None:
                output = (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]
                raise AssertionError(f"{name} exited with {process.returncode}:\n{output}")


def _environment(database_url: str, folder: Path, smtp: SmtpServer, redis_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PROMETHEUS"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        PUBLIC_BASE_URL="http://127.0.0.1",  # plain http on loopback: cookies without Secure
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        RATELIMIT_ENABLED="true",
        RATELIMIT_BOOKING=f"{BOOKING_BUDGET} per hour",
        SMTP_HOST=smtp.host,
        SMTP_PORT=str(smtp.port),
        SMTP_TLS="off",
        MAIL_DIR=str(folder / "mail"),
        LOG_FORMAT="json",
        TRUSTED_PROXIES="0",
        REMINDER_OFFSETS="24h,1h",
        JITSI_APP_SECRET="two-instances-jitsi-secret-0123456789",
        PYTHONUNBUFFERED="1",
    )
    return env


def _http(
    method: str, url: str, body: dict | None = None, headers: dict | None = None
) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw, status, response_headers = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, response_headers = error.read(), error.code, dict(error.headers)
    try:
        payload = json.loads(raw) if raw else {}
    except ValueError:
        payload = {"raw": raw[:200].decode(errors="replace")}
    return status, payload, response_headers


def _wait_ready(base: str, processes: Processes, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes.assert_alive()
        with suppress(OSError):
            if _http("GET", f"{base}/readyz")[0] == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"{base} never became ready")


def _start_redis(processes: Processes, env: dict[str, str]) -> int:
    port = free_port()
    processes.start(
        "redis",
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        env,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with suppress(OSError), __import__("socket").create_connection(("127.0.0.1", port), timeout=1):
            return port
        time.sleep(0.05)
    raise AssertionError("redis did not start")


def _seed(database_url: str, folder: Path):
    """One service, one clerk working every day 06:00-22:00 (so slots exist whenever the
    test runs), the migrated schema. Returns (app, service slug, race slots, reminder slots)."""
    from datetime import time as wall

    app = create_app(_test_config(database_url, folder))
    with app.app_context():
        upgrade(revision="heads")
        factories = Factories(app)
        service = factories.service(slug="meldebescheinigung", video=True, horizon_days=30)
        clerk = factories.clerk([service], hours=[(d, wall(6), wall(22)) for d in range(7)])
        now = clock.now()
        today = clock.local(now, availability.zone()).date()
        free = availability.free_slots(service, today, today + timedelta(days=3), now)
        # Reminders: starting 1 h 15 min .. 23 h ahead, so the 24 h reminder is due and the 1 h one not.
        remind = [s.start for s in free if now + timedelta(minutes=75) < s.start < now + timedelta(hours=23)]
        remind = remind[:REMINDED]
        race = [s.start for s in free if s.start > (remind[-1] if remind else now)][:RACE_SLOTS]
        assert len(remind) == REMINDED and len(race) == RACE_SLOTS
        # Confirmed two days ago (by phone), so their 24 h reminder lies after the confirmation.
        for n, start in enumerate(remind):
            booking.book_confirmed(
                service,
                start,
                booking.Citizen(name=f"Erinnerte Person {n}", email=f"remind{n}@example.org"),
                now=now - timedelta(days=2),
                via="phone",
                enforce_limits=False,
            )
        slug, clerk_email = service.slug, clerk.email
        db.session.remove()
        db.engine.dispose()
    return app, slug, race, remind, clerk_email


def _race(bases: list[str], slug: str, starts) -> Counter:
    """RACE_SLOTS x RACERS_PER_SLOT clients at once, alternating between the instances."""
    attempts = [(start, n) for start in starts for n in range(RACERS_PER_SLOT)]
    barrier = threading.Barrier(len(attempts))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def attempt(i: int, start, n: int) -> None:
        body = {
            "service": slug,
            "start": start.isoformat(),
            "name": f"Racer {i}",
            "email": f"racer{i}@example.org",
            "language": "de",
        }
        barrier.wait()
        status, payload, _ = _http("POST", f"{bases[i % 2]}/api/v1/bookings", body)
        with lock:
            outcomes[(start, status)] += 1

    threads = [threading.Thread(target=attempt, args=(i, s, n)) for i, (s, n) in enumerate(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def _log_in_at_a_and_open_agenda_at_b(bases: list[str], email: str) -> None:
    """Log in with the form (CSRF token and all) at one instance, then use the session
    cookie at the other: it must open the agenda, not send back to the login page."""
    import re
    from http.cookiejar import CookieJar

    from ..factories import STAFF_PASSWORD

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    page = opener.open(f"{bases[0]}/staff/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert token, "no CSRF token on the login page"
    form = urllib.parse.urlencode({"csrf_token": token.group(1), "email": email, "password": STAFF_PASSWORD})
    after_login = opener.open(f"{bases[0]}/staff/login", data=form.encode(), timeout=30)
    assert after_login.status == 200 and after_login.url == f"{bases[0]}/staff/", (
        "the login at the first instance did not open the agenda",
        after_login.url,
        after_login.read().decode(errors="replace")[:2000],
    )
    elsewhere = opener.open(f"{bases[1]}/staff/", timeout=30)
    assert elsewhere.status == 200 and elsewhere.url == f"{bases[1]}/staff/", (
        "the second instance did not take the session",
        elsewhere.url,
        elsewhere.read().decode(errors="replace")[:2000],
    )


def _json_lines(log: Path) -> list[dict]:
    """The JSON log lines written so far (a line still being written is left for later)."""
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            with suppress(ValueError):
                lines.append(json.loads(line))
    return lines


def _wait_for_more_runs(
    logs: list[Path], job: str, more: int, processes: Processes, timeout: float = 30
) -> None:
    """Until each scheduler has finished ``more`` further runs of ``job`` (counted from now):
    the run in flight now, if any, and at least one that began after this call."""
    before = [job_runs(log.read_text(errors="replace"), job) for log in logs]

    def done() -> bool:
        processes.assert_alive()
        return all(
            job_runs(log.read_text(errors="replace"), job) >= n + more
            for log, n in zip(logs, before, strict=True)
        )

    wait_until(
        done,
        timeout,
        lambda: (
            f"expected {more} more runs of {job} in each scheduler within {timeout} s: "
            + "; ".join(
                f"{log.name}: {job_runs(log.read_text(errors='replace'), job) - n}"
                for log, n in zip(logs, before, strict=True)
            )
        ),
    )


def _scrape_sum(base: str, metric: str, **labels: str) -> float:
    from .test_observability import _sample

    return _sample(urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode(), metric, **labels)


def test_two_instances_and_two_schedulers_book_each_slot_once_and_send_each_mail_once(
    shared_database, tmp_path
):
    smtp = SmtpServer().start()
    processes = Processes(tmp_path)
    with ExitStack() as cleanup:
        cleanup.callback(smtp.stop)
        cleanup.callback(processes.stop_all)
        base_env = _environment(shared_database, tmp_path, smtp, 0)
        redis_port = _start_redis(processes, base_env)
        env = _environment(shared_database, tmp_path, smtp, redis_port)
        app, slug, race_starts, reminded_starts, clerk_email = _seed(shared_database, tmp_path)

        bases, logs = [], []
        for name in ("web-a", "web-b"):
            port = free_port()
            logs.append(
                processes.start(
                    name,
                    [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "visits:create_app()"],
                    env
                    | {
                        "GUNICORN_BIND": f"127.0.0.1:{port}",
                        "WEB_CONCURRENCY": "2",
                        "GUNICORN_THREADS": "4",
                        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"prometheus-{name}"),
                    },
                )
            )
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            _wait_ready(base, processes)

        # 1. The race: exactly one booking per slot, through whichever instance.
        outcomes = _race(bases, slug, race_starts)
        for start in race_starts:
            assert outcomes[(start, 201)] == 1, (start, outcomes)
            assert outcomes[(start, 409)] == RACERS_PER_SLOT - 1, (start, outcomes)
        with app.app_context():
            service_id = db.session.scalar(select(Service.id).where(Service.slug == slug))
            active = db.session.execute(
                select(Appointment.start_at, func.count())
                .where(Appointment.service_id == service_id, Appointment.status.in_(OCCUPYING))
                .group_by(Appointment.start_at)
            ).all()
            assert all(count == 1 for _, count in active)
            assert len(active) == RACE_SLOTS + REMINDED
            db.session.remove()
        held = sum(_scrape_sum(b, "visits_appointment_changes_total", kind="held") for b in bases)
        assert held == RACE_SLOTS  # each instance counts what its workers did; together, all

        # 2. One rate-limit budget across both instances (Redis), not one per instance.
        used = RACE_SLOTS * RACERS_PER_SLOT
        statuses = Counter()
        for i in range(BOOKING_BUDGET - used + 4):
            statuses[_http("POST", f"{bases[i % 2]}/api/v1/bookings", {"service": slug})[0]] += 1
        assert statuses[429] == 4, statuses

        # 3. Each log line of a request carries the proxy's request id.
        request_id = "proxy-req-0123456789abcdef"
        _, _, headers = _http("GET", f"{bases[1]}/", headers={"X-Request-ID": request_id})
        assert headers["X-Request-ID"] == request_id
        mine = wait_until(  # the worker writes its line once the response is on its way
            lambda: [line for line in _json_lines(logs[1]) if line.get("request_id") == request_id],
            10,
            lambda: f"no log line of web-b carries {request_id}: {logs[1].read_text()[-3000:]}",
        )
        assert mine[0]["logger"] == "visits.request" and mine[0]["route"] == "/", mine

        # 4. A clerk logged in through one instance is logged in at the other (same SECRET_KEY).
        _log_in_at_a_and_open_agenda_at_b(bases, clerk_email)

        # 5. Two schedulers: every mail due (confirmations, reminders) arrives exactly once.
        scheduler_metrics = free_port()
        scheduler_logs = []
        for name, port in (("scheduler-1", scheduler_metrics), ("scheduler-2", 0)):
            started = processes.start(
                name,
                [sys.executable, "scheduler.py"],
                env
                | {
                    "JOB_INTERVAL_SECONDS": "1",
                    "OUTBOX_INTERVAL_SECONDS": "1",
                    "SCHEDULER_METRICS_PORT": str(port),
                },
            )
            scheduler_logs.append(started)
        with app.app_context():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                processes.assert_alive()
                rows = db.session.execute(select(OutboxMessage.kind, OutboxMessage.status)).all()
                db.session.remove()  # on SQLite even a read holds the write lock (BEGIN IMMEDIATE)
                reminders = [r for r in rows if r.kind == "reminder"]
                if len(reminders) == REMINDED and all(r.status == "sent" for r in rows):
                    break
                time.sleep(0.5)
            message_ids = set(db.session.scalars(select(OutboxMessage.message_id)))
            db.session.remove()
            db.engine.dispose()
        assert len(reminders) == REMINDED, rows
        assert all(status == "sent" for _, status in rows), rows
        # Both go on sweeping and delivering. Once each has queued twice more (nothing more
        # can be queued after that) and then delivered twice more, a duplicate would show.
        _wait_for_more_runs(scheduler_logs, "send_reminders", 2, processes)
        _wait_for_more_runs(scheduler_logs, "deliver_mail", 2, processes)
        received = Counter(str(m["Message-ID"]) for m in smtp.messages)
        assert set(received) == message_ids
        assert all(count == 1 for count in received.values()), received
        # The scheduler's own metrics: its job runs and the mails it handed over.
        scheduler_base = f"http://127.0.0.1:{scheduler_metrics}"
        assert _scrape_sum(scheduler_base, "visits_job_runs_total", job="deliver_mail", outcome="ok") >= 1
