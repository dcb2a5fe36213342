"""The audit log: who did what when, filtered by person, action and days, a page at a time."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext

from visits.admin import operations as administration
from visits.booking import availability
from visits.web.admin import bp, forms
from visits.web.admin.access import admin_required
from visits.web.admin.pages import int_or_none
from visits.web.staff.forms import choices

AUDIT_PER_PAGE = 50


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
    flt = administration.AuditFilter(
        actor_id=int_or_none(form.actor.data),
        action=form.action.data or None,
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_until=form.date_until.data if not form.date_until.errors else None,
    )
    page = max(int_or_none(request.args.get("page")) or 1, 1)
    events = administration.audit_page(flt, availability.zone(), page=page, per_page=AUDIT_PER_PAGE)
    args = {k: v for k, v in request.args.items() if k not in ("page", "lang") and v}
    return render_template("admin/audit.html", form=form, events=events, args=args)
