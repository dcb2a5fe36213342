"""The outbox: a mail is a row first and sent second. The only code that talks SMTP.

``add`` puts a composed message into the current transaction, so it commits with the
change that caused it, or not at all; its unique ``dedupe_key`` makes queuing the same
notice twice (two workers, a retry) a no-op. ``deliver_due`` claims due rows in a short
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite) by leasing
them, sends outside any transaction over one SMTP connection, then records the outcome.
A process that dies after the server accepted a mail but before recording it sends that
mail again later, with the same Message-ID (at-least-once, recognisably)."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import parseaddr
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from visits import settings
from visits.core.events import mail_delivered, mail_failed
from visits.extensions import db, transaction
from visits.models import Appointment, OutboxMessage

log = logging.getLogger(__name__)

# How long a claimed row stays invisible to other workers while this one sends it.
LEASE = timedelta(minutes=5)


def add(
    message: EmailMessage,
    *,
    kind: str,
    dedupe_key: str,
    now: datetime,
    appointment: Appointment | None = None,
) -> OutboxMessage | None:
    """Queue ``message`` (no commit). None when a message with ``dedupe_key`` exists."""
    exists = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    if exists is not None:
        return None
    row = OutboxMessage(
        dedupe_key=dedupe_key,
        message_id=str(message["Message-ID"]),
        kind=kind,
        appointment_id=appointment.id if appointment is not None else None,
        recipient=parseaddr(str(message["To"]))[1],
        subject=str(message["Subject"])[:300],
        body=message.as_string(policy=SMTP_POLICY),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        last_error="",
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return None  # another worker queued the same notice a moment ago
    return row


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    recipient: str
    message_id: str
    body: str
    attempts: int


def _claim(now: datetime, limit: int) -> list[Claimed]:
    """Lease up to ``limit`` due rows to this worker, in one short transaction."""
    with transaction():
        rows = db.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars().all()
        claimed = [Claimed(r.id, r.kind, r.recipient, r.message_id, r.body, r.attempts + 1) for r in rows]
        if claimed:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([c.id for c in claimed]))
                .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False)
            )
    return claimed


def _record_sent(item: Claimed, now: datetime) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == item.id)
        .values(status="sent", sent_at=now, last_error="")
        .execution_options(synchronize_session=False)
    )


def backoff_after(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: doubling, capped, so a mail server
    that is down overnight loses nothing (the defaults keep trying for about 15 hours)."""
    config = settings.current()
    first, cap = config.outbox_backoff_seconds, config.outbox_backoff_max_seconds
    return timedelta(seconds=min(first * 2 ** min(attempts - 1, 30), cap))


def _record_failure(item: Claimed, now: datetime, error: str) -> None:
    max_attempts = settings.current().outbox_max_attempts
    backoff = backoff_after(item.attempts)
    final = item.attempts >= max_attempts
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == item.id)
        .values(
            status="failed" if final else "pending",
            next_attempt_at=now + backoff,
            last_error=error[:2000],
        )
        .execution_options(synchronize_session=False)
    )
    if final:
        log.error("mail %s (%s) failed for good after %s attempts: %s", item.id, item.kind, item.attempts, error)
        mail_failed.send(item.kind)


class _FileTransport:
    """The embedded default: each mail becomes an .eml file a person can open."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, sender: str, item: Claimed) -> None:
        safe_id = re.sub(r"[^A-Za-z0-9.-]", "_", item.message_id.strip("<>"))[:120]
        (self.folder / f"{safe_id}.eml").write_text(item.body, encoding="utf-8", newline="")

    def close(self) -> None:
        pass


class _SmtpTransport:
    """One SMTP connection for a whole batch (connection reuse)."""

    def __init__(self, config: settings.Settings) -> None:
        host, port, timeout = config.smtp_host, config.smtp_port, config.smtp_timeout
        mode = config.smtp_tls
        if mode == "ssl":
            self.smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            self.smtp = smtplib.SMTP(host, port, timeout=timeout)
            if mode == "starttls":
                self.smtp.starttls(context=ssl.create_default_context())
        if config.smtp_user:
            self.smtp.login(config.smtp_user, config.smtp_password)

    def send(self, sender: str, item: Claimed) -> None:
        self.smtp.sendmail(sender, [item.recipient], item.body.encode("utf-8"))

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()


def _transport():
    config = settings.current()
    if config.smtp_host:
        return _SmtpTransport(config)
    return _FileTransport(config.mail_dir)


def deliver_due(*, now: datetime, limit: int = 200) -> int:
    """Send what is due; returns how many mails were handed over. Safe in many processes."""
    claimed = _claim(now, limit)
    if not claimed:
        return 0
    sender = parseaddr(settings.current().mail_from)[1]
    delivered = 0
    try:
        transport = _transport()
    except (OSError, smtplib.SMTPException) as exc:
        # The mail server is down: nothing is lost, everything is tried again later.
        with transaction():
            for item in claimed:
                _record_failure(item, now, f"connection failed: {exc}")
        log.warning("mail server unreachable, %s mails wait: %s", len(claimed), exc)
        return 0
    try:
        for index, item in enumerate(claimed):
            try:
                transport.send(sender, item)
            except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError) as exc:
                with transaction():
                    _record_failure(item, now, f"{type(exc).__name__}: {exc}")
                    for rest in claimed[index + 1 :]:
                        _record_failure(rest, now, "not tried: connection lost")
                break
            except (smtplib.SMTPException, OSError, ValueError) as exc:
                with transaction():
                    _record_failure(item, now, f"{type(exc).__name__}: {exc}")
            else:
                with transaction():  # each outcome is recorded at once: a crash resends less
                    _record_sent(item, now)
                delivered += 1
                mail_delivered.send(item.kind)
    finally:
        transport.close()
    return delivered
