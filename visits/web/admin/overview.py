"""The administration's first page (counts of what needs a look) and the video status."""

from __future__ import annotations

from flask import render_template

from visits.admin import operations as administration
from visits.booking import no_shows
from visits.core import clock
from visits.video import jitsi
from visits.web.admin import bp
from visits.web.admin.access import admin_required


@bp.route("/")
@admin_required
def index():
    return render_template(
        "admin/index.html",
        failed_count=len(administration.failed_mails()),
        pause_count=len(no_shows.active_pauses(clock.now())),
        video=jitsi.status(),
    )


@bp.route("/video")
@admin_required
def video():
    return render_template("admin/video.html", video=jitsi.status())
