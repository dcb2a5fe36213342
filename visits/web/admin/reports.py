"""Appointments per service and outcome over a span of days (the last 30 by default),
narrowed to a location and a mode and split by either if asked (``visits.admin.reports``);
a department administrator sees their department's services and locations only."""

from __future__ import annotations

from datetime import date, timedelta

from flask import render_template, request
from flask_babel import gettext

from visits.admin import places
from visits.admin import reports as counting
from visits.booking import availability, modes
from visits.core import clock
from visits.models import Mode, Status
from visits.web.admin import bp, forms
from visits.web.admin.access import department_admin_allowed
from visits.web.admin.pages import me
from visits.web.staff.forms import choices
from visits.web.staff.pages import STATUS_LABELS, row_id, within_reach

REPORT_DEFAULT_DAYS = 30


def _valid(field) -> date | None:
    """The field's day, moved within reach of today (9999-12-31 is the farthest day there is)."""
    return within_reach(field.data, clock.now()) if field.data and not field.errors else None


def _chosen(field) -> str | None:
    """The field's choice, unless it was not one of the choices offered (then: no filter)."""
    return (field.data or None) if not field.errors else None


@bp.route("/reports")
@department_admin_allowed
def reports():
    form = forms.ReportForm(request.args)
    # Only the locations the administrator manages: another department's is no valid choice.
    form.location.choices = choices(
        [("", gettext("Every location")), *((str(p.id), p.name_de) for p in places.all_locations(me()))]
    )
    form.validate()
    today = clock.local(clock.now(), availability.zone()).date()
    first = _valid(form.date_from) or today - timedelta(days=REPORT_DEFAULT_DAYS)
    last = _valid(form.date_until) or today
    if last < first:
        first, last = last, first
    form.date_from.data, form.date_until.data = first, last
    mode = _chosen(form.mode)
    split = counting.Split(_chosen(form.split) or counting.Split.SERVICE)
    flt = counting.ReportFilter(
        first,
        last,
        location_id=row_id(_chosen(form.location)),
        mode=Mode(mode) if mode else None,
        split=split,
    )
    found = counting.report(flt, availability.zone(), me())
    return render_template(
        "admin/reports.html",
        form=form,
        report=found,
        split=split.value,
        statuses=list(Status),
        status_labels={status: str(label) for status, label in STATUS_LABELS.items()},
        mode_label=modes.label,
        first=first,
        last=last,
    )
