"""Who may open an administration page.

Every route needs a login (anonymous -> the staff login). Every route is for
administrators only (``admin_required``; a clerk gets 403) except the booking pauses, which
clerks may see and lift as well (``staff_required``). A route with neither decorator is
refused to clerks by ``_default_deny``, so forgetting one cannot open a page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, request
from flask_login import current_user

from visits.extensions import login_manager
from visits.web.admin import bp


def _mark(view: Callable, access: str) -> Callable:
    view._access = access  # read by _default_deny
    return view


def admin_required(view: Callable) -> Callable:
    """Logged-in administrators only: anonymous -> login page, anyone else -> 403."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return _mark(wrapper, "admin")


def staff_required(view: Callable) -> Callable:
    """Any logged-in staff member (clerk or administrator)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return _mark(wrapper, "staff")


@bp.before_request
def _default_deny():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "_access", "admin") != "staff" and not current_user.is_admin:
        abort(403)
    return None


@bp.after_request
def _no_store(response):
    # Admin pages show personal data and, once, passwords and keys: keep them out of caches.
    response.headers["Cache-Control"] = "no-store"
    return response
