"""The administration's first page (counts of what needs a look, of the departments the
administrator manages) and the video status (the city administrator's)."""

from __future__ import annotations

from flask import render_template

from visits.admin import operations as administration
from visits.booking import no_shows
from visits.core import clock
from visits.video import jitsi
from visits.web.admin import bp
from visits.web.admin.access import admin_required, department_admin_allowed
from visits.web.admin.pages import me


@bp.route("/")
@department_admin_allowed
def index():
    user = me()
    city = user.is_admin
    return render_template(
        "admin/index.html",
        figures=administration.figures(user),
        department=None if city else user.department,
        failed_count=len(administration.failed_mails()) if city else None,
        pause_count=len(no_shows.active_pauses(clock.now())),
        video=jitsi.status() if city else None,
    )


@bp.route("/video")
@admin_required
def video():
    return render_template("admin/video.html", video=jitsi.status())
