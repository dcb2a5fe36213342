"""The agenda (a day or a week; an administrator picks whose) and one appointment: its
internal note, marking it attended or a no-show, cancelling it."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from visits.booking import documents
from visits.booking import operations as booking
from visits.clerks import agenda as clerk_agenda
from visits.clerks import conflicts as clerk_conflicts
from visits.core import clock
from visits.models import Appointment, Status
from visits.web.staff import bp, forms
from visits.web.staff.pages import booking_message, lang, me, parse_day, row_id, status_label, today

OUTCOMES = {"attended": Status.ATTENDED, "no_show": Status.NO_SHOW}


@bp.get("/")
def agenda():
    user = me()
    now = clock.now()
    view = request.args.get("view", "day")
    if view not in ("day", "week"):
        view = "day"
    day = parse_day(request.args.get("date"), now)
    if view == "week":
        first = day - timedelta(days=day.weekday())
        last, step = first + timedelta(days=6), timedelta(days=7)
    else:
        first = last = day
        step = timedelta(days=1)
    clerk_id: int | None = user.id
    clerks = []
    if user.is_admin:
        clerks = clerk_agenda.staff_by_name()
        chosen = request.args.get("clerk", "")
        clerk_id = row_id(chosen)
    return render_template(
        "staff/agenda.html",
        view=view,
        day=day,
        days=clerk_agenda.agenda_days(clerk_id, first, last, lang()),
        previous=day - step,
        following=day + step,
        today=today(now),
        clerks=clerks,
        clerk_id=clerk_id,
        now=now,
        conflicts=len(clerk_conflicts.stranded_appointments(user, now)),
    )


def _appointment_or_404(appointment_id: int) -> Appointment:
    appointment = clerk_agenda.visible_appointment(me(), appointment_id)
    if appointment is None:
        abort(404)
    return appointment


def _render_appointment(item: Appointment, note_form, cancel_form, now: datetime, status: int = 200):
    return render_template(
        "staff/appointment.html",
        item=item,
        note_form=note_form,
        cancel_form=cancel_form,
        handed_in=documents.of_appointment(item),
        now=now,
    ), status


@bp.get("/appointments/<int:appointment_id>")
def appointment(appointment_id: int):
    item = _appointment_or_404(appointment_id)
    return _render_appointment(item, forms.NoteForm(internal_note=item.internal_note), forms.CancelForm(), clock.now())


@bp.post("/appointments/<int:appointment_id>/note")
def appointment_note(appointment_id: int):
    item = _appointment_or_404(appointment_id)
    now = clock.now()
    form = forms.NoteForm()
    if not form.validate_on_submit():
        return _render_appointment(item, form, forms.CancelForm(), now, 400)
    clerk_agenda.set_internal_note(item, form.internal_note.data or "", by=me(), now=now)
    flash(gettext("The note has been saved."), "success")
    return redirect(url_for(".appointment", appointment_id=item.id))


@bp.post("/appointments/<int:appointment_id>/mark")
def appointment_mark(appointment_id: int):
    item = _appointment_or_404(appointment_id)
    outcome = OUTCOMES.get(request.form.get("outcome", ""))
    if outcome is None:
        abort(400)
    try:
        booking.mark(item, outcome, by=me(), now=clock.now())
    except booking.NotChangeable:
        flash(gettext("This appointment cannot be marked (yet)."), "error")
    else:
        flash(gettext("Marked as %(status)s.", status=status_label(outcome)), "success")
    return redirect(url_for(".appointment", appointment_id=item.id))


@bp.post("/appointments/<int:appointment_id>/cancel")
def appointment_cancel(appointment_id: int):
    item = _appointment_or_404(appointment_id)
    now = clock.now()
    form = forms.CancelForm()
    if not form.validate_on_submit():
        return _render_appointment(item, forms.NoteForm(internal_note=item.internal_note), form, now, 400)
    try:
        booking.cancel(item, now=now, by=me(), reason=form.message.data)
    except booking.BookingError as error:
        flash(booking_message(error), "error")
    else:
        flash(gettext("The appointment has been cancelled; the citizen is told by mail."), "success")
    return redirect(url_for(".appointment", appointment_id=item.id))
