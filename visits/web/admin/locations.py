"""The locations of the departments and their closing days: the list, a new one, changing
one; the closing days of one location, adding and removing one. A department
administrator sees and changes their department's locations only."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from visits.admin import places
from visits.core import clock
from visits.models import ClosingDay, Location
from visits.web.admin import bp, forms
from visits.web.admin.access import department_admin_allowed
from visits.web.admin.pages import (
    MESSAGES,
    department_choices,
    done,
    get_or_404,
    home_department_id,
    me,
    pressed,
)
from visits.web.staff.forms import show_refusal


@bp.route("/locations")
@department_admin_allowed
def locations():
    return render_template("admin/locations.html", locations=places.all_locations(me()))


@bp.route("/locations/new", methods=["GET", "POST"])
@department_admin_allowed
def location_new():
    return _location_form(None)


@bp.route("/locations/<int:location_id>", methods=["GET", "POST"])
@department_admin_allowed
def location_edit(location_id: int):
    return _location_form(get_or_404(Location, location_id))


def _location_form(location: Location | None):
    """The form for a new location (``location`` None) or for changing one."""
    department_id = location.department_id if location is not None else home_department_id()
    form = forms.LocationForm(obj=location if request.method == "GET" else None, department_id=department_id)
    form.department_id.choices = department_choices()
    refused = False
    if form.validate_on_submit():
        try:
            saved = places.save_location(form.values(), me(), location, now=clock.now())
        except places.PlaceError as exc:
            show_refusal(form, exc, MESSAGES)
            refused = True
        else:
            return done(gettext("Location “%(name)s” saved.", name=saved.name_de), "admin.locations")
    page = render_template("admin/location_form.html", form=form, location=location)
    return page, (422 if refused or form.errors else 200)


@bp.route("/locations/<int:location_id>/closing-days", methods=["GET", "POST"])
@department_admin_allowed
def closing_days(location_id: int):
    location = get_or_404(Location, location_id)
    form = forms.ClosingDayForm()
    refused = False
    if form.validate_on_submit():
        try:
            places.add_closing_day(location, form.closing(), me(), now=clock.now())
        except places.PlaceError as exc:
            show_refusal(form, exc, MESSAGES)
            refused = True
        else:
            return done_here(gettext("Closing day added."), location)
    page = render_template(
        "admin/closing_days.html",
        location=location,
        closing_days=places.closing_days(location),
        form=form,
        button=forms.ButtonForm(),
    )
    return page, (422 if refused or form.errors else 200)


@bp.route("/locations/<int:location_id>/closing-days/<int:closing_day_id>/remove", methods=["POST"])
@department_admin_allowed
def closing_day_remove(location_id: int, closing_day_id: int):
    row = pressed(ClosingDay, closing_day_id)
    if row.location_id != location_id:
        abort(404)
    location = row.location
    places.remove_closing_day(row, me(), now=clock.now())
    return done_here(gettext("Closing day removed."), location)


def done_here(message: str, location: Location):
    """Say what happened and go back to the location's closing days."""
    flash(message, "success")
    return redirect(url_for("admin.closing_days", location_id=location.id))
