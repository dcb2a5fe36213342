"""10,000 due reminders, queued and delivered: run by hand, ``python bench/reminders.py``.

The database is a fresh SQLite file (or, with DATABASE_URL=postgresql+psycopg://..., a
schema of its own on that server, dropped afterwards), built by the migrations; it holds
N confirmed video appointments of 50 clerks, each owing its 24 h reminder now. The mail
server is aiosmtpd on loopback in a separate process (so its memory is not ours), counting
what arrives and how many Message-IDs came twice.

Two phases, each the production job function:

- sweep: ``reminders.send_due(now=now)`` composes every reminder (text, HTML, .ics, links) and
  queues it in the outbox, in batches of ``reminders.BATCH_SIZE`` appointments;
- delivery: ``jobs.deliver_mail(now)`` claims batches of ``jobs.DELIVERY_BATCH`` rows and
  sends each batch over one SMTP connection.

Printed: mails per second for each phase and end to end, and the peak of Python memory
(tracemalloc) during the jobs. Targets: delivery >= 300 mails/s; memory flat in N (compare
``--reminders 2000`` with the default). ``--no-trace`` measures speed without tracemalloc's
overhead.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLERKS = 50
APPOINTMENT_MINUTES = 5


def smtp_server(port: int, received, repeated, ready) -> None:
    """The mail server process: counts mails and Message-IDs seen more than once."""
    from aiosmtpd.controller import Controller

    seen: set[bytes] = set()

    class Counting:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            raw = envelope.original_content or envelope.content
            header = next(
                (line for line in raw.split(b"\r\n") if line.lower().startswith(b"message-id:")), b""
            )
            with received.get_lock():
                received.value += 1
                if header in seen:
                    repeated.value += 1
            seen.add(header)
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def database_url(folder: Path) -> tuple[str, callable]:
    """The database to use and how to clean it up afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{folder / 'bench.db'}", lambda: None
    import sqlalchemy as sa

    schema = f"bench_{secrets.token_hex(3)}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema},public')}", drop


def fill(count: int, now) -> None:
    """N confirmed appointments 2 to ~19 hours ahead, confirmed three days ago."""
    from sqlalchemy import insert

    from tests.factories import Factories
    from visits.booking import links
    from visits.extensions import db
    from visits.models import Appointment

    factories = Factories(None)
    service = factories.service(video=True, duration_minutes=APPOINTMENT_MINUTES)
    clerks = [factories.clerk([service]) for _ in range(CLERKS)]
    confirmed = now - timedelta(days=3)
    rows = []
    for i in range(count):
        uid = links.new_uid()
        start = now + timedelta(hours=2, minutes=APPOINTMENT_MINUTES * (i // CLERKS))
        end = start + timedelta(minutes=APPOINTMENT_MINUTES)
        rows.append(
            dict(
                reference=f"B-{i:08d}",
                uid=uid,
                service_id=service.id,
                clerk_id=clerks[i % CLERKS].id,
                start_at=start,
                end_at=end,
                blocked_from=start,
                blocked_until=end,
                status="confirmed",
                sequence=0,
                citizen_name=f"Erika Mustermann {i}",
                citizen_email=f"erika{i}@example.org",
                language="de" if i % 4 else "en",
                citizen_note="",
                internal_note="",
                booked_via="web",
                manage_token_hash=links.token_hash(links.derive_token("manage", uid)),
                join_token_hash=links.token_hash(links.derive_token("join", uid)),
                room=links.new_room_name(),
                confirmed_at=confirmed,
                created_at=confirmed,
                updated_at=confirmed,
                cancel_reason="",
            )
        )
        if len(rows) == 1000:
            db.session.execute(insert(Appointment), rows)
            rows = []
    if rows:
        db.session.execute(insert(Appointment), rows)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--no-trace", action="store_true", help="no tracemalloc (speed only)")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from tests.jobs.conftest import add_missing_endpoints
    from tests.mailserver import free_port
    from visits import create_app, jobs
    from visits.core import clock
    from visits.core.language import compile_catalogues
    from visits.extensions import db
    from visits.mail import reminders

    compile_catalogues()
    port = free_port()
    received, repeated = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=smtp_server, args=(port, received, repeated, ready), daemon=True)
    server.start()
    ready.wait(10)

    with tempfile.TemporaryDirectory() as folder:
        url, drop = database_url(Path(folder))
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench-secret",
                "PUBLIC_BASE_URL": "https://visits.example",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": port,
                "SMTP_TLS": "off",
                "SMTP_USER": "",
                "LOG_CONFIGURE": False,
                "MAIL_DIR": str(Path(folder) / "mail"),
            }
        )
        add_missing_endpoints(app)
        try:
            with app.app_context():
                upgrade(revision="heads")
                now = clock.now()
                fill(args.reminders, now)
                db.session.remove()
                print(f"{args.reminders} due reminders, {db.engine.dialect.name}, SMTP on 127.0.0.1:{port}")

                if not args.no_trace:
                    tracemalloc.start()
                started = time.perf_counter()
                queued = reminders.send_due(now=now)
                swept = time.perf_counter()
                sweep_peak = tracemalloc.get_traced_memory()[1] if not args.no_trace else 0
                if not args.no_trace:
                    tracemalloc.reset_peak()
                delivered = jobs.deliver_mail(now)
                finished = time.perf_counter()
                deliver_peak = tracemalloc.get_traced_memory()[1] if not args.no_trace else 0
                tracemalloc.stop()
                db.session.remove()
                db.engine.dispose()
        finally:
            drop()

    deadline = time.monotonic() + 30
    while received.value < delivered and time.monotonic() < deadline:
        time.sleep(0.05)
    server.terminate()

    mib = 1024 * 1024
    print(
        f"sweep:    {queued} reminders queued in {swept - started:.1f} s = {queued / (swept - started):.0f} /s"
    )
    print(
        f"delivery: {delivered} mails sent in {finished - swept:.1f} s = {delivered / (finished - swept):.0f} mails/s"
    )
    print(f"end to end: {delivered / (finished - started):.0f} mails/s")
    print(f"received by the server: {received.value}, Message-IDs seen twice: {repeated.value}")
    if not args.no_trace:
        print(
            f"peak Python memory: sweep {sweep_peak / mib:.1f} MiB, delivery {deliver_peak / mib:.1f} MiB (tracemalloc)"
        )
    import resource

    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
