"""Mails to staff members about their own account: "your password was changed".

Staff accounts have no language of their own, so the mail carries both: German first,
English below. It goes through the outbox like every other mail; it holds no secret (never
the new password), only the fact, the time and what to do if it was not them."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from babel.dates import format_datetime as format_local
from flask_babel import force_locale, gettext

from visits import settings
from visits.mail import outbox
from visits.mail.compose import MAIL_POLICY, address_header, deliverable_address, message_id_domain, sender
from visits.models import OutboxMessage, StaffUser

KIND_CHANGED = "staff_password_changed"
KIND_RESET = "staff_password_reset"
KINDS = (KIND_CHANGED, KIND_RESET)  # OutboxMessage.kind of these mails


def _text(kind: str, when: datetime, language: str) -> tuple[str, str]:
    """Subject and body in ``language``."""
    moment = format_local(when.astimezone(settings.current().zone), "medium", locale=language)
    with force_locale(language):
        subject = gettext("Your password for the appointment system was changed")
        if kind == KIND_RESET:
            what = gettext(
                "An administrator set a new password for your staff account on %(when)s. "
                "It works only for a limited time, and only to choose a password of your own.",
                when=moment,
            )
        else:
            what = gettext("The password of your staff account was changed on %(when)s.", when=moment)
        body = "\n\n".join(
            [
                what,
                gettext("Every other session of your account was logged out."),
                gettext("If this was not you, tell an administrator at once."),
                gettext("This message was sent automatically; replies are not read."),
            ]
        )
    return subject, body


def enqueue_password_notice(user: StaffUser, kind: str, *, now: datetime) -> OutboxMessage | None:
    """Queue the mail telling ``user`` their password changed (no commit)."""
    address = deliverable_address(user.email)
    if address is None:
        return None
    german_subject, german = _text(kind, now, "de")
    english_subject, english = _text(kind, now, "en")
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender()
    message.set_raw("To", address_header(Address(addr_spec=address)))
    message["Subject"] = f"{german_subject} / {english_subject}"
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=message_id_domain())
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(f"{german}\n\n-- English --\n\n{english}\n")
    message["Content-Language"] = "de, en"  # after the body: set_content clears Content-*
    key = f"{kind}:{user.id}:{user.session_version}"
    return outbox.add(message, kind=kind, dedupe_key=key, now=now)
