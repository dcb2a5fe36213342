"""Appointments per service and outcome over a span of days (the last 30 by default); a
department administrator sees their department's services only."""

from __future__ import annotations

from datetime import date, timedelta

from flask import render_template, request

from visits.admin import operations as administration
from visits.booking import availability
from visits.core import clock
from visits.models import Status
from visits.web.admin import bp, forms
from visits.web.admin.access import department_admin_allowed
from visits.web.admin.pages import me
from visits.web.staff.pages import STATUS_LABELS, within_reach

REPORT_DEFAULT_DAYS = 30



def _valid(field) -> date | None:
    """The field's day, moved within reach of today (9999-12-31 is the farthest day there is)."""
    return within_reach(field.data, clock.now()) if field.data and not field.errors else None


@bp.route("/reports")
@department_admin_allowed
def reports():
    form = forms.ReportForm(request.args)
    form.validate()
    today = clock.local(clock.now(), availability.zone()).date()
    first = _valid(form.date_from) or today - timedelta(days=REPORT_DEFAULT_DAYS)
    last = _valid(form.date_until) or today
    if last < first:
        first, last = last, first
    form.date_from.data, form.date_until.data = first, last
    rows, totals = administration.report(first, last, availability.zone(), me())
    return render_template(
        "admin/reports.html",
        form=form,
        rows=rows,
        totals=totals,
        statuses=list(Status),
        status_labels={status: str(label) for status, label in STATUS_LABELS.items()},
        first=first,
        last=last,
    )
