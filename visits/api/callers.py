"""Who is asking the API: a portal by its API key (``Authorization: Bearer ...``), the
holder of a manage token, or anyone; and the rate limits that follow from it."""

from __future__ import annotations

from flask import request

from visits import settings
from visits.admin import api_keys
from visits.api.routes import ApiProblem
from visits.core import clock
from visits.extensions import limiter
from visits.models import ApiKey

MANAGE_TOKEN_HEADER = "X-Manage-Token"  # noqa: S105 (a header name)
_KEY_CACHE = "visits.api_key"


def _key_check() -> tuple[ApiKey | None, bool]:
    """(the portal's key, whether a key was sent that is not valid), checked once per
    request and kept in the WSGI environ (``g`` may outlive a request in tests)."""
    cached = request.environ.get(_KEY_CACHE)
    if cached is None:
        key, invalid = None, False
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, credentials = header.partition(" ")
            key = api_keys.verify(credentials.strip()) if scheme.lower() == "bearer" else None
            invalid = key is None
            if key is not None:  # a write of its own, before the request's use case
                api_keys.note_use(key, now=clock.now())
        cached = request.environ[_KEY_CACHE] = (key, invalid)
    return cached


def portal_key() -> ApiKey | None:
    """The portal's API key from ``Authorization: Bearer ...`` (None without one).

    A wrong or revoked key is refused by the view (401); the rate limits treat such a
    request as anonymous, so guessing keys is limited too."""
    return _key_check()[0]


def require_valid_key_if_sent() -> ApiKey | None:
    key, invalid = _key_check()
    if invalid:
        raise ApiProblem(401, "invalid-api-key")
    return key


def _has_key() -> bool:
    return portal_key() is not None


def _anonymous() -> bool:
    return not _has_key()


def _key_identity() -> str:
    key = portal_key()
    return f"api-key:{key.id}" if key else "api-key:none"


def _booking_limit() -> str:
    return settings.current().ratelimit_booking


def _links_limit() -> str:
    return settings.current().ratelimit_links


def _slots_limit() -> str:
    return settings.current().ratelimit_slots


def _portal_limit() -> str:
    return settings.current().ratelimit_api_key


# A portal books for many citizens from one address: it has its own, larger budget per key;
# everybody else is limited per address like the web pages.
anonymous_booking_limit = limiter.limit(_booking_limit, exempt_when=_has_key)
anonymous_lookup_limit = limiter.limit(_links_limit, exempt_when=_has_key)
anonymous_listing_limit = limiter.limit(_slots_limit, exempt_when=_has_key)
portal_limit = limiter.limit(_portal_limit, key_func=_key_identity, exempt_when=_anonymous)
