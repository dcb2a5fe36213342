"""The clerk's weekly hours: the list with a preview of their free slots, adding, changing
and removing an interval."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, render_template, request
from flask_babel import gettext

from visits.clerks import agenda as clerk_agenda
from visits.clerks import hours as clerk_hours
from visits.clerks.errors import StaffingError
from visits.core import clock
from visits.models import StaffUser, WeeklyHours
from visits.web.staff import bp, forms
from visits.web.staff.pages import STAFFING_MESSAGES, changed, lang, me, today

PREVIEW_WEEKS = 2
PREVIEW_WEEKS_MAX = 6


def _hours_form(clerk: StaffUser, obj: WeeklyHours | None = None) -> forms.HoursForm:
    if obj is not None and request.method == "GET":
        form = forms.HoursForm(
            weekday=obj.weekday,
            start=obj.start_time,
            end=obj.end_time,
            valid_from=obj.valid_from,
            valid_until=obj.valid_until,
            services=[s.id for s in obj.services],
            location=str(obj.location_id or ""),
            reserved=obj.reserved,
        )
    else:
        usual = clerk_hours.usual_location(clerk)
        form = forms.HoursForm(location=str(usual.id) if usual is not None else "")
    form.services.choices = forms.choices((s.id, s.name(lang())) for s in clerk_hours.offered_services(clerk))
    form.location.choices = [
        ("", gettext("No location (video and phone only)")),
        *((str(place.id), place.name(lang())) for place in clerk_hours.locations()),
    ]
    return form


def _spec(form: forms.HoursForm) -> clerk_hours.HoursSpec:
    return clerk_hours.HoursSpec(
        weekday=form.weekday.data,
        start=form.start.data,
        end=form.end.data,
        valid_from=form.valid_from.data,
        valid_until=form.valid_until.data,
        service_ids=frozenset(form.services.data or ()),
        location_id=int(form.location.data) if form.location.data else None,
        reserved=bool(form.reserved.data),
    )


def _own_hours_or_404(hours_id: int) -> WeeklyHours:
    hours = clerk_hours.own_weekly_hours(me(), hours_id)
    if hours is None:
        abort(404)
    return hours


def _preview_weeks() -> int:
    try:
        return min(max(int(request.args.get("weeks", PREVIEW_WEEKS)), 1), PREVIEW_WEEKS_MAX)
    except ValueError:
        return PREVIEW_WEEKS


@bp.route("/hours", methods=["GET", "POST"])
def hours():
    user = me()
    now = clock.now()
    form = _hours_form(user)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                clerk_hours.add_weekly_hours(user, _spec(form), by=user, now=now)
            except StaffingError as error:
                forms.show_refusal(form, error, STAFFING_MESSAGES)
            else:
                return changed(gettext("The hours have been added."), ".hours", now=now)
        status = 400
    weeks = _preview_weeks()
    first = today(now)
    preview = clerk_agenda.preview(user, first, first + timedelta(days=7 * weeks - 1), now, language=lang())
    return render_template(
        "staff/hours.html",
        form=form,
        rows=clerk_hours.weekly_hours_of(user),
        weekdays=dict(forms.WEEKDAYS),
        preview=preview,
        weeks=weeks,
        max_weeks=PREVIEW_WEEKS_MAX,
    ), status


@bp.route("/hours/<int:hours_id>", methods=["GET", "POST"])
def hours_edit(hours_id: int):
    user = me()
    row = _own_hours_or_404(hours_id)
    form = _hours_form(user, row)
    if form.validate_on_submit():
        now = clock.now()
        try:
            clerk_hours.update_weekly_hours(row, _spec(form), by=user, now=now)
        except StaffingError as error:
            forms.show_refusal(form, error, STAFFING_MESSAGES)
        else:
            return changed(gettext("The hours have been changed."), ".hours", now=now)
    return render_template("staff/hours_edit.html", form=form, row=row), (400 if form.errors else 200)


@bp.post("/hours/<int:hours_id>/delete")
def hours_delete(hours_id: int):
    row = _own_hours_or_404(hours_id)
    now = clock.now()
    clerk_hours.remove_weekly_hours(row, by=me(), now=now)
    return changed(gettext("The hours have been removed."), ".hours", now=now)
