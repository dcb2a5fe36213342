"""API keys of service portals: created by an administrator, stored only as a hash.

The plain key is shown once, when it is made; the database keeps its SHA-256 and a short
prefix so admins can tell keys apart. A revoked key stops working at once."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from visits.booking import links
from visits.core import audit
from visits.extensions import db, transaction
from visits.models import ApiKey, StaffUser

KEY_PREFIX = "vk_"
# Writing last_used_at on every request would make each API read a write; a few minutes'
# precision is enough to tell an admin whether a key is still in use.
LAST_USED_PRECISION = timedelta(minutes=5)


def create(name: str, by: StaffUser | None, *, now: datetime) -> tuple[ApiKey, str]:
    """A new key for the portal ``name``; returns the row and the plain key (shown once)."""
    name = " ".join((name or "").split())[:100]
    if not name:
        raise ValueError("an API key needs a name")
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        key_hash=links.token_hash(plain),
        prefix=plain[:12],
        active=True,
        created_by_id=by.id if by else None,
        created_at=now,
    )
    with transaction():
        db.session.add(key)
        db.session.flush()
        audit.record("api_key.created", at=now, actor=by, obj=key, name=name, prefix=key.prefix)
    return key, plain


def verify(plain: str | None) -> ApiKey | None:
    """The active key whose plain text is ``plain``; None for anything else. Only reads:
    the caller records the use (``note_use``) as a write of its own."""
    if not plain or len(plain) > 200 or not plain.isascii():
        return None
    return db.session.scalar(
        select(ApiKey).where(ApiKey.key_hash == links.token_hash(plain), ApiKey.active.is_(True))
    )


def note_use(key: ApiKey, *, now: datetime) -> None:
    """Remember when the key was last used, for the admin's list: a write of its own, made
    only when the last one is older than ``LAST_USED_PRECISION``."""
    if key.last_used_at is not None and now - key.last_used_at <= LAST_USED_PRECISION:
        return
    with transaction():
        key.last_used_at = now


def revoke(key: ApiKey, by: StaffUser | None, *, now: datetime) -> ApiKey:
    """Switch the key off for good (a new one is made with ``create``)."""
    with transaction():
        key.active = False
        audit.record("api_key.revoked", at=now, actor=by, obj=key, name=key.name, prefix=key.prefix)
    return key


def all_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())))
