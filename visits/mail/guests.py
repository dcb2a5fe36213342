"""Mails to the guest of a video appointment (an interpreter, a support person): the
invitation with their own join link, the new time after a move, and the notice that they
are no longer invited or that the appointment was cancelled. Written in the language the
inviter chose; the join link is the outbox's placeholder for this guest
(``outbox.guest_link``), filled in on the way to the mail server."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage

from babel.dates import format_date, format_time
from flask_babel import force_locale, gettext
from sqlalchemy import select

from visits import settings
from visits.booking import availability
from visits.extensions import db
from visits.mail import outbox
from visits.mail.compose import (
    UnknownMailKind,
    address_header,
    deliverable_address,
    new_message,
    one_line,
    render,
    unlinked,
    when_of,
)
from visits.models import OutboxMessage

# The guest's kinds, and the template each is written with.
GUEST_KINDS = {
    "guest_invitation": "guest_invitation",
    "guest_rescheduled": "guest_invitation",
    "guest_removed": "guest_withdrawn",
    "guest_cancelled": "guest_withdrawn",
}


def _subject(kind: str, service: str, when_short: str) -> str:
    subjects = {
        "guest_invitation": gettext("Invitation to a video appointment: %(service)s, %(when)s"),
        "guest_rescheduled": gettext("Video appointment moved: %(service)s, now %(when)s"),
        "guest_removed": gettext("You are no longer invited: %(service)s, %(when)s"),
        "guest_cancelled": gettext("Video appointment cancelled: %(service)s, %(when)s"),
    }
    return one_line(subjects[kind] % {"service": service, "when": when_short}, 250)


def _inviter(guest) -> str:
    """Who invited the guest, as the mail says it (the citizen's name, or the city)."""
    if guest.invited_by == "clerk":
        clerk = guest.invited_by_staff
        name = one_line(clerk.name) if clerk is not None else ""
        return gettext("%(name)s of the citizens' service", name=name) if name else gettext("the citizens' service")
    return unlinked(one_line(guest.appointment.citizen_name))


def compose(kind: str, guest, *, now: datetime, **extra) -> EmailMessage:
    """The mail ``kind`` (one of ``GUEST_KINDS``) to ``guest``, in the language the inviter
    chose. The join link is the outbox's placeholder for this guest (``outbox.guest_link``)."""
    from visits.booking.guests import ROLE_LABELS

    if kind not in GUEST_KINDS:
        raise UnknownMailKind(kind)
    address = deliverable_address(guest.email)
    if not address:
        raise ValueError("the guest has no email address that can be mailed")
    appointment = guest.appointment
    language = guest.language if guest.language in ("de", "en") else "de"
    with force_locale(language):
        when = when_of(appointment, language)
        context = {
            "kind": kind,
            "lang": language,
            "name": unlinked(one_line(guest.name)),
            "role": str(ROLE_LABELS.get(guest.role, guest.role)),
            "inviter": _inviter(guest),
            "citizen": unlinked(one_line(appointment.citizen_name)),
            "service_name": appointment.service.name(language),
            "reference": appointment.reference,
            "join_url": outbox.guest_link(guest.id),
            "opens_minutes": settings.current().jitsi_opens_minutes_before,
            **when,
        }
        if extra.get("old_start") is not None:
            old = extra["old_start"].astimezone(availability.zone())
            context["old_when"] = gettext(
                "%(date)s, %(start)s",
                date=format_date(old.date(), "full", locale=language),
                start=format_time(old.time(), "short", locale=language),
            )
        subject = _subject(kind, context["service_name"], context["when_short"])
        context["subject"] = subject
        template = GUEST_KINDS[kind]
        text = render(f"mail/{template}.txt", context)
        html = render(f"mail/{template}.html", context)
    to = address_header(Address(display_name=one_line(guest.name, 300), addr_spec=address))
    message = new_message(to, subject, text, html, now=now)
    message["Content-Language"] = language
    return message


def enqueue(kind: str, guest, *, now: datetime, **extra) -> OutboxMessage | None:
    """Queue the mail ``kind`` to ``guest`` in the current transaction (no commit). None when
    the guest cannot be mailed or the same mail was queued before: one invitation per
    guest, one notice per move of the appointment, one farewell."""
    if kind not in GUEST_KINDS:
        raise UnknownMailKind(kind)
    if not deliverable_address(guest.email):
        return None
    version = guest.appointment.sequence if kind == "guest_rescheduled" else 0
    key = f"{kind}:{guest.id}:{version}"
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return None
    message = compose(kind, guest, now=now, **extra)
    return outbox.add(message, kind=kind, dedupe_key=key, now=now, appointment=guest.appointment)
