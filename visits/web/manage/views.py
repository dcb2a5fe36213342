"""Citizens' manage pages behind the secret manage link: see, confirm, download, cancel,
reschedule, invite one more person into a video call (an interpreter, a support person),
hand in documents for a video appointment (and delete them again).

Opening the link never changes anything (mail scanners open links too): confirming,
cancelling and rescheduling are buttons (POST with a CSRF token) on the page it opens.
A wrong link, and the link of an appointment whose data is gone, are the same plain 404;
every look-up counts against RATELIMIT_LINKS, so links cannot be guessed by trying."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from visits import settings
from visits.booking import availability, calendar, documents, guests, items, links, modes, rules
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import limiter
from visits.models import Appointment, Status
from visits.video import dial_in
from visits.web.public.forms import ActionForm, GuestForm, RescheduleForm
from visits.web.public.views import (
    local_date,
    local_when,
    page_language,
    parse_location,
    parse_start,
    week_of_slots,
)

bp = Blueprint("manage", __name__)

# Why a document was not taken (DocumentRefused), by refusal code.
DOCUMENT_MESSAGES = {
    "closed": _l("Documents can only be handed in for an upcoming video appointment."),
    "empty": _l("Choose a file to hand in. The file you chose is empty."),
    "wrong_type": _l("This file is not a PDF, JPEG or PNG file. Please hand in only PDF, JPEG or PNG files."),
    "too_big": _l("This file is too big. Each file may have at most %(size)s."),
    "too_many": _l("You have handed in %(count)s files already, the most one appointment can have. Delete one first."),
    "infected": _l("This file was refused because the virus scan found something harmful in it."),
    "scan_unavailable": _l(
        "Handing in documents does not work right now, because the virus scan cannot be reached. "
        "Please try again later or bring the documents to your appointment."
    ),
    "not_found": _l("This document is no longer there."),
}
DOCUMENT_STATUS = {"too_big": 413, "scan_unavailable": 503, "closed": 409, "not_found": 404}

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
        booking.reschedule(appointment, start, now=now, location=parse_location(form.start.data))
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


@bp.post("/termin/<token>/gast")
@link_lookups
def invite_guest(token: str):
    """Invite one more person (interpreter, support person) into the video call."""
    appointment = by_link_or_404(links.by_manage_token, token)
    now = clock.now()
    form = GuestForm()
    if not form.validate():
        return _page(appointment, now, guest_form=form), 422
    try:
        guest = guests.invite(
            appointment,
            name=form.name.data,
            email=form.email.data,
            role=form.role.data,
            language=form.language.data,
            now=now,
        )
    except guests.BookingError as error:
        flash(guest_message(error), "error")
    else:
        flash(_("%(name)s is invited. We have sent them their own link to the video call.", name=guest.name), "success")
    return redirect(url_for("manage.show", token=token), code=303)


@bp.post("/termin/<token>/gast/entfernen")
@link_lookups
def remove_guest(token: str):
    appointment = by_link_or_404(links.by_manage_token, token)
    try:
        guests.remove(appointment, now=clock.now())
    except guests.BookingError as error:
        flash(guest_message(error), "error")
    else:
        flash(_("The invitation is withdrawn. We have told the person by email."), "success")
    return redirect(url_for("manage.show", token=token), code=303)


def guest_message(error: Exception) -> str:
    """What a refused invitation or removal says, for the citizen and the clerk alike."""
    code = getattr(error, "code", "")
    if code == "guest_limit_reached":
        return _("Only one more person can take part in the video call. Remove the invited person first.")
    if code == "no_guest":
        return _("Nobody is invited to this appointment.")
    if code == "invalid_input":
        return _("Please check the name and the email address.")
    return _("Guests can be invited only to a confirmed video appointment that has not ended.")
@bp.post("/termin/<token>/unterlagen")
@link_lookups
def hand_in(token: str):
    """One file for the clerk; the type is sniffed from what is read, never from its name."""
    appointment = by_link_or_404(links.by_manage_token, token)
    upload = request.files.get(documents.FIELD)
    data = upload.stream.read(settings.current().document_max_bytes + 1) if upload else b""
    try:
        document = documents.hand_in(
            appointment, filename=upload.filename if upload else None, data=data, now=clock.now()
        )
    except documents.DocumentRefused as refusal:
        return _page(appointment, clock.now(), document_error=refusal.code)
    flash(_("Your document “%(name)s” has been handed in.", name=document.display_name), "success")
    return redirect(url_for("manage.show", token=token, _anchor="documents"), code=303)


@bp.post("/termin/<token>/unterlagen/<int:document_id>/loeschen")
@link_lookups
def withdraw(token: str, document_id: int):
    appointment = by_link_or_404(links.by_manage_token, token)
    ActionForm()  # the CSRF token was checked before the view (CSRFProtect)
    try:
        documents.withdraw(appointment, document_id, now=clock.now())
    except documents.DocumentRefused as refusal:
        return _page(appointment, clock.now(), document_error=refusal.code)
    flash(_("The document has been deleted."), "success")
    return redirect(url_for("manage.show", token=token, _anchor="documents"), code=303)


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


@bp.errorhandler(413)
def upload_too_large(error):
    """A body beyond MAX_CONTENT_LENGTH: the manage page with the "too big" message at the
    upload field (the body is not read again; nothing else was typed on that form)."""
    token = (request.view_args or {}).get("token")
    appointment = links.by_manage_token(token) if token else None
    if appointment is None or appointment.anonymised_at is not None:
        return error
    return _page(appointment, clock.now(), document_error="too_big")


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    """A file's size for people: "340 KB", "2,5 MB" (1 KB = 1024 bytes)."""
    if size < 1024 * 1024:
        return f"{format_decimal(max(1, round(size / 1024)))} KB"
    return f"{format_decimal(round(size / (1024 * 1024), 1))} MB"


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
        "service_name": items.summary(appointment, language),
        "documents": service.documents(language),
        "when": local_when(appointment.start_at),
        "join_token": links.join_token(appointment) if appointment.is_video else None,
        # On site: where to go; phone: who calls, from which number.
        "place": modes.place_of(appointment, language),
        "phone_call": modes.phone_call(appointment),
        "hold_until": (
            local_when(appointment.hold_expires_at) if appointment.hold_expires_at else None
        ),
        "cancelled_on": (
            local_date(appointment.cancelled_at.astimezone(availability.zone()).date())
            if appointment.cancelled_at
            else None
        ),
    }


def _document_message(code: str) -> str:
    config = settings.current()
    return str(DOCUMENT_MESSAGES[code]) % {
        "size": file_size(config.document_max_bytes),
        "count": config.documents_max_per_appointment,
    }


def _page(
    appointment: Appointment,
    now: datetime,
    *,
    guest_form: GuestForm | None = None,
    document_error: str | None = None,
):
    config = settings.current()
    offer_guests = guests.can_change(appointment, now)
    if guest_form is None and offer_guests:
        # Not bound to the request either (see ``form`` below).
        guest_form = GuestForm(formdata=None, language=appointment.language)
    page = render_template(
        "manage/show.html",
        offer_guests=offer_guests,
        guest=guests.active_guest(appointment) if offer_guests else None,
        guest_form=guest_form,
        role_labels=guests.ROLE_LABELS,
        state=_state(appointment, now),
        offer_confirm=rules.can_confirm(appointment, now),
        offer_cancel=rules.can_cancel(appointment, now),
        offer_reschedule=rules.can_reschedule(appointment, now),
        offer_documents=documents.may_hand_in(appointment, now),
        handed_in=documents.of_appointment(appointment) if appointment.is_video else [],
        document_error=_document_message(document_error) if document_error else None,
        document_max_size=file_size(config.document_max_bytes),
        documents_max=config.documents_max_per_appointment,
        # Not bound to the request: the error page of a too large body must not read it again.
        form=ActionForm(formdata=None),
        token=request.view_args["token"],
        **_summary(appointment),
    )
    if document_error:
        return page, DOCUMENT_STATUS.get(document_error, 422)
    return page


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
        items=items.booked(appointment),
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
