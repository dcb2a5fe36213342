"""The outbox: a mail is a row first and sent second. The only code that talks SMTP.

``add`` puts a composed message into the current transaction, so it commits with the
change that caused it, or not at all; its unique ``dedupe_key`` makes queuing the same
notice twice (two workers, a retry) a no-op. ``deliver_due`` claims due rows in a short
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite) by leasing
them, sends outside any transaction over one SMTP connection, then records the outcome.
A process that dies after the server accepted a mail but before recording it sends that
mail again later, with the same Message-ID (at-least-once, recognisably).

A row holds no secret link. The citizen's manage and join links open an appointment to
whoever has them, so the stored message carries ``MANAGE_LINK`` and ``JOIN_LINK`` in their
place (dead addresses on the reserved ``.invalid`` domain); ``fill_links`` puts the real
links in, derived again from SECRET_KEY and the appointment's UID, only on the copy that is
handed to the mail server. A guest's join link (an interpreter, a support person) gets the
same treatment: ``guest_link(id)`` stands in for it, and the real link is derived from the
appointment's UID and that guest's id. The conference PIN for dial-in by phone opens the
room during its window, so it is kept the same way (``PIN``, filled in as ``123 456 7890``).
A copy of the database, the admin's list of failed mails and a row kept after delivery open
nothing."""

from __future__ import annotations

import email
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import parseaddr
from pathlib import Path

from icalendar.parser import Contentline
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from visits import settings
from visits.booking import links
from visits.core.events import mail_delivered, mail_failed
from visits.extensions import db, transaction
from visits.models import Appointment, OutboxMessage
from visits.video import dial_in

log = logging.getLogger(__name__)

# How long a claimed row stays invisible to other workers while this one sends it.
LEASE = timedelta(minutes=5)

# What a composed mail carries instead of the secret links: plain ASCII that no encoding
# (quoted-printable, base64, iCalendar escaping) changes, and free text cannot contain
# (compose breaks every dot in it), on a domain that never resolves (RFC 2606).
MANAGE_LINK = "https://link.invalid/manage"
JOIN_LINK = "https://link.invalid/join"
GUEST_LINK = "https://link.invalid/guest/"  # followed by the guest's id (not a secret)
PIN = "https://link.invalid/dial-in-pin"
_PLACEHOLDER = re.compile(r"https://link\.invalid/(?:manage|join|dial-in-pin|guest/[0-9]+)")

# Parts are re-encoded as compose encodes them: 7-bit transfer encodings, CRLF.
_FILL_POLICY = SMTP_POLICY.clone(cte_type="7bit")
_UNFOLD = re.compile(r"\r\n[ \t]")


class LinksUnavailable(ValueError):
    """The mail has placeholders but its appointment is gone: there is no link to give."""


def _filled(text: str, found: dict[str, str]) -> str:
    for placeholder, link in found.items():
        text = text.replace(placeholder, link)
    return text


def _filled_calendar(data: str, found: dict[str, str]) -> bytes:
    """A calendar file with the links in: unfolded first (a placeholder may straddle a
    folded line), then folded again at 75 octets (RFC 5545 3.1)."""
    lines = _UNFOLD.sub("", data).split("\r\n")
    return b"\r\n".join(Contentline(_filled(line, found)).to_ical() for line in lines)


def guest_link(guest_id: int) -> str:
    """The placeholder of guest ``guest_id``'s join link."""
    return f"{GUEST_LINK}{int(guest_id)}"


def _link_for(placeholder: str, uid: str) -> str:
    if placeholder == MANAGE_LINK:
        return links.public_url("manage.show", token=links.derive_token("manage", uid))
    if placeholder == JOIN_LINK:
        return links.public_url("join.page", token=links.derive_token("join", uid))
    if placeholder == PIN:
        return dial_in.formatted(dial_in.derive_pin(uid))
    from visits.booking.guests import guest_token  # guests imports the booking use cases

    guest_id = int(placeholder.removeprefix(GUEST_LINK))
    return links.public_url("join.page", token=guest_token(uid, guest_id))


def fill_links(body: str, uid: str | None) -> str:
    """The message as its recipient receives it: the placeholders replaced by the real
    manage, join and guest links and the dial-in PIN of the appointment with ``uid``.
    Headers stay byte for byte."""
    message = email.message_from_string(body, policy=_FILL_POLICY)
    found: dict[str, str] | None = None
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        if content_type not in ("text/plain", "text/html", "text/calendar", "application/ics"):
            continue
        content = part.get_content()
        text = content.decode("utf-8") if isinstance(content, bytes) else content
        placeholders = set(_PLACEHOLDER.findall(_UNFOLD.sub("", text)))
        if not placeholders:
            continue
        if not uid:
            raise LinksUnavailable("the mail's appointment is gone")
        found = found or {}
        # Longest first: a guest's id 1 must not be filled inside the placeholder of id 12.
        for placeholder in sorted(placeholders - found.keys(), key=len, reverse=True):
            found[placeholder] = _link_for(placeholder, uid)
        found = dict(sorted(found.items(), key=lambda item: len(item[0]), reverse=True))
        if content_type in ("text/plain", "text/html"):
            part.set_content(_filled(text, found), subtype=part.get_content_subtype(), charset="utf-8")
            continue
        params = dict(part.get_params()[1:])
        part.set_content(
            _filled_calendar(text, found),
            maintype=part.get_content_maintype(),
            subtype=part.get_content_subtype(),
            disposition=part.get_content_disposition(),
            filename=part.get_filename(),
            params=params if content_type == "text/calendar" else None,
        )
    if found is None:
        return body
    return message.as_string(policy=SMTP_POLICY)


def as_sent(row: OutboxMessage) -> str:
    """What the mail server gets for ``row`` (the stored body with the links filled in)."""
    appointment = db.session.get(Appointment, row.appointment_id) if row.appointment_id else None
    return fill_links(row.body, appointment.uid if appointment is not None else None)


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
        recipient=message["To"].addresses[0].addr_spec,
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
    uid: str | None  # the appointment's, for its links; None when it is gone


def _claim(now: datetime, limit: int) -> list[Claimed]:
    """Lease up to ``limit`` due rows to this worker, in one short transaction."""
    with transaction():
        rows = db.session.execute(
            select(OutboxMessage, Appointment.uid)
            .outerjoin(Appointment, Appointment.id == OutboxMessage.appointment_id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        ).all()
        claimed = [
            Claimed(r.id, r.kind, r.recipient, r.message_id, r.body, r.attempts + 1, uid) for r, uid in rows
        ]
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


_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9@.+-]+")


def mail_file_name(when: datetime, recipient: str, kind: str) -> str:
    """What an .eml file of the embedded default is called, so a person finds a mail by
    its time (local), recipient and kind: ``2027-06-07T10-00-00_erika@example.org_confirmation``
    (letters, digits and ``@.+-`` only; ``.eml`` and a counter are added by the writer)."""
    stamp = when.astimezone(settings.current().zone).strftime("%Y-%m-%dT%H-%M-%S")
    parts = [stamp, recipient[:100], kind[:40]]
    return "_".join(_UNSAFE_IN_FILE_NAME.sub("-", part).strip(".-") or "-" for part in parts)


class _FileTransport:
    """The embedded default: each mail becomes an .eml file a person can open, named by
    ``mail_file_name``; the log says which file a mail went to."""

    def __init__(self, folder: str, now: datetime) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.now = now

    def send(self, sender: str, item: Claimed) -> None:
        name = mail_file_name(self.now, item.recipient, item.kind)
        for number in range(1, 1000):  # never overwrite: the same second, recipient and kind
            path = self.folder / (f"{name}.eml" if number == 1 else f"{name}_{number}.eml")
            try:
                with path.open("x", encoding="utf-8", newline="") as file:
                    file.write(item.body)
            except FileExistsError:
                continue
            log.info("mail to %s written to %s", item.recipient, path)
            return
        raise OSError(f"too many mails named {name} in {self.folder}")

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


def _transport(now: datetime):
    config = settings.current()
    if config.smtp_host:
        return _SmtpTransport(config)
    return _FileTransport(config.mail_dir, now)


def deliver_due(*, now: datetime, limit: int = 200) -> int:
    """Send what is due; returns how many mails were handed over. Safe in many processes."""
    claimed = _claim(now, limit)
    if not claimed:
        return 0
    sender = parseaddr(settings.current().mail_from)[1]
    delivered = 0
    try:
        transport = _transport(now)
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
                # The links exist only in this copy, on its way to the mail server.
                transport.send(sender, replace(item, body=fill_links(item.body, item.uid)))
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
