"""The departments of the city administration (the city administrator's only): the list, a
new one, changing one (also deactivating it, refused while it has bookable services)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext

from visits.admin import places
from visits.core import clock
from visits.models import Department
from visits.web.admin import bp, forms
from visits.web.admin.access import admin_required
from visits.web.admin.pages import MESSAGES, done, get_or_404, me
from visits.web.staff.forms import show_refusal


@bp.route("/departments")
@admin_required
def departments():
    return render_template("admin/departments.html", departments=places.all_departments())


@bp.route("/departments/new", methods=["GET", "POST"])
@admin_required
def department_new():
    return _department_form(None)


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@admin_required
def department_edit(department_id: int):
    return _department_form(get_or_404(Department, department_id))


def _department_form(department: Department | None):
    """The form for a new department (``department`` None) or for changing one."""
    form = forms.DepartmentForm(obj=department if request.method == "GET" else None)
    refused = False
    if form.validate_on_submit():
        try:
            saved = places.save_department(form.values(), me(), department, now=clock.now())
        except places.PlaceError as exc:
            show_refusal(form, exc, MESSAGES)
            refused = True
        else:
            return done(gettext("Department “%(name)s” saved.", name=saved.name_de), "admin.departments")
    page = render_template("admin/department_form.html", form=form, department=department)
    return page, (422 if refused or form.errors else 200)
