"""The JSON routes for dial-in by phone, in the format jitsi-meet's ``dialInConfCodeUrl`` and
``dialInNumbersUrl`` read (Jitsi's conference mapper API).

- ``GET /jitsi/conference-mapper?conference=<room>@<JITSI_MUC_DOMAIN>``: the PIN of an open
  room; jitsi-meet asks it to show the PIN in the call.
- ``GET /jitsi/conference-mapper?id=<PIN>``: the room of a PIN; the telephony platform asks
  it when a caller has typed the PIN, and puts the answer's ``conference`` into the
  ``Jitsi-Conference-Room`` header of its INVITE to Jigasi (deploy/jitsi/README.md).
- ``GET /jitsi/dial-in-numbers``: DIAL_IN_NUMBERS by country.

Both answer ``{"message", "id", "conference"}``: 200 for a room or PIN whose room is open
now, else 404 with what was asked (``id`` a number or null, ``conference`` or null) and the
same message, whatever the reason: an unknown PIN, one outside its window, a cancelled
appointment's all look alike (visits/video/dial_in.py). No login: neither jitsi-meet's page
nor the telephony platform has one; every route is limited per client by RATELIMIT_DIAL_IN,
so PINs cannot be found by trying. Answers are ``no-store`` (visits/web/headers.py) and may
be read by the Jitsi page only (``Access-Control-Allow-Origin``)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from visits import settings
from visits.core import clock
from visits.extensions import limiter, retry_after
from visits.video import dial_in
from visits.web.headers import jitsi_origin

bp = Blueprint("jitsi_api", __name__, url_prefix="/jitsi")

FOUND = "Successfully retrieved conference mapping"
NOT_FOUND = "No conference mapping was found"
NUMBERS = "Phone numbers available."
NO_NUMBERS = "No phone numbers available."
TOO_MANY = "Too many requests, please try again later."

# What a 404 echoes of the question: at most this long, else null.
_ECHO_CONFERENCE = 300
_ECHO_ID_DIGITS = 15  # beyond this a JSON number loses digits in JavaScript

dial_in_limit = limiter.limit(lambda: settings.current().ratelimit_dial_in)


@bp.after_request
def readable_by_jitsi(response):
    """jitsi-meet fetches these from its page on the Jitsi host: only that origin may read
    them (a simple GET without cookies, so no preflight and no credentials)."""
    origin = jitsi_origin(settings.current().jitsi_domain)
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
    return response


def _pin_asked(value: str | None) -> str | None:
    """The PIN as typed: digits, spaces and a closing '#' allowed; None for anything else."""
    if value is None:
        return None
    digits = "".join(value.split()).removesuffix("#")
    return digits if digits.isascii() and digits.isdigit() else None


def _echo_id(value: str | None) -> int | None:
    digits = _pin_asked(value)
    return int(digits) if digits and len(digits) <= _ECHO_ID_DIGITS else None


def _echo_conference(value: str | None) -> str | None:
    return value if value is not None and len(value) <= _ECHO_CONFERENCE else None


@bp.get("/conference-mapper")
@dial_in_limit
def conference_mapper():
    asked_conference = request.args.get("conference")
    asked_id = request.args.get("id")
    now = clock.now()
    mapping = None
    if asked_conference is not None:
        mapping = dial_in.pin_for_conference(asked_conference, now)
        if mapping is not None and asked_id is not None and _pin_asked(asked_id) != mapping.pin:
            mapping = None  # both asked: they must name the same room
    elif asked_id is not None:
        pin = _pin_asked(asked_id)
        mapping = dial_in.conference_for_pin(pin, now) if pin else None
    if mapping is None:
        body = {
            "message": NOT_FOUND,
            "id": _echo_id(asked_id),
            "conference": _echo_conference(asked_conference),
        }
        return jsonify(body), 404
    return jsonify({"message": FOUND, "id": mapping.id, "conference": mapping.conference})


@bp.get("/dial-in-numbers")
@dial_in_limit
def dial_in_numbers():
    numbers = dial_in.numbers()
    return jsonify(
        {"message": NUMBERS if numbers else NO_NUMBERS, "numbers": numbers, "numbersEnabled": bool(numbers)}
    )


@bp.errorhandler(429)
def too_many_requests(error):
    """The limit's answer in the routes' own shape, so neither caller trips over an HTML page."""
    if request.endpoint == "jitsi_api.dial_in_numbers":
        body = {"message": TOO_MANY, "numbers": {}, "numbersEnabled": False}
    else:
        body = {
            "message": TOO_MANY,
            "id": _echo_id(request.args.get("id")),
            "conference": _echo_conference(request.args.get("conference")),
        }
    return jsonify(body), 429, {"Retry-After": retry_after()}
