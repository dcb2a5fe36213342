"""The mails a citizen gets about an appointment: composed here, queued in the outbox.

``enqueue(kind, appointment, now=...)`` is what booking notifications, jobs, staff pages and
the API call; ``compose`` builds the message without queuing it. Kinds:

- ``confirm_request``: after a hold; the manage link opens a page with the confirm button.
  No calendar file yet: a hold that is never confirmed must not linger in a calendar.
- ``confirmation``, ``rescheduled``, ``reminder``: an iCalendar ``METHOD:REQUEST``.
- ``cancellation``: ``METHOD:CANCEL`` if the citizen had a confirmed appointment (and so an
  invitation to take back); for a mere hold the mail says so without a calendar file.
- ``no_show``: friendly, with a link to book again.

The rules are in docs/checklist.md: the calendar is a ``text/calendar; method=...`` part
inside ``multipart/alternative`` next to the text and HTML bodies, and the same file is
attached as ``invite.ics`` (ics-in-mail); every mail has Message-ID, Date, From, To, a subject
in the citizen's language and ``Auto-Submitted: auto-generated`` (mail-headers); names go into
headers only as ``Address`` objects, after control characters are removed, so a line break in
a name can neither add a header nor stop the mail (mail-no-injection); links are absolute on
PUBLIC_BASE_URL (mail-links).

What the stored message holds: the outbox's placeholders where the manage and join links go,
and where the dial-in PIN goes when DIAL_IN_NUMBERS are set (``outbox.fill_links`` puts them
in on the way to the mail server), so no row opens an appointment or its room. What a
booker typed reaches mails only as text: the request to confirm, sent before the owner of
the address has agreed to anything, carries no name at all (neither in the greeting nor in
``To:``); later mails greet by name with every dot, colon, slash and @ followed by a
zero-width space, so mail programs do not turn "www.example.org" in a name into a link,
and HTML escaping keeps it out of any tag."""

from __future__ import annotations

import hashlib
import logging
import math
import re
from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from babel.dates import format_date, format_time
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select

from visits import settings
from visits.booking import availability, calendar, items, links, modes, rules
from visits.extensions import db
from visits.mail import outbox
from visits.models import Appointment, OutboxMessage, Service, Status
from visits.video import dial_in

log = logging.getLogger(__name__)

# The kinds of mail, and which calendar METHOD each carries (None: no calendar file).
_METHODS: dict[str, str | None] = {
    "confirm_request": None,
    "confirmation": "REQUEST",
    "rescheduled": "REQUEST",
    "cancellation": "CANCEL",
    "reminder": "REQUEST",
    "no_show": None,
}
KINDS = tuple(_METHODS)
# The mails that carry the join link, and so the dial-in line beside it.
_WITH_DIAL_IN = ("confirmation", "rescheduled", "reminder")

# CRLF line ends (RFC 5322) and 7-bit transfer encodings for bodies (quoted-printable or
# base64), so no relay needs 8BITMIME; raise on malformed headers instead of guessing.
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit", raise_on_defect=True)

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")

# The signs mail programs read links and addresses by; a zero-width space after each one
# leaves the name as it looks and keeps it from being linked.
_LINK_SIGNS = re.compile(r"([.:/@])")
_ZERO_WIDTH_SPACE = "\u200b"

# A display name that may go into To: as it is: words of RFC 5322 atext and spaces.
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$")
HEADER_LINE = 78  # RFC 5322 2.1.1: lines SHOULD be at most 78 characters


class UnknownMailKind(ValueError):
    pass


def one_line(value: str, limit: int = 200) -> str:
    """A header-safe single line: control characters (CR, LF, tab...) become spaces."""
    return " ".join(_CONTROL.sub(" ", value or "").split())[:limit]


def sender() -> Address:
    name, address = parseaddr(settings.current().mail_from)
    username, _, domain = address.partition("@")
    return Address(display_name=one_line(name), username=username, domain=domain)


def deliverable_address(email: str | None) -> str | None:
    """The address as mail servers need it: an internationalised domain in its ASCII
    (punycode) form. None if it cannot go into a header at all (non-ASCII before the @,
    refused at booking since; older rows may still have one)."""
    if not email:
        return None
    try:
        return validate_email(email, check_deliverability=False).ascii_email
    except EmailNotValidError:
        return None


def unlinked(text: str) -> str:
    """Free text as mail programs show it but cannot link (see the module docstring)."""
    return _LINK_SIGNS.sub(rf"\1{_ZERO_WIDTH_SPACE}", text)


def _recipient(appointment: Appointment, kind: str) -> Address:
    # The request to confirm goes to an address nobody has confirmed yet: no name from the
    # booker beside it.
    name = "" if kind == "confirm_request" else one_line(appointment.citizen_name, 300)
    return Address(display_name=name, addr_spec=deliverable_address(appointment.citizen_email))


def address_header(address: Address) -> str:
    """``address`` as a folded header value that every parser reads as one recipient.

    Python's folder can drop the quotes around a long display name with commas (CPython
    gh-80222), so the value is folded here and set raw: a plain name as a quoted string
    broken at its spaces (RFC 5322 allows folding inside quoted strings), anything else
    (non-ASCII, a word too long for a line) as RFC 2047 encoded words, in which commas,
    quotes and angle brackets are encoded."""
    name, addr = address.display_name, f"<{address.addr_spec}>"
    if not name:
        return address.addr_spec
    words = name.split(" ")
    if _PLAIN_NAME.match(name) and all(len(w) + len(addr) + 6 < HEADER_LINE for w in words):
        quoted = [w.replace("\\", "\\\\").replace('"', '\\"') for w in words]
        lines, line = [], '"' + quoted[0]
        for word in quoted[1:]:
            if len(line) + 1 + len(word) + len("To: ") > HEADER_LINE:
                lines.append(line)
                line = " " + word  # the space is the fold's, and unfolding keeps it
            else:
                line += " " + word
        line += '"'
        if len(line) + 1 + len(addr) + len("To: ") > HEADER_LINE:
            lines.append(line)
            line = ""
        lines.append(f"{line} {addr}")
        return "\r\n".join(lines)
    encoded = Header(name, "utf-8", header_name="To").encode(linesep="\r\n")
    return f"{encoded}\r\n {addr}"


def message_id_domain() -> str:
    """MAIL_MESSAGE_ID_DOMAIN, else the sender's domain."""
    config = settings.current()
    return config.mail_message_id_domain or parseaddr(config.mail_from)[1].partition("@")[2] or "visits"


def default_dedupe_key(kind: str, appointment: Appointment) -> str:
    """One mail per kind and version of the appointment: the same notice fired twice queues
    once, a change (SEQUENCE raised) may notify again. Reminders bring their own key
    (``reminders.dedupe_key``: appointment, start time and offset)."""
    return f"{kind}:{appointment.id}:{appointment.sequence}"


def when_of(appointment: Appointment, language: str) -> dict[str, str]:
    tz = availability.zone()
    start = appointment.start_at.astimezone(tz)
    end = appointment.end_at.astimezone(tz)
    date_long = format_date(start.date(), "full", locale=language)
    date_short = format_date(start.date(), "medium", locale=language)
    start_time = format_time(start.time(), "short", locale=language)
    end_time = format_time(end.time(), "short", locale=language)
    return {
        "date": date_long,
        "date_short": date_short,
        "start_time": start_time,
        "end_time": end_time,
        "when": gettext(
            "%(date)s, %(start)s – %(end)s (German time)", date=date_long, start=start_time, end=end_time
        ),
        "when_short": gettext("%(date)s, %(start)s", date=date_short, start=start_time),
    }


def _subject(kind: str, service: str, when_short: str) -> str:
    subjects = {
        "confirm_request": gettext("Please confirm your appointment: %(service)s, %(when)s"),
        "confirmation": gettext("Appointment confirmed: %(service)s, %(when)s"),
        "rescheduled": gettext("Appointment moved: %(service)s, now %(when)s"),
        "cancellation": gettext("Appointment cancelled: %(service)s, %(when)s"),
        "reminder": gettext("Reminder: %(service)s, %(when)s"),
        "no_show": gettext("We missed you: %(service)s, %(when)s"),
    }
    return one_line(subjects[kind] % {"service": service, "when": when_short}, 250)


def _context(kind: str, appointment: Appointment, now: datetime, extra: dict) -> dict:
    language = appointment.language
    service = appointment.service
    when = when_of(appointment, language)
    context = {
        "kind": kind,
        "appointment": appointment,
        "name": "" if kind == "confirm_request" else unlinked(one_line(appointment.citizen_name)),
        "reference": appointment.reference,
        "service_name": items.summary(appointment, language),
        "documents": service.documents(language),
        # Several services: what to bring, listed per service (the union of their lists).
        "documents_by_service": (
            items.documents_per_service(appointment, language) if len(items.lines(appointment)) > 1 else []
        ),
        "is_video": appointment.is_video,
        "mode": appointment.mode,
        # On site: where to go (address, directions, accessibility); phone: who calls from where.
        "place": modes.place_of(appointment, language),
        "phone_call": modes.phone_call(appointment),
        "manage_url": outbox.MANAGE_LINK,
        "join_url": outbox.JOIN_LINK if appointment.is_video else None,
        # "By phone: <numbers>, conference PIN <PIN>#" when dial-in numbers are configured,
        # with the outbox's placeholder for the PIN (a secret while the room is open).
        "phone_line": (
            dial_in.line_for(appointment, placeholder=outbox.PIN) if kind in _WITH_DIAL_IN else None
        ),
        "book_again_url": links.public_url("public.service", slug=service.slug),
        "lang": language,
        "opens_minutes": settings.current().jitsi_opens_minutes_before,
        **when,
    }
    if kind == "confirm_request" and appointment.hold_expires_at is not None:
        left = (appointment.hold_expires_at - now).total_seconds() / 60
        context["hold_minutes"] = max(1, math.ceil(left))
        expires = appointment.hold_expires_at.astimezone(availability.zone())
        context["hold_until"] = format_time(expires.time(), "short", locale=language)
    if kind == "cancellation":
        context["reason"] = (extra.get("reason") or appointment.cancel_reason or "").strip()
        context["by_city"] = extra.get("by") is not None
    if kind == "rescheduled" and extra.get("old_start") is not None:
        old = extra["old_start"].astimezone(availability.zone())
        context["old_when"] = gettext(
            "%(date)s, %(start)s",
            date=format_date(old.date(), "full", locale=language),
            start=format_time(old.time(), "short", locale=language),
        )
    return context


def render(template: str, context: dict) -> str:
    # Straight from the Jinja environment: no request context processors (jobs have no
    # request), so the settings (the city's name and contact) are passed as pages get them.
    # Flask autoescapes .html templates and leaves .txt ones alone.
    return current_app.jinja_env.get_template(template).render(settings=settings.current(), **context)


def _method_for(kind: str, appointment: Appointment, extra: dict) -> str | None:
    method = _METHODS[kind]
    if kind == "cancellation" and not extra.get("was_confirmed", appointment.confirmed_at is not None):
        return None  # a hold never reached a calendar: nothing to take back
    return method


def compose(kind: str, appointment: Appointment, *, now: datetime, **extra) -> EmailMessage:
    """The complete mail for ``kind`` in the citizen's language (needs an app context)."""
    if kind not in _METHODS:
        raise UnknownMailKind(kind)
    if not deliverable_address(appointment.citizen_email):
        raise ValueError("appointment has no email address that can be mailed")
    language = appointment.language if appointment.language in ("de", "en") else "de"
    method = _method_for(kind, appointment, extra)
    with force_locale(language):
        context = _context(kind, appointment, now, extra)
        context["method"] = method
        subject = _subject(kind, context["service_name"], context["when_short"])
        context["subject"] = subject
        text = render(f"mail/{kind}.txt", context)
        html = render(f"mail/{kind}.html", context)

    message = new_message(address_header(_recipient(appointment, kind)), subject, text, html, now=now)
    if method:
        ics = calendar.appointment_ics(
            appointment,
            method=method,
            now=now,
            manage_url=outbox.MANAGE_LINK,
            join_url=outbox.JOIN_LINK,
            phone_line=context["phone_line"] if method == "REQUEST" else None,
        )
        # base64 keeps the file byte for byte (its CRLF line ends included); the MIME
        # method equals the METHOD inside (ics-in-mail).
        message.add_alternative(
            ics, maintype="text", subtype="calendar", params={"method": method, "charset": "utf-8"}
        )
        message.make_mixed()
        message.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    message["Content-Language"] = language  # after the body: set_content clears Content-*
    return message


def new_message(to: str, subject: str, text: str, html: str, *, now: datetime) -> EmailMessage:
    """A mail of ours with its headers and its text and HTML bodies; ``to`` is a folded
    ``address_header`` value. Callers add attachments, then Content-Language (set_content
    clears Content-* headers)."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender()
    message.set_raw("To", to)
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=message_id_domain())
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"  # the same, for Exchange
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _wanted(kind: str, appointment: Appointment, now: datetime) -> bool:
    """Whether a mail of ``kind`` still makes sense for the appointment as it is now."""
    if not appointment.citizen_email:
        return False  # booked by phone without an address
    if not deliverable_address(appointment.citizen_email):
        log.warning("appointment %s: address cannot be mailed, no %s mail", appointment.id, kind)
        return False
    status = appointment.status
    if kind == "confirm_request":
        return status == Status.HELD and rules.can_confirm(appointment, now)  # its button must work
    if kind in ("confirmation", "rescheduled", "reminder"):
        return status == Status.CONFIRMED and not rules.has_ended(appointment, now)
    if kind == "cancellation":
        return status == Status.CANCELLED
    if kind == "no_show":
        return status == Status.NO_SHOW
    return False


def enqueue(
    kind: str, appointment: Appointment, *, now: datetime, dedupe_key: str | None = None, **extra
) -> OutboxMessage | None:
    """Queue the mail in the current transaction (no commit). None when the citizen has no
    email, the appointment's state makes the mail pointless (a reminder for a cancelled
    appointment), or the same mail was queued before (same dedupe key)."""
    if kind not in _METHODS:
        raise UnknownMailKind(kind)
    if not _wanted(kind, appointment, now):
        return None
    key = dedupe_key or default_dedupe_key(kind, appointment)
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return None  # do not even compose: a repeat is cheap
    message = compose(kind, appointment, now=now, **extra)
    return outbox.add(message, kind=kind, dedupe_key=key, now=now, appointment=appointment)


# -- notices to an address about a booking request that was not held -------------------------

# What the owner of an address is told when someone (perhaps they) asked to book with it
# and it could not be held; the person who asked hears only "look in the mailbox".
NOTICES = ("address_busy", "limit_reached", "booking_paused")


def notice_dedupe_key(kind: str, email: str, now: datetime) -> str:
    """At most one notice of each kind per address and hour, so that requests sent in a
    loop cannot fill someone's mailbox; the address only as a digest."""
    digest = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    return f"notice:{kind}:{digest}:{now.astimezone(UTC):%Y-%m-%dT%H}"


def enqueue_notice(
    kind: str,
    *,
    email: str,
    language: str,
    service: Service,
    start: datetime,
    now: datetime,
    limit: int | None = None,
    paused_until: datetime | None = None,
) -> OutboxMessage | None:
    """Queue the notice ``kind`` to ``email`` (no commit). None when the address cannot be
    mailed or the same notice went out this hour. No name of the booker goes in: nobody
    has shown they own the address."""
    if kind not in NOTICES:
        raise UnknownMailKind(kind)
    address = deliverable_address(email)
    if address is None:
        return None
    key = notice_dedupe_key(kind, address, now)
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return None
    language = language if language in ("de", "en") else "de"
    tz = availability.zone()
    local = start.astimezone(tz)
    with force_locale(language):
        context = {
            "kind": kind,
            "lang": language,
            "service_name": service.name(language),
            "when": gettext(
                "%(date)s, %(start)s",
                date=format_date(local.date(), "full", locale=language),
                start=format_time(local.time(), "short", locale=language),
            ),
            "limit": limit,
            "paused_until": (
                format_date(paused_until.astimezone(tz).date(), "long", locale=language)
                if paused_until
                else ""
            ),
        }
        subject = one_line(
            gettext("Your booking request: %(service)s, %(when)s")
            % {"service": context["service_name"], "when": context["when"]},
            250,
        )
        context["subject"] = subject
        text = render("mail/notice.txt", context)
        html = render("mail/notice.html", context)
    message = new_message(address_header(Address(addr_spec=address)), subject, text, html, now=now)
    message["Content-Language"] = language
    return outbox.add(message, kind=kind, dedupe_key=key, now=now)
