"""Pages for citizens: catalogue, slot picker, details form, "check your inbox" (the
imprint, privacy, accessibility and contact pages: about.py).

Submitting the details form places a hold (booking.hold); the mail with the link to
confirm it goes out by itself (notifications.py listens to the booking). The same form sent
twice finds the first hold (booking.hold returns it), so a double click never holds twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from babel.dates import format_date, format_time
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, or_, select

from visits import settings
from visits.booking import availability, catalogue, items, slot_cache, unverified
from visits.booking import operations as booking
from visits.booking.availability import LocationChoice
from visits.booking.slots import Slot
from visits.core import clock
from visits.extensions import db, limiter, retry_after
from visits.models import Location, Service
from visits.web.persons import Asked, persons_asked
from visits.web.public.forms import MESSAGES, DetailsForm, offer_modes

bp = Blueprint("public", __name__)

SESSION_HOLD = "public_hold"  # id of the hold this browser placed last (its own repeat)
SESSION_ASKED = "public_asked"  # service, start and address the form was last sent with


# -- formatting and the week of slots (shared with manage.py) ------------------------------


def page_language() -> str:
    return str(get_locale() or "de")


def local_date(day: date) -> str:
    """"Montag, 30. November 2026" / "Monday, November 30, 2026"."""
    return format_date(day, format="full", locale=page_language())


def local_time(moment: datetime) -> str:
    """"09:00 Uhr" / "09:00", in the city's time zone."""
    language = page_language()
    clock_time = format_time(moment.astimezone(availability.zone()), format="HH:mm", locale=language)
    return f"{clock_time} Uhr" if language == "de" else clock_time


def local_when(moment: datetime) -> str:
    """"Montag, 30. November 2026, 09:00 Uhr": weekday, date and time in Europe/Berlin."""
    local = moment.astimezone(availability.zone())
    return _("%(date)s, %(time)s", date=local_date(local.date()), time=local_time(local))


def slot_value(moment: datetime) -> str:
    """A slot's start as it travels in forms and links: ISO 8601 in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def choice_value(slot: Slot, place: Location | None) -> str:
    """A chosen slot as it travels in forms and links: its start, and "@" its location's slug
    when it is held at one (two locations may offer the same time)."""
    value = slot_value(slot.start)
    return f"{value}@{place.slug}" if place is not None else value


def parse_location(value: str | None) -> LocationChoice:
    """The location of a chosen slot (``choice_value``): ANY when it names none, or none
    that exists (the booking then takes the time at any location)."""
    _start, _at, slug = (value or "").partition("@")
    return availability.location_choice(slug[:80]) or availability.ANY


def parse_start(value: str | None) -> datetime | None:
    """The start a form or link sent, as an aware UTC instant; None for anything else."""
    value = (value or "").partition("@")[0]
    if not value or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class SlotChoice:
    value: str  # ISO UTC, "@" and the location's slug for a slot at a location
    time: str  # "09:00 Uhr"
    when: str  # "Montag, 30. November 2026, 09:00 Uhr" (the full accessible label, with the place)
    id: str
    place: str = ""  # the location's name, for a slot at a location


@dataclass(frozen=True)
class DayOfSlots:
    label: str
    slots: list[SlotChoice]


@dataclass(frozen=True)
class Week:
    """One week of free slots as the picker shows it, everything already formatted."""

    monday: date
    label: str
    days: list[DayOfSlots]
    previous: date | None
    next: date | None
    next_free: str | None  # when nothing is free this week: the next free slot, formatted
    next_free_week: date | None
    location: str = availability.ANY  # the location filter: a slug or "any"
    locations: tuple[tuple[str, str], ...] = ()  # (slug, name) to filter by; empty: no filter


def _choice(slot: Slot, place: Location | None) -> SlotChoice:
    value = choice_value(slot, place)
    name = place.name(page_language()) if place is not None else ""
    when = local_when(slot.start)
    return SlotChoice(
        value=value,
        time=local_time(slot.start),
        when=_("%(when)s, %(place)s", when=when, place=name) if name else when,
        id="slot-" + value.replace(":", "").replace("-", "").replace("@", "-"),
        place=name,
    )


def week_of_slots(
    service: Service,
    asked: str | None,
    now: datetime,
    *,
    ignore_appointment: int | None = None,
    exclude: datetime | None = None,
    location: str | None = None,
    items: availability.Items = (),
) -> Week:
    """The week ``asked`` (any day of it, YYYY-MM-DD; default: this week) of free slots,
    kept between this week and the last week of the service's booking horizon; at the
    location ``location`` (a slug; default or unknown: any location), sorted by time, each
    slot naming its location.

    Rescheduling passes its own appointment as ``ignore_appointment`` (its buffers must not
    hide the slots next to it) and its current time as ``exclude`` (no move to itself).
    ``items``: several services or persons in one appointment (the first is ``service``)."""
    tz = availability.zone()
    first = monday_of(now.astimezone(tz).date())
    last = monday_of((now + timedelta(days=service.horizon_days)).astimezone(tz).date())
    try:
        monday = monday_of(date.fromisoformat(asked)) if asked else first
    except ValueError:
        monday = first
    monday = min(max(monday, first), last)
    sunday = monday + timedelta(days=6)
    where = availability.location_choice(location) or availability.ANY
    composite = bool(items) and not availability.is_single(items)
    if composite:
        found = availability.free_slots_of_items(
            items, monday, sunday, now, location=where, ignore_appointment=ignore_appointment
        )
    elif ignore_appointment is None:  # the common case: from the cache (visits/booking/slot_cache.py)
        found = slot_cache.free_slots(service, monday, sunday, now, location=where)
    else:
        found = availability.free_slots(
            service, monday, sunday, now, location=where, ignore_appointment=ignore_appointment
        )
    places = availability.locations_by_id(slot.location_id for slot in found)
    by_day: dict[date, list[SlotChoice]] = {}
    for slot in found:
        if slot.start == exclude:
            continue
        choice = _choice(slot, places.get(slot.location_id) if slot.location_id is not None else None)
        by_day.setdefault(slot.start.astimezone(tz).date(), []).append(choice)
    days = [DayOfSlots(local_date(day), choices) for day, choices in sorted(by_day.items())]
    next_free = next_free_week = None
    if not days:
        upcoming = (
            next(
                iter(
                    availability.free_slots_of_items(
                        items, sunday + timedelta(days=1), last + timedelta(days=6), now, location=where
                    )
                ),
                None,
            )
            if composite
            else slot_cache.next_free_slot(service, sunday + timedelta(days=1), now, location=where)
        )
        if upcoming is not None:
            next_free = local_when(upcoming.start)
            next_free_week = monday_of(upcoming.start.astimezone(tz).date())
    return Week(
        monday=monday,
        label=_("%(first)s to %(last)s", first=local_date(monday), last=local_date(sunday)),
        days=days,
        previous=monday - timedelta(days=7) if monday > first else None,
        next=monday + timedelta(days=7) if monday < last else None,
        next_free=next_free,
        next_free_week=next_free_week,
        location=location if where != availability.ANY and location else availability.ANY,
        locations=_location_filter(service),
    )


def _location_filter(service: Service) -> tuple[tuple[str, str], ...]:
    """The locations where an on-site service is held, to filter by (none for two or fewer
    choices: one location and "any" say the same)."""
    if not availability.is_on_site(service.modes):
        return ()
    language = page_language()
    found = tuple((place.slug, place.name(language)) for place in availability.on_site_locations(service))
    return found if len(found) > 1 else ()


def _active_service(slug: str) -> Service:
    service = catalogue.active_service(slug)
    if service is None:
        abort(404)
    return service


# -- pages -----------------------------------------------------------------------------------


@bp.get("/")
def index():
    """All active services, searchable by name (German or English)."""
    query = (request.args.get("q") or "").strip()[:100]
    statement = select(Service).where(Service.active.is_(True))
    if query:
        pattern = "%" + query.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        statement = statement.where(
            or_(func.lower(Service.name_de).like(pattern), func.lower(Service.name_en).like(pattern))
        )
    services = db.session.scalars(statement).all()
    language = page_language()
    services = sorted(services, key=lambda s: s.name(language).lower())
    return render_template("public/index.html", services=services, query=query)


@bp.get("/dienstleistungen/<slug>")
@limiter.limit(lambda: settings.current().ratelimit_slots)
def service(slug: str):
    """The slot picker: free slots of one week, one fieldset per day, radio buttons."""
    service = _active_service(slug)
    asked = persons_asked(service, request.args)
    week = week_of_slots(
        service, request.args.get("week"), clock.now(), location=request.args.get("location"), items=asked.items
    )
    return render_template("public/service.html", service=service, week=week, asked=asked)


@bp.route("/dienstleistungen/<slug>/buchen", methods=["GET", "POST"])
@limiter.limit(lambda: settings.current().ratelimit_booking, methods=["POST"])
def details(slug: str):
    """The details form for the chosen slot; sending it places the hold."""
    service = _active_service(slug)
    now = clock.now()
    if request.method == "GET":
        asked = persons_asked(service, request.args)
        chosen = request.args.get("start")
        start = parse_start(chosen)
        if (
            start is None
            or asked.problem
            or availability.slot_of_items_at(asked.items, start, now, location=parse_location(chosen)) is None
        ):
            return _slot_gone(service, start, asked)
        form = DetailsForm(start=chosen, language=page_language())
        offer_modes(form, asked.items)
        return _details_page(service, form, start, asked=asked)

    form = DetailsForm()
    asked = persons_asked(service, request.form)
    offer_modes(form, asked.items)
    start = parse_start(form.start.data)
    if start is None or asked.problem:
        return _slot_gone(service, None, asked)
    if not form.validate():
        return _details_page(service, form, start, asked=asked, status=422)
    citizen = booking.Citizen(
        name=form.name.data,
        email=form.email.data,
        phone=form.phone.data or None,
        language=form.language.data,
        note=form.note.data or "",
    )
    own_hold = session.get(SESSION_HOLD)
    try:
        held = unverified.request_hold(
            asked.items,
            start,
            citizen,
            now=now,
            via="web",
            own_hold=own_hold if isinstance(own_hold, int) else None,
            location=parse_location(form.start.data),
            mode=form.mode.data or None,
        )
    except booking.SlotUnavailable:
        problem = _("Sorry, this time has just been taken by someone else. Please choose another time.")
        return _details_page(service, form, start, asked=asked, problem=problem, slot_gone=True, status=409)
    except (booking.InvalidCitizen, booking.ModeNotOffered) as exc:
        field = getattr(form, exc.info.get("field", ""), None) or form.name
        message = MESSAGES.get(exc.info.get("reason", exc.code))
        field.errors = [*field.errors, str(message) if message else _("Please check this entry.")]
        return _details_page(service, form, start, asked=asked, status=422)
    # The same page whatever the address already has: what it has is told by mail to
    # whoever reads that mailbox (visits.booking.unverified).
    if held is not None:
        session[SESSION_HOLD] = held.id
    session[SESSION_ASKED] = {
        "service": service.slug,
        "persons": asked.carry,
        "start": slot_value(start),
        "email": (form.email.data or "").strip()[:320],
        # a new hold's end; the same time is shown when none was placed
        "until": slot_value(now + timedelta(minutes=settings.current().hold_minutes)),
    }
    return redirect(url_for("public.check_inbox"), code=303)


@bp.get("/buchen/postfach")
def check_inbox():
    """After the form: look for the mail. It says the same whether a hold was placed or the
    address could not have one (the mail tells which), so only what was asked is shown."""
    asked = session.get(SESSION_ASKED)
    info = None
    if isinstance(asked, dict):
        service = catalogue.active_service(str(asked.get("service", "")))
        start = parse_start(asked.get("start"))
        if service is not None and start is not None:
            persons = asked.get("persons")
            info = {
                "service": items.summary_of(
                    persons_asked(service, persons if isinstance(persons, dict) else {}).items, page_language()
                ),
                "when": local_when(start),
                "email": str(asked.get("email", "")),
                "until": local_time(until) if (until := parse_start(asked.get("until"))) else None,
            }
    return render_template(
        "public/check_inbox.html", info=info, hold_minutes=settings.current().hold_minutes
    )


# -- refusals are pages with a clear message, never error pages ----------------------------


@bp.errorhandler(429)
def too_many(error):
    """The booking rate limit: the form again, with what was typed and a clear message."""
    if request.endpoint == "public.details" and request.method == "POST":
        service = db.session.scalar(
            select(Service).where(Service.slug == (request.view_args or {}).get("slug"))
        )
        form = DetailsForm()
        start = parse_start(form.start.data)
        if service is not None and start is not None:
            asked = persons_asked(service, request.form)
            offer_modes(form, asked.items)
            problem = _(
                "Too many booking requests have come from your connection. Please wait "
                "a while (up to an hour) and send the form again; what you typed is kept."
            )
            body, status = _details_page(
                service, form, start, asked=asked, problem=problem, status=429
            )
            return body, status, {"Retry-After": retry_after()}
    return render_template("public/refused.html", reason="rate"), 429, {"Retry-After": retry_after()}


@bp.errorhandler(CSRFError)
def form_expired(error):
    return render_template("public/refused.html", reason="csrf"), 400


def _details_page(
    service: Service,
    form: DetailsForm,
    start: datetime,
    *,
    asked: Asked,
    problem: str | None = None,
    slot_gone: bool = False,
    status: int = 200,
):
    tz = availability.zone()
    at = parse_location(form.start.data)
    place = availability.locations_by_id([at]).get(at) if at != availability.ANY else None
    return (
        render_template(
            "public/details.html",
            service=service,
            asked=asked,
            service_name=items.summary_of(asked.items, page_language()),
            form=form,
            when=local_when(start),
            place=place.name(page_language()) if place is not None else None,
            week=start.astimezone(tz).date().isoformat(),
            problem=problem,
            slot_gone=slot_gone,
        ),
        status,
    )


def _slot_gone(service: Service, start: datetime | None, asked: Asked):
    """A link to a slot that is not (or no longer) free: back to the picker, with a word."""
    flash(asked.problem or _("This time is not free (any more). Please choose another time."), "error")
    week = start.astimezone(availability.zone()).date().isoformat() if start else None
    return redirect(url_for("public.service", slug=service.slug, week=week, **asked.carry), code=303)
