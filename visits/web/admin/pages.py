"""What the administration pages share: who acts, the object a button acts on, the
answer after a change, and the page that shows a secret once."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from visits.admin import places, scope
from visits.extensions import db
from visits.models import StaffUser
from visits.web.admin import forms

# What the rules of visits/admin/operations.py refuse, by refusal code.
MESSAGES = {
    "slug_invalid": _l("Use only lower-case letters, digits and single hyphens, e.g. “id-card”."),
    "slug_taken": _l("Another service uses this address part already."),
    "address_required": _l("Enter the address for an on-site service."),
    "modes_required": _l("Choose at least one way: on site, video call or by phone."),
    "email_taken": _l("A staff account with this email address exists already."),
    "role_invalid": _l("Choose a role."),
    "last_admin": _l("This is the last active administrator; appoint another one first."),
    "location_unknown": _l("Choose one of the locations."),
    "location_slug_taken": _l("Another location uses this address part already."),
    "department_unknown": _l("Choose the department."),
    "coordinates_incomplete": _l("Enter both latitude and longitude, or neither."),
    "latitude_invalid": _l("Enter a number from %(min)s to %(max)s.", min=-90, max=90),
    "longitude_invalid": _l("Enter a number from %(min)s to %(max)s.", min=-180, max=180),
    "closing_ends_before_start": _l("The end must be after the start."),
    "closing_reason_missing": _l("Enter the reason."),
    "role_not_yours": _l("You can invite and change clerks only."),
    "location_not_of_department": _l("Choose a location of the service's department."),
    "department_slug_taken": _l("Another department uses this address part already."),
    "department_has_active_services": _l(
        "The department still has bookable services; deactivate them or move them to another department first."
    ),
}


def me() -> StaffUser:
    """The administrator (or, on the pauses, the clerk) who acts."""
    return current_user._get_current_object()


def department_choices() -> list[tuple[int, str]]:
    """The departments a form may put something into: every one for the city's
    administrator, their own for a department administrator."""
    return [(d.id, d.name_de) for d in places.all_departments(me())]


def home_department_id() -> int:
    """The department a new service, location or staff member is put into unless one is
    chosen: a department administrator's own, else the default department."""
    user = me()
    return user.department_id if user.is_department_admin else places.default_location().department_id


def get_or_404(model, object_id: int):
    """The object, if it exists and the acting administrator manages it (a department
    administrator: of their department); else 404, so nothing of another department is
    disclosed, not even that it exists."""
    obj = db.session.get(model, object_id)
    if obj is None or not scope.in_scope(me(), obj):
        abort(404)
    return obj


def pressed(model, object_id: int):
    """The object a plain button acts on (404 if there is none or it is not the acting
    administrator's to manage); the button's form carries only its CSRF token, and a stale
    or missing one is a 400."""
    obj = get_or_404(model, object_id)
    if not forms.ButtonForm().validate_on_submit():
        abort(400)
    return obj


def with_buttons(template: str, **context) -> str:
    """A page with plain buttons (``button``: the form that gives each its CSRF token)."""
    return render_template(template, button=forms.ButtonForm(), **context)


def done(message: str, endpoint: str):
    """Say what happened and go back to the list (POST, redirect, GET)."""
    flash(message, "success")
    return redirect(url_for(endpoint))


def shown_once(template: str, **context):
    """A page that shows a secret once: rendered as the POST's answer, never redirected to."""
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    return response

