"""The video join page for citizens and the clerk's moderator join (Jitsi tokens).

The mails link here, never to Jitsi: this page shows the appointment and whether its room
is open; pressing "join" mints a fresh token (visits/video/jitsi.py), records the join and
redirects to Jitsi. The token exists only in that redirect.

An invited guest (interpreter, support person) has a link of their own to the same page
(``/video/<their token>``): it shows their name, and "join" lets them into the same room
as a non-moderator who waits in the lobby. A removed guest's link, and any guest link of a
cancelled appointment, is the same 404 as a wrong link."""

from __future__ import annotations

import logging
from datetime import datetime

from babel.dates import format_date, format_time
from flask import Blueprint, abort, make_response, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from visits import settings
from visits.booking import availability, guests, links
from visits.booking import operations as booking
from visits.clerks import agenda as clerk_agenda
from visits.core import clock
from visits.extensions import limiter
from visits.models import Appointment, AppointmentGuest
from visits.video import dial_in, jitsi
from visits.video.jitsi import State
from visits.web.manage.views import link_lookups, too_many_lookups

bp = Blueprint("join", __name__)
bp.record_once(lambda setup: jitsi.log_status(setup.app))

log = logging.getLogger(__name__)

# Up to this long before the room opens, the page shows a live countdown.
COUNTDOWN_SECONDS = 24 * 3600


@bp.after_request
def no_store(response):
    """The page shows personal data and leads to a token: no caches, no history copies."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/video/<token>")
@link_lookups  # one RATELIMIT_LINKS budget per address with the manage pages: no guessing
def page(token: str):
    appointment, guest = _visitor_or_404(token)
    return _citizen_page(appointment, clock.now(), guest=guest)


@bp.post("/video/<token>")
@link_lookups
@limiter.limit("30 per minute")
def enter(token: str):
    """The citizen (or their guest) presses "join": into the room when it is open, else the
    page says why."""
    appointment, guest = _visitor_or_404(token)
    now = clock.now()
    if not jitsi.can_join(appointment, now):
        return _citizen_page(appointment, now, refused=True, guest=guest)
    try:
        if guest is None:
            entry = jitsi.entry_for_citizen(appointment, now)
        else:
            entry = jitsi.entry_for_guest(appointment, guest, now)
    except jitsi.JitsiNotConfigured as exc:
        log.error("Jitsi: cannot mint a token: %s", exc)
        return _citizen_page(appointment, now, unavailable=True, guest=guest), 503
    if guest is None:
        booking.record_join(appointment, "citizen", now=now)
    else:
        guests.record_guest_join(guest, now=now)
    return redirect(entry.url, code=303)


@bp.post("/staff/appointments/<int:appointment_id>/join")
@login_required
def clerk(appointment_id: int):
    """The clerk (or an admin) joins the same room as moderator and admits the citizen."""
    appointment = clerk_agenda.visible_appointment(current_user, appointment_id)
    if appointment is None:
        abort(404)  # someone else's appointment: as if it did not exist
    now = clock.now()
    current = jitsi.state(appointment, now)
    if not jitsi.can_join(appointment, now):
        return _clerk_page(appointment, now, current)
    try:
        entry = jitsi.entry_for_clerk(appointment, current_user, now)
    except jitsi.JitsiNotConfigured as exc:
        log.error("Jitsi: cannot mint a token: %s", exc)
        return _clerk_page(appointment, now, current, unavailable=True), 503
    booking.record_join(appointment, "clerk", staff=current_user, now=now)
    return redirect(entry.url, code=303)


bp.register_error_handler(429, too_many_lookups)  # the same clear page as the manage links


# -- helpers -----------------------------------------------------------------------------


def _visitor_or_404(token: str) -> tuple[Appointment, AppointmentGuest | None]:
    """The appointment behind a join link, and the guest when it is a guest's link. A wrong
    link, a removed guest's and one of a cancelled or anonymised appointment's guests look
    the same."""
    appointment = links.by_join_token(token)
    if appointment is not None:
        if appointment.anonymised_at is not None:
            abort(404)
        return appointment, None
    guest = guests.by_guest_token(token)
    if guest is None:
        abort(404)
    return guest.appointment, guest


def _when(moment: datetime) -> dict[str, str]:
    """Date and time of ``moment`` in the city's time zone, in the page's language."""
    zone = availability.zone()
    local = moment.astimezone(zone)
    locale = str(get_locale() or "de")
    return {
        "date": format_date(local.date(), format="full", locale=locale),
        "time": format_time(local, format="HH:mm", locale=locale),
        "iso": local.isoformat(),
    }


def _countdown(seconds: int) -> str:
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _details(appointment: Appointment, now: datetime) -> dict:
    """Everything the templates show, computed here (no time arithmetic in templates)."""
    times = jitsi.window(appointment)
    lang = str(get_locale() or "de")
    until_open = int((times.opens_at - now).total_seconds())
    return {
        "appointment": appointment,
        "service_name": appointment.service.name(lang),
        "documents": appointment.service.documents(lang),
        "start": _when(appointment.start_at),
        "end": _when(appointment.end_at),
        "opens": _when(times.opens_at),
        "closes": _when(times.closes_at),
        "opens_minutes": settings.current().jitsi_opens_minutes_before,
        "until_open_seconds": until_open,
        "countdown": _countdown(until_open) if 0 < until_open <= COUNTDOWN_SECONDS else None,
        "moved": appointment.sequence > 0,
    }


def _citizen_page(
    appointment: Appointment,
    now: datetime,
    *,
    refused: bool = False,
    unavailable: bool = False,
    guest: AppointmentGuest | None = None,
):
    response = make_response(
        render_template(
            "join/page.html",
            guest=guest,
            guest_role=guests.ROLE_LABELS.get(guest.role, guest.role) if guest else None,
            state=jitsi.state(appointment, now),
            refused=refused,
            unavailable=unavailable,
            # How to take part by phone (DIAL_IN_NUMBERS and the PIN), or None.
            phone_line=dial_in.line_for(appointment),
            **_details(appointment, now),
        )
    )
    # The page's URL carries the join token. "same-origin": its "join" POST (to us) carries
    # the Referer Flask-WTF needs over https, while the 303 to Jitsi that answers it (and
    # every other host) gets none, so the token never reaches Jitsi's logs.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _clerk_page(appointment: Appointment, now: datetime, current: State, *, unavailable: bool = False):
    return render_template(
        "join/clerk.html",
        state=current,
        unavailable=unavailable,
        back=url_for("staff.agenda"),
        **_details(appointment, now),
    )
