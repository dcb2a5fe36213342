"""Booking for a caller on the phone: choose a service (with the services it combines with
and a number of persons for each, as the citizen's slot picker reads them) and a week,
pick a free time (at a location, for on-site services; reserved hours included) and one of
the modes every chosen service offers, enter the caller's details; the appointment is
confirmed at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from visits.booking import availability, items, modes
from visits.booking import operations as booking
from visits.booking.availability import LocationChoice
from visits.booking.slots import Slot
from visits.clerks import agenda as clerk_agenda
from visits.core import clock
from visits.web.persons import Asked, persons_asked
from visits.web.staff import bp, forms
from visits.web.staff.pages import booking_message, lang, me, parse_day, staff_datetime


def _value(slot: Slot) -> str:
    """A slot as the page offers it: its start (aware ISO), and "@" its location's id."""
    start = slot.start.isoformat()
    return start if slot.location_id is None else f"{start}@{slot.location_id}"


def _chosen(value: str) -> tuple[datetime, LocationChoice]:
    """The chosen start and location (``_value``)."""
    start_text, _at, location = value.partition("@")
    start = datetime.fromisoformat(start_text)
    if start.tzinfo is None:
        raise ValueError(value)
    return start, int(location) if location else availability.ANY


def _citizen(form: forms.PhoneBookingForm) -> booking.Citizen:
    return booking.Citizen(
        name=form.name.data,
        email=form.email.data or None,
        phone=form.phone.data or None,
        language=form.language.data,
        note=form.note.data or "",
    )


def _show_caller_refusal(form: forms.PhoneBookingForm, error: booking.InvalidCitizen) -> None:
    """The refused detail of the caller at its field, chosen by the refusal's field and reason."""
    fields = {"email": form.email, "phone": form.phone, "name": form.name, "note": form.note}
    field = fields.get(error.info.get("field"), form.email)
    code = error.info.get("reason", "")
    field.errors = [str(forms.CALLER_MESSAGES.get(code, forms.CALLER_MESSAGES["email_invalid"]))]


def _booked_message(appointment) -> str:
    message = gettext(
        "Booked: %(service)s on %(when)s with %(clerk)s, reference %(reference)s.",
        service=items.summary(appointment, lang()),
        when=staff_datetime(appointment.start_at),
        clerk=appointment.clerk.name,
        reference=appointment.reference,
    )
    if appointment.citizen_email:
        message += " " + gettext("A confirmation mail is on its way.")
    return message


def _offer_modes(form: forms.PhoneBookingForm, wanted: availability.Items) -> None:
    """The modes every chosen service offers, as the form's choices (its default chosen)."""
    offered = modes.offered_by_all(service for service, _persons in wanted)
    form.mode.choices = [(mode.value, modes.label(mode)) for mode in offered]
    if form.mode.data is None and offered:
        form.mode.data = modes.default_among(offered).value


def _persons_shown(asked: Asked | None) -> dict[str, str]:
    """The number of persons each field shows: what was typed, when it was refused."""
    if asked is None:
        return {}
    if not asked.problem:
        return {slug: str(n) for slug, n in asked.persons.items()}
    return {o.slug: (request.values.get(f"persons-{o.slug}") or "")[:4] for o in asked.options}


@bp.route("/phone-booking", methods=["GET", "POST"])
def phone_booking():
    now = clock.now()
    services = clerk_agenda.phone_booking_services()
    chosen = request.values.get("service", "")
    service = next((s for s in services if str(s.id) == chosen), None)
    week = parse_day(request.values.get("week"), now)
    week = week - timedelta(days=week.weekday())
    form = forms.PhoneBookingForm()
    # The services and persons asked for (the chosen service alone for one, unless said otherwise).
    asked = persons_asked(service, request.values) if service is not None else None
    wanted = asked.items if asked is not None and not asked.problem else []
    by_day = []
    if wanted:
        by_day = clerk_agenda.free_slots_by_day(wanted, week, week + timedelta(days=6), now)
        form.start.choices = forms.choices((_value(s), _value(s)) for _, slots in by_day for s in slots)
        _offer_modes(form, wanted)
    status = 200
    if request.method == "POST":
        if service is None:
            abort(400)
        if wanted and form.validate_on_submit():
            try:
                start, location = _chosen(form.start.data)
                appointment = booking.book_for_caller(
                    wanted, start, _citizen(form), clerk=me(), now=now, location=location, mode=form.mode.data
                )
            except booking.InvalidCitizen as error:
                _show_caller_refusal(form, error)
            except booking.ModeNotOffered as error:
                form.mode.errors = [booking_message(error)]
            except booking.BookingError as error:
                form.start.errors = [booking_message(error)]
            except ValueError:
                form.start.errors = [gettext("Choose a time.")]
            else:
                flash(_booked_message(appointment), "success")
                return redirect(
                    url_for(".phone_booking", service=service.id, week=week.isoformat(), **asked.carry)
                )
        status = 400
    return render_template(
        "staff/phone_booking.html",
        services=services,
        service=service,
        asked=asked,
        wanted_label=items.summary_of(wanted, lang()),
        persons_shown=_persons_shown(asked),
        week=week,
        previous=week - timedelta(days=7),
        following=week + timedelta(days=7),
        by_day=by_day,
        value_of=_value,
        places=availability.locations_by_id(s.location_id for _, slots in by_day for s in slots),
        form=form,
    ), status
