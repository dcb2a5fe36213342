"""The audit log: who did what when, filtered by person, action and days, a page at a time."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext

from visits.admin import operations as administration
from visits.booking import availability
from visits.core import clock
from visits.web.admin import bp, forms
from visits.web.admin.access import admin_required
from visits.web.staff.forms import choices
from visits.web.staff.pages import row_id, within_reach

AUDIT_PER_PAGE = 50
MAX_PAGE = 1_000_000  # beyond any real log, and its offset fits the database's integers


@bp.route("/audit")
@admin_required
def audit_log():
    form = forms.AuditFilterForm(request.args)
    people = administration.all_staff()
    form.actor.choices = choices(
        [("", gettext("Anyone")), *((str(p.id), f"{p.name} ({p.email})") for p in people)]
    )
    form.action.choices = choices(
        [("", gettext("Any action")), *((a, a) for a in administration.audit_actions())]
    )
    form.validate()
    now = clock.now()
    flt = administration.AuditFilter(
        actor_id=row_id(form.actor.data),
        action=form.action.data or None,
        date_from=_day(form.date_from, now),
        date_until=_day(form.date_until, now),
    )
    page = min(row_id(request.args.get("page")) or 1, MAX_PAGE)
    events = administration.audit_page(flt, availability.zone(), page=page, per_page=AUDIT_PER_PAGE)
    if page > max(events.pages, 1):  # past the end: the last page there is
        events = administration.audit_page(
            flt, availability.zone(), page=max(events.pages, 1), per_page=AUDIT_PER_PAGE
        )
    args = {k: v for k, v in request.args.items() if k not in ("page", "lang") and v}
    return render_template("admin/audit.html", form=form, events=events, args=args)


def _day(field, now):
    """The field's day within reach of today, or None when it is empty or unreadable."""
    return within_reach(field.data, now) if field.data and not field.errors else None
