"""Citizens' manage pages behind the secret manage link: see, confirm, download, cancel,
reschedule.

Opening the link never changes anything (mail scanners open links too): confirming,
cancelling and rescheduling are buttons (POST with a CSRF token) on the page it opens.
A wrong link, and the link of an appointment whose data is gone, are the same plain 404;
every look-up counts against RATELIMIT_LINKS, so links cannot be guessed by trying."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from visits import settings
from visits.booking import availability, calendar, links, rules
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import limiter
from visits.models import Appointment, Status
from visits.video import dial_in
from visits.web.public.forms import ActionForm, RescheduleForm
from visits.web.public.views import local_date, local_when, page_language, parse_start, week_of_slots

bp = Blueprint("manage", __name__)

# One budget per client address for every page behind a secret link (manage and join).
link_lookups = limiter.shared_limit(lambda: settings.current().ratelimit_links, scope="manage-links")


def by_link_or_404(find: Callable[[str], Appointment | None], token: str) -> Appointment:
    """The appointment behind a secret link (``find``: links.by_manage_token or
    by_join_token). A wrong link and the link of an appointment whose data is gone look the
    same."""
    appointment = find(token)
    if appointment is None or appointment.anonymised_at is not None:
        abort(404)
    return appointment


def too_many_lookups(error):
    """Too many link look-ups from one address: a clear page, not a bare 429."""
    return render_template("public/refused.html", reason="rate"), 429


@bp.after_request
def no_store(response):
    """The pages show personal data: no caches, no copies in shared proxies."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/termin/<token>")
@link_lookups
def show(token: str):
    appointment = by_link_or_404(links.by_manage_token, token)
    return _page(appointment, clock.now())


@bp.post("/termin/<token>/bestaetigen")
@link_lookups
def confirm(token: str):
    appointment = by_link_or_404(links.by_manage_token, token)
    ActionForm()  # the CSRF token was checked before the view (CSRFProtect)
    try:
        booking.confirm(appointment, now=clock.now())
    except booking.HoldExpired:
        flash(
            _(
                "Sorry, your reservation ran out and the time has been taken by someone else "
                "in the meantime. Please choose a new time."
            ),
            "error",
        )
    except booking.NotChangeable:
        flash(_("This appointment can no longer be confirmed."), "error")
    except booking.LimitReached as exc:
        flash(
            _(
                "Your reservation ran out, and this email address has %(limit)s other upcoming "
                "appointments by now, the most one address can have. Please cancel one of them "
                "before confirming this one.",
                limit=exc.info.get("limit", settings.current().max_upcoming_per_email),
            ),
            "error",
        )
    except booking.BookingPaused:
        flash(
            _(
                "Online booking is paused for this email address, because several appointments "
                "were missed without cancelling. Please call us and we will find a time with you."
            ),
            "error",
        )
    else:
        flash(_("Your appointment is confirmed. We have sent you the confirmation by email."), "success")
    return redirect(url_for("manage.show", token=token), code=303)


@bp.post("/termin/<token>/absagen")
@link_lookups
def cancel(token: str):
    appointment = by_link_or_404(links.by_manage_token, token)
    try:
        booking.cancel(appointment, now=clock.now())
    except booking.NotChangeable:
        flash(_("This appointment can no longer be cancelled."), "error")
    else:
        flash(_("Your appointment is cancelled. The time is free for others again."), "success")
    return redirect(url_for("manage.show", token=token), code=303)


@bp.route("/termin/<token>/verschieben", methods=["GET", "POST"])
@link_lookups
def reschedule(token: str):
    appointment = by_link_or_404(links.by_manage_token, token)
    now = clock.now()
    if not rules.can_reschedule(appointment, now):
        flash(_("This appointment can no longer be changed."), "error")
        return redirect(url_for("manage.show", token=token), code=303)
    form = RescheduleForm()
    if request.method == "GET":
        return _picker(appointment, now, form, request.args.get("week"))
    start = parse_start(form.start.data) if form.validate() else None
    if start is None:
        if not form.start.errors:
            form.start.errors = [_("Choose a new time.")]
        return _picker(appointment, now, form, request.form.get("week"), status=422)
    week = start.astimezone(availability.zone()).date().isoformat()
    try:
        booking.reschedule(appointment, start, now=now)
    except booking.NotChangeable:
        flash(_("This appointment can no longer be changed."), "error")
        return redirect(url_for("manage.show", token=token), code=303)
    except booking.SlotUnavailable:
        problem = _("Sorry, this time has just been taken by someone else. Please choose another time.")
        return _picker(appointment, now, form, week, problem=problem, status=409)
    except booking.AlreadyBookedAtThisTime:
        problem = _("You already have another appointment at this time. Please choose another time.")
        return _picker(appointment, now, form, week, problem=problem, status=409)
    if appointment.status == Status.HELD:
        flash(
            _(
                "Your reservation has been moved to %(when)s. Please confirm it with the "
                "button below.",
                when=local_when(appointment.start_at),
            ),
            "success",
        )
    else:
        flash(
            _(
                "Your appointment has been moved to %(when)s. We have sent you the new "
                "details by email.",
                when=local_when(appointment.start_at),
            ),
            "success",
        )
    return redirect(url_for("manage.show", token=token), code=303)


@bp.get("/termin/<token>/termin.ics")
@link_lookups
def ics(token: str):
    """The appointment for the citizen's own calendar (no METHOD: a file, not an invitation)."""
    appointment = by_link_or_404(links.by_manage_token, token)
    with force_locale(appointment.language):  # the file speaks the citizen's language
        phone_line = dial_in.line_for(appointment)
    return Response(
        calendar.appointment_ics(appointment, method=None, now=clock.now(), phone_line=phone_line),
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="termin.ics"'},
    )


# -- refusals: clear pages -----------------------------------------------------------------


bp.register_error_handler(429, too_many_lookups)


@bp.errorhandler(CSRFError)
def form_expired(error):
    return render_template("public/refused.html", reason="csrf"), 400


# -- helpers ---------------------------------------------------------------------------------


def _state(appointment: Appointment, now: datetime) -> str:
    """What the page says: held, hold_expired, confirmed, cancelled or past. What it offers
    comes from ``rules`` (see ``_page``)."""
    if appointment.status == Status.CANCELLED:
        return "cancelled"
    if rules.has_started(appointment, now):
        return "past"
    if rules.hold_has_lapsed(appointment, now):
        return "hold_expired"
    if appointment.status == Status.HELD:
        return "held"
    if appointment.status == Status.CONFIRMED:
        return "confirmed"
    return "past"  # attended or no-show


def _summary(appointment: Appointment) -> dict:
    language = page_language()
    service = appointment.service
    return {
        "appointment": appointment,
        "service_name": service.name(language),
        "documents": service.documents(language),
        "when": local_when(appointment.start_at),
        "join_token": links.join_token(appointment) if appointment.is_video else None,
        "hold_until": (
            local_when(appointment.hold_expires_at) if appointment.hold_expires_at else None
        ),
        "cancelled_on": (
            local_date(appointment.cancelled_at.astimezone(availability.zone()).date())
            if appointment.cancelled_at
            else None
        ),
    }


def _page(appointment: Appointment, now: datetime):
    return render_template(
        "manage/show.html",
        state=_state(appointment, now),
        offer_confirm=rules.can_confirm(appointment, now),
        offer_cancel=rules.can_cancel(appointment, now),
        offer_reschedule=rules.can_reschedule(appointment, now),
        form=ActionForm(),
        token=request.view_args["token"],
        **_summary(appointment),
    )


def _picker(
    appointment: Appointment,
    now: datetime,
    form: RescheduleForm,
    asked_week: str | None,
    *,
    problem: str | None = None,
    status: int = 200,
):
    week = week_of_slots(
        appointment.service,
        asked_week,
        now,
        ignore_appointment=appointment.id,
        exclude=appointment.start_at,
    )
    return (
        render_template(
            "manage/reschedule.html",
            form=form,
            week=week,
            problem=problem,
            token=request.view_args["token"],
            **_summary(appointment),
        ),
        status,
    )
