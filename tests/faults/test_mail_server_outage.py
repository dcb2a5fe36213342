"""The mail server is down while confirmations and reminders fall due, then comes back
half-way (refusing with 421 "try again later" now and then), then fully: every mail
arrives, each exactly once. The scheduler's rounds (jobs.run_once) run all along, as
scheduler.py runs them. Unit-level cases: tests/integration/test_outbox.py; a scheduler
killed mid-batch: tests/jobs/test_exactly_once.py."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from visits import jobs
from visits.booking import operations as booking
from visits.extensions import db
from visits.models import OutboxMessage

from ..conftest import berlin
from ..hostile.conftest import first_monday_without_holiday

ROUND = timedelta(minutes=10)


def flaky(smtp_server, every: int = 3) -> dict[str, int]:
    """From now on the server answers every ``every``-th recipient with 421 (busy)."""
    seen = {"n": 0, "refused": 0}

    async def handle_RCPT(server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd)
        seen["n"] += 1
        if seen["n"] % every == 0:
            seen["refused"] += 1
            return "421 4.3.2 busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_server.sink.handle_RCPT = handle_RCPT
    return seen


def steady(smtp_server) -> None:
    smtp_server.sink.__dict__.pop("handle_RCPT", None)


def rows() -> list:
    """The outbox as plain rows; the read transaction ends at once (on SQLite it holds the
    write lock, and the jobs run in sessions of their own)."""
    found = db.session.execute(
        select(
            OutboxMessage.kind,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.message_id,
        ).order_by(OutboxMessage.id)
    ).all()
    db.session.rollback()
    return found


def test_mail_server_down_while_confirmations_and_reminders_fall_due_every_mail_arrives_once(
    smtp_server, app, factories
):
    service = factories.service(video=True, duration_minutes=30)
    factories.clerk([service])
    monday = first_monday_without_holiday()
    sunday_morning = berlin(monday - timedelta(days=1), 8)

    smtp_server.stop()  # down from before the first booking
    citizens = [factories.citizen(email=f"person{i}@example.org") for i in range(3)]
    held = [
        booking.hold(
            service, berlin(monday, 9) + timedelta(minutes=30 * i), citizen, now=sunday_morning
        ).appointment
        for i, citizen in enumerate(citizens)
    ]
    for appointment in held[:2]:
        booking.confirm(appointment, now=sunday_morning + timedelta(minutes=1))
    db.session.commit()

    now = sunday_morning + timedelta(minutes=5)
    # Down past 09:00, when the 24 h reminders fall due; then busy now and then for over an
    # hour. (With the default back-off, 8 attempts span about two hours: a longer outage
    # leaves the mails "failed" for an admin to retry, see tests/integration/test_outbox.py.)
    down_until = sunday_morning + timedelta(minutes=70)
    flaky_until = down_until + timedelta(minutes=80)
    while now < down_until:
        jobs.run_once(app, now)
        now += ROUND
    during = rows()
    assert not smtp_server.received
    assert {r.status for r in during} == {"pending"}, [(r.kind, r.status, r.attempts) for r in during]
    kinds = Counter(r.kind for r in during)
    assert kinds["confirm_request"] == 3 and kinds["confirmation"] == 2 and kinds["reminder"] >= 1
    assert all(r.attempts >= 1 and "connection" in r.last_error for r in during if r.kind != "reminder")

    busy = flaky(smtp_server)
    smtp_server.start()
    while now < flaky_until:
        jobs.run_once(app, now)
        now += ROUND
    assert busy["refused"] >= 1 and 0 < len(smtp_server.received) < 7  # half-way: some went, some wait
    steady(smtp_server)
    smtp_server.stop()
    smtp_server.start()
    for _ in range(30):
        jobs.run_once(app, now)
        if all(r.status == "sent" for r in rows()):
            break
        now += ROUND
    for _ in range(3):  # later rounds send nothing again
        now += ROUND
        jobs.run_once(app, now)

    queued = rows()
    assert Counter(r.kind for r in queued) == {"confirm_request": 3, "confirmation": 2, "reminder": 2}
    assert all(r.status == "sent" for r in queued), [(r.kind, r.status, r.last_error) for r in queued]
    received = Counter(m["Message-ID"] for m in smtp_server.messages)
    assert set(received) == {r.message_id for r in queued}
    assert max(received.values()) == 1, received.most_common(3)
    by_person = Counter(r.envelope_to[0] for r in smtp_server.received)
    assert by_person == {"person0@example.org": 3, "person1@example.org": 3, "person2@example.org": 1}
