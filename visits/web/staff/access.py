"""Who may open a clerk's page.

Every route but the login needs a logged-in staff member (anonymous -> the login page). A
clerk reaches only their own appointments, hours and absences (anything else is a 404, so
ids reveal nothing); an administrator sees every clerk's agenda and appointment. The
domain functions that look an object up for a page answer None for someone else's."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from visits.extensions import login_manager
from visits.web.staff import bp


@bp.record_once
def _configure_login(_state) -> None:
    login_manager.login_view = "staff.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"


@bp.before_request
def _require_login():
    if request.endpoint != "staff.login" and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None
