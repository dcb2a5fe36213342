"""What a citizen types (name, email, phone, note, language): the one rule set.

The web booking form, the clerk's phone booking form, the API schema and the booking use
cases all ask these functions, so an input is booked, or refused naming the same field,
whichever way it arrives, and is stored as the same cleaned value. Each function returns
the cleaned value or raises ``Refused(code, field)``; the form or the API turns the code
into a message in the user's language. Plain Python: no Flask, no WTForms, no marshmallow.

Names, phone numbers and notes go into mail headers, calendar files and the clerk's
agenda, so they carry no control characters and no bidirectional overrides or isolates
(which can make a text read differently than it is stored, as in "Trojan Source")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from visits.core.refusals import Refused

NAME_MAX = 200
NOTE_MAX = 1000
PHONE_MAX = 40
EMAIL_MAX = 254  # RFC 5321's limit of a forward path, as email-validator enforces it

# Digits, spaces and the signs people write numbers with: "+49 221 123456", "0221/123-456".
PHONE_PATTERN = r"^[0-9+()/ .\-]*$"
_PHONE_RE = re.compile(PHONE_PATTERN)

# Bidirectional embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# The characters the rules refuse, as a regular expression for documents that describe
# them (the OpenAPI document): C0 and C1 controls (category Cc) and the bidi controls; a
# note may have line breaks (CR is turned into LF). Lone surrogates (category Cs, which
# JSON can carry but no database can store) are refused as well; a pattern cannot say so.
_REFUSED = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
ONE_LINE_PATTERN = rf"^[^{_REFUSED}]*$"
NOTE_PATTERN = r"^[^\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$"


# What each refusal says in logs and in the API's field errors (English); the pages show
# their own message for the code, in the page's language.
DETAILS = {
    "name_missing": "name is required",
    "name_too_long": f"name has at most {NAME_MAX} characters",
    "name_characters": "name must not contain control characters",
    "email_missing": "email is required",
    "email_invalid": "email address is not valid",
    "email_or_phone_missing": "email or phone is required",
    "phone_too_long": f"phone number has at most {PHONE_MAX} characters",
    "phone_invalid": "phone number is not valid",
    "phone_required": "phone is required when the clerk is to call",
    "note_too_long": f"note has at most {NOTE_MAX} characters",
    "note_characters": "note must not contain control characters",
    "language_unknown": "language is not offered",
}


@dataclass(frozen=True)
class Citizen:
    """What the appointment needs to know about a person, and nothing more."""

    name: str
    email: str | None = None
    phone: str | None = None
    language: str = "de"
    note: str = ""


def _has_refused_character(text: str, allowed: str = "") -> bool:
    return any(
        char not in allowed and (unicodedata.category(char) in ("Cc", "Cs") or char in BIDI_CONTROLS)
        for char in text
    )


def name(value: str | None) -> str:
    """1 to NAME_MAX characters once trimmed; runs of spaces inside become one space."""
    text = value or ""
    if _has_refused_character(text):
        raise Refused("name_characters", "name")
    text = text.strip()
    if not text:
        raise Refused("name_missing", "name")
    if len(text) > NAME_MAX:
        raise Refused("name_too_long", "name")
    return " ".join(text.split())


def email(value: str | None) -> str | None:
    """The address as email-validator normalises it, lower-cased (as it is stored and
    compared); None when nothing was typed. Syntax only, no DNS lookups (tests and offline
    servers). No non-ASCII before the @ (SMTPUTF8): most mail servers cannot deliver to such
    an address, and the confirmation mail must arrive; a clear error now beats silence later."""
    text = (value or "").strip(" ")
    if not text:
        return None
    if _has_refused_character(text):
        raise Refused("email_invalid", "email")
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise Refused("email_invalid", "email") from exc
    return result.normalized.lower()


def phone(value: str | None) -> str | None:
    """Digits and the usual signs, at most PHONE_MAX characters; None when nothing was typed."""
    text = (value or "").strip(" ")
    if not text:
        return None
    if len(text) > PHONE_MAX:
        raise Refused("phone_too_long", "phone")
    if not _PHONE_RE.match(text):
        raise Refused("phone_invalid", "phone")
    return text


def note(value: str | None) -> str:
    """Line breaks as LF (browsers send a textarea's as CRLF), trimmed, at most NOTE_MAX
    characters: refused beyond, never cut, since a cut note may lose the one need that matters."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    if _has_refused_character(text, allowed="\n"):
        raise Refused("note_characters", "note")
    text = text.strip()
    if len(text) > NOTE_MAX:
        raise Refused("note_too_long", "note")
    return text


def language(value: str | None, languages: Collection[str]) -> str:
    """One of the configured languages (the mails and reminders are written in it)."""
    if value not in languages:
        raise Refused("language_unknown", "language")
    return value


def clean(
    citizen: Citizen, *, languages: Collection[str], need_email: bool, need_phone: bool = False
) -> Citizen:
    """Every field checked and cleaned; ``need_email``: the booking is confirmed by mail;
    ``need_phone``: the clerk calls the person (a phone appointment).
    Without an email address there must be a phone number, or nobody can reach the person."""
    cleaned = Citizen(
        name=name(citizen.name),
        email=email(citizen.email),
        phone=phone(citizen.phone),
        language=language(citizen.language, languages),
        note=note(citizen.note),
    )
    if need_email and not cleaned.email:
        raise Refused("email_missing", "email")
    if need_phone and not cleaned.phone:
        raise Refused("phone_required", "phone")
    if not cleaned.email and not cleaned.phone:
        raise Refused("email_or_phone_missing", "email")
    return cleaned
