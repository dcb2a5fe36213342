"""Pages for administrators: services, staff, API keys, failed mails, booking pauses, video
status, the audit log and reports.

Access: every route needs a login (anonymous -> the staff login). Every route is for
administrators only (``admin_required``; a clerk gets 403) except the booking pauses, which
clerks may see and lift as well (``staff_required``). A route with neither decorator is
refused to clerks by ``_default_deny``, so forgetting one cannot open a page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from visits.admin import api_keys
from visits.admin import operations as administration
from visits.booking import availability, no_shows
from visits.core import clock
from visits.extensions import db, login_manager
from visits.models import ApiKey, BookingPause, OutboxMessage, Service, StaffUser, Status
from visits.video import jitsi
from visits.web.admin import forms
from visits.web.staff.forms import choices, show_refusal

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PER_PAGE = 50
REPORT_DEFAULT_DAYS = 30

STATUS_LABELS = {
    Status.HELD: _l("awaiting confirmation"),
    Status.CONFIRMED: _l("confirmed"),
    Status.ATTENDED: _l("attended"),
    Status.NO_SHOW: _l("no-show"),
    Status.CANCELLED: _l("cancelled"),
    Status.EXPIRED: _l("expired"),
}

MAIL_KINDS = {
    "confirm_request": _l("request to confirm"),
    "confirmation": _l("confirmation"),
    "cancellation": _l("cancellation"),
    "rescheduled": _l("new time"),
    "reminder": _l("reminder"),
    "no_show": _l("missed appointment"),
}

MESSAGES = {
    "slug_invalid": _l("Use only lower-case letters, digits and single hyphens, e.g. “id-card”."),
    "slug_taken": _l("Another service uses this address part already."),
    "address_required": _l("Enter the address for an on-site service."),
    "email_taken": _l("A staff account with this email address exists already."),
    "role_invalid": _l("Choose a role."),
    "last_admin": _l("This is the last active administrator; appoint another one first."),
}


def _mark(view: Callable, access: str) -> Callable:
    view._access = access  # read by _default_deny
    return view


def admin_required(view: Callable) -> Callable:
    """Logged-in administrators only: anonymous -> login page, anyone else -> 403."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return _mark(wrapper, "admin")


def staff_required(view: Callable) -> Callable:
    """Any logged-in staff member (clerk or administrator)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return _mark(wrapper, "staff")


@bp.before_request
def _default_deny():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "_access", "admin") != "staff" and not current_user.is_admin:
        abort(403)
    return None


@bp.after_request
def _no_store(response):
    # Admin pages show personal data and, once, passwords and keys: keep them out of caches.
    response.headers["Cache-Control"] = "no-store"
    return response


def _me() -> StaffUser:
    return current_user._get_current_object()


def _get_or_404(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _pressed(model, object_id: int):
    """The object a plain button acts on (404 if there is none); the button's form carries
    only its CSRF token, and a stale or missing one is a 400."""
    obj = _get_or_404(model, object_id)
    if not forms.ButtonForm().validate_on_submit():
        abort(400)
    return obj


def _with_buttons(template: str, **context) -> str:
    """A page with plain buttons (``button``: the form that gives each its CSRF token)."""
    return render_template(template, button=forms.ButtonForm(), **context)


def _done(message: str, endpoint: str):
    """Say what happened and go back to the list (POST, redirect, GET)."""
    flash(message, "success")
    return redirect(url_for(endpoint))


# ----------------------------------------------------------------------------- overview


@bp.route("/")
@admin_required
def index():
    now = clock.now()
    return render_template(
        "admin/index.html",
        failed_count=len(administration.failed_mails()),
        pause_count=len(no_shows.active_pauses(now)),
        video=_video_status(),
    )


# ----------------------------------------------------------------------------- services


@bp.route("/services")
@admin_required
def services():
    return _with_buttons("admin/services.html", services=administration.all_services())


@bp.route("/services/new", methods=["GET", "POST"])
@admin_required
def service_new():
    return _service_form(None)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@admin_required
def service_edit(service_id: int):
    return _service_form(_get_or_404(Service, service_id))


def _service_form(service: Service | None):
    """The form for a new service (``service`` None) or for changing one."""
    showing = service is not None and request.method == "GET"
    form = forms.ServiceForm(obj=service if showing else None)
    if showing:
        form.video.data = "video" if service.video else "onsite"
    refused = False
    if form.validate_on_submit():
        try:
            saved = administration.save_service(form.values(), _me(), service)
        except administration.AdminError as exc:
            show_refusal(form, exc, MESSAGES)
            refused = True
        else:
            if service is None:
                return _done(gettext("Service “%(name)s” created.", name=saved.name_de), "admin.services")
            return _done(gettext("Service “%(name)s” saved.", name=saved.name_de), "admin.services")
    page = render_template("admin/service_form.html", form=form, service=service)
    return page, (422 if refused or form.errors else 200)


@bp.route("/services/<int:service_id>/deactivate", methods=["POST"])
@admin_required
def service_deactivate(service_id: int):
    service = _pressed(Service, service_id)
    administration.deactivate_service(service, _me())
    return _done(gettext("Service “%(name)s” can no longer be booked.", name=service.name_de), "admin.services")


# ----------------------------------------------------------------------------- staff


def _service_choices(form) -> None:
    form.services.choices = choices((s.id, s.name_de) for s in administration.all_services())


def _chosen_services(form) -> list[Service]:
    ids = set(form.services.data or [])
    return [s for s in administration.all_services() if s.id in ids]


@bp.route("/staff")
@admin_required
def staff():
    return _with_buttons("admin/staff.html", people=administration.all_staff())


def _shown_once(template: str, **context):
    """A page that shows a secret once: rendered as the POST's answer, never redirected to."""
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/staff/new", methods=["GET", "POST"])
@admin_required
def staff_new():
    form = forms.InviteForm()
    _service_choices(form)
    if form.validate_on_submit():
        try:
            user, password = administration.invite(
                form.email.data, form.name.data, form.role.data, _chosen_services(form), _me()
            )
        except administration.AdminError as exc:
            show_refusal(form, exc, MESSAGES)
        else:
            return _shown_once("admin/password_once.html", person=user, password=password, new=True)
    return render_template("admin/staff_new.html", form=form), (422 if form.errors else 200)


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@admin_required
def staff_edit(user_id: int):
    person = _get_or_404(StaffUser, user_id)
    form = forms.StaffEditForm(obj=person if request.method == "GET" else None)
    _service_choices(form)
    if request.method == "GET":
        form.services.data = [s.id for s in person.services]
    if form.validate_on_submit():
        try:
            administration.update_staff(person, form.name.data, form.role.data, _chosen_services(form), _me())
        except administration.AdminError as exc:
            db.session.rollback()
            show_refusal(form, exc, MESSAGES)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("admin.staff_edit", user_id=person.id))
    return _with_buttons("admin/staff_edit.html", form=form, person=person), (422 if form.errors else 200)


@bp.route("/staff/<int:user_id>/deactivate", methods=["POST"])
@admin_required
def staff_deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.route("/staff/<int:user_id>/reactivate", methods=["POST"])
@admin_required
def staff_reactivate(user_id: int):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    person = _pressed(StaffUser, user_id)
    try:
        administration.set_active(person, active, _me())
    except administration.AdminError as exc:
        show_refusal(None, exc, MESSAGES)
    else:
        if active:
            flash(gettext("%(name)s can log in again.", name=person.name), "success")
        else:
            flash(gettext("%(name)s is deactivated and can no longer log in.", name=person.name), "success")
    return redirect(url_for("admin.staff"))


@bp.route("/staff/<int:user_id>/password", methods=["POST"])
@admin_required
def staff_password(user_id: int):
    person = _pressed(StaffUser, user_id)
    password = administration.reset_password(person, _me())
    return _shown_once("admin/password_once.html", person=person, password=password, new=False)


# ----------------------------------------------------------------------------- audit log


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


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
        actor_id=_int_or_none(form.actor.data),
        action=form.action.data or None,
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_until=form.date_until.data if not form.date_until.errors else None,
    )
    page = max(_int_or_none(request.args.get("page")) or 1, 1)
    events = administration.audit_page(flt, availability.zone(), page=page, per_page=AUDIT_PER_PAGE)
    args = {k: v for k, v in request.args.items() if k not in ("page", "lang") and v}
    return render_template("admin/audit.html", form=form, events=events, args=args)


# ----------------------------------------------------------------------------- API keys


@bp.route("/api-keys", methods=["GET", "POST"])
@admin_required
def api_key_list():
    form = forms.ApiKeyForm()
    plain = None
    if form.validate_on_submit():
        key, plain = api_keys.create(form.name.data, _me())
        form = forms.ApiKeyForm(formdata=None)
    page = _with_buttons("admin/api_keys.html", form=form, keys=api_keys.all_keys(), plain=plain)
    return page, (422 if form.errors else 200)


@bp.route("/api-keys/<int:key_id>/revoke", methods=["POST"])
@admin_required
def api_key_revoke(key_id: int):
    key = _pressed(ApiKey, key_id)
    if key.active:
        api_keys.revoke(key, _me())
    return _done(gettext("The key “%(name)s” is revoked.", name=key.name), "admin.api_key_list")


# ----------------------------------------------------------------------------- failed mails


@bp.route("/mails")
@admin_required
def mails():
    return _with_buttons(
        "admin/mails.html",
        messages=administration.failed_mails(),
        kinds={kind: str(label) for kind, label in MAIL_KINDS.items()},
    )


@bp.route("/mails/<int:message_id>/retry", methods=["POST"])
@admin_required
def mail_retry(message_id: int):
    message = _pressed(OutboxMessage, message_id)
    administration.retry_mail(message, _me())
    return _done(gettext("The mail to %(to)s is queued again.", to=message.recipient), "admin.mails")


# ----------------------------------------------------------------------------- booking pauses


@bp.route("/pauses")
@staff_required
def pauses():
    return _with_buttons("admin/pauses.html", pauses=no_shows.active_pauses(clock.now()))


@bp.route("/pauses/<int:pause_id>/lift", methods=["POST"])
@staff_required
def pause_lift(pause_id: int):
    pause = _pressed(BookingPause, pause_id)
    no_shows.lift_pause(pause, _me(), clock.now())
    return _done(gettext("%(email)s can book online again.", email=pause.email), "admin.pauses")


# ----------------------------------------------------------------------------- video


def _video_status() -> dict:
    return jitsi.status()


@bp.route("/video")
@admin_required
def video():
    return render_template("admin/video.html", video=_video_status())


# ----------------------------------------------------------------------------- reports


@bp.route("/reports")
@admin_required
def reports():
    form = forms.ReportForm(request.args)
    form.validate()
    today = clock.local(clock.now(), availability.zone()).date()
    first: date = (form.date_from.data if not form.date_from.errors else None) or today - timedelta(
        days=REPORT_DEFAULT_DAYS
    )
    last: date = (form.date_until.data if not form.date_until.errors else None) or today
    if last < first:
        first, last = last, first
    form.date_from.data, form.date_until.data = first, last
    rows, totals = administration.report(first, last, availability.zone())
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
