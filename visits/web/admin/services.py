"""The services citizens can book: the list, a new one, changing one, ending its bookings.
A department administrator sees and changes their department's services only."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext

from visits.admin import operations as administration
from visits.admin import places
from visits.core import clock
from visits.models import Service
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
    with_buttons,
)
from visits.web.staff.forms import show_refusal


@bp.route("/services")
@department_admin_allowed
def services():
    return with_buttons("admin/services.html", services=administration.all_services(me()))


@bp.route("/services/new", methods=["GET", "POST"])
@department_admin_allowed
def service_new():
    return _service_form(None)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@department_admin_allowed
def service_edit(service_id: int):
    return _service_form(get_or_404(Service, service_id))


def _service_form(service: Service | None):
    """The form for a new service (``service`` None) or for changing one."""
    showing = service is not None and request.method == "GET"
    # A posted form without a department keeps the service's (or, for a new one, the home department).
    department_id = (service.department_id if service is not None else None) or home_department_id()
    form = forms.ServiceForm(obj=service if showing else None, department_id=department_id)
    form.department_id.choices = department_choices()
    if showing:
        form.modes.data = [mode.value for mode in service.modes]
    form.location_id.choices = [(0, gettext("The default location"))] + [
        (location.id, f"{location.name_de} ({location.department.name_de})") for location in places.all_locations(me())
    ]
    refused = False
    if form.validate_on_submit():
        try:
            saved = administration.save_service(form.values(), me(), service, now=clock.now())
        except administration.AdminError as exc:
            show_refusal(form, exc, MESSAGES)
            refused = True
        else:
            if service is None:
                return done(gettext("Service “%(name)s” created.", name=saved.name_de), "admin.services")
            return done(gettext("Service “%(name)s” saved.", name=saved.name_de), "admin.services")
    page = render_template("admin/service_form.html", form=form, service=service)
    return page, (422 if refused or form.errors else 200)


@bp.route("/services/<int:service_id>/deactivate", methods=["POST"])
@department_admin_allowed
def service_deactivate(service_id: int):
    service = pressed(Service, service_id)
    administration.deactivate_service(service, me(), now=clock.now())
    return done(
        gettext("Service “%(name)s” can no longer be booked.", name=service.name_de), "admin.services"
    )
