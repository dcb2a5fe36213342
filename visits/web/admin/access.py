"""Who may open an administration page.

Every route needs a login (anonymous -> the staff login). A route is for the city's
administrators only (``admin_required``; anyone else gets 403: API keys, failed mails,
video, the audit log, departments), or for them and department administrators
(``department_admin_allowed``: services, locations and closing days, staff, reports, the
overview; a department administrator sees only their department there, by
``visits.admin.scope``), or for every staff member (``staff_required``: the booking pauses,
which clerks may lift as well). A route with no decorator is the city administrator's by
``_default_deny``, so forgetting one cannot open a page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, request
from flask_login import current_user

from visits.extensions import login_manager
from visits.models import StaffUser
from visits.web.admin import bp

# Who may open a route of each access level (a logged-in staff member).
MAY_OPEN: dict[str, Callable[[StaffUser], bool]] = {
    "admin": lambda user: user.is_admin,
    "department": lambda user: user.administers,
    "staff": lambda user: True,
}


def _requiring(access: str) -> Callable[[Callable], Callable]:
    """A decorator: anonymous -> the login page; a staff member ``MAY_OPEN[access]`` refuses -> 403."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not MAY_OPEN[access](current_user):
                abort(403)
            return view(*args, **kwargs)

        wrapper._access = access  # read by _default_deny
        return wrapper

    return decorate


# The city's administrators only.
admin_required = _requiring("admin")
# The city's administrators and department administrators (who see their department only:
# the page narrows what it shows by ``visits.admin.scope``); clerks -> 403.
department_admin_allowed = _requiring("department")
# Any logged-in staff member.
staff_required = _requiring("staff")


@bp.before_request
def _default_deny():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    view = current_app.view_functions.get(request.endpoint or "")
    if not MAY_OPEN[getattr(view, "_access", "admin")](current_user):
        abort(403)
    return None


@bp.after_request
def _no_store(response):
    # Admin pages show personal data and, once, passwords and keys: keep them out of caches.
    response.headers["Cache-Control"] = "no-store"
    return response
