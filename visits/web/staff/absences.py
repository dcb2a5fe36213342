"""The clerk's absences entered by hand (whole days or some hours of one day), with the
public holidays of the coming year, which need no absence."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from visits import settings
from visits.booking import holidays
from visits.clerks import absences as clerk_absences
from visits.clerks.errors import StaffingError
from visits.core import clock
from visits.web.staff import bp, forms
from visits.web.staff.pages import STAFFING_MESSAGES, changed, lang, me, today


def _span(form: forms.AbsenceForm):
    if form.kind.data == "hours":
        return clerk_absences.absence_span(form.start_date.data, start=form.start_time.data, end=form.end_time.data)
    return clerk_absences.absence_span(form.start_date.data, form.end_date.data)


@bp.route("/absences", methods=["GET", "POST"])
def absences():
    user = me()
    now = clock.now()
    form = forms.AbsenceForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                start, end = _span(form)
                clerk_absences.add_absence(user, start, end, form.reason.data or "", by=user, now=now)
            except StaffingError as error:
                forms.show_refusal(form, error, STAFFING_MESSAGES)
            else:
                return changed(gettext("The absence has been added."), ".absences", now=now)
        status = 400
    first = today(now)
    return render_template(
        "staff/absences.html",
        form=form,
        manual=clerk_absences.absences_of(user, since=now, source="manual"),
        uploaded=len(clerk_absences.absences_of(user, since=now, source=clerk_absences.CALENDAR_SOURCE)),
        holidays=holidays.holidays(first, first + timedelta(days=365), lang()),
        state=settings.current().holiday_state,
    ), status


@bp.post("/absences/<int:absence_id>/delete")
def absence_delete(absence_id: int):
    user = me()
    absence = clerk_absences.own_absence(user, absence_id)
    if absence is None:
        abort(404)
    clerk_absences.remove_absence(absence, by=user, now=clock.now())
    flash(gettext("The absence has been removed."), "success")
    return redirect(url_for(".absences"))
