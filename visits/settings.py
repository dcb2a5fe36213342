"""The Visits settings as one typed, read-only object.

``config.py`` reads the environment (with every default) into the Flask config; ``create_app``
then builds one ``Settings`` from it, once, and keeps it in ``app.extensions``. Everything
else asks ``settings.current()`` (or ``settings.of(app)`` before a request or app context
exists), never ``current_app.config``: a setting has one name, one type and one default.
Keys that only Flask or its extensions read (cookies, CSRF, Babel, the limiter's storage)
stay in the Flask config alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from config import TRUE_WORDS

EXTENSION_KEY = "visits.settings"


@dataclass(frozen=True)
class Settings:
    # core
    secret_key: str
    database_url: str
    public_base_url: str
    timezone: str
    holiday_state: str
    default_language: str
    languages: tuple[str, ...]
    # mail
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str
    smtp_tls: str  # starttls | ssl | off
    smtp_timeout: float
    mail_from: str
    mail_dir: str
    mail_message_id_domain: str
    # the city behind the site (visits/web/public/about.py, the mails' signature)
    city_name: str
    city_logo_url: str  # a path on this site; empty: no logo
    city_address: str
    city_contact_email: str
    city_contact_phone: str
    city_hotline: str
    imprint_url: str  # empty: our own /impressum
    imprint_text_de: str
    imprint_text_en: str
    data_protection_officer: str
    data_protection_officer_contact: str
    accessibility_status: str  # full | partial | none
    accessibility_statement_date: str  # YYYY-MM-DD; empty: not named
    accessibility_known_issues_de: str
    accessibility_known_issues_en: str
    accessibility_contact: str  # empty: city_contact_email
    accessibility_enforcement_body: str
    accessibility_enforcement_url: str
    accessibility_enforcement_email: str
    # booking rules
    hold_minutes: int
    max_upcoming_per_email: int
    slot_weeks_shown: int
    reserved_release_hours: int
    slot_cache_enabled: bool
    slot_cache_seconds: int
    slot_cache_file: str
    # scheduled jobs
    run_jobs_in_process: bool
    job_interval_seconds: int
    outbox_interval_seconds: int
    outbox_max_attempts: int
    outbox_backoff_max_seconds: int
    outbox_backoff_seconds: int
    reminder_offsets: str
    no_show_grace_minutes: int
    no_show_pause_after: int
    no_show_window_days: int
    no_show_pause_days: int
    retention_days: int
    # documents handed in before a video appointment
    documents_dir: str
    document_max_bytes: int
    documents_max_per_appointment: int
    clamd_socket: str  # empty: no virus scan
    # rate limits
    redis_url: str
    ratelimit_enabled: bool
    ratelimit_booking: str
    ratelimit_links: str
    ratelimit_login: str  # per client address (IPv6: per /64)
    ratelimit_login_account: str  # per staff account, from all addresses together
    ratelimit_api_key: str
    ratelimit_slots: str  # anonymous slot pages and API slot lists, per client
    ratelimit_feed: str  # calendar feed fetches, per client
    ratelimit_dial_in: str  # the dial-in routes (/jitsi/...), per client and route
    # video
    jitsi_domain: str
    jitsi_app_id: str
    jitsi_app_secret: str
    jitsi_audience: str
    jitsi_subject: str
    jitsi_private_key_file: str
    jitsi_key_id: str
    jitsi_opens_minutes_before: int
    jitsi_grace_minutes_after: int
    jitsi_token_minutes: int
    jitsi_token_email: bool  # the person's email in the token (Gravatar); off by default
    jitsi_events_token: str  # event_sync's bearer token; empty: presence is not reported
    jitsi_muc_domain: str  # conference.<host>: the domain part of the room JIDs jitsi-meet asks about
    dial_in_numbers: str  # "CC:number,..." (config.dial_in_numbers); empty: no dial-in
    phone_calls_from: str  # the number clerks call from (phone appointments); empty: not named
    # staff sessions and passwords
    staff_session_idle_minutes: int
    staff_session_max_hours: int
    staff_initial_password_hours: int
    # running in production
    log_format: str  # json | text
    log_level: str
    metrics_enabled: bool
    metrics_allowed_addresses: str  # comma-separated addresses/networks that may read /metrics
    trusted_proxies: int
    trusted_proxy_addresses: str  # comma-separated addresses/networks of those proxies
    scheduler_metrics_port: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Pick the Visits settings out of a Flask config, converted to the field's type
        (a test may override a number as a string, as the environment would give it)."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            key = "SQLALCHEMY_DATABASE_URI" if field.name == "database_url" else field.name.upper()
            values[field.name] = _typed(field.type, config[key])
        return cls(**values)

    @property
    def zone(self) -> ZoneInfo:
        """The local time zone of the administration (wall-clock hours, mails, pages)."""
        return ZoneInfo(self.timezone)


def _typed(kind: str, value: Any) -> Any:
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).strip().lower() in TRUE_WORDS
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind.startswith("tuple"):
        return tuple(value)
    return "" if value is None else str(value)


def init_app(app: Flask) -> Settings:
    """Build the settings from ``app.config`` (loaded and overridden already) and keep them."""
    built = Settings.from_config(app.config)
    app.extensions[EXTENSION_KEY] = built
    return built


def of(app: Flask) -> Settings:
    return app.extensions[EXTENSION_KEY]


def current() -> Settings:
    """The settings of the app handling this request, job or command."""
    return current_app.extensions[EXTENSION_KEY]
