"""Dial-in by phone: the conference PIN of a video appointment, its look-ups both ways, and
the numbers to call.

A citizen without a camera (or with a bad connection) calls one of ``DIAL_IN_NUMBERS``,
types the appointment's PIN, and the telephony platform asks ``conference_for_pin`` (through
``GET /jitsi/conference-mapper?id=``, visits/web/jitsi_api.py) which room that is; jitsi-meet
asks the other way round (``pin_for_conference``, ``?conference=room@muc``) to show the PIN in
the call. The rules:

- **The PIN** has ``PIN_DIGITS`` digits (the first never 0, so it stays the same as a JSON
  number) and is derived with HMAC from SECRET_KEY and the appointment's random uid, as the
  secret links are (visits/booking/links.py): a reminder days later names the same PIN, a
  moved appointment keeps it. Changing SECRET_KEY ends the PINs already mailed.
- **Stored** is only ``pin_hash``: an HMAC with SECRET_KEY, not a bare SHA-256 (a PIN has
  about 33 bits: a bare hash would be reversed by trying every PIN in minutes), so a copy of
  the database without the key gives no PIN away. It is unique: a new video appointment
  whose PIN is taken gets another uid (``new_video_uid``).
- **Valid** only while the room is open (``jitsi.state`` is OPEN: the join page's rules,
  window ``JITSI_OPENS_MINUTES_BEFORE``/``JITSI_GRACE_MINUTES_AFTER``, confirmed and not
  cancelled). Outside it, for a cancelled, lapsed or anonymised appointment, and for a PIN
  nobody has, every look-up gives the same ``None``.
- **Shown** (mails, join page, calendar file) only when numbers are configured; mails carry
  ``outbox.PIN`` in its place until they go to the mail server (visits/mail/outbox.py)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask_babel import gettext
from sqlalchemy import select

from config import dial_in_numbers
from visits import settings
from visits.booking import links
from visits.extensions import db
from visits.models import Appointment, Status
from visits.video import jitsi

PIN_DIGITS = 10
_PIN_FLOOR = 10 ** (PIN_DIGITS - 1)
_PIN_SPACE = 9 * _PIN_FLOOR  # 1000000000 .. 9999999999
# How often a new appointment draws another uid when its PIN is taken (each draw collides
# with a chance of (appointments with a PIN) / 9e9: never twice in practice).
_UID_DRAWS = 20

_ROOM_PART = re.compile(r"[a-z0-9-]{1,64}")


# -- the PIN -----------------------------------------------------------------------------


def derive_pin(uid: str, secret_key: str | None = None) -> str:
    """The appointment's PIN: ``PIN_DIGITS`` digits from HMAC-SHA256(SECRET_KEY, uid)."""
    key = (secret_key or settings.current().secret_key).encode()
    digest = hmac.new(key, f"dial-in-pin:{uid}".encode(), hashlib.sha256).digest()
    return str(_PIN_FLOOR + int.from_bytes(digest, "big") % _PIN_SPACE)


def pin_hash(pin: str, secret_key: str | None = None) -> str:
    """What the database keeps of a PIN: keyed (see the module docstring), hex, 64 characters."""
    key = (secret_key or settings.current().secret_key).encode()
    return hmac.new(key, f"dial-in-pin-hash:{pin}".encode(), hashlib.sha256).hexdigest()


def new_video_uid() -> tuple[str, str]:
    """(uid, pin hash) for a new video appointment: a fresh uid whose PIN nobody has."""
    for _ in range(_UID_DRAWS):
        uid = links.new_uid()
        hashed = pin_hash(derive_pin(uid))
        taken = db.session.scalar(select(Appointment.id).where(Appointment.dial_in_pin_hash == hashed))
        if taken is None:
            return uid, hashed
    raise RuntimeError("no free dial-in PIN found")  # 20 collisions in a row: never


def pin_for(appointment: Appointment) -> str | None:
    """The appointment's PIN, whatever the time; None when it has none (not video,
    anonymised, or its stored hash is not this key's: SECRET_KEY changed since)."""
    if not appointment.room or not appointment.dial_in_pin_hash or appointment.anonymised_at is not None:
        return None
    pin = derive_pin(appointment.uid)
    if not hmac.compare_digest(pin_hash(pin), appointment.dial_in_pin_hash):
        return None
    return pin


def formatted(pin: str) -> str:
    """The PIN as people read it out: ``123 456 7890``."""
    return f"{pin[:3]} {pin[3:6]} {pin[6:]}"


# -- look-ups (the conference mapper) ----------------------------------------------------


@dataclass(frozen=True)
class Mapping:
    """An open room and its PIN: what the conference mapper answers."""

    pin: str
    conference: str  # room@JITSI_MUC_DOMAIN

    @property
    def id(self) -> int:
        return int(self.pin)


def conference_jid(room: str) -> str:
    return f"{room}@{settings.current().jitsi_muc_domain}"


def _open(appointment: Appointment | None, now: datetime) -> Mapping | None:
    if appointment is None or jitsi.state(appointment, now) != jitsi.State.OPEN:
        return None
    pin = pin_for(appointment)
    if pin is None or not appointment.room:
        return None
    return Mapping(pin=pin, conference=conference_jid(appointment.room))


def conference_for_pin(pin: str, now: datetime) -> Mapping | None:
    """The open room whose PIN is ``pin`` (digits only); None for anything else."""
    if not pin.isascii() or not pin.isdigit() or len(pin) != PIN_DIGITS:
        return None
    appointment = db.session.scalar(select(Appointment).where(Appointment.dial_in_pin_hash == pin_hash(pin)))
    return _open(appointment, now)


def pin_for_conference(conference: str, now: datetime) -> Mapping | None:
    """The PIN of the open room ``room@muc-domain`` (the room part in any case, the domain
    JITSI_MUC_DOMAIN in any case); None for anything else."""
    room, at, domain = conference.strip().rpartition("@")
    if not at or domain.lower() != settings.current().jitsi_muc_domain:
        return None
    room = room.lower()
    if not _ROOM_PART.fullmatch(room):
        return None
    appointment = db.session.scalar(select(Appointment).where(Appointment.room == room))
    return _open(appointment, now)


# -- the numbers, and what citizens read --------------------------------------------------


@lru_cache(maxsize=8)
def _parsed(text: str) -> tuple[tuple[str, str], ...]:
    return dial_in_numbers(text)


def numbers() -> dict[str, list[str]]:
    """DIAL_IN_NUMBERS by country, as jitsi-meet reads them: ``{"DE": ["+49 221 123456"]}``."""
    by_country: dict[str, list[str]] = {}
    for country, number in _parsed(settings.current().dial_in_numbers):
        by_country.setdefault(country, []).append(number)
    return by_country


def all_numbers() -> list[str]:
    return [number for _, number in _parsed(settings.current().dial_in_numbers)]


def enabled() -> bool:
    return bool(all_numbers())


def phone_line(pin_text: str, numbers_shown: Sequence[str] | None = None) -> str:
    """"By phone: +49 …, conference PIN 123 456 7890#" in the current language."""
    shown = list(numbers_shown if numbers_shown is not None else all_numbers())
    if len(shown) == 1:
        joined = shown[0]
    else:
        joined = gettext("%(numbers)s or %(last)s", numbers=", ".join(shown[:-1]), last=shown[-1])
    return gettext("By phone: %(numbers)s, conference PIN %(pin)s#", numbers=joined, pin=pin_text)


def offered(appointment: Appointment) -> bool:
    """Whether the citizen's mails, join page and calendar file name the dial-in: numbers
    configured, a video appointment with a PIN that has not been called off."""
    return (
        enabled()
        and appointment.status not in (Status.CANCELLED, Status.EXPIRED)
        and pin_for(appointment) is not None
    )


def line_for(appointment: Appointment, *, placeholder: str | None = None) -> str | None:
    """The phone line for this appointment (None when not ``offered``): with its real PIN,
    or with ``placeholder`` in its place for a mail on its way into the outbox."""
    if not offered(appointment):
        return None
    pin = pin_for(appointment)
    assert pin is not None
    return phone_line(placeholder or formatted(pin))
