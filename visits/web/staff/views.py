"""Pages for clerks: login, agenda, availability, phone booking, calendar feed settings.

Every route but the login needs a logged-in staff member (see ``_require_login``); a clerk
reaches only their own appointments, hours and absences (anything else is a 404, so ids
reveal nothing), an administrator sees every clerk's agenda and appointment."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_date, format_time, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from visits.booking import availability, calendar, links, rules
from visits.booking import operations as booking
from visits.clerks import accounts as staff_accounts
from visits.clerks import staffing
from visits.core import clock
from visits.extensions import db, limiter, login_manager
from visits.models import Absence, StaffUser, Status, WeeklyHours
from visits.video import jitsi
from visits.web.staff import forms

bp = Blueprint("staff", __name__, url_prefix="/staff")

PREVIEW_WEEKS_MAX = 6

STAFFING_MESSAGES = {
    "weekday_invalid": _l("Choose a weekday."),
    "end_before_start": _l("The end must be after the start."),
    "valid_until_before_from": _l("“Valid until” must not be before “valid from”."),
    "service_not_offered": _l("Choose only services you offer."),
    "times_required": _l("For an absence of some hours, enter both times."),
    "wrong_password": _l("The current password is not correct."),
    "password_too_short": _l("The new password is too short."),
}

BOOKING_MESSAGES = {
    "slot_unavailable": _l("This time is no longer free. Please choose another one."),
    "already_booked_at_this_time": _l("This person already has an appointment at this time."),
    "not_changeable": _l("This appointment can no longer be changed."),
    "invalid_input": _l("Please check the caller's details."),
}


@bp.record_once
def _configure_login(_state) -> None:
    login_manager.login_view = "staff.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"


@bp.before_request
def _require_login():
    if request.endpoint != "staff.login" and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.app_template_filter("staff_date")
def _staff_date(value, fmt: str = "full") -> str:
    if isinstance(value, datetime):
        value = clock.local(value, availability.zone()).date()
    return format_date(value, fmt)


@bp.app_template_filter("staff_time")
def _staff_time(value: datetime) -> str:
    return format_time(clock.local(value, availability.zone()), "short", rebase=False)


@bp.app_template_filter("staff_datetime")
def _staff_datetime(value: datetime) -> str:
    local = clock.local(value, availability.zone())
    return f"{format_date(local.date(), 'medium')}, {format_time(local, 'short', rebase=False)}"


@bp.app_template_filter("staff_iso_day")
def _staff_iso_day(value: datetime) -> str:
    return clock.local(value, availability.zone()).date().isoformat()


@bp.app_context_processor
def _staff_context() -> dict:
    return {
        "staff_status_label": status_label,
        # What may be done with an appointment now, asked as ``can_mark(item, now)``: the
        # rules of visits/booking/rules.py, the same the use cases enforce.
        "can_mark": rules.can_mark,
        "can_cancel": rules.can_cancel,
        "join_offered": jitsi.join_offered,
    }


def status_label(status: str) -> str:
    return {
        Status.HELD: gettext("awaiting confirmation"),
        Status.CONFIRMED: gettext("confirmed"),
        Status.ATTENDED: gettext("attended"),
        Status.NO_SHOW: gettext("no-show"),
        Status.CANCELLED: gettext("cancelled"),
        Status.EXPIRED: gettext("expired"),
    }.get(status, status)


def _me() -> StaffUser:
    return current_user._get_current_object()


def _now() -> datetime:
    return clock.now()


def _today() -> date:
    return clock.local(_now(), availability.zone()).date()


def _parse_day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else _today()
    except ValueError:
        return _today()


def _changed(message: str, endpoint: str):
    """Say what changed; then on to the conflicts page if the change strands an
    appointment, else back to ``endpoint``."""
    flash(message, "success")
    return _after_availability_change() or redirect(url_for(endpoint))


def _after_availability_change() -> object:
    """Send the clerk to the conflicts page when the change strands an appointment."""
    stranded = staffing.stranded_appointments(_me(), _now())
    if stranded:
        flash(
            gettext(
                "%(count)d booked appointment(s) no longer fit your hours or absences. "
                "Please decide for each one.",
                count=len(stranded),
            ),
            "warning",
        )
        return redirect(url_for(".conflicts"))
    return None


# -- login -------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no "//" or backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


_DUMMY_HASH: list[str] = []


def _password_matches(user: StaffUser | None, password: str) -> bool:
    """Verify against a dummy hash for unknown addresses too, so the answer takes as long."""
    if user is None or not user.active:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(staff_accounts.hash_password("not-a-real-password"))
        probe = StaffUser(password_hash=_DUMMY_HASH[0])
        staff_accounts.check_password(probe, password)
        return False
    return staff_accounts.check_password(user, password)


def _fresh_session() -> None:
    """Forget everything in the session but the chosen language."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda response: response.status_code != 302)
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for(".agenda"))
    form = forms.LoginForm()
    failed = False
    if form.validate_on_submit():
        user = staff_accounts.by_email(form.email.data or "")
        now = _now()
        if _password_matches(user, form.password.data or ""):
            _fresh_session()  # for the logged-in user
            login_user(user)
            staff_accounts.record_login(user, now=now)
            return redirect(_safe_next(request.args.get("next")) or url_for(".agenda"))
        staff_accounts.record_failed_login(form.email.data or "", request.remote_addr, now=now)
        failed = True
    return render_template("staff/login.html", form=form, failed=failed)


@bp.post("/logout")
def logout():
    staff_accounts.record_logout(_me(), now=_now())
    logout_user()
    _fresh_session()
    flash(gettext("You have been logged out."), "success")
    return redirect(url_for(".login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = forms.PasswordForm()
    if form.validate_on_submit():
        try:
            staffing.change_password(_me(), form.current_password.data, form.new_password.data, now=_now())
        except staffing.StaffingError as error:
            forms.show_refusal(form, error, STAFFING_MESSAGES)
        else:
            flash(gettext("Your password has been changed."), "success")
            return redirect(url_for(".agenda"))
    return render_template("staff/password.html", form=form, min_length=staff_accounts.MIN_PASSWORD_LENGTH)


# -- agenda and appointments -------------------------------------------------------------


@bp.get("/")
def agenda():
    me = _me()
    view = request.args.get("view", "day")
    if view not in ("day", "week"):
        view = "day"
    day = _parse_day(request.args.get("date"))
    if view == "week":
        first = day - timedelta(days=day.weekday())
        last, step = first + timedelta(days=6), timedelta(days=7)
    else:
        first = last = day
        step = timedelta(days=1)
    clerk_id: int | None = me.id
    clerks: list[StaffUser] = []
    if me.is_admin:
        clerks = staffing.staff_by_name()
        chosen = request.args.get("clerk", "")
        clerk_id = int(chosen) if chosen.isdigit() else None
    return render_template(
        "staff/agenda.html",
        view=view,
        day=day,
        days=staffing.agenda_days(clerk_id, first, last, _lang()),
        previous=day - step,
        following=day + step,
        today=_today(),
        clerks=clerks,
        clerk_id=clerk_id,
        now=_now(),
        conflicts=len(staffing.stranded_appointments(me, _now())),
    )


def _appointment_or_404(appointment_id: int):
    appointment = staffing.visible_appointment(_me(), appointment_id)
    if appointment is None:
        abort(404)
    return appointment


@bp.get("/appointments/<int:appointment_id>")
def appointment(appointment_id: int):
    item = _appointment_or_404(appointment_id)
    return _render_appointment(item, forms.NoteForm(internal_note=item.internal_note), forms.CancelForm())


def _render_appointment(item, note_form, cancel_form, status: int = 200):
    return render_template(
        "staff/appointment.html",
        item=item,
        note_form=note_form,
        cancel_form=cancel_form,
        now=_now(),
    ), status


@bp.post("/appointments/<int:appointment_id>/note")
def appointment_note(appointment_id: int):
    item = _appointment_or_404(appointment_id)
    form = forms.NoteForm()
    if not form.validate_on_submit():
        return _render_appointment(item, form, forms.CancelForm(), 400)
    staffing.set_internal_note(item, form.internal_note.data or "", by=_me(), now=_now())
    flash(gettext("The note has been saved."), "success")
    return redirect(url_for(".appointment", appointment_id=item.id))


@bp.post("/appointments/<int:appointment_id>/mark")
def appointment_mark(appointment_id: int):
    item = _appointment_or_404(appointment_id)
    outcome = {"attended": Status.ATTENDED, "no_show": Status.NO_SHOW}.get(request.form.get("outcome", ""))
    if outcome is None:
        abort(400)
    try:
        booking.mark(item, outcome, by=_me(), now=_now())
    except booking.NotChangeable:
        flash(gettext("This appointment cannot be marked (yet)."), "error")
    else:
        flash(gettext("Marked as %(status)s.", status=status_label(outcome)), "success")
    return redirect(url_for(".appointment", appointment_id=item.id))


@bp.post("/appointments/<int:appointment_id>/cancel")
def appointment_cancel(appointment_id: int):
    item = _appointment_or_404(appointment_id)
    form = forms.CancelForm()
    if not form.validate_on_submit():
        return _render_appointment(item, forms.NoteForm(internal_note=item.internal_note), form, 400)
    try:
        booking.cancel(item, now=_now(), by=_me(), reason=form.message.data)
    except booking.BookingError as error:
        flash(str(BOOKING_MESSAGES.get(error.code, error.code)), "error")
    else:
        flash(gettext("The appointment has been cancelled; the citizen is told by mail."), "success")
    return redirect(url_for(".appointment", appointment_id=item.id))


# -- weekly hours ------------------------------------------------------------------------


def _hours_form(me: StaffUser, obj: WeeklyHours | None = None) -> forms.HoursForm:
    if obj is not None and request.method == "GET":
        form = forms.HoursForm(
            weekday=obj.weekday,
            start=obj.start_time,
            end=obj.end_time,
            valid_from=obj.valid_from,
            valid_until=obj.valid_until,
            services=[s.id for s in obj.services],
        )
    else:
        form = forms.HoursForm()
    form.services.choices = forms.choices(
        (s.id, s.name(_lang())) for s in sorted(me.services, key=lambda s: s.name_de)
    )
    return form


def _lang() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "de")


def _spec(form: forms.HoursForm) -> staffing.HoursSpec:
    return staffing.HoursSpec(
        weekday=form.weekday.data,
        start=form.start.data,
        end=form.end.data,
        valid_from=form.valid_from.data,
        valid_until=form.valid_until.data,
        service_ids=frozenset(form.services.data or ()),
    )


def _own_hours_or_404(hours_id: int) -> WeeklyHours:
    hours = db.session.get(WeeklyHours, hours_id)
    if hours is None or hours.clerk_id != _me().id:
        abort(404)
    return hours


@bp.route("/hours", methods=["GET", "POST"])
def hours():
    me = _me()
    form = _hours_form(me)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                staffing.add_weekly_hours(me, _spec(form), by=me, now=_now())
            except staffing.StaffingError as error:
                forms.show_refusal(form, error, STAFFING_MESSAGES)
            else:
                return _changed(gettext("The hours have been added."), ".hours")
        status = 400
    try:
        weeks = min(max(int(request.args.get("weeks", 2)), 1), PREVIEW_WEEKS_MAX)
    except ValueError:
        weeks = 2
    today = _today()
    preview = staffing.preview(me, today, today + timedelta(days=7 * weeks - 1), _now(), language=_lang())
    return render_template(
        "staff/hours.html",
        form=form,
        rows=staffing.weekly_hours_of(me),
        weekdays=dict(forms.WEEKDAYS),
        preview=preview,
        weeks=weeks,
        max_weeks=PREVIEW_WEEKS_MAX,
    ), status


@bp.route("/hours/<int:hours_id>", methods=["GET", "POST"])
def hours_edit(hours_id: int):
    me = _me()
    row = _own_hours_or_404(hours_id)
    form = _hours_form(me, row)
    if form.validate_on_submit():
        try:
            staffing.update_weekly_hours(row, _spec(form), by=me, now=_now())
        except staffing.StaffingError as error:
            forms.show_refusal(form, error, STAFFING_MESSAGES)
        else:
            return _changed(gettext("The hours have been changed."), ".hours")
    return render_template("staff/hours_edit.html", form=form, row=row), (400 if form.errors else 200)


@bp.post("/hours/<int:hours_id>/delete")
def hours_delete(hours_id: int):
    me = _me()
    row = _own_hours_or_404(hours_id)
    staffing.remove_weekly_hours(row, by=me, now=_now())
    return _changed(gettext("The hours have been removed."), ".hours")


# -- absences ----------------------------------------------------------------------------


@bp.route("/absences", methods=["GET", "POST"])
def absences():
    me = _me()
    form = forms.AbsenceForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                if form.kind.data == "hours":
                    start, end = staffing.absence_span(
                        form.start_date.data, start=form.start_time.data, end=form.end_time.data
                    )
                else:
                    start, end = staffing.absence_span(form.start_date.data, form.end_date.data)
                staffing.add_absence(me, start, end, form.reason.data or "", by=me, now=_now())
            except staffing.StaffingError as error:
                forms.show_refusal(form, error, STAFFING_MESSAGES)
            else:
                return _changed(gettext("The absence has been added."), ".absences")
        status = 400
    now = _now()
    today = _today()
    return render_template(
        "staff/absences.html",
        form=form,
        manual=staffing.absences_of(me, since=now, source="manual"),
        uploaded=len(staffing.absences_of(me, since=now, source=staffing.CALENDAR_SOURCE)),
        holidays=staffing.holiday_names(today, today + timedelta(days=365), _lang()),
        state=current_app.config["HOLIDAY_STATE"],
    ), status


@bp.post("/absences/<int:absence_id>/delete")
def absence_delete(absence_id: int):
    me = _me()
    absence = db.session.get(Absence, absence_id)
    if absence is None or absence.clerk_id != me.id:
        abort(404)
    staffing.remove_absence(absence, by=me, now=_now())
    flash(gettext("The absence has been removed."), "success")
    return redirect(url_for(".absences"))


# -- conflicts ---------------------------------------------------------------------------


@bp.get("/conflicts")
def conflicts():
    me = _me()
    now = _now()
    items = staffing.stranded_with_colleagues(me, now, language=_lang())
    return render_template("staff/conflicts.html", items=items, cancel_form=forms.CancelForm())


@bp.post("/conflicts/<int:appointment_id>")
def conflict_resolve(appointment_id: int):
    me = _me()
    now = _now()
    stranded = staffing.stranded_one(me, appointment_id, now)
    if stranded is None:
        # Resolved a moment ago (a second click, another tab): say so; someone else's: 404.
        mine = staffing.visible_appointment(me, appointment_id)
        if mine is None or mine.clerk_id != me.id:
            abort(404)
        flash(gettext("This appointment needs no decision any more."), "info")
        return redirect(url_for(".conflicts"))
    appointment = stranded.appointment
    action = request.form.get("action")
    try:
        if action == "keep":
            staffing.keep(stranded, by=me, now=now)
            flash(gettext("Appointment %(reference)s is kept.", reference=appointment.reference), "success")
        elif action == "reassign":
            form = forms.ReassignForm()
            colleagues = {c.id: c for c in staffing.free_colleagues(appointment, now)}
            form.colleague.choices = forms.choices((c.id, c.name) for c in colleagues.values())
            if not form.validate_on_submit():
                flash(gettext("Choose a colleague who is free at this time."), "error")
                return redirect(url_for(".conflicts"))
            colleague = colleagues[form.colleague.data]
            staffing.reassign(appointment, colleague, by=me, now=now)
            flash(
                gettext(
                    "Appointment %(reference)s has been handed to %(name)s.",
                    reference=appointment.reference,
                    name=colleague.name,
                ),
                "success",
            )
        elif action == "cancel":
            form = forms.CancelForm()
            if not form.validate_on_submit():
                flash(gettext("Write a short message to the citizen before cancelling."), "error")
                return redirect(url_for(".conflicts"))
            booking.cancel(appointment, now=now, by=me, reason=form.message.data)
            flash(
                gettext(
                    "Appointment %(reference)s has been cancelled; the citizen is told by mail.",
                    reference=appointment.reference,
                ),
                "success",
            )
        else:
            abort(400)
    except booking.BookingError as error:
        flash(str(BOOKING_MESSAGES.get(error.code, error.code)), "error")
    return redirect(url_for(".conflicts"))


# -- phone booking -----------------------------------------------------------------------


@bp.route("/phone-booking", methods=["GET", "POST"])
def phone_booking():
    me = _me()
    now = _now()
    services = staffing.phone_booking_services()
    chosen = request.values.get("service", "")
    service = next((s for s in services if str(s.id) == chosen), None)
    week = _parse_day(request.values.get("week"))
    week = week - timedelta(days=week.weekday())
    form = forms.PhoneBookingForm()
    free = []
    if service is not None:
        free = availability.free_slots(service, week, week + timedelta(days=6), now)
        form.start.choices = forms.choices((s.start.isoformat(), s.start.isoformat()) for s in free)
    status = 200
    if request.method == "POST":
        if service is None:
            abort(400)
        if form.validate_on_submit():
            try:
                start = datetime.fromisoformat(form.start.data)
                if start.tzinfo is None:
                    raise ValueError(start)
                citizen = booking.Citizen(
                    name=form.name.data,
                    email=form.email.data or None,
                    phone=form.phone.data or None,
                    language=form.language.data,
                    note=form.note.data or "",
                )
                appointment = booking.book_for_caller(service, start, citizen, clerk=me, now=now)
            except ValueError:
                form.start.errors = [gettext("Choose a time.")]
            except booking.InvalidCitizen as error:
                field = {"email": form.email, "phone": form.phone, "name": form.name}.get(
                    error.info.get("field"), form.email
                )
                if "or phone" in error.detail:
                    message = gettext("Enter an email address or a phone number.")
                elif field is form.email:
                    message = gettext("Enter a valid email address, like name@example.org.")
                elif field is form.phone:
                    message = gettext("Enter a valid phone number.")
                else:
                    message = gettext("Enter the caller's name.")
                field.errors = [message]
            except booking.BookingError as error:
                form.start.errors = [str(BOOKING_MESSAGES.get(error.code, error.code))]
            else:
                flash(
                    gettext(
                        "Booked: %(service)s on %(when)s with %(clerk)s, reference %(reference)s.",
                        service=service.name(_lang()),
                        when=_staff_datetime(appointment.start_at),
                        clerk=appointment.clerk.name,
                        reference=appointment.reference,
                    )
                    + (
                        " " + gettext("A confirmation mail is on its way.")
                        if appointment.citizen_email
                        else ""
                    ),
                    "success",
                )
                return redirect(url_for(".phone_booking", service=service.id, week=week.isoformat()))
        status = 400
    tz = availability.zone()
    by_day: dict[date, list] = {}
    for slot in free:
        by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    return render_template(
        "staff/phone_booking.html",
        services=services,
        service=service,
        week=week,
        previous=week - timedelta(days=7),
        following=week + timedelta(days=7),
        by_day=sorted(by_day.items()),
        form=form,
    ), status


# -- calendar feed and uploads -----------------------------------------------------------


def _calendar_page(form=None, feed_url: str | None = None, status: int = 200):
    me = _me()
    uploaded = staffing.absences_of(me, since=_now(), source=staffing.CALENDAR_SOURCE)
    return render_template(
        "staff/calendar.html",
        form=form or forms.UploadForm(),
        feed_url=feed_url,
        webcal_url=("webcal://" + feed_url.split("://", 1)[1]) if feed_url else None,
        has_feed=me.feed_token_hash is not None,
        uploaded=uploaded,
    ), status


@bp.get("/calendar", endpoint="calendar")
def calendar_settings():
    return _calendar_page()


@bp.post("/calendar/feed")
def calendar_feed_renew():
    me = _me()
    token = staffing.renew_feed_token(me, by=me, now=_now())
    flash(gettext("Your new feed address is shown below. Any earlier address no longer works."), "success")
    return _calendar_page(feed_url=links.public_url("feed.calendar", token=token))


@bp.post("/calendar/upload")
def calendar_upload():
    me = _me()
    form = forms.UploadForm()
    if not form.validate_on_submit():
        return _calendar_page(form=form, status=400)
    upload = form.file.data
    data = upload.read()
    try:
        busy = calendar.busy_times_from_ics(data, tz=availability.zone(), window_start=_now())
    except calendar.CalendarFileError as error:
        form.file.errors = [
            gettext("The file could not be used: %(reason)s Nothing has been changed.", reason=str(error))
        ]
        return _calendar_page(form=form, status=400)
    count = staffing.replace_calendar_busy_times(me, busy, by=me, now=_now(), filename=upload.filename or "")
    return _changed(
        gettext("%(count)d busy time(s) taken from your calendar; they replace the previous upload.", count=count),
        ".calendar",
    )
