"""Staff accounts: the list, inviting one, changing one, (re)activating, a new password.
The city's administrator chooses each person's department and role; a department
administrator manages the clerks of their own department only."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from visits.admin import operations as administration
from visits.core import clock
from visits.models import Role, Service, StaffUser
from visits.web.admin import bp, forms
from visits.web.admin.access import department_admin_allowed
from visits.web.admin.pages import (
    MESSAGES,
    department_choices,
    get_or_404,
    home_department_id,
    me,
    pressed,
    shown_once,
    with_buttons,
)
from visits.web.staff.forms import choices, show_refusal


def _choices(form, offered: list[Service]) -> None:
    """The services, departments and roles the acting administrator may give: a
    department administrator their department's services, and the role of a clerk only."""
    form.services.choices = choices((s.id, s.name_de) for s in offered)
    form.department_id.choices = department_choices()
    if not me().is_admin:
        form.role.choices = [c for c in forms.ROLE_CHOICES if c.value == Role.CLERK]


def _chosen_services(form, offered: list[Service]) -> list[Service]:
    ids = set(form.services.data or [])
    return [s for s in offered if s.id in ids]


@bp.route("/staff")
@department_admin_allowed
def staff():
    return with_buttons("admin/staff.html", people=administration.all_staff(me()), roles=forms.ROLE_LABELS)


@bp.route("/staff/new", methods=["GET", "POST"])
@department_admin_allowed
def staff_new():
    form = forms.InviteForm(department_id=home_department_id())
    offered = administration.all_services(me())
    _choices(form, offered)
    if form.validate_on_submit():
        try:
            user, password = administration.invite(
                form.email.data,
                form.name.data,
                form.role.data,
                _chosen_services(form, offered),
                me(),
                now=clock.now(),
                department_id=form.department_id.data,
            )
        except administration.AdminError as exc:
            show_refusal(form, exc, MESSAGES)
        else:
            return shown_once("admin/password_once.html", person=user, password=password, new=True)
    return render_template("admin/staff_new.html", form=form), (422 if form.errors else 200)


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@department_admin_allowed
def staff_edit(user_id: int):
    person = get_or_404(StaffUser, user_id)
    form = forms.StaffEditForm(obj=person if request.method == "GET" else None, department_id=person.department_id or home_department_id())
    offered = administration.all_services(me())
    _choices(form, offered)
    if request.method == "GET":
        form.services.data = [s.id for s in person.services]
    if form.validate_on_submit():
        try:
            administration.update_staff(
                person,
                form.name.data,
                form.role.data,
                _chosen_services(form, offered),
                me(),
                now=clock.now(),
                department_id=form.department_id.data,
            )
        except administration.AdminError as exc:
            show_refusal(form, exc, MESSAGES)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("admin.staff_edit", user_id=person.id))
    return with_buttons("admin/staff_edit.html", form=form, person=person), (422 if form.errors else 200)


@bp.route("/staff/<int:user_id>/deactivate", methods=["POST"])
@department_admin_allowed
def staff_deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.route("/staff/<int:user_id>/reactivate", methods=["POST"])
@department_admin_allowed
def staff_reactivate(user_id: int):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    person = pressed(StaffUser, user_id)
    try:
        administration.set_active(person, active, me(), now=clock.now())
    except administration.AdminError as exc:
        show_refusal(None, exc, MESSAGES)
    else:
        if active:
            flash(gettext("%(name)s can log in again.", name=person.name), "success")
        else:
            flash(gettext("%(name)s is deactivated and can no longer log in.", name=person.name), "success")
    return redirect(url_for("admin.staff"))


@bp.route("/staff/<int:user_id>/password", methods=["POST"])
@department_admin_allowed
def staff_password(user_id: int):
    person = pressed(StaffUser, user_id)
    password = administration.reset_password(person, me(), now=clock.now())
    return shown_once("admin/password_once.html", person=person, password=password, new=False)
