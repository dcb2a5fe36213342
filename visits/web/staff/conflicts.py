"""Stranded appointments: the list, and the clerk's decision for each (keep it as it is,
hand it to a free colleague, cancel it with a message to the citizen)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from visits.booking import operations as booking
from visits.clerks import agenda as clerk_agenda
from visits.clerks import conflicts as clerk_conflicts
from visits.core import clock
from visits.web.staff import bp, forms
from visits.web.staff.pages import booking_message, lang, me


@bp.get("/conflicts")
def conflicts():
    items = clerk_conflicts.stranded_with_colleagues(me(), clock.now(), language=lang())
    return render_template("staff/conflicts.html", items=items, cancel_form=forms.CancelForm())


def _keep(stranded, user, now) -> None:
    clerk_conflicts.keep(stranded, by=user, now=now)
    flash(gettext("Appointment %(reference)s is kept.", reference=stranded.appointment.reference), "success")


def _reassign(stranded, user, now) -> None:
    appointment = stranded.appointment
    form = forms.ReassignForm()
    colleagues = {c.id: c for c in clerk_conflicts.free_colleagues(appointment, now)}
    form.colleague.choices = forms.choices((c.id, c.name) for c in colleagues.values())
    if not form.validate_on_submit():
        flash(gettext("Choose a colleague who is free at this time."), "error")
        return
    colleague = colleagues[form.colleague.data]
    clerk_conflicts.reassign(appointment, colleague, by=user, now=now)
    flash(
        gettext(
            "Appointment %(reference)s has been handed to %(name)s.",
            reference=appointment.reference,
            name=colleague.name,
        ),
        "success",
    )


def _cancel(stranded, user, now) -> None:
    appointment = stranded.appointment
    form = forms.CancelForm()
    if not form.validate_on_submit():
        flash(gettext("Write a short message to the citizen before cancelling."), "error")
        return
    booking.cancel(appointment, now=now, by=user, reason=form.message.data)
    flash(
        gettext(
            "Appointment %(reference)s has been cancelled; the citizen is told by mail.",
            reference=appointment.reference,
        ),
        "success",
    )


DECISIONS = {"keep": _keep, "reassign": _reassign, "cancel": _cancel}


@bp.post("/conflicts/<int:appointment_id>")
def conflict_resolve(appointment_id: int):
    user = me()
    now = clock.now()
    stranded = clerk_conflicts.stranded_one(user, appointment_id, now)
    if stranded is None:
        # Resolved a moment ago (a second click, another tab): say so; someone else's: 404.
        if clerk_agenda.own_appointment(user, appointment_id) is None:
            abort(404)
        flash(gettext("This appointment needs no decision any more."), "info")
        return redirect(url_for(".conflicts"))
    decide = DECISIONS.get(request.form.get("action", ""))
    if decide is None:
        abort(400)
    try:
        decide(stranded, user, now)
    except booking.BookingError as error:
        flash(booking_message(error), "error")
    return redirect(url_for(".conflicts"))
