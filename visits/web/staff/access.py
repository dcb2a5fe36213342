"""Who may open a clerk's page, and how long a staff session lasts.

Every route but the login needs a logged-in staff member (anonymous -> the login page). A
clerk reaches only their own appointments, hours and absences (anything else is a 404, so
ids reveal nothing); an administrator sees every clerk's agenda and appointment. The
domain functions that look an object up for a page answer None for someone else's.

A session is checked on the server at every request, not only by its cookie's signature:
it must carry the account's current ``session_version`` (logging out, a new password, a
reset or deactivation raise it), must have been used within STAFF_SESSION_IDLE_MINUTES and
must be younger than STAFF_SESSION_MAX_HOURS. Someone logged in with a password an
administrator handed out sees only the password form until they chose their own."""

from __future__ import annotations

from datetime import datetime

from flask import redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from visits import settings
from visits.clerks import accounts
from visits.core import clock
from visits.extensions import db, login_manager
from visits.models import StaffUser
from visits.web.staff import bp

VERSION_KEY = "staff_session_version"
SINCE_KEY = "staff_session_since"
SEEN_KEY = "staff_session_seen"

# Pages open to someone who must first choose their own password.
_BEFORE_OWN_PASSWORD = {"staff.password", "staff.logout", "staff.login", "static"}


@bp.record_once
def _configure_login(_state) -> None:
    login_manager.login_view = "staff.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"


def session_fields(user: StaffUser, *, now: datetime) -> dict[str, int | float]:
    """What a login from ``now`` keeps in the session beside Flask-Login's user id."""
    return {VERSION_KEY: user.session_version, SINCE_KEY: now.timestamp(), SEEN_KEY: now.timestamp()}


def start_session(user: StaffUser, *, now: datetime) -> None:
    """Mark the session (already logged in with Flask-Login) as this login's, from ``now``."""
    session.update(session_fields(user, now=now))


def _session_valid(user: StaffUser, now: datetime) -> bool:
    config = settings.current()
    since, seen = session.get(SINCE_KEY), session.get(SEEN_KEY)
    if session.get(VERSION_KEY) != user.session_version or since is None or seen is None:
        return False
    moment = now.timestamp()
    if moment - float(seen) > config.staff_session_idle_minutes * 60:
        return False
    return moment - float(since) <= config.staff_session_max_hours * 3600


def load_user(user_id: str) -> StaffUser | None:
    """Flask-Login's user loader: the active account, if this session is still its own."""
    user = db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active:
        return None
    now = clock.now()
    if not _session_valid(user, now):
        return None
    session[SEEN_KEY] = now.timestamp()
    return user


@bp.before_app_request
def _own_password_first():
    if request.blueprint not in ("staff", "admin") or request.endpoint in _BEFORE_OWN_PASSWORD:
        return None
    if current_user.is_authenticated and accounts.must_choose_password(current_user):
        return redirect(url_for("staff.password"))
    return None


@bp.before_request
def _require_login():
    if request.endpoint != "staff.login" and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None
