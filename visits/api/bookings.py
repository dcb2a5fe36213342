"""Bookings: make one (a hold, or confirmed for a portal with a key), see one, cancel one."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Response, request
from sqlalchemy import select

from visits import settings
from visits.api import problems
from visits.api.callers import (
    MANAGE_TOKEN_HEADER,
    anonymous_booking_limit,
    anonymous_lookup_limit,
    portal_limit,
    require_valid_key_if_sent,
)
from visits.api.routes import RATE_LIMITED, ApiProblem, bp, problem_response
from visits.api.schemas import REFERENCE_RE, BookingRequestSchema, BookingSchema
from visits.booking import availability, catalogue, items, links, modes, unverified
from visits.booking import operations as booking
from visits.booking.availability import LocationChoice
from visits.core import clock
from visits.extensions import db
from visits.models import ApiKey, Appointment, Location, Mode, Service

BOOKING_AUTH = [{"bearerAuth": []}, {"manageToken": []}]


def _booking_body(appointment: Appointment, *, with_links: bool) -> dict:
    service = appointment.service
    body = {
        "reference": appointment.reference,
        "status": str(appointment.status),
        "hold_expires_at": (
            availability.local(appointment.hold_expires_at) if appointment.hold_expires_at else None
        ),
        "service": service.slug,
        "service_name": items.summary(appointment, appointment.language),
        "items": [
            {"service": line.service.slug, "persons": line.persons} for line in items.lines(appointment)
        ],
        "start": availability.local(appointment.start_at),
        "end": availability.local(appointment.end_at),
        "video": appointment.is_video,
        "mode": appointment.mode,
        "location": _location_body(modes.where(appointment), appointment.language),
        "language": appointment.language,
    }
    if with_links:
        body["manage_url"] = links.manage_url(appointment)
        if appointment.is_video:
            body["join_url"] = links.join_url(appointment)
    return body


def _bookable_start(service: Service, start: datetime, now: datetime) -> bool:
    """Only a time within the service's horizon can be a slot; anything else is refused
    with the same answer the booking service gives, without asking it."""
    return now - timedelta(days=1) <= start <= now + timedelta(days=service.horizon_days + 2)


@bp.route("/bookings", methods=["POST"])
@anonymous_booking_limit
@portal_limit
@bp.arguments(BookingRequestSchema)
@bp.response(201, BookingSchema)
@bp.alt_response(
    200,
    schema=BookingSchema,
    description="With an API key, the same request again: the booking it made",
    success=True,
)
@problem_response(401, "invalid-api-key: an Authorization header with an unknown or revoked key")
@problem_response(
    422,
    "invalid-input (with `errors`, per field, e.g. phone for a phone appointment), mode-not-offered; "
    "for `items` also too-many-persons (with `limit`), not-combinable, duplicate-service",
)
@problem_response(
    409,
    "slot-unavailable (not a free slot, or just taken); with an API key also "
    "already-booked-at-this-time, limit-reached (with `limit`), booking-paused (with `paused_until`)",
)
@RATE_LIMITED
@bp.doc(
    summary="Book a slot",
    description="Without an API key: a hold (status `held`) until `hold_expires_at`; the "
    "citizen confirms it by the link in the mail, as on the web. The answer is the same 201 "
    "whatever the address already has: when it has an appointment at that time, too many "
    "upcoming ones or a booking pause (or the request is a repeat), nothing new is held, "
    "the reference belongs to no booking and the mail to the address says why. With a "
    "portal's API key: confirmed at once (the portal has identified the citizen) and every "
    "refusal is answered as such. The start must be exactly a free slot. One service is "
    "named by `service`; several in one appointment (a family: registration for one, ID "
    "cards for two) by `items`, each with its number of persons, starting at a free slot "
    "of GET /api/v1/slots?items=...",
    security=[{}, {"bearerAuth": []}],
)
def create_booking(data: dict):
    key = require_valid_key_if_sent()
    wanted = _wanted(data)
    if isinstance(wanted, Response):
        return wanted
    service = booking.first_service(wanted)
    now = clock.now()
    start = data["start"].astimezone(UTC)
    location = availability.location_choice(data.get("location"))
    if location is None:
        return problems.invalid({"location": ["Unknown location."]})
    if not _bookable_start(service, start, now):
        raise booking.SlotUnavailable()
    citizen = booking.Citizen(
        name=data["name"],
        email=data.get("email"),
        phone=data.get("phone"),
        language=data.get("language") or problems.language(),
        note=data.get("note") or "",
    )
    if key is None:
        if not citizen.email:
            return problems.invalid({"email": ["Required: the confirmation link is sent there."]})
        held = unverified.request_hold(
            wanted, start, citizen, now=now, via="api", location=location, mode=data.get("mode")
        )
        if held is None:
            mode = booking.choose_mode(service, data.get("mode"), booking.items_of(wanted))
            return _answer_as_if_held(wanted, start, citizen, now, mode, location), 201
        return _booking_body(held, with_links=False), 201
    result = booking.book_confirmed(
        wanted, start, citizen, now=now, via="api", api_key=key, location=location, mode=data.get("mode")
    )
    # Only the portal that made the booking gets its links (a repeat may find one made on
    # the web).
    own = result.appointment.api_key_id == key.id
    body = _booking_body(result.appointment, with_links=own)
    return body, 201 if result.created else 200


def _wanted(data: dict) -> booking.Booked | Response:
    """The active service of ``service``, or the (service, persons) of ``items``; an unknown
    slug is invalid input."""
    if "items" not in data:
        service = catalogue.active_service(data["service"])
        return service if service is not None else problems.invalid({"service": ["Unknown service."]})
    wanted = [(catalogue.active_service(item["service"]), item["persons"]) for item in data["items"]]
    unknown = [
        item["service"] for item, (service, _n) in zip(data["items"], wanted, strict=True) if service is None
    ]
    if unknown:
        return problems.invalid({"items": [f"Unknown service: {slug}." for slug in unknown]})
    return booking.items_of(wanted)


def _answer_as_if_held(
    wanted: booking.Booked,
    start: datetime,
    citizen: booking.Citizen,
    now: datetime,
    mode: Mode,
    location: LocationChoice,
) -> dict:
    """What a caller without a key hears when nothing new was held for the address (it has
    an appointment then, too many, a pause, or this is a repeat): the answer a new hold
    gets, with a reference that belongs to no booking. The facts went to the mailbox."""
    language = citizen.language if citizen.language in ("de", "en") else "de"
    wanted = booking.items_of(wanted)
    service = booking.first_service(wanted)
    return {
        "reference": links.new_reference(),
        "status": "held",
        "hold_expires_at": availability.local(now + timedelta(minutes=settings.current().hold_minutes)),
        "service": service.slug,
        "service_name": items.summary_of(wanted, language),
        "items": [{"service": what.slug, "persons": persons} for what, persons in wanted],
        "start": availability.local(start),
        "end": availability.local(start + availability.combination_rules(wanted).duration),
        "video": mode == Mode.VIDEO,
        "mode": mode.value,
        "location": _location_body(_where_it_would_be_held(wanted, start, now, location, mode), language),
        "language": language,
    }


def _location_body(location: Location | None, language: str) -> dict | None:
    return {"slug": location.slug, "name": location.name(language)} if location is not None else None


def _where_it_would_be_held(
    wanted: availability.Items, start: datetime, now: datetime, location: LocationChoice, mode: Mode
) -> Location | None:
    """For the answer as if held: the location a new hold would name (where the first free
    slot at ``start`` lies; else, as for older bookings, where the service is held)."""
    if mode != Mode.ON_SITE:
        return None
    at = next(
        (
            slot.location_id
            for slot in availability.slots_of_items_at(wanted, start, now, location=location, on_site=True)
            if slot.location_id is not None
        ),
        None,
    )
    return db.session.get(Location, at) if at is not None else booking.first_service(wanted).location


def _authorised_booking(reference: str) -> tuple[Appointment, ApiKey | None]:
    """The appointment ``reference`` if the caller's key booked it or their manage token
    belongs to it. An unknown reference and a wrong token answer the same 404."""
    key = require_valid_key_if_sent()
    token = request.headers.get(MANAGE_TOKEN_HEADER, "")
    if key is None and not token:
        raise ApiProblem(401, "authentication-required")
    if not REFERENCE_RE.fullmatch(reference):
        raise ApiProblem(404, "not-found")
    appointment = db.session.scalar(select(Appointment).where(Appointment.reference == reference))
    if appointment is not None:
        if key is not None and appointment.api_key_id == key.id:
            return appointment, key
        if (
            token
            and len(token) <= 100
            and hmac.compare_digest(links.token_hash(token), appointment.manage_token_hash)
        ):
            return appointment, None
    raise ApiProblem(404, "not-found")


def _one_booking(*more_problems) -> Callable:
    """What the routes on one booking (by reference) share: the look-up limits, the answer,
    its errors and who may ask; ``more_problems``: further error answers of the route."""
    shared = [
        anonymous_lookup_limit,
        portal_limit,
        bp.response(200, BookingSchema),
        problem_response(401, "authentication-required, invalid-api-key"),
        problem_response(404, "not-found: unknown reference, or the token or key does not fit it"),
        *more_problems,
        RATE_LIMITED,
        bp.doc(security=BOOKING_AUTH),
    ]

    def decorate(view: Callable) -> Callable:
        for decorator in reversed(shared):
            view = decorator(view)
        return view

    return decorate


@bp.route("/bookings/<reference>", methods=["GET"])
@_one_booking()
@bp.doc(
    summary="A booking",
    description="For the holder of its manage token (X-Manage-Token) or the portal whose "
    "key booked it. Unknown references and wrong tokens both answer 404.",
)
def get_booking(reference: str):
    appointment, _key = _authorised_booking(reference)
    return _booking_body(appointment, with_links=True)


@bp.route("/bookings/<reference>", methods=["DELETE"])
@_one_booking(problem_response(409, "not-changeable: already over, cancelled or expired"))
@bp.doc(
    summary="Cancel a booking",
    description="Frees the slot at once; the citizen gets the cancellation mail. 409 when "
    "the appointment is already over, cancelled or expired.",
)
def cancel_booking(reference: str):
    appointment, _key = _authorised_booking(reference)
    booking.cancel(appointment, now=clock.now())
    return _booking_body(appointment, with_links=True)
