"""The web layer: blueprints per audience, error pages, security headers."""

from __future__ import annotations

import logging
from contextlib import suppress
from urllib.parse import quote, urlencode

from flask import Flask, abort, render_template, request
from flask_babel import get_locale
from sqlalchemy.exc import InterfaceError, OperationalError

from visits import settings
from visits.extensions import db, login_manager


def register(app: Flask) -> None:
    from visits import api
    from visits.booking import modes
    from visits.ops import observability
    from visits.web import admin, feed, headers, jitsi_api, jitsi_events, staff
    from visits.web.join import views as join
    from visits.web.manage import views as manage
    from visits.web.public import about
    from visits.web.public import views as public

    blueprints = (public.bp, about.bp, manage.bp, join.bp, staff.bp, admin.bp, feed.bp, jitsi_api.bp, jitsi_events.bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    api.register(app)
    observability.register(app)
    # "On site", "Video call", "By phone" in the page's (or mail's) language.
    app.add_template_filter(modes.label, "mode_label")

    # The account, if the session is still its own (version, idle and absolute lifetime).
    login_manager.user_loader(staff.access.load_user)

    @app.context_processor
    def page_context() -> dict:
        def switch_language(language: str) -> str:
            """This page in another language (keeps the query, e.g. the week shown)."""
            args = request.args.to_dict(flat=False)
            args["lang"] = [language]
            # The path as a URL again: a backslash, tab or "//" in it (GET /\evil.example)
            # must not turn the link into one to another host.
            path = "/" + quote(request.path, safe="/:@!$&'()*+,;=-._~").lstrip("/")
            return path + "?" + urlencode(args, doseq=True)

        return {"lang": str(get_locale() or "de"), "switch_language": switch_language}

    @app.before_request
    def refuse_nul_characters():
        """No person types U+0000, and PostgreSQL can neither store nor compare text with
        it (a DataError, so a 500): a query or form field carrying one is a plain 400
        before any view reads it, a path with one names nothing there is (404, as any
        wrong link). JSON bodies: the API's schemas refuse it with a 422."""
        if "\x00" in request.path:
            abort(404)
        if _has_nul(request.args):
            abort(400)
        form_post = request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
        if form_post and _has_nul(request.form):
            abort(400)

    config = settings.of(app)
    headers.register(app, jitsi_domain=config.jitsi_domain, https=config.public_base_url.startswith("https://"))

    for code in (400, 403, 404, 405, 413, 429, 500, 503):
        app.register_error_handler(code, _error_page(code))
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(InterfaceError, _database_unavailable)


def _has_nul(values) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


def _database_unavailable(error):
    """The database is briefly gone (a restart, a failover): say so with a 503, roll back
    what this request began, and let the pool (pre-ping) reconnect on the next request."""
    logging.getLogger(__name__).warning("database unavailable: %s", error.__class__.__name__)
    with suppress(Exception):  # the connection is gone; nothing left to roll back
        db.session.rollback()
    response = _error_page(503)(error)
    body, code = response
    headers = {"Retry-After": "30"}
    return body, code, headers


def _error_page(code: int):
    def handler(error):
        if request.path.startswith("/api/"):
            from visits.api.problems import for_http_error

            return for_http_error(error, code), code  # problem+json (RFC 9457)
        return render_template("errors/error.html", code=code), code

    return handler
