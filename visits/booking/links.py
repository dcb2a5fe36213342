"""Secret links of an appointment, public references, room names.

A citizen's manage and join links carry a token derived from SECRET_KEY and the
appointment's UID (HMAC), so a reminder sent days later can rebuild the same link; the
database holds only the token's SHA-256, so a copy of the database reveals no link."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app
from sqlalchemy import select

from visits import settings
from visits.extensions import db
from visits.models import Appointment

# Crockford's base32 without I, L, O, U: easy to read out on the phone.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ROOM_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def derive_token(purpose: str, uid: str, secret_key: str | None = None) -> str:
    """A 256-bit URL-safe token for ``purpose`` ("manage", "join") of appointment ``uid``."""
    key = (secret_key or settings.current().secret_key).encode()
    digest = hmac.new(key, f"{purpose}:{uid}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_reference() -> str:
    """A public reference like ``T-7K3M-9XQ2`` (40 bits; not a secret, never enough alone)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"T-{chars[:4]}-{chars[4:]}"


def new_uid(domain: str = "visits") -> str:
    return f"{secrets.token_hex(16)}@{domain}"


def new_room_name() -> str:
    """A Jitsi room name: lower-case, a-z0-9 and '-', 26 random characters (~134 bits)."""
    body = "".join(secrets.choice(ROOM_ALPHABET) for _ in range(26))
    return f"termin-{body}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


def public_url(endpoint: str, **values) -> str:
    """An absolute URL on PUBLIC_BASE_URL, also outside a request (jobs, mails)."""
    from urllib.parse import urlsplit

    base = urlsplit(settings.current().public_base_url)
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def manage_url(appointment) -> str:
    """The citizen's secret manage link (see, confirm, cancel, reschedule, download)."""
    return public_url("manage.show", token=derive_token("manage", appointment.uid))


def join_url(appointment) -> str:
    """The citizen's join page for a video appointment (our page, never Jitsi directly)."""
    return public_url("join.page", token=derive_token("join", appointment.uid))


def join_token(appointment) -> str:
    """The token of the citizen's join link (as ``join_url`` carries it)."""
    return derive_token("join", appointment.uid)


def _by_token_hash(column, token: str) -> Appointment | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(select(Appointment).where(column == token_hash(token)))


def by_manage_token(token: str) -> Appointment | None:
    """The appointment whose manage link carries ``token``; None for anything else."""
    return _by_token_hash(Appointment.manage_token_hash, token)


def by_join_token(token: str) -> Appointment | None:
    """The appointment whose join link carries ``token``; None for anything else."""
    return _by_token_hash(Appointment.join_token_hash, token)
