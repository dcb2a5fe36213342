"""Scheduled work. Each job is a plain function of ``now``: tests call it directly, the
scheduler only triggers it. Safe to run in several processes at once.

The truth lives in database rows, not in APScheduler's job store: one periodic sweep per
kind of work, no job per appointment. Every sweep claims its rows (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, the write lock on SQLite) or relies on a unique key (the outbox's
``dedupe_key``), so two scheduler processes do each thing once.

Run them with ``python scheduler.py`` (its own process; ``--once`` for one round),
``flask --app visits run-jobs [--once]``, or, in development, inside the web process
(RUN_JOBS_IN_PROCESS=true, as ``make run`` does)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import click
from flask import Flask

from visits import settings
from visits.admin import retention
from visits.booking import documents, no_shows
from visits.booking import operations as booking
from visits.core import clock
from visits.core.events import job_ran
from visits.mail import outbox, reminders

log = logging.getLogger(__name__)

# Mails claimed per SMTP connection; the delivery job repeats batches while they come full.
DELIVERY_BATCH = 200
RETENTION_INTERVAL_SECONDS = 3600


def expire_holds(now: datetime) -> int:
    """Holds not confirmed in time free their slot."""
    return booking.expire_holds(now=now)


def mark_no_shows(now: datetime) -> int:
    """Video appointments nobody joined become no-shows (see no_shows.py)."""
    return no_shows.sweep(now=now)


def send_reminders(now: datetime) -> int:
    """Queue the reminders due now (see reminders.py); delivery sends them."""
    return reminders.send_due(now=now)


def deliver_mail(now: datetime) -> int:
    """Send what the outbox holds, batch after batch (one SMTP connection each), until a
    batch comes back short: nothing more is due, or the server refused some (they wait
    for their back-off)."""
    delivered = 0
    while True:
        sent = outbox.deliver_due(now=now, limit=DELIVERY_BATCH)
        delivered += sent
        if sent < DELIVERY_BATCH:
            return delivered


def discard_documents(now: datetime) -> int:
    """Documents of cancelled or expired appointments are deleted (see booking/documents.py)."""
    return documents.discard_unneeded(now=now)


def anonymise_old(now: datetime) -> int:
    """Personal data of appointments past RETENTION_DAYS is anonymised (see retention.py)."""
    return retention.anonymise_due(now=now)


JOB_FUNCTIONS: dict[str, Callable[[datetime], int]] = {
    "expire_holds": expire_holds,
    "mark_no_shows": mark_no_shows,
    "send_reminders": send_reminders,
    "deliver_mail": deliver_mail,
    "discard_documents": discard_documents,
    "anonymise_old": anonymise_old,
}


def schedule(config: settings.Settings) -> list[tuple[str, int]]:
    """(job, interval in seconds), in the order one round runs them: a round ends with
    delivery, so the reminders it queued leave at once."""
    sweep = config.job_interval_seconds
    return [
        ("expire_holds", sweep),
        ("mark_no_shows", sweep),
        ("send_reminders", sweep),
        ("discard_documents", sweep),
        ("deliver_mail", config.outbox_interval_seconds),
        ("anonymise_old", RETENTION_INTERVAL_SECONDS),
    ]


def run_job(app: Flask, name: str, now: datetime | None = None, *, quiet: bool = False) -> int:
    """Run one job inside an app context and log the run (name, how many, how long).

    ``quiet`` (the jobs inside the web process, RUN_JOBS_IN_PROCESS): a run that did nothing
    is logged at DEBUG, so the development console shows a line only when a job did something
    or failed. The scheduler process logs every run (its log says it is alive).

    An error is logged and re-raised (the job's transaction has been rolled back by then);
    the scheduler keeps running and tries again at the next interval."""
    with app.app_context():
        started = time.perf_counter()
        try:
            done = JOB_FUNCTIONS[name](now or clock.now())
        except Exception:  # its transaction is rolled back; the app context ends the session
            seconds = time.perf_counter() - started
            job_ran.send(name, seconds=seconds, done=0, failed=True)  # metrics
            log.exception("job %s failed after %.0f ms", name, seconds * 1000)
            raise
        seconds = time.perf_counter() - started
        job_ran.send(name, seconds=seconds, done=done, failed=False)  # metrics
        level = logging.DEBUG if quiet and not done else logging.INFO
        log.log(level, "job %s: %s done in %.0f ms", name, done, seconds * 1000)
        return done


def run_once(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """One round of every job (``--once``); a failing job does not stop the others."""
    results = {}
    for name, _seconds in schedule(settings.of(app)):
        try:
            results[name] = run_job(app, name, now)
        except Exception:
            results[name] = -1
    return results


def add_jobs(app: Flask, scheduler, *, quiet: bool = False) -> None:
    """Put every job on ``scheduler`` (blocking or background) as an interval job (``quiet``:
    see ``run_job``).

    ``max_instances=1`` and ``coalesce``: a slow run is not overtaken by the next one, and
    a backlog of missed runs becomes one run. The first run is at start-up."""
    for name, seconds in schedule(settings.of(app)):
        scheduler.add_job(
            run_job,
            "interval",
            seconds=seconds,
            args=[app, name],
            kwargs={"quiet": quiet},
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=seconds,
            next_run_time=datetime.now(UTC),
        )


def run_forever(app: Flask) -> None:
    """The blocking scheduler of ``scheduler.py`` and ``flask run-jobs``."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    reminders.parse_offsets(settings.of(app).reminder_offsets)  # a typo fails at start
    scheduler = BlockingScheduler(timezone="UTC")
    add_jobs(app, scheduler)
    # systemd stops with SIGTERM: let the running job finish its batch, then exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.info("scheduler started: %s", ", ".join(f"{n} every {s} s" for n, s in schedule(settings.of(app))))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=True)
        log.info("scheduler stopped")


_in_process_lock = threading.Lock()


def _start_in_process(app: Flask) -> None:
    """Development: a background scheduler inside the web process, started by its first
    request (so ``flask db upgrade`` and other commands never start one)."""
    with _in_process_lock:
        if app.extensions.get("visits_scheduler") is not None:
            return
        from apscheduler.schedulers.background import BackgroundScheduler

        # APScheduler's own "Adding job"/"Added job" lines would fill the console at start.
        scheduler_log = logging.getLogger("apscheduler.scheduler")
        scheduler_log.setLevel(max(logging.WARNING, scheduler_log.getEffectiveLevel()))
        scheduler = BackgroundScheduler(timezone="UTC", daemon=True)
        add_jobs(app, scheduler, quiet=True)
        scheduler.start()
        app.extensions["visits_scheduler"] = scheduler
        log.info("jobs run inside the web process (RUN_JOBS_IN_PROCESS)")


def register(app: Flask) -> None:
    """The ``run-jobs`` command, and the in-process scheduler when RUN_JOBS_IN_PROCESS is on."""

    @app.cli.command("run-jobs")
    @click.option("--once", is_flag=True, help="Run every job once and exit (cron, tests).")
    def run_jobs_command(once: bool) -> None:
        """Run the scheduled jobs (reminders, no-shows, holds, mail, retention)."""
        if once:
            results = run_once(app)
            for name, done in results.items():
                click.echo(f"{name}: {'failed' if done < 0 else done}")
            if any(done < 0 for done in results.values()):
                raise SystemExit(1)
        else:
            run_forever(app)

    if settings.of(app).run_jobs_in_process and not app.testing:
        app.extensions["visits_scheduler"] = None

        @app.before_request
        def _jobs_in_process() -> None:
            if app.extensions.get("visits_scheduler") is None:
                _start_in_process(app)
