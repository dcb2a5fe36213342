"""Video appointments in the city's own Jitsi Meet: when a room is open, and its tokens.

A Jitsi deployment with token authentication (prosody ``mod_auth_token``) lets a person into
a room only with a JWT signed by us for exactly that room (the ``token-*`` rules of docs/checklist.md).
We mint one fresh token per press of "join", for one person and one room, and hand it over
only in the redirect to Jitsi: it is never stored, logged or mailed.

Signing: RS256 with ``JITSI_PRIVATE_KEY_FILE`` and ``JITSI_KEY_ID`` (JaaS/ASAP
deployments look the public key up by ``kid``), else HS256 with ``JITSI_APP_SECRET``.
With neither (the embedded default) the app still links to the random room name, without
a token; the log and the admin page say so."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives import serialization

from visits import settings
from visits.booking import rules
from visits.booking.rules import Window
from visits.models import Appointment, StaffUser, Status

log = logging.getLogger(__name__)

# Jitsi's servers and ours may disagree by a few seconds; nbf reaches back this far.
CLOCK_SKEW = timedelta(seconds=30)



class State(StrEnum):
    """What the join page says about a video appointment right now."""

    ON_SITE = "on_site"  # not a video appointment at all
    UNCONFIRMED = "unconfirmed"  # held: the citizen has not confirmed by the mail's link yet
    EXPIRED = "expired"  # a hold that was never confirmed
    CANCELLED = "cancelled"
    TOO_EARLY = "too_early"
    OPEN = "open"
    ENDED = "ended"


class Mode(StrEnum):
    RS256 = "RS256"
    HS256 = "HS256"
    NONE = "none"  # no secret configured: rooms without tokens


class JitsiNotConfigured(RuntimeError):
    """The signing key is missing or unreadable; no token can be minted."""


@dataclass(frozen=True)
class Entry:
    """Where "join" sends someone: ``url`` carries the token (if any) and is used once."""

    url: str
    signed: bool


def _settings() -> dict[str, timedelta]:
    """The room's opening lead and grace time, as ``rules.can_join`` takes them."""
    config = settings.current()
    return {
        "opens_before": timedelta(minutes=config.jitsi_opens_minutes_before),
        "grace_after": timedelta(minutes=config.jitsi_grace_minutes_after),
    }


def window(appointment: Appointment) -> Window:
    return rules.join_window(appointment, **_settings())


def can_join(appointment: Appointment, now: datetime) -> bool:
    """``rules.can_join`` with this deployment's settings."""
    return rules.can_join(appointment, now, **_settings())


def join_offered(appointment: Appointment, now: datetime) -> bool:
    """``rules.join_offered`` with this deployment's settings (the clerk's "join" button)."""
    return rules.join_offered(appointment, now, **_settings())


def state(appointment: Appointment, now: datetime) -> State:
    """The join page's state, explaining ``can_join``. Only ``State.OPEN`` gets a token."""
    if not appointment.is_video:
        return State.ON_SITE
    if appointment.status == Status.CANCELLED:
        return State.CANCELLED
    if rules.hold_has_lapsed(appointment, now):
        return State.EXPIRED  # swept by the job or not yet: the same page
    if appointment.status == Status.HELD:
        return State.UNCONFIRMED
    if can_join(appointment, now):
        return State.OPEN
    if now < window(appointment).opens_at and appointment.status in rules.JOINABLE:
        return State.TOO_EARLY
    return State.ENDED  # after the grace time, or a status added later: refuse, do not guess


# -- configuration -----------------------------------------------------------------------


def mode() -> Mode:
    config = settings.current()
    if config.jitsi_private_key_file:
        return Mode.RS256
    if config.jitsi_app_secret:
        return Mode.HS256
    return Mode.NONE


@lru_cache(maxsize=4)
def _private_key(path: str, modified: float):
    """The PEM private key, parsed once per file version (``modified`` refreshes the cache)."""
    return serialization.load_pem_private_key(Path(path).read_bytes(), password=None)


def _signing_key() -> tuple[Any, dict[str, str]]:
    """(key, extra JWT headers) for the configured mode; JitsiNotConfigured if unusable."""
    config = settings.current()
    current = mode()
    if current == Mode.RS256:
        key_id = config.jitsi_key_id
        if not key_id:
            raise JitsiNotConfigured("JITSI_KEY_ID is required with JITSI_PRIVATE_KEY_FILE")
        path = config.jitsi_private_key_file
        try:
            key = _private_key(path, Path(path).stat().st_mtime)
        except (OSError, ValueError, TypeError) as exc:
            raise JitsiNotConfigured(f"JITSI_PRIVATE_KEY_FILE unreadable: {exc.__class__.__name__}") from exc
        return key, {"kid": key_id}
    if current == Mode.HS256:
        return config.jitsi_app_secret, {}
    raise JitsiNotConfigured("JITSI_APP_SECRET is not set")


def status() -> dict[str, Any]:
    """The video settings as the admin page shows them (no secrets in it).

    ``tokens`` says whether rooms are protected; ``problem`` is a sentence in English for
    the log, or None; ``problem_code`` is one of: no_secret, no_key_id, key_unreadable."""
    config = settings.current()
    current = mode()
    problem: str | None = None
    code: str | None = None
    if current == Mode.NONE:
        code = "no_secret"
        problem = (
            "JITSI_APP_SECRET is not set: video rooms are entered without a token, so anyone "
            "who learns a room name can join it."
        )
    else:
        try:
            _signing_key()
        except JitsiNotConfigured as exc:
            code = "no_key_id" if "JITSI_KEY_ID" in str(exc) else "key_unreadable"
            problem = f"{exc}: nobody can join a video appointment until this is fixed."
    return {
        "mode": current.value,
        "tokens": current != Mode.NONE and problem is None,
        "domain": config.jitsi_domain,
        "app_id": config.jitsi_app_id,
        "audience": config.jitsi_audience,
        "subject": config.jitsi_subject,
        "key_id": config.jitsi_key_id if current == Mode.RS256 else "",
        "opens_minutes_before": config.jitsi_opens_minutes_before,
        "grace_minutes_after": config.jitsi_grace_minutes_after,
        "problem": problem,
        "problem_code": code,
    }


_status_logged = threading.Event()  # the warning below: once per process
_status_lock = threading.Lock()


def log_status(app) -> None:
    """Say when video rooms are not protected by tokens: once per process, at the first
    request it serves (called once per app). Commands (``flask db upgrade``, ``seed-demo``)
    and the scheduler serve no rooms and say nothing, so ``make run`` warns once."""

    @app.before_request
    def _log_status_once() -> None:
        if _status_logged.is_set():  # every request after the first: one check, no lock
            return
        with _status_lock:
            if _status_logged.is_set():
                return
            _status_logged.set()
        problem = status()["problem"]
        if problem:
            log.warning("Jitsi: %s", problem)


# -- tokens ------------------------------------------------------------------------------


def citizen_id(appointment: Appointment) -> str:
    """A stable, opaque id for the citizen of this appointment (never their email)."""
    key = settings.current().secret_key.encode()
    digest = hmac.new(key, f"jitsi-citizen:{appointment.uid}".encode(), hashlib.sha256)
    return "citizen-" + digest.hexdigest()[:20]


def guest_id(appointment: Appointment, guest: Any) -> str:
    """A stable, opaque id for a guest of this appointment (never their email)."""
    key = settings.current().secret_key.encode()
    digest = hmac.new(key, f"jitsi-guest:{appointment.uid}:{guest.id}".encode(), hashlib.sha256)
    return "guest-" + digest.hexdigest()[:20]


def claims(
    appointment: Appointment,
    *,
    now: datetime,
    user_id: str,
    name: str,
    email: str | None,
    moderator: bool,
) -> dict[str, Any]:
    """The JWT payload for one person entering this appointment's room (docs/checklist.md:
    token-issuer-audience, token-subject, token-room, token-window, token-user, token-lobby).

    ``context.user.lobby`` (citizen) and ``affiliation``/``moderator`` (clerk) are what the
    prosody modules of deploy/jitsi/ read: token_lobby_ondemand opens the room's lobby for
    the citizen (persistent_lobby keeps it while the room is empty) and lets everyone
    without the flag pass; token_affiliation makes the clerk owner. The email goes in only
    with JITSI_TOKEN_EMAIL (jitsi-meet would fetch a Gravatar picture with it)."""
    if not appointment.room:
        raise ValueError("not a video appointment")
    config = settings.current()
    times = window(appointment)
    user: dict[str, Any] = {
        "id": user_id,
        "name": name,
        "moderator": moderator,
        "affiliation": "owner" if moderator else "member",
    }
    if email and config.jitsi_token_email:
        user["email"] = email
    if not moderator:
        user["lobby"] = True
    return {
        "iss": config.jitsi_app_id,
        "aud": config.jitsi_audience,
        "sub": config.jitsi_subject,
        "room": appointment.room,
        "iat": int(now.timestamp()),
        # Never before the room opens (minus the skew allowance), never after it closes, and
        # short-lived: Jitsi checks the token only when entering, so a dropped call rejoins
        # by pressing "join" again, which mints a fresh one.
        "nbf": int((max(now, times.opens_at) - CLOCK_SKEW).timestamp()),
        "exp": int(
            min(times.closes_at, now + timedelta(minutes=config.jitsi_token_minutes)).timestamp()
        ),
        "context": {"user": user},
    }


def mint(appointment: Appointment, *, now: datetime, **person: Any) -> str:
    """A signed JWT for one person (see ``claims``) and this appointment's room.

    Refuses outside the room's window: a token is minted only while the room is open."""
    if state(appointment, now) != State.OPEN:
        raise ValueError("the room is not open")
    key, headers = _signing_key()
    payload = claims(appointment, now=now, **person)
    return jwt.encode(payload, key, algorithm=mode().value, headers=headers or None)


def room_url(appointment: Appointment, token: str | None = None) -> str:
    """https://JITSI_DOMAIN/ROOM, with ``#jwt=`` when there is a token.

    The token goes in the fragment, which a browser never sends to a server: it stays out
    of the Jitsi host's access log and of any proxy's (jitsi-meet reads it from there as
    from the query). JITSI_DOMAIN may carry a scheme, a trailing slash and a tenant path
    (``8x8.vc/vpaas-magic-cookie-…`` for JaaS)."""
    url = f"https://{_bare_domain()}/{quote(appointment.room or '', safe='')}"
    return f"{url}#jwt={token}" if token else url


def _bare_domain() -> str:
    return settings.current().jitsi_domain.strip().removeprefix("https://").removeprefix("http://").strip("/")


# Jitsi services open to anyone, run by 8x8 (meet.jit.si for free, 8x8.vc as "Jitsi as a
# Service"): a call there is not on a server of the city, and the privacy page says so.
PUBLIC_SERVICES = ("meet.jit.si", "8x8.vc")


def host() -> str:
    """The host video calls run on (JITSI_DOMAIN without scheme, tenant or port)."""
    return _bare_domain().split("/", 1)[0].split(":", 1)[0].lower()


def on_public_service() -> bool:
    """Whether calls run on a public Jitsi service rather than a server of the city's own."""
    name = host()
    return any(name == public or name.endswith("." + public) for public in PUBLIC_SERVICES)


def entry_for_citizen(appointment: Appointment, now: datetime) -> Entry:
    """Where the citizen's "join" leads: the room, with a fresh token when we sign."""
    return _entry(
        appointment,
        now,
        user_id=citizen_id(appointment),
        name=appointment.citizen_name,
        email=appointment.citizen_email,
        moderator=False,
    )


def entry_for_clerk(appointment: Appointment, staff: StaffUser, now: datetime) -> Entry:
    """Where a clerk's (or admin's) "join" leads: the same room, as moderator."""
    return _entry(
        appointment, now, user_id=f"staff-{staff.id}", name=staff.name, email=staff.email, moderator=True
    )


def entry_for_guest(appointment: Appointment, guest: Any, now: datetime) -> Entry:
    """Where an invited guest's "join" leads (an interpreter, a support person): the same
    room and window as the citizen, not moderator, waiting in the lobby."""
    return _entry(
        appointment, now, user_id=guest_id(appointment, guest), name=guest.name, email=guest.email, moderator=False
    )


def _entry(appointment: Appointment, now: datetime, **person: Any) -> Entry:
    if state(appointment, now) != State.OPEN:
        raise ValueError("the room is not open")
    if mode() == Mode.NONE:
        log.info("Jitsi: appointment %s joined without a token (no JITSI_APP_SECRET)", appointment.id)
        return Entry(url=room_url(appointment), signed=False)
    return Entry(url=room_url(appointment, mint(appointment, now=now, **person)), signed=True)
