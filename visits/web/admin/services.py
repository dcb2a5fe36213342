"""The services citizens can book: the list, a new one, changing one, ending its bookings."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext

from visits.admin import operations as administration
from visits.admin import places
from visits.core import clock
from visits.models import Service
from visits.web.admin import bp, forms
from visits.web.admin.access import admin_required
from visits.web.admin.pages import MESSAGES, done, get_or_404, me, pressed, with_buttons
from visits.web.staff.forms import show_refusal


@bp.route("/services")
@admin_required
def services():
    return with_buttons("admin/services.html", services=administration.all_services())


@bp.route("/services/new", methods=["GET", "POST"])
@admin_required
def service_new():
    return _service_form(None)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@admin_required
def service_edit(service_id: int):
    return _service_form(get_or_404(Service, service_id))


def _service_form(service: Service | None):
    """The form for a new service (``service`` None) or for changing one."""
    showing = service is not None and request.method == "GET"
    form = forms.ServiceForm(obj=service if showing else None)
    if showing:
        form.modes.data = [mode.value for mode in service.modes]
    form.location_id.choices = [(0, gettext("The default location"))] + [
        (location.id, f"{location.name_de} ({location.department.name_de})") for location in places.all_locations()
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
@admin_required
def service_deactivate(service_id: int):
    service = pressed(Service, service_id)
    administration.deactivate_service(service, me(), now=clock.now())
    return done(
        gettext("Service “%(name)s” can no longer be booked.", name=service.name_de), "admin.services"
    )
