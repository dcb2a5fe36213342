"""Visits: booking and video appointments for city administrations."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event

from config import (
    check_accessibility,
    check_secret_key,
    dial_in_numbers,
    jitsi_muc_domain,
    jitsi_subject,
    settings_from_environment,
)
from visits import settings
from visits.core.language import select_locale, translation_directories
from visits.extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The application factory: settings from the environment, then ``test_config``."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings_from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    check_secret_key(app.config["SECRET_KEY"], app.config["PUBLIC_BASE_URL"])  # before serving anything
    app.config["JITSI_SUBJECT"] = jitsi_subject(app.config["JITSI_DOMAIN"], app.config["JITSI_SUBJECT"])
    app.config["JITSI_MUC_DOMAIN"] = jitsi_muc_domain(app.config["JITSI_DOMAIN"], app.config["JITSI_MUC_DOMAIN"])
    dial_in_numbers(app.config["DIAL_IN_NUMBERS"])  # a malformed entry stops the start here
    check_accessibility(app.config["ACCESSIBILITY_STATUS"], app.config["ACCESSIBILITY_STATEMENT_DATE"])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translation_directories())
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("RATELIMIT_STORAGE_URI") or (
        app.config["REDIS_URL"] or "memory://"
    )
    settings.init_app(app)  # the typed settings everything else reads (visits.settings)
    app.context_processor(lambda: {"settings": settings.current()})  # templates read them too

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    with app.app_context():
        _tune_engine(db.engine)

    from visits import jobs, listeners, web
    from visits.booking import slot_cache
    from visits.ops import cli

    slot_cache.init_app(app)  # free-slot listings, invalidated after every relevant commit
    cli.register(app)
    jobs.register(app)  # run-jobs command, RUN_JOBS_IN_PROCESS
    web.register(app)
    listeners.wire()  # every receiver of the booking, mail and job events (idempotent)
    logging.getLogger(__name__).debug("Visits app created")
    return app


def _tune_engine(engine) -> None:
    """On SQLite, every transaction takes the write lock at BEGIN (BEGIN IMMEDIATE).

    That is what serialises two bookings on the embedded database; together with the
    overlap triggers it makes a double booking impossible there too. The busy timeout lets
    a second writer wait instead of failing."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
