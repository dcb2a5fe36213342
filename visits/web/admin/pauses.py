"""Booking pauses after repeated no-shows: the list and lifting one (clerks may too)."""

from __future__ import annotations

from flask_babel import gettext

from visits.booking import no_shows
from visits.core import clock
from visits.models import BookingPause
from visits.web.admin import bp
from visits.web.admin.access import staff_required
from visits.web.admin.pages import done, me, pressed, with_buttons


@bp.route("/pauses")
@staff_required
def pauses():
    return with_buttons("admin/pauses.html", pauses=no_shows.active_pauses(clock.now()))


@bp.route("/pauses/<int:pause_id>/lift", methods=["POST"])
@staff_required
def pause_lift(pause_id: int):
    pause = pressed(BookingPause, pause_id)
    no_shows.lift_pause(pause, me(), now=clock.now())
    return done(gettext("%(email)s can book online again.", email=pause.email), "admin.pauses")
