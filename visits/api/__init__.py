"""The JSON API for service portals (/api/v1), its OpenAPI document generated from the code.

flask-smorest builds the document from the routes and marshmallow schemas
(``/api/v1/openapi.json``); nothing of it is written by hand. Errors are problem details
(RFC 9457): see problems.py."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from visits.api import problems
from visits.extensions import csrf

SPEC_DESCRIPTION = """Book appointments with the city administration from a service portal.

Without credentials a booking is a hold that the citizen confirms by the link in the mail
(double opt-in, as on the web). A portal with an API key (`Authorization: Bearer ...`,
created by an administrator) books confirmed at once for citizens it has identified, and may
see and cancel what it booked. The citizen's manage token (`X-Manage-Token`, from the manage
link in the mails) authorises seeing and cancelling that one appointment.

Errors are `application/problem+json` (RFC 9457); switch on `type`."""


class ProblemApi(Api):
    """flask-smorest's Api, answering and documenting errors as problem details, and only
    under /api/ (its default handler would turn every HTML error page of the app into JSON)."""

    ERROR_SCHEMA = problems.ProblemSchema
    DEFAULT_RESPONSE_CONTENT_TYPE = "application/json"

    def _register_error_handlers(self) -> None:
        pass  # see register(): the blueprint and the web layer's handlers answer /api/ errors

    def _register_responses(self) -> None:
        import http

        from flask_smorest.utils import prepare_response

        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Problem details (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def register(app: Flask) -> None:
    """Attach the API and its OpenAPI document to the app."""
    from visits.api.routes import bp

    app.config.setdefault("API_TITLE", "Visits API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {"description": SPEC_DESCRIPTION},
            "servers": [{"url": "/"}],
        },
    )
    api = ProblemApi(app)
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "A portal's API key"},
    )
    api.spec.components.security_scheme(
        "manageToken",
        {
            "type": "apiKey",
            "in": "header",
            "name": "X-Manage-Token",
            "description": "The token of the citizen's manage link (…/termin/<token>)",
        },
    )
    csrf.exempt(bp)
    api.register_blueprint(bp)
    app.extensions["visits-api"] = api
