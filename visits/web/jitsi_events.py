"""Where Prosody's event_sync component reports who enters and leaves a video room and its
lobby (deploy/jitsi/: one component for the rooms, one for the lobbies, each with its own
``api_prefix``).

POST /jitsi/presence/<room|lobby>/events/<occupant/joined|occupant/left|room/created|
room/destroyed>, JSON as event_sync sends it, with ``Authorization: Bearer
<JITSI_EVENTS_TOKEN>`` (event_sync's ``api_headers``). Without the setting the routes do
not exist (404); a wrong token is a 401. A room that is none of our appointments is
acknowledged and ignored, so the answer tells nothing about which rooms exist."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, request

from visits import settings
from visits.core import clock
from visits.extensions import csrf, limiter
from visits.video import presence

bp = Blueprint("jitsi_events", __name__)
csrf.exempt(bp)  # a server posts JSON here with a bearer token, no browser, no cookie


@bp.post("/jitsi/presence/<place>/events/<subject>/<what>")
@limiter.exempt  # authenticated below; Prosody sends every event of every room
def event(place: str, subject: str, what: str):
    secret = settings.current().jitsi_events_token
    kind = f"{subject}/{what}"
    if not secret or place not in presence.PLACES or kind not in presence.EVENTS:
        abort(404)
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(sent.encode(), secret.encode()):
        return {"error": "unauthorized"}, 401
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return {"error": "a JSON object is expected"}, 400
    presence.record(presence.Event(place=place, kind=kind, body=body), now=clock.now())
    return "", 204
