"""The agenda (a day or a week; an administrator picks whose) and one appointment: its
internal note, marking it attended or a no-show, cancelling it, inviting one more person
into its video call (interpreter, support person) and withdrawing the invitation."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from visits.booking import documents, guests
from visits.booking import operations as booking
from visits.clerks import agenda as clerk_agenda
from visits.clerks import conflicts as clerk_conflicts
from visits.core import clock
from visits.models import Appointment, Status
from visits.video import presence
from visits.web.manage.views import guest_message
from visits.web.public.forms import GuestForm
from visits.web.staff import bp, forms
from visits.web.staff.pages import booking_message, lang, me, parse_day, row_id, status_label, today

OUTCOMES = {"attended": Status.ATTENDED, "no_show": Status.NO_SHOW}

# Shown under the status, in the citizen's row.
WHEREABOUTS = {
    presence.Where.IN_LOBBY: _l("Waiting in the lobby"),
    presence.Where.IN_CALL: _l("In the call"),
    presence.Where.LEFT: _l("Has left the call"),
}


def whereabouts_label(where: presence.Where) -> str:
    return str(WHEREABOUTS.get(where, ""))


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
    days = clerk_agenda.agenda_days(clerk_id, first, last, lang())
    video_ids = [item.id for entry in days for item in entry["appointments"] if item.is_video]
    return render_template(
        "staff/agenda.html",
        view=view,
        day=day,
        days=days,
        # Where each citizen is, as Jitsi reports it (one query for the whole agenda).
        whereabouts=presence.citizen_whereabouts(video_ids) if presence.enabled() else {},
        whereabouts_label=whereabouts_label,
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


def _render_appointment(
    item: Appointment, note_form, cancel_form, now: datetime, status: int = 200, guest_form=None
):
    offer_guests = guests.can_change(item, now)
    if guest_form is None and offer_guests:
        guest_form = GuestForm(language=item.language)
    return render_template(
        "staff/appointment.html",
        item=item,
        offer_guests=offer_guests,
        guest=guests.active_guest(item),
        guest_form=guest_form,
        role_labels=guests.ROLE_LABELS,
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


@bp.post("/appointments/<int:appointment_id>/guest")
def appointment_guest_invite(appointment_id: int):
    """The clerk invites one more person into the video call (interpreter, support person)."""
    item = _appointment_or_404(appointment_id)
    now = clock.now()
    form = GuestForm()
    if not form.validate_on_submit():
        note_form = forms.NoteForm(internal_note=item.internal_note)
        return _render_appointment(item, note_form, forms.CancelForm(), now, 400, guest_form=form)
    try:
        guest = guests.invite(
            item,
            name=form.name.data,
            email=form.email.data,
            role=form.role.data,
            language=form.language.data,
            by=me(),
            now=now,
        )
    except guests.BookingError as error:
        flash(guest_message(error), "error")
    else:
        flash(gettext("%(name)s is invited and gets their own link by email.", name=guest.name), "success")
    return redirect(url_for(".appointment", appointment_id=item.id))


@bp.post("/appointments/<int:appointment_id>/guest/remove")
def appointment_guest_remove(appointment_id: int):
    item = _appointment_or_404(appointment_id)
    try:
        guests.remove(item, by=me(), now=clock.now())
    except guests.BookingError as error:
        flash(guest_message(error), "error")
    else:
        flash(gettext("The invitation is withdrawn; the person is told by mail."), "success")
    return redirect(url_for(".appointment", appointment_id=item.id))
