"""The clerk's secret iCalendar feed (webcal subscription).

The token in the URL is the only credential (calendar programs cannot log in), so it is
long and random, stored only as a hash, and renewing it revokes the old URL. A wrong or
revoked token is a plain 404."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from visits import settings
from visits.booking import calendar
from visits.clerks import feed as clerk_feed
from visits.core import clock
from visits.extensions import limiter

bp = Blueprint("feed", __name__)


@bp.get("/feed/<token>.ics", endpoint="calendar")
@limiter.limit(lambda: settings.current().ratelimit_feed)
def calendar_feed(token: str):
    clerk = clerk_feed.clerk_by_feed_token(token)
    if clerk is None:
        abort(404)
    now = clock.now()
    body = calendar.feed_ics(
        clerk_feed.feed_appointments(clerk, now), calendar_name=f"Termine – {clerk.name}", now=now
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="termine.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
