"""The console of `make run`: a line when a job did something or failed, the Jitsi warning once."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tests.waiting import wait_until
from visits import create_app, jobs
from visits.extensions import db
from visits.mail import outbox
from visits.video import jitsi

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
JITSI_WARNING = "JITSI_APP_SECRET is not set"


def _job_lines(caplog, level: int) -> list[str]:
    """The lines about job runs ("job expire_holds: 0 done in 3 ms") at ``level``."""
    lines = [r.getMessage() for r in caplog.records if r.name == "visits.jobs" and r.levelno == level]
    return [line for line in lines if line.startswith("job ")]


def _queue_a_mail() -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "termine@stadt.example", "erika@example.org", "Termin"
    msg["Message-ID"] = make_msgid(domain="visits.test")
    msg.set_content("Ihr Termin.")
    outbox.add(msg, kind="confirmation", dedupe_key="console", now=NOW)
    db.session.commit()


def test_a_job_inside_the_web_process_that_did_nothing_says_nothing_at_info(app, caplog):
    caplog.set_level(logging.DEBUG, logger="visits.jobs")
    for name in jobs.JOB_FUNCTIONS:
        assert jobs.run_job(app, name, NOW, quiet=True) == 0
    assert _job_lines(caplog, logging.INFO) == []
    assert len(_job_lines(caplog, logging.DEBUG)) == len(jobs.JOB_FUNCTIONS)


def test_a_job_inside_the_web_process_that_did_something_says_so(app, caplog, tmp_path, reconfigure):
    reconfigure(MAIL_DIR=str(tmp_path / "mail"))
    _queue_a_mail()
    caplog.set_level(logging.DEBUG, logger="visits.jobs")
    assert jobs.run_job(app, "deliver_mail", NOW, quiet=True) == 1
    (line,) = _job_lines(caplog, logging.INFO)
    assert line.startswith("job deliver_mail: 1 done")


def test_the_scheduler_process_logs_every_run(app, caplog):
    caplog.set_level(logging.DEBUG, logger="visits.jobs")
    jobs.run_job(app, "expire_holds", NOW)
    (line,) = _job_lines(caplog, logging.INFO)
    assert line.startswith("job expire_holds: 0 done")


def test_the_jobs_run_inside_the_web_process_are_quiet_when_idle(app_config, caplog):
    caplog.set_level(logging.DEBUG, logger="visits.jobs")
    web = create_app({**app_config, "TESTING": False, "RUN_JOBS_IN_PROCESS": True})
    web.test_client().get("/healthz")
    scheduler = web.extensions["visits_scheduler"]
    try:
        wait_until(
            lambda: (
                len(_job_lines(caplog, logging.DEBUG) + _job_lines(caplog, logging.INFO))
                >= len(jobs.JOB_FUNCTIONS)
            ),
            timeout=30,
            message=lambda: f"not every job ran once: {caplog.text}",
        )
    finally:
        scheduler.shutdown(wait=True)
        with web.app_context():
            db.engine.dispose()
    assert _job_lines(caplog, logging.INFO) == []
    started = [r for r in caplog.records if r.name.startswith("apscheduler") and r.levelno == logging.INFO]
    assert started == []


@pytest.fixture
def unwarned(monkeypatch):
    """This process has not warned about Jitsi yet (another test may have)."""
    monkeypatch.setattr(jitsi, "_status_logged", threading.Event())


def _jitsi_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if JITSI_WARNING in r.getMessage()]


def test_the_jitsi_warning_appears_once_per_process(app_config, unwarned, caplog):
    app_config["JITSI_APP_SECRET"] = ""
    first = create_app(app_config)  # `flask db upgrade`, `seed-demo`: an app, no request
    first.test_cli_runner().invoke(args=["routes"])
    assert _jitsi_warnings(caplog) == []
    second = create_app(app_config)  # `flask run`
    for _ in range(3):
        second.test_client().get("/healthz")
    first.test_client().get("/healthz")
    (warning,) = _jitsi_warnings(caplog)
    assert warning.startswith("Jitsi: ")
    for made in (first, second):
        with made.app_context():
            db.engine.dispose()


def test_no_jitsi_warning_with_a_secret(app, unwarned, caplog):
    app.test_client().get("/healthz")
    assert _jitsi_warnings(caplog) == []
