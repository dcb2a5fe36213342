"""Exactly once across processes: two schedulers send every reminder once; a scheduler
killed between sending and recording loses none (a repeat carries the same Message-ID).

Real processes against the session's database and a real SMTP server on loopback. On
PostgreSQL (own schema, passed to the subprocesses in DATABASE_URL's search_path option)
this proves the SKIP LOCKED claims and the outbox's unique dedupe key; on SQLite the
processes share one database file, and the write lock taken at BEGIN has to give the same
answer."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from visits.core import clock
from visits.extensions import db
from visits.mail import outbox

from ..waiting import job_runs, wait_until
from .conftest import ROOT, confirmed_appointment, outbox_rows

pytestmark = pytest.mark.processes


@pytest.fixture
def due_reminders(app, factories):
    """60 confirmed video appointments, 2 to 12 hours from now: each owes its 24 h reminder."""
    service = factories.service(video=True, duration_minutes=5)
    clerks = [factories.clerk([service]) for _ in range(3)]
    now = clock.now()
    for i in range(60):
        start = now + timedelta(hours=2, minutes=10 * (i // 3))
        confirmed_appointment(
            service, clerks[i % 3], start, confirmed_at=now - timedelta(days=3), email=f"b{i}@example.org"
        )
    db.session.commit()
    db.session.close()  # no transaction open while the workers run (SQLite's write lock)
    return 60


@dataclass
class Worker:
    """A worker process and the file its log goes to (readable while it runs)."""

    process: subprocess.Popen
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def start_worker(env: dict, log: Path, *args: str, **extra_env: str) -> Worker:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.jobs.worker", *args],
            cwd=ROOT,
            env={**env, **extra_env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Worker(process, log)


def stop(worker: Worker, sig=signal.SIGTERM) -> str:
    if worker.process.poll() is None:
        worker.process.send_signal(sig)
    worker.process.wait(timeout=30)
    return worker.text()


def wait_for_more_runs(workers: list[Worker], job: str, more: int, timeout: float = 30) -> None:
    """Until each worker has finished ``more`` further runs of ``job`` (counted from now):
    the run in flight now, if any, and at least one that began after this call."""
    before = [job_runs(w.text(), job) for w in workers]

    def seen() -> str:
        return "; ".join(
            f"worker {n} (exit {w.process.poll()}): {job_runs(w.text(), job) - b} more runs of {job}, "
            f"log ends {w.text()[-1500:]!r}"
            for n, (w, b) in enumerate(zip(workers, before, strict=True))
        )

    wait_until(
        lambda: all(job_runs(w.text(), job) >= b + more for w, b in zip(workers, before, strict=True)),
        timeout,
        lambda: f"expected {more} more runs of {job} in each worker within {timeout} s: {seen()}",
    )


def test_two_scheduler_processes_send_every_reminder_exactly_once(
    app, smtp_server, worker_env, due_reminders, tmp_path
):
    start_at = str(time.time() + 4)  # after both have imported everything: a real race
    workers = [
        start_worker(worker_env, tmp_path / f"worker-{n}.log", START_AT=start_at, BATCH="7") for n in range(2)
    ]
    try:
        smtp_server.wait_for(due_reminders, timeout=60)
        # Both keep sweeping and delivering. Once each has queued twice more (nothing more
        # can be queued after that) and then delivered twice more, a duplicate would show.
        wait_for_more_runs(workers, "send_reminders", 2)
        wait_for_more_runs(workers, "deliver_mail", 2)
    finally:
        logs = [stop(w) for w in workers]

    received = Counter(m["Message-ID"] for m in smtp_server.messages)
    queued = {row.message_id for row in outbox_rows("reminder")}
    assert len(queued) == due_reminders
    assert set(received) == queued
    assert max(received.values()) == 1, received.most_common(3)
    assert {r.envelope_to[0] for r in smtp_server.received} == {f"b{i}@example.org" for i in range(60)}
    # Each process logs every run: together they queued and handed over each mail once.
    assert sum(done_counts(log, "send_reminders") for log in logs) == due_reminders, logs
    assert sum(done_counts(log, "deliver_mail") for log in logs) == due_reminders, logs


def done_counts(log: str, job: str) -> int:
    return sum(int(n) for n in re.findall(rf"job {job}: (\d+) done", log))


def test_a_worker_killed_after_sending_before_recording_loses_no_reminder(
    app, smtp_server, worker_env, due_reminders, tmp_path
):
    first = start_worker(worker_env, tmp_path / "first.log", "--once", HANG_AFTER_SENDS="10")
    try:
        smtp_server.wait_for(10, timeout=60)
        wait_until(
            lambda: "HANGING after" in first.text() or first.process.poll() is not None,
            30,
            lambda: f"the worker never reported its hang: {first.text()[-3000:]}",
        )
        # Stuck between the SMTP send and the record (worker.py's HANG_AFTER_SENDS).
        assert first.process.poll() is None, first.text()[-3000:]
    finally:
        stop(first, signal.SIGKILL)
    assert len(smtp_server.messages) == 10

    # A restart once the dead worker's lease ran out sends what it left behind.
    later = clock.now() + outbox.LEASE + timedelta(minutes=1)
    second = start_worker(worker_env, tmp_path / "second.log", "--once", JOBS_NOW=later.isoformat())
    log = stop_when_done(second)
    assert second.process.returncode == 0, log[-3000:]

    queued = {row.message_id: row for row in outbox_rows("reminder")}
    received = Counter(m["Message-ID"] for m in smtp_server.messages)
    assert set(received) == set(queued)  # every reminder arrived
    repeated = [mid for mid, n in received.items() if n > 1]
    assert len(repeated) == 1 and received[repeated[0]] == 2  # the one in flight, same Message-ID
    bodies = {r.raw for r in smtp_server.received if r.message["Message-ID"] == repeated[0]}
    assert len(bodies) == 1  # byte for byte the same mail: recognisably a repeat
    db.session.expire_all()
    assert all(row.status == "sent" for row in queued.values())


def stop_when_done(worker: Worker) -> str:
    worker.process.wait(timeout=120)
    return worker.text()


def test_scheduler_py_once_runs_every_job_and_logs_each(app, worker_env):
    done = subprocess.run(
        [sys.executable, "scheduler.py", "--once"],
        cwd=ROOT,
        env=worker_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("expire_holds", "mark_no_shows", "send_reminders", "deliver_mail", "anonymise_old"):
        assert f"job {name}: 0 done" in done.stderr
