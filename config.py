"""Settings, read from the environment in one place.

Every setting is listed in ``.env.example`` with its default, and this is the only place
that default is written. ``load_settings`` is a plain function (no work at import time):
``create_app`` calls it with ``os.environ`` and the instance folder (tests call it with a
dict), then builds the typed ``visits.settings.Settings`` from the result, which the rest
of the code reads.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

TRUE_WORDS = {"1", "true", "yes", "on"}


def _bool(value: str) -> bool:
    return value.strip().lower() in TRUE_WORDS


def _secret_key(env: Mapping[str, str], instance_path: Path) -> str:
    """Use SECRET_KEY, or a random key kept in the instance folder (embedded default).

    Keeping it on disk means a restarted development server still accepts its sessions and
    the links it mailed earlier (they are derived from the key)."""
    if env.get("SECRET_KEY"):
        return env["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def served_url(env: Mapping[str, str]) -> str:
    """The embedded default of PUBLIC_BASE_URL: where ``flask run`` serves, as Flask reads
    its host and port from FLASK_RUN_HOST and FLASK_RUN_PORT (``make run HOST=… PORT=…``
    sets both), so the links in mails lead to the server that sent them."""
    host = env.get("FLASK_RUN_HOST") or "127.0.0.1"
    port = env.get("FLASK_RUN_PORT") or "5000"
    return f"http://{host}:{port}"


MIN_SECRET_KEY_BYTES = 32
# The SECRET_KEY placeholders of the example files (deploy/visits.env.example, .env.example
# and the README): published, so a key equal to one of them signs sessions anyone can forge.
PLACEHOLDER_SECRET_KEYS = frozenset(
    {
        "CHANGE-ME-python-c-import-secrets-print-secrets-token-urlsafe-48",
        "CHANGE-ME",
        "change-me",
        "changeme",
        "secret",
        "dev",
    }
)


class InsecureSecretKey(RuntimeError):
    """Production (https) with a SECRET_KEY that cannot protect sessions and links."""


def check_secret_key(secret_key: str, public_base_url: str) -> None:
    """In production (PUBLIC_BASE_URL https) refuse a key shorter than 32 bytes or one
    published as a placeholder; development (http) accepts any key."""
    if not public_base_url.startswith("https://"):
        return
    if secret_key in PLACEHOLDER_SECRET_KEYS or "change-me" in secret_key.lower():
        raise InsecureSecretKey("SECRET_KEY is a published placeholder: set a random one (see .env.example)")
    if len(secret_key.encode()) < MIN_SECRET_KEY_BYTES:
        raise InsecureSecretKey(f"SECRET_KEY must have at least {MIN_SECRET_KEY_BYTES} bytes in production")


class InvalidJitsiSetting(RuntimeError):
    """JITSI_DOMAIN or JITSI_SUBJECT that no Jitsi deployment would accept in a token."""


def jitsi_subject(domain: str, subject: str = "") -> str:
    """The token's ``sub``: Jitsi's domain verification compares it with the bare domain,
    or with the tenant when rooms live under one (``meet.stadt.example/tenant1/room``).

    Derived from JITSI_DOMAIN when JITSI_SUBJECT is empty, so a scheme or a trailing slash
    there does no harm ("https://meet.stadt.example/" -> "meet.stadt.example",
    "meet.stadt.example/tenant1" -> "tenant1", JaaS "8x8.vc/vpaas-magic-cookie-…" -> the
    tenant); an explicit JITSI_SUBJECT must already be bare (a name, or "*")."""
    if subject.strip():
        subject = subject.strip()
        if subject != "*" and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", subject):
            raise InvalidJitsiSetting(
                f"JITSI_SUBJECT {subject!r} must be the bare Jitsi domain or tenant (no scheme, slash or path)"
            )
        return subject
    bare = domain.strip().removeprefix("https://").removeprefix("http://").strip("/")
    host, _, path = bare.partition("/")
    tenant = path.split("/", 1)[0]
    derived = tenant or host
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.:-]*", derived):
        raise InvalidJitsiSetting(f"JITSI_DOMAIN {domain!r} is not a host name with an optional tenant path")
    return derived.split(":", 1)[0] if not tenant else derived


def jitsi_muc_domain(domain: str, muc_domain: str = "") -> str:
    """The XMPP domain of the rooms' MUC, as jitsi-meet names a room when it asks the
    conference mapper (``room@conference.meet.stadt.example``).

    JITSI_MUC_DOMAIN when set (bare: no scheme, no slash); else ``conference.`` + the bare
    host of JITSI_DOMAIN, with the tenant in front of the host when JITSI_DOMAIN has one
    (``meet.stadt.example/tenant1`` -> ``conference.tenant1.meet.stadt.example``, as
    jitsi-meet's multi-tenant configuration names its MUC). Lower-case: domains compare so."""
    if muc_domain.strip():
        muc = muc_domain.strip().lower()
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", muc):
            raise InvalidJitsiSetting(f"JITSI_MUC_DOMAIN {muc_domain!r} must be a bare domain name")
        return muc
    bare = domain.strip().removeprefix("https://").removeprefix("http://").strip("/")
    host, _, path = bare.partition("/")
    host = host.split(":", 1)[0].lower()
    tenant = path.split("/", 1)[0].lower()
    return ".".join(part for part in ("conference", tenant, host) if part)


class InvalidDialInNumbers(RuntimeError):
    """DIAL_IN_NUMBERS that cannot be read as ``CC:number`` entries."""


_DIAL_IN_ENTRY = re.compile(r"([A-Za-z]{2}):\s*(\+?[0-9][0-9 ()/-]*[0-9])")


def dial_in_numbers(text: str) -> tuple[tuple[str, str], ...]:
    """DIAL_IN_NUMBERS as (country, number) pairs, in the order given.

    The setting is a comma-separated list of ``CC:number`` entries, ``CC`` an ISO 3166
    country code: ``DE:+49 221 123456,DE:+49 221 654321``. Empty: no dial-in. A malformed
    entry stops the app at start (a wrong number in every mail is worse than none)."""
    entries = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        match = _DIAL_IN_ENTRY.fullmatch(entry)
        if match is None or sum(c.isdigit() for c in match.group(2)) < 3:
            raise InvalidDialInNumbers(
                f"DIAL_IN_NUMBERS entry {entry!r} is not COUNTRY:NUMBER (e.g. DE:+49 221 123456)"
            )
        entries.append((match.group(1).upper(), " ".join(match.group(2).split())))
    return tuple(entries)


class InvalidAccessibilitySetting(RuntimeError):
    """ACCESSIBILITY_STATUS or ACCESSIBILITY_STATEMENT_DATE that the statement cannot say."""


ACCESSIBILITY_STATUSES = ("full", "partial", "none")


def check_accessibility(status: str, statement_date: str) -> None:
    """Refuse at start what would make the accessibility statement wrong or blank."""
    if status not in ACCESSIBILITY_STATUSES:
        raise InvalidAccessibilitySetting(f"ACCESSIBILITY_STATUS {status!r} is not one of full, partial, none")
    if statement_date:
        try:
            date.fromisoformat(statement_date)
        except ValueError:
            raise InvalidAccessibilitySetting(
                f"ACCESSIBILITY_STATEMENT_DATE {statement_date!r} is not a date as YYYY-MM-DD"
            ) from None


def load_settings(env: Mapping[str, str], instance_path: str | Path) -> dict[str, Any]:
    """Return the Flask config for this environment; every default is the embedded one."""
    instance = Path(instance_path)
    get = env.get
    public_base_url = (get("PUBLIC_BASE_URL") or served_url(env)).rstrip("/")
    https = public_base_url.startswith("https://")
    jitsi_app_id = get("JITSI_APP_ID", "visits")
    jitsi_domain = get("JITSI_DOMAIN", "meet.jit.si")
    document_max_bytes = int(get("DOCUMENT_MAX_BYTES", str(10 * 1024 * 1024)))
    return {
        # core
        "SECRET_KEY": _secret_key(env, instance),
        "SQLALCHEMY_DATABASE_URI": get("DATABASE_URL") or f"sqlite:///{instance / 'visits.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PUBLIC_BASE_URL": public_base_url,
        "TIMEZONE": get("TIMEZONE", "Europe/Berlin"),
        "HOLIDAY_STATE": get("HOLIDAY_STATE", "NW"),
        "DEFAULT_LANGUAGE": get("DEFAULT_LANGUAGE", "de"),
        # mail
        "SMTP_HOST": get("SMTP_HOST", ""),
        "SMTP_PORT": int(get("SMTP_PORT", "587")),
        "SMTP_USER": get("SMTP_USER", ""),
        "SMTP_PASSWORD": get("SMTP_PASSWORD", ""),
        "SMTP_TLS": get("SMTP_TLS", "starttls").lower(),  # starttls | ssl | off
        "SMTP_TIMEOUT": float(get("SMTP_TIMEOUT", "10")),
        "MAIL_FROM": get("MAIL_FROM", "Bürgerservice <termine@stadt.example>"),
        "MAIL_DIR": get("MAIL_DIR") or str(instance / "mail"),
        # Right-hand side of each mail's Message-ID; empty: the domain of MAIL_FROM.
        "MAIL_MESSAGE_ID_DOMAIN": get("MAIL_MESSAGE_ID_DOMAIN", ""),
        # the city behind the site: pages (imprint, privacy, accessibility, contact) and mails
        "CITY_NAME": get("CITY_NAME", "Stadt Musterstadt"),
        # A path on this site (pages load images from this site only), e.g. /static/wappen.svg.
        "CITY_LOGO_URL": get("CITY_LOGO_URL", ""),
        "CITY_ADDRESS": get("CITY_ADDRESS", "Rathausplatz 1, 12345 Musterstadt"),
        "CITY_CONTACT_EMAIL": get("CITY_CONTACT_EMAIL", "buergerservice@stadt.example"),
        "CITY_CONTACT_PHONE": get("CITY_CONTACT_PHONE", "+49 123 456-0"),
        "CITY_HOTLINE": get("CITY_HOTLINE", "115"),
        # The city's own imprint page (every page links there); empty: ours at /impressum,
        # with the city's name, address and contact, and this text below them.
        "IMPRINT_URL": get("IMPRINT_URL", ""),
        "IMPRINT_TEXT_DE": get("IMPRINT_TEXT_DE", ""),
        "IMPRINT_TEXT_EN": get("IMPRINT_TEXT_EN", ""),
        # The city is the controller (name, address, contact above); its data-protection officer:
        "DATA_PROTECTION_OFFICER": get("DATA_PROTECTION_OFFICER", "Datenschutzbeauftragte der Stadt Musterstadt"),
        "DATA_PROTECTION_OFFICER_CONTACT": get("DATA_PROTECTION_OFFICER_CONTACT", "datenschutz@stadt.example"),
        # The accessibility statement (BITV 2.0, BITV NRW): full | partial | none.
        "ACCESSIBILITY_STATUS": get("ACCESSIBILITY_STATUS", "partial").lower(),
        "ACCESSIBILITY_STATEMENT_DATE": get("ACCESSIBILITY_STATEMENT_DATE", ""),  # YYYY-MM-DD
        "ACCESSIBILITY_KNOWN_ISSUES_DE": get("ACCESSIBILITY_KNOWN_ISSUES_DE", ""),
        "ACCESSIBILITY_KNOWN_ISSUES_EN": get("ACCESSIBILITY_KNOWN_ISSUES_EN", ""),
        # Where to report a barrier; empty: CITY_CONTACT_EMAIL.
        "ACCESSIBILITY_CONTACT": get("ACCESSIBILITY_CONTACT", ""),
        "ACCESSIBILITY_ENFORCEMENT_BODY": get(
            "ACCESSIBILITY_ENFORCEMENT_BODY",
            "Ombudsstelle für barrierefreie Informationstechnik des Landes Nordrhein-Westfalen",
        ),
        "ACCESSIBILITY_ENFORCEMENT_URL": get("ACCESSIBILITY_ENFORCEMENT_URL", "https://www.lbbp.nrw.de/ombudsstelle"),
        "ACCESSIBILITY_ENFORCEMENT_EMAIL": get(
            "ACCESSIBILITY_ENFORCEMENT_EMAIL", "ombudsstelle-barrierefreie-it@mags.nrw.de"
        ),
        # booking rules
        "HOLD_MINUTES": int(get("HOLD_MINUTES", "15")),
        "MAX_UPCOMING_PER_EMAIL": int(get("MAX_UPCOMING_PER_EMAIL", "2")),
        "SLOT_WEEKS_SHOWN": int(get("SLOT_WEEKS_SHOWN", "1")),
        # Reserved hours (phone centre) are offered to the public this long before they start,
        # for a service without a department (a department sets its own).
        "RESERVED_RELEASE_HOURS": int(get("RESERVED_RELEASE_HOURS", "48")),
        # free-slot listings cached until a change (visits/booking/slot_cache.py)
        "SLOT_CACHE_ENABLED": _bool(get("SLOT_CACHE_ENABLED", "true")),
        "SLOT_CACHE_SECONDS": int(get("SLOT_CACHE_SECONDS", "60")),
        "SLOT_CACHE_FILE": get("SLOT_CACHE_FILE") or str(instance / "slot-cache-generation"),
        # scheduled jobs (scheduler.py; see visits/jobs.py)
        "RUN_JOBS_IN_PROCESS": _bool(get("RUN_JOBS_IN_PROCESS", "false")),
        "JOB_INTERVAL_SECONDS": int(get("JOB_INTERVAL_SECONDS", "60")),
        "OUTBOX_INTERVAL_SECONDS": int(get("OUTBOX_INTERVAL_SECONDS", "10")),
        "OUTBOX_MAX_ATTEMPTS": int(get("OUTBOX_MAX_ATTEMPTS", "20")),
        "OUTBOX_BACKOFF_MAX_SECONDS": int(get("OUTBOX_BACKOFF_MAX_SECONDS", "3600")),
        "OUTBOX_BACKOFF_SECONDS": int(get("OUTBOX_BACKOFF_SECONDS", "60")),
        "REMINDER_OFFSETS": get("REMINDER_OFFSETS", "24h,1h"),
        "NO_SHOW_GRACE_MINUTES": int(get("NO_SHOW_GRACE_MINUTES", "15")),
        "NO_SHOW_PAUSE_AFTER": int(get("NO_SHOW_PAUSE_AFTER", "2")),
        "NO_SHOW_WINDOW_DAYS": int(get("NO_SHOW_WINDOW_DAYS", "90")),
        "NO_SHOW_PAUSE_DAYS": int(get("NO_SHOW_PAUSE_DAYS", "30")),
        "RETENTION_DAYS": int(get("RETENTION_DAYS", "30")),
        # documents citizens hand in before a video appointment (visits/booking/documents.py)
        "DOCUMENTS_DIR": get("DOCUMENTS_DIR") or str(instance / "documents"),
        "DOCUMENT_MAX_BYTES": document_max_bytes,
        "DOCUMENTS_MAX_PER_APPOINTMENT": int(get("DOCUMENTS_MAX_PER_APPOINTMENT", "5")),
        # Path of clamd's unix socket: every upload is scanned first (INSTREAM); empty: no scan.
        "CLAMD_SOCKET": get("CLAMD_SOCKET", ""),
        # rate limits (Flask-Limiter; Redis when REDIS_URL is set, else process memory)
        "REDIS_URL": get("REDIS_URL", ""),
        "RATELIMIT_ENABLED": _bool(get("RATELIMIT_ENABLED", "true")),
        "RATELIMIT_BOOKING": get("RATELIMIT_BOOKING", "10 per hour;30 per day"),
        "RATELIMIT_LINKS": get("RATELIMIT_LINKS", "60 per minute"),
        # Anonymous reading of free slots (slot pages, API slot lists) and of calendar feeds.
        "RATELIMIT_SLOTS": get("RATELIMIT_SLOTS", "120 per minute;2000 per hour"),
        "RATELIMIT_FEED": get("RATELIMIT_FEED", "60 per minute"),
        "RATELIMIT_LOGIN": get("RATELIMIT_LOGIN", "5 per minute;30 per hour"),
        "RATELIMIT_LOGIN_ACCOUNT": get("RATELIMIT_LOGIN_ACCOUNT", "5 per minute;20 per hour;50 per day"),
        # A portal's API key books for many citizens: its own budget per key (JSON API).
        "RATELIMIT_API_KEY": get("RATELIMIT_API_KEY", "600 per minute"),
        # The dial-in routes for jitsi-meet and the telephony platform (/jitsi/...), per client.
        "RATELIMIT_DIAL_IN": get("RATELIMIT_DIAL_IN", "30 per minute"),
        # video (Jitsi with token authentication)
        "JITSI_DOMAIN": jitsi_domain,
        "JITSI_APP_ID": jitsi_app_id,
        "JITSI_APP_SECRET": get("JITSI_APP_SECRET", ""),
        "JITSI_AUDIENCE": get("JITSI_AUDIENCE") or jitsi_app_id,
        # Empty: derived from JITSI_DOMAIN when the app starts (``jitsi_subject``).
        "JITSI_SUBJECT": get("JITSI_SUBJECT", ""),
        # The person's email in the token: off, since the Jitsi web app then asks Gravatar
        # (a third party) for a picture, and Jitsi's own logs keep what the token holds.
        "JITSI_TOKEN_EMAIL": _bool(get("JITSI_TOKEN_EMAIL", "false")),
        # Bearer token Prosody's event_sync sends with presence events; empty: no presence.
        "JITSI_EVENTS_TOKEN": get("JITSI_EVENTS_TOKEN", ""),
        "JITSI_PRIVATE_KEY_FILE": get("JITSI_PRIVATE_KEY_FILE", ""),
        "JITSI_KEY_ID": get("JITSI_KEY_ID", ""),
        "JITSI_OPENS_MINUTES_BEFORE": int(get("JITSI_OPENS_MINUTES_BEFORE", "10")),
        "JITSI_GRACE_MINUTES_AFTER": int(get("JITSI_GRACE_MINUTES_AFTER", "30")),
        "JITSI_TOKEN_MINUTES": int(get("JITSI_TOKEN_MINUTES", "10")),
        # Dial-in by phone (visits/video/dial_in.py). Empty: derived from JITSI_DOMAIN when
        # the app starts (``jitsi_muc_domain``).
        "JITSI_MUC_DOMAIN": get("JITSI_MUC_DOMAIN", ""),
        # "CC:number" entries, comma-separated; empty: nothing about phones anywhere.
        "DIAL_IN_NUMBERS": get("DIAL_IN_NUMBERS", ""),
        # The number clerks call citizens from for phone appointments, as citizens are told
        # it; empty: the mails say the call comes from the city administration, no number.
        "PHONE_CALLS_FROM": get("PHONE_CALLS_FROM", ""),
        # sessions and cookies
        # A staff session ends after this many minutes without a request, and this many
        # hours after its login whatever happens; the server checks both on every request.
        "STAFF_SESSION_IDLE_MINUTES": int(get("STAFF_SESSION_IDLE_MINUTES", "30")),
        "STAFF_SESSION_MAX_HOURS": int(get("STAFF_SESSION_MAX_HOURS", "10")),
        # Hours a password handed out by an administrator (invitation, reset) opens the account.
        "STAFF_INITIAL_PASSWORD_HOURS": int(get("STAFF_INITIAL_PASSWORD_HOURS", "72")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        # Over https the cookie is bound to this host alone (no Domain, path /, Secure):
        # a sibling subdomain cannot set or overwrite it (RFC 6265bis "__Host-" prefix).
        "SESSION_COOKIE_NAME": "__Host-session" if https else "session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead: a slow form never fails
        # One request body: room for one document of DOCUMENT_MAX_BYTES and the form around it.
        "MAX_CONTENT_LENGTH": int(get("MAX_CONTENT_LENGTH", str(document_max_bytes + 1024 * 1024))),
        # i18n
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": get("TIMEZONE", "Europe/Berlin"),
        "LANGUAGES": ("de", "en"),
        # running in production (logs, metrics, reverse proxy)
        "LOG_FORMAT": get("LOG_FORMAT", "text").lower(),  # json | text
        "LOG_LEVEL": get("LOG_LEVEL", "INFO").upper(),
        "METRICS_ENABLED": _bool(get("METRICS_ENABLED", "true")),
        # Who may read /metrics (addresses or networks, comma-separated); everyone else gets 404.
        "METRICS_ALLOWED_ADDRESSES": get("METRICS_ALLOWED_ADDRESSES", "127.0.0.1,::1"),
        "TRUSTED_PROXIES": int(get("TRUSTED_PROXIES", "0")),
        "TRUSTED_PROXY_ADDRESSES": get("TRUSTED_PROXY_ADDRESSES", ""),
        "SCHEDULER_METRICS_PORT": int(get("SCHEDULER_METRICS_PORT", "0")),
    }


def settings_from_environment(instance_path: str | Path) -> dict[str, Any]:
    return load_settings(os.environ, instance_path)
