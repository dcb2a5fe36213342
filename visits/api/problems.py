"""Errors of the API as problem details (RFC 9457, ``application/problem+json``).

Every error answer of /api/ has the same shape: ``type`` (a URI a portal can switch on),
``title`` (short, in the caller's language), ``status``, ``detail`` and, for invalid input,
``errors`` per field. The web layer's error handlers call ``for_http_error`` for /api/ paths,
so unknown API paths, wrong methods, rate limits and server errors answer alike."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, current_app, json, request
from flask_babel import force_locale, lazy_gettext
from werkzeug.exceptions import HTTPException

from visits import settings
from visits.booking import operations as booking
from visits.extensions import retry_after

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/problems/"

# type slug -> English title (msgid; German in visits/i18n/api).
TITLES = {
    "bad-request": lazy_gettext("The request could not be read"),
    "authentication-required": lazy_gettext("Authentication required"),
    "invalid-api-key": lazy_gettext("Invalid API key"),
    "not-found": lazy_gettext("Not found"),
    "method-not-allowed": lazy_gettext("Method not allowed"),
    "payload-too-large": lazy_gettext("Request too large"),
    "invalid-input": lazy_gettext("Invalid input"),
    "slot-unavailable": lazy_gettext("This time is no longer free"),
    "already-booked-at-this-time": lazy_gettext("Already booked at this time"),
    "limit-reached": lazy_gettext("Booking limit reached"),
    "booking-paused": lazy_gettext("Online booking is paused for this email address"),
    "not-changeable": lazy_gettext("This appointment can no longer be changed"),
    "hold-expired": lazy_gettext("The reservation has expired"),
    "mode-not-offered": lazy_gettext("The service is not offered this way"),

    "too-many-persons": lazy_gettext("Too many persons for this service"),
    "not-combinable": lazy_gettext("These services cannot be booked together"),
    "duplicate-service": lazy_gettext("A service is named twice"),
    "no-service": lazy_gettext("No service named"),
    "rate-limited": lazy_gettext("Too many requests"),
    "server-error": lazy_gettext("Internal error"),
    "unavailable": lazy_gettext("Temporarily unavailable"),
}

_BY_STATUS = {
    400: "bad-request",
    401: "authentication-required",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    422: "invalid-input",
    429: "rate-limited",
    500: "server-error",
    503: "unavailable",
}

_DETAILS = {
    "not-found": lazy_gettext("There is no such resource, or the credentials do not fit it."),
    "authentication-required": lazy_gettext(
        "Send the appointment's manage token (X-Manage-Token) or the portal's API key "
        "(Authorization: Bearer ...)."
    ),
    "invalid-api-key": lazy_gettext("The API key is unknown or has been revoked."),
    "invalid-input": lazy_gettext("Some fields are not valid; see errors."),
    "bad-request": lazy_gettext("The request body is not valid JSON."),
    "slot-unavailable": lazy_gettext(
        "The time is not a free slot of this service (any more). Please choose another one."
    ),
    "already-booked-at-this-time": lazy_gettext(
        "This email address already has an appointment at this time."
    ),
    "limit-reached": lazy_gettext(
        "This email address already has as many upcoming appointments as allowed. Cancel one of them first."
    ),
    "booking-paused": lazy_gettext(
        "After missed appointments, online booking is paused for a while. "
        "Please call the citizens' service line."
    ),
    "not-changeable": lazy_gettext("The appointment is over, cancelled or expired."),
    "hold-expired": lazy_gettext("The reservation ran out and the time was taken meanwhile."),
    "mode-not-offered": lazy_gettext("Choose one of the service's modes (see its `modes`)."),

    "too-many-persons": lazy_gettext("One appointment takes at most `limit` persons for this service."),
    "not-combinable": lazy_gettext(
        "Only services marked as combinable, all of one department, can share one appointment."
    ),
    "duplicate-service": lazy_gettext("Name each service once, with its number of persons."),
    "no-service": lazy_gettext("Name at least one service."),
    "rate-limited": lazy_gettext("Please wait a little and try again."),
    "method-not-allowed": lazy_gettext("This address does not support the method used."),
    "payload-too-large": lazy_gettext("The request body is too large."),
    "server-error": lazy_gettext("Something went wrong on our side. Please try again later."),
    "unavailable": lazy_gettext("The service is briefly unavailable. Please try again shortly."),
}

# booking error code -> (HTTP status, type slug)
_BOOKING_ERRORS = {
    booking.SlotUnavailable: (409, "slot-unavailable"),
    booking.AlreadyBookedAtThisTime: (409, "already-booked-at-this-time"),
    booking.LimitReached: (409, "limit-reached"),
    booking.BookingPaused: (409, "booking-paused"),
    booking.NotChangeable: (409, "not-changeable"),
    booking.HoldExpired: (409, "hold-expired"),
    booking.ModeNotOffered: (422, "mode-not-offered"),

    booking.TooManyPersons: (422, "too-many-persons"),
    booking.NotCombinable: (422, "not-combinable"),
    booking.DuplicateService: (422, "duplicate-service"),
    booking.NoService: (422, "no-service"),
}


class ProblemSchema(ma.Schema):
    """Problem details (RFC 9457) as every error of this API answers them."""

    type = ma.fields.String(
        required=True,
        metadata={"description": "URI of the problem type, e.g. /api/v1/problems/slot-unavailable"},
    )
    title = ma.fields.String(required=True, metadata={"description": "Short, in the caller's language"})
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(metadata={"description": "What happened, in the caller's language"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Invalid input (422): messages per field"},
    )
    limit = ma.fields.Integer(metadata={"description": "limit-reached: upcoming appointments allowed"})
    paused_until = ma.fields.String(metadata={"description": "booking-paused: until when (ISO 8601)"})


def language() -> str:
    """The caller's language from Accept-Language: German unless English is preferred."""
    languages = settings.current().languages
    return request.accept_languages.best_match(languages) or settings.current().default_language


def problem(
    status: int,
    slug: str | None,
    *,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response; ``slug`` None means ``about:blank`` (plain HTTP status)."""
    with force_locale(language()):
        if slug is None or slug not in TITLES:
            from werkzeug.http import HTTP_STATUS_CODES

            body: dict[str, Any] = {
                "type": "about:blank",
                "title": HTTP_STATUS_CODES.get(status, "Error"),
                "status": status,
            }
        else:
            body = {"type": TYPE_BASE + slug, "title": str(TITLES[slug]), "status": status}
        text = detail if detail is not None else (str(_DETAILS[slug]) if slug in _DETAILS else None)
        if text:
            body["detail"] = text
    body.update({k: v for k, v in extra.items() if v is not None})
    response = current_app.response_class(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    response.headers["Content-Language"] = language()
    response.headers["Vary"] = "Accept-Language"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def invalid(errors: dict[str, list[str]]) -> Response:
    return problem(422, "invalid-input", errors=errors)


def field_errors(messages: Any) -> dict[str, list[str]]:
    """Webargs' ``{"json": {"name": ["..."]}}`` as ``{"name": ["..."]}`` (nested fields
    joined with dots, the location dropped: each field lives in one place)."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix or "_schema", []).extend(value)
        else:
            flat.setdefault(prefix or "_schema", []).append(str(value))

    if isinstance(messages, dict):
        for location_messages in messages.values():
            walk("", location_messages)
    else:
        walk("", messages)
    return flat


def for_http_error(error: HTTPException | Exception, code: int | None = None) -> Response:
    """The problem response for an HTTP error raised anywhere under /api/."""
    status = code or getattr(error, "code", None) or 500
    data = getattr(error, "data", None) or {}
    headers: dict[str, str] = {}
    if status == 422 and ("messages" in data or "errors" in data):
        return invalid(field_errors(data.get("errors") or data.get("messages")))
    if status == 405:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="visits"'
    if status == 429:
        headers["Retry-After"] = retry_after()
    if status == 503:
        headers["Retry-After"] = "30"
    slug = data.get("problem") or _BY_STATUS.get(status)
    return problem(status, slug, headers=headers)


def for_booking_error(error: booking.BookingError) -> Response:
    if isinstance(error, booking.InvalidCitizen):
        field = error.info.get("field") or "_schema"
        return invalid({field: [error.detail]})
    status, slug = next(
        (value for cls, value in _BOOKING_ERRORS.items() if isinstance(error, cls)),
        (409, None),
    )
    extra: dict[str, Any] = {}
    if "limit" in error.info:
        extra["limit"] = error.info["limit"]
    if error.info.get("paused_until") is not None:
        extra["paused_until"] = error.info["paused_until"].isoformat()
    if isinstance(error, booking.ModeNotOffered):
        extra["errors"] = {"mode": [error.code]}
    return problem(status, slug, **extra)
