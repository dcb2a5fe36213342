"""Load benchmark: the app under gunicorn on loopback against PostgreSQL, driven by wrk.

Run by hand (PostgreSQL at 127.0.0.1:5432, database ``test``; /usr/bin/wrk)::

    .venv/bin/python bench/load.py                   # 20 s per scenario, 4 workers x 4 threads
    .venv/bin/python bench/load.py --duration 10 --workers 3 --threads 1

With more than one thread gunicorn runs its ``gthread`` worker, which keeps connections
alive (the sync worker closes each after one request) and lets a worker answer while
another request of it waits for PostgreSQL; production sets the same with GUNICORN_THREADS.

Three scenarios, each for a fixed time:

1. ``stack``: a bare endpoint in the same stack (gunicorn, Flask, the app's hooks,
   SQLAlchemy, psycopg, PostgreSQL) that does one INSERT and one SELECT by key into a
   scratch table. It exists only in the app this benchmark builds (``bench_app``), never
   in the shipped one. Its rate is the stack's own limit.
2. ``slots``: the slot listing of a service with 20 clerks over 4 weeks
   (GET /api/v1/services/<slug>/slots?from=&to=, else the public slot page), 32 clients.
3. ``booking``: 64 clients racing for the same 200 slots of one clerk
   (POST /api/v1/bookings; each request a new citizen and a random one of the 200 slots).

Printed: requests/s and p50/p95/p99 latency of each, the ratios 2/1 and 3/1, the
responses by status, and the number of overlapping active appointments afterwards (must
be 0). Targets: booking >= half of the stack's rate; slot listing p95 < 50 ms at 32 clients.

Everything lives in the schema ``bench`` of the database (dropped and created by each run,
dropped again at the end unless --keep); rate limits are off in the benchmark's app (64
clients share one address), everything else is as in production (JSON logs at WARNING,
metrics on).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "bench"
SLOT_SERVICE = "bench-slots"
BOOKING_SERVICE = "bench-booking"
RACE_SLOTS = 200


def bench_url(base: str) -> str:
    return base + ("&" if "?" in base else "?") + "options=" + quote(f"-csearch_path={SCHEMA},public")


# -- the benchmark's own app (gunicorn imports this: "bench.load:bench_app()") -------------


def bench_app():
    """The shipped app plus one bare route (scenario 1), built only here."""
    from flask import jsonify

    from visits import create_app
    from visits.extensions import csrf, db

    app = create_app()
    scratch = sa.table("bench_scratch", sa.column("key", sa.String), sa.column("value", sa.String))

    @app.post("/_bench/stack")
    def stack():
        key = os.urandom(12).hex()
        db.session.execute(sa.insert(scratch).values(key=key, value="x"))
        db.session.commit()
        value = db.session.execute(sa.select(scratch.c.value).where(scratch.c.key == key)).scalar_one()
        db.session.commit()
        return jsonify(key=key, value=value)

    csrf.exempt(stack)  # a JSON endpoint without cookies, like the API
    return app


# -- set-up ------------------------------------------------------------------------------


def fresh_schema(base_url: str) -> None:
    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{SCHEMA}"'))
    engine.dispose()


def drop_schema(base_url: str) -> None:
    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
    engine.dispose()


def seed(url: str, folder: Path) -> dict:
    """Migrate, then: 20 clerks offering the slot service (Mon-Fri 08-12, 13-16), one clerk
    offering the booking service; the 200 first free slots of that one, for the race."""
    from flask_migrate import upgrade

    from visits import create_app
    from visits.booking import availability
    from visits.clerks.accounts import create_user
    from visits.core import clock
    from visits.extensions import db
    from visits.models import Role, Service, WeeklyHours

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "MAIL_DIR": str(folder / "mail"),
            "TESTING": True,
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        db.session.execute(
            sa.text("CREATE TABLE bench_scratch (id bigserial PRIMARY KEY, key text UNIQUE, value text)")
        )
        now = datetime.now(UTC)

        def service(slug: str, name: str) -> Service:
            found = Service(
                slug=slug, name_de=name, name_en=name, description_de="", description_en="",
                documents_de="", documents_en="", duration_minutes=30, buffer_before_minutes=0,
                buffer_after_minutes=0, video=True, address="", min_notice_minutes=0,
                horizon_days=90, active=True, created_at=now,
            )  # fmt: skip
            db.session.add(found)
            return found

        slots_service = service(SLOT_SERVICE, "Lastprobe Termine")
        booking_service = service(BOOKING_SERVICE, "Lastprobe Buchung")
        hours = [(d, wall(8), wall(12)) for d in range(5)] + [(d, wall(13), wall(16)) for d in range(5)]
        for n in range(21):
            clerk = create_user(f"clerk{n}@bench.example", f"Clerk {n}", "bench-password-123", Role.CLERK, now=clock.now())
            clerk.services = [slots_service] if n < 20 else [booking_service]
            clerk.weekly_hours = [WeeklyHours(weekday=d, start_time=s, end_time=e) for d, s, e in hours]
        db.session.commit()
        today = clock.local(now, availability.zone()).date() + timedelta(days=1)
        free = availability.free_slots(booking_service, today, today + timedelta(days=80), now)
        race = [s.start.isoformat() for s in free[:RACE_SLOTS]]
        assert len(race) == RACE_SLOTS, len(race)
        routes = {rule.rule for rule in app.url_map.iter_rules()}
        db.session.remove()
        db.engine.dispose()
    return {"race": race, "routes": routes, "first_day": today}


# -- running -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    url: str, port: int, workers: int, folder: Path, threads: int | None = None
) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        SECRET_KEY="bench-secret-key-shared-by-all-workers",  # noqa: S106
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(workers),
        GUNICORN_THREADS="1",
        PROMETHEUS_MULTIPROC_DIR=str(folder / "prometheus"),
        RATELIMIT_ENABLED="false",
        LOG_FORMAT="json",
        LOG_LEVEL="WARNING",
        MAIL_DIR=str(folder / "mail"),
        SLOT_WEEKS_SHOWN="4",
        # the workers share the slot cache's generation through this file (no Redis here)
        SLOT_CACHE_FILE=str(folder / "slot-cache-generation"),
    )
    if threads is not None:
        env["GUNICORN_THREADS"] = str(threads)
    log = (folder / "gunicorn.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "bench.load:bench_app()"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited; see its log")
        with suppress(OSError):
            if urllib.request.urlopen(f"{base}/readyz", timeout=2).status == 200:  # noqa: S310
                return
        time.sleep(0.2)
    raise SystemExit("gunicorn never became ready")


def wrk(
    base: str, script: str, connections: int, duration: int, env: dict[str, str], path: str = "/"
) -> dict:
    threads = min(connections, 4)
    command = [
        "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
        "--timeout", "10s", "-s", str(BENCH / script), base + path,
    ]  # fmt: skip
    env = {"BENCH_DIR": str(BENCH), **env}
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ | env, check=True)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH ") :])
    raise SystemExit(f"wrk printed no result:\n{result.stdout}\n{result.stderr}")


def overlapping_active(url: str) -> tuple[int, int]:
    """(pairs of occupying appointments of one clerk whose blocked ranges overlap, bookings)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        overlaps = conn.execute(
            sa.text(
                """SELECT count(*) FROM appointment a JOIN appointment b
                   ON a.clerk_id = b.clerk_id AND a.id < b.id
                  AND a.blocked_from < b.blocked_until AND b.blocked_from < a.blocked_until
                WHERE a.status IN ('held', 'confirmed', 'attended', 'no_show')
                  AND b.status IN ('held', 'confirmed', 'attended', 'no_show')"""
            )
        ).scalar_one()
        booked = conn.execute(
            sa.text(
                "SELECT count(*) FROM appointment JOIN service ON service.id = appointment.service_id "
                "WHERE service.slug = :slug AND status IN ('held', 'confirmed')"
            ),
            {"slug": BOOKING_SERVICE},
        ).scalar_one()
    engine.dispose()
    return overlaps, booked


def slots_path(routes: set[str], first_day: date) -> tuple[str, str]:
    last = first_day + timedelta(days=27)
    if "/api/v1/services/<slug>/slots" in routes:
        return (
            f"/api/v1/services/{SLOT_SERVICE}/slots?from={first_day}&to={last}",
            "GET /api/v1/services/<slug>/slots",
        )
    return f"/dienstleistungen/{SLOT_SERVICE}?week={first_day}", "GET /dienstleistungen/<slug> (public page)"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--duration", type=int, default=20, help="seconds per scenario")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per gunicorn worker (>1: gthread, keep-alive)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench schema afterwards")
    parser.add_argument("--only", default="123", help="scenarios to run, e.g. 12 (default: all)")
    args = parser.parse_args()
    base_url = args.url.replace("postgresql://", "postgresql+psycopg://", 1)
    url = bench_url(base_url)
    folder = Path(tempfile.mkdtemp(prefix="visits-bench-"))

    print(f"load before: {load_average()} (cores: {os.cpu_count()})", flush=True)
    fresh_schema(base_url)
    seeded = seed(url, folder)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(url, port, args.workers, folder, args.threads)
    results: dict[str, dict] = {}
    try:
        wait_ready(base, server)
        race_file = folder / "race-slots.txt"
        race_file.write_text("\n".join(seeded["race"]) + "\n")
        path, slots_label = slots_path(seeded["routes"], seeded["first_day"])
        if "3" in args.only and "/api/v1/bookings" not in seeded["routes"]:
            raise SystemExit("POST /api/v1/bookings is not there yet: the booking scenario needs it")
        if "2" in args.only:
            urllib.request.urlopen(base + path, timeout=30).read()  # noqa: S310 (warm the caches)
        print(
            f"gunicorn: {args.workers} workers x {args.threads} threads on {base}; slot listing: {slots_label}",
            flush=True,
        )

        if "1" in args.only:
            results["1 stack (INSERT+SELECT)"] = wrk(
                base, "stack.lua", 64, args.duration, {}, "/_bench/stack"
            )
        if "2" in args.only:
            results["2 slot listing, 4 weeks"] = wrk(base, "slots.lua", 32, args.duration, {}, path)
        if "3" in args.only:
            results["3 booking race"] = wrk(
                base,
                "booking.lua",
                64,
                args.duration,
                {"BENCH_SLOTS_FILE": str(race_file), "BENCH_SERVICE": BOOKING_SERVICE},
                "/api/v1/bookings",
            )
    finally:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            server.wait(timeout=20)

    overlaps, booked = overlapping_active(url)
    print(f"\nload after: {load_average()}")
    print(f"{'scenario':28} {'clients':>7} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
    clients = {"1": 64, "2": 32, "3": 64}
    for name, r in results.items():
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
        print(
            f"{name:28} {clients[name[0]]:>7} {r['rps']:>9.1f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
            f"{r['p99_ms']:>8.1f}  {statuses}"
        )
    stack = results.get("1 stack (INSERT+SELECT)")
    slots = results.get("2 slot listing, 4 weeks")
    booking = results.get("3 booking race")
    if stack and slots:
        print(f"\nratio 2/1 (slot listing / stack): {slots['rps'] / stack['rps']:.2f}")
    if stack and booking:
        print(f"ratio 3/1 (booking / stack):      {booking['rps'] / stack['rps']:.2f}  (target >= 0.50)")
    if slots:
        print(f"slot listing p95: {slots['p95_ms']:.1f} ms at 32 clients (target < 50 ms)")
    print(
        f"bookings made: {booked} of {RACE_SLOTS} slots; overlapping active appointments: {overlaps} (must be 0)"
    )
    if not args.keep:
        drop_schema(base_url)
    print(f"logs: {folder}")
    return 1 if overlaps else 0


if __name__ == "__main__":
    raise SystemExit(main())
