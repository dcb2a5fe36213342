"""The outbox: queued with the change, sent once, never lost when the server is down."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from visits import settings
from visits.extensions import db
from visits.mail import outbox
from visits.models import OutboxMessage

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def message(to: str = "erika@example.org", subject: str = "Terminbestätigung") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Bürgerservice <termine@stadt.example>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="visits.test")
    msg.set_content("Ihr Termin ist bestätigt. Grüße aus dem Bürgerbüro")
    return msg


def queue(key: str, **kwargs) -> OutboxMessage | None:
    row = outbox.add(message(**kwargs), kind="test", dedupe_key=key, now=NOW)
    db.session.commit()
    return row


def test_queued_mail_arrives_once_with_its_message_id(smtp_server, app):
    row = queue("a")
    assert outbox.deliver_due(now=NOW) == 1
    assert outbox.deliver_due(now=NOW + timedelta(minutes=10)) == 0
    (received,) = smtp_server.wait_for(1)
    assert received["Message-ID"] == row.message_id
    assert received["Subject"] == "Terminbestätigung"
    assert "Bürgerbüro" in received.get_content()
    db.session.refresh(row)
    assert row.status == "sent" and row.sent_at == NOW


def test_the_same_notice_queued_twice_is_one_row(app):
    assert queue("same") is not None
    assert queue("same") is None
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 1


def test_mail_server_down_delays_and_loses_nothing(smtp_server, app):
    smtp_server.stop()
    queue("down")
    assert outbox.deliver_due(now=NOW) == 0
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == "pending" and row.attempts == 1 and "connection" in row.last_error
    assert row.next_attempt_at > NOW
    assert outbox.deliver_due(now=NOW + timedelta(seconds=1)) == 0  # backing off, not hammering
    smtp_server.start()
    assert outbox.deliver_due(now=row.next_attempt_at) == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_a_mail_that_keeps_failing_ends_as_failed_for_admins(smtp_server, reconfigure):
    reconfigure(OUTBOX_MAX_ATTEMPTS=2)
    smtp_server.stop()
    queue("doomed")
    when = NOW
    for _ in range(2):
        outbox.deliver_due(now=when)
        when = db.session.scalar(select(OutboxMessage.next_attempt_at))
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == "failed" and row.attempts == 2


def test_without_smtp_host_mails_are_written_as_eml_files(reconfigure, tmp_path):
    reconfigure(MAIL_DIR=str(tmp_path / "mail"))
    row = queue("file")
    assert outbox.deliver_due(now=NOW) == 1
    (written,) = (tmp_path / "mail").glob("*.eml")
    text = written.read_text(encoding="utf-8")
    assert row.message_id in text and "Subject:" in text


def test_a_mail_file_is_named_by_time_recipient_and_kind_and_the_log_names_it(reconfigure, tmp_path, caplog):
    reconfigure(MAIL_DIR=str(tmp_path / "mail"))
    caplog.set_level(logging.INFO, logger="visits.mail.outbox")
    queue("first")
    queue("second")  # the same recipient and kind, sent in the same second
    assert outbox.deliver_due(now=NOW) == 2
    names = sorted(path.name for path in (tmp_path / "mail").iterdir())
    # 10:00 in Berlin (NOW is 09:00 UTC), the recipient, the kind; a second one numbered
    assert names == [
        "2030-03-04T10-00-00_erika@example.org_test.eml",
        "2030-03-04T10-00-00_erika@example.org_test_2.eml",
    ]
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("mail to ")]
    assert said == [f"mail to erika@example.org written to {tmp_path / 'mail' / name}" for name in names]


def test_a_mail_file_name_has_safe_characters_only(reconfigure, tmp_path):
    reconfigure(MAIL_DIR=str(tmp_path / "mail"))
    queue("odd", to='"../../a b/c"@example.org')
    assert outbox.deliver_due(now=NOW) == 1
    (written,) = (tmp_path / "mail").iterdir()
    assert re.fullmatch(r"2030-03-04T10-00-00_[A-Za-z0-9@.+-]+_test\.eml", written.name), written.name


def test_a_mail_server_down_overnight_is_retried_for_hours_at_most_an_hour_apart(app):
    waits = [outbox.backoff_after(n) for n in range(1, settings.current().outbox_max_attempts)]
    assert [w.total_seconds() for w in waits[:3]] == [60, 120, 240]
    assert max(waits) == timedelta(hours=1)
    assert sum(waits, timedelta()) > timedelta(hours=12)
