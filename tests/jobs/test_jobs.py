"""The job runner: holds expire, the outbox drains in batches, one round runs everything."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from tests.conftest import berlin, next_weekday
from tests.factories import Factories
from visits import create_app, jobs
from visits.booking import availability
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.mail import outbox
from visits.models import OutboxMessage, Status

MONDAY = next_weekday(date(2030, 3, 4), 0)
NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def test_a_hold_not_confirmed_in_time_expires_and_frees_its_slot(app, factories):
    service = factories.service(video=True)
    factories.clerk([service])
    start = berlin(MONDAY + timedelta(days=1), 10)
    held = booking.hold(service, start, Factories.citizen(), now=NOW).appointment
    assert availability.slot_at(service, start, NOW + timedelta(minutes=1)) is None

    assert jobs.expire_holds(NOW + timedelta(minutes=14)) == 0
    assert jobs.expire_holds(NOW + timedelta(minutes=15)) == 1
    db.session.refresh(held)
    assert held.status == Status.EXPIRED
    assert availability.slot_at(service, start, NOW + timedelta(minutes=16)) is not None


def queue(n: int, now: datetime = NOW) -> None:
    for i in range(n):
        message = EmailMessage()
        message["From"] = "termine@stadt.example"
        message["To"] = f"person{i}@example.org"
        message["Subject"] = "Test"
        message["Message-ID"] = make_msgid(domain="visits.test")
        message.set_content("Hallo")
        outbox.add(message, kind="test", dedupe_key=f"test:{i}", now=now)
    db.session.commit()


def test_delivery_drains_the_outbox_batch_after_batch(smtp_server, app, monkeypatch):
    monkeypatch.setattr(jobs, "DELIVERY_BATCH", 5)
    queue(12)
    assert jobs.deliver_mail(NOW) == 12
    assert len(smtp_server.wait_for(12)) == 12
    assert jobs.deliver_mail(NOW + timedelta(minutes=1)) == 0


def test_delivery_waits_while_the_mail_server_is_down(smtp_server, app):
    smtp_server.stop()
    queue(3)
    assert jobs.deliver_mail(NOW) == 0
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert all(r.status == "pending" and r.next_attempt_at > NOW for r in rows)
    smtp_server.start()
    assert jobs.deliver_mail(max(r.next_attempt_at for r in rows)) == 3


def test_run_jobs_once_runs_every_job(app, smtp_server):
    queue(2, now=clock.now())
    result = app.test_cli_runner().invoke(args=["run-jobs", "--once"])
    assert result.exit_code == 0, result.output
    for name in ("expire_holds", "mark_no_shows", "send_reminders", "anonymise_old"):
        assert f"{name}: 0" in result.output
    assert "deliver_mail: 2" in result.output
    assert len(smtp_server.wait_for(2)) == 2


def test_a_failing_job_does_not_stop_the_round(app, monkeypatch, caplog):
    def broken(now):
        raise RuntimeError("database on fire")

    monkeypatch.setitem(jobs.JOB_FUNCTIONS, "mark_no_shows", broken)
    results = jobs.run_once(app, NOW)
    assert results["mark_no_shows"] == -1 and results["anonymise_old"] == 0
    assert "job mark_no_shows failed" in caplog.text


def test_in_process_jobs_start_with_the_first_request_only_when_switched_on(app_config):
    off = create_app({**app_config, "TESTING": False, "LOG_CONFIGURE": False})
    off.test_client().get("/healthz")
    assert off.extensions.get("visits_scheduler") is None

    on = create_app({**app_config, "TESTING": False, "LOG_CONFIGURE": False, "RUN_JOBS_IN_PROCESS": True})
    assert on.extensions.get("visits_scheduler") is None  # not at import: `flask db upgrade` starts none
    on.test_client().get("/healthz")
    scheduler = on.extensions["visits_scheduler"]
    try:
        assert scheduler.running
        assert {job.id for job in scheduler.get_jobs()} == set(jobs.JOB_FUNCTIONS)
    finally:
        scheduler.shutdown(wait=True)
        with on.app_context():
            db.engine.dispose()
