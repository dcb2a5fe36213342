"""The routes of /api/v1. Thin: parse, call visits.booking (operations, availability), answer.

Who may do what:
- anyone: list services and free slots; ask for a hold (the citizen confirms by the link in
  the mail, exactly as on the web);
- the holder of an appointment's manage token (X-Manage-Token): see and cancel it;
- a portal with an API key (Authorization: Bearer ...): book confirmed at once for a citizen
  it has identified, and see and cancel the appointments it booked."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from flask import current_app, request
from flask_smorest import Blueprint
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from visits.admin import api_keys
from visits.api import problems
from visits.api.schemas import (
    REFERENCE_RE,
    BookingRequestSchema,
    BookingSchema,
    ServiceSchema,
    SlotListSchema,
    SlotQuerySchema,
)
from visits.booking import availability, links, slot_cache
from visits.booking import operations as booking
from visits.core import clock, slugs
from visits.extensions import db, limiter
from visits.models import ApiKey, Appointment, Service

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Services, free slots and bookings for service portals",
)

# The widest span one slot request may ask for (two months).
MAX_SLOT_RANGE_DAYS = 62
DEFAULT_SLOT_RANGE_DAYS = 7

MANAGE_TOKEN_HEADER = "X-Manage-Token"  # noqa: S105 (a header name)
_KEY_CACHE = "visits.api_key"
BOOKING_AUTH = [{"bearerAuth": []}, {"manageToken": []}]


def problem_response(status: int, description: str):
    """Document an error answer (problem+json) with the problem types it can carry."""
    return bp.alt_response(
        status, schema=problems.ProblemSchema, content_type=problems.MEDIA_TYPE, description=description
    )


RATE_LIMITED = problem_response(429, "rate-limited: too many requests; see Retry-After")


class ApiProblem(Exception):
    """Answer with a problem; raised in views and limit hooks, turned into problem+json."""

    def __init__(self, status: int, slug: str, **extra) -> None:
        super().__init__(slug)
        self.status, self.slug, self.extra = status, slug, extra


@bp.errorhandler(ApiProblem)
def _api_problem(error: ApiProblem):
    headers = {"WWW-Authenticate": 'Bearer realm="visits"'} if error.status == 401 else None
    return problems.problem(error.status, error.slug, headers=headers, **error.extra)


@bp.errorhandler(HTTPException)
def _http_problem(error: HTTPException):
    """Errors raised in the API's views (invalid input from webargs, 401, 409...)."""
    return problems.for_http_error(error)


@bp.errorhandler(booking.BookingError)
def _booking_problem(error: booking.BookingError):
    return problems.for_booking_error(error)


# -- who is asking -----------------------------------------------------------------------


def _key_check() -> tuple[ApiKey | None, bool]:
    """(the portal's key, whether a key was sent that is not valid), checked once per
    request and kept in the WSGI environ (``g`` may outlive a request in tests)."""
    cached = request.environ.get(_KEY_CACHE)
    if cached is None:
        key, invalid = None, False
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, credentials = header.partition(" ")
            key = api_keys.verify(credentials.strip()) if scheme.lower() == "bearer" else None
            invalid = key is None
        cached = request.environ[_KEY_CACHE] = (key, invalid)
    return cached


def portal_key() -> ApiKey | None:
    """The portal's API key from ``Authorization: Bearer ...`` (None without one).

    A wrong or revoked key is refused by the view (401); the rate limits treat such a
    request as anonymous, so guessing keys is limited too."""
    return _key_check()[0]


def _require_valid_key_if_sent() -> ApiKey | None:
    key, invalid = _key_check()
    if invalid:
        raise ApiProblem(401, "invalid-api-key")
    return key


def _has_key() -> bool:
    return portal_key() is not None


def _anonymous() -> bool:
    return not _has_key()


def _key_identity() -> str:
    key = portal_key()
    return f"api-key:{key.id}" if key else "api-key:none"


def _booking_limit() -> str:
    return current_app.config["RATELIMIT_BOOKING"]


def _links_limit() -> str:
    return current_app.config["RATELIMIT_LINKS"]


def _portal_limit() -> str:
    return current_app.config["RATELIMIT_API_KEY"]


# A portal books for many citizens from one address: it has its own, larger budget per key;
# everybody else is limited per address like the web pages.
anonymous_booking_limit = limiter.limit(_booking_limit, exempt_when=_has_key)
anonymous_lookup_limit = limiter.limit(_links_limit, exempt_when=_has_key)
portal_limit = limiter.limit(_portal_limit, key_func=_key_identity, exempt_when=_anonymous)


# -- services and slots ------------------------------------------------------------------


def _active_service(slug: str) -> Service | None:
    if not slugs.is_slug(slug):
        return None
    return db.session.scalar(select(Service).where(Service.slug == slug, Service.active.is_(True)))


def _local(moment: datetime) -> datetime:
    return moment.astimezone(availability.zone())


@bp.route("/services", methods=["GET"])
@bp.response(200, ServiceSchema(many=True))
@bp.doc(
    summary="Services that can be booked",
    description="Names, descriptions and documents in the language of Accept-Language (de by default, en).",
)
def services():
    language = problems.language()
    rows = db.session.scalars(
        select(Service).where(Service.active.is_(True)).order_by(Service.name_de, Service.id)
    )
    return (
        [
            {
                "slug": service.slug,
                "name": service.name(language),
                "description": service.description(language),
                "duration_minutes": service.duration_minutes,
                "video": service.video,
                "address": service.address or "",
                "documents": service.documents(language),
                "booking_url": links.public_url("public.service", slug=service.slug),
            }
            for service in rows
        ],
        200,
        {"Content-Language": language, "Vary": "Accept-Language"},
    )


def _add_days(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


@bp.route("/services/<slug>/slots", methods=["GET"])
@bp.arguments(SlotQuerySchema, location="query")
@bp.response(200, SlotListSchema)
@problem_response(404, "not-found: no such service (or it is not offered any more)")
@bp.doc(
    summary="Free slots of a service",
    description=f"Free slots on the local days `from`..`to` (inclusive, at most "
    f"{MAX_SLOT_RANGE_DAYS} days), times in ISO 8601 with the Europe/Berlin offset. "
    "Book one with its exact `start`.",
)
def slots(query: dict, slug: str):
    # The listing comes from visits/booking/slot_cache.py (computed once per change, read at this
    # moment) and its JSON is built once per answer: the same body SlotListSchema would
    # give (sorted keys, ISO 8601 with the Berlin offset), without marshmallow per slot.
    the_cache = slot_cache.cache()
    generation = the_cache.generation()  # before any query: see slot_cache's docstring
    service = slot_cache.active_service_info(slug, generation)
    if service is None:
        raise ApiProblem(404, "not-found")
    now = clock.now()
    today = _local(now).date()
    first = query.get("from_") or today
    last = query.get("to") or _add_days(first, DEFAULT_SLOT_RANGE_DAYS - 1)
    if last < first:
        return problems.invalid({"to": ["Must not be before `from`."]})
    if (last - first).days + 1 > MAX_SLOT_RANGE_DAYS:
        return problems.invalid({"to": [f"At most {MAX_SLOT_RANGE_DAYS} days from `from` (inclusive)."]})
    # Nothing is free before today or past the service's horizon; asking the engine only for
    # the days in between also keeps far-away dates from overflowing.
    search_first = max(first, today)
    search_last = min(last, _add_days(today, service.horizon_days + 1))
    if search_first > search_last:
        body = _slot_body(service.slug, first, last, ())
    else:
        found = slot_cache.listing(
            service, search_first, search_last, now, generation=generation, have_generation=True
        )
        body = the_cache.memo(
            generation,
            ("api-slots", service.slug, first, last, search_first, search_last, found.key),
            lambda: _slot_body(service.slug, first, last, found.slots),
        )
    return current_app.response_class(body, mimetype="application/json")


def _slot_body(slug: str, first: date, last: date, found) -> bytes:
    """What SlotListSchema dumps, as the JSON flask-smorest would send."""
    tz = availability.zone()
    body = {
        "service": slug,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "slots": [
            {"start": s.start.astimezone(tz).isoformat(), "end": s.end.astimezone(tz).isoformat()}
            for s in found
        ],
    }
    return (current_app.json.dumps(body) + "\n").encode()


# -- bookings ----------------------------------------------------------------------------


def _booking_body(appointment: Appointment, *, with_links: bool) -> dict:
    service = appointment.service
    body = {
        "reference": appointment.reference,
        "status": str(appointment.status),
        "hold_expires_at": (_local(appointment.hold_expires_at) if appointment.hold_expires_at else None),
        "service": service.slug,
        "service_name": service.name(appointment.language),
        "start": _local(appointment.start_at),
        "end": _local(appointment.end_at),
        "video": appointment.is_video,
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
    200, schema=BookingSchema, description="The same request again: the booking it made", success=True
)
@problem_response(401, "invalid-api-key: an Authorization header with an unknown or revoked key")
@problem_response(
    409,
    "slot-unavailable (not a free slot, or just taken), already-booked-at-this-time, "
    "limit-reached (with `limit`), booking-paused (with `paused_until`)",
)
@RATE_LIMITED
@bp.doc(
    summary="Book a slot",
    description="Without an API key: a hold (status `held`) until `hold_expires_at`; the "
    "citizen confirms it by the link in the mail, as on the web. With a portal's API key: "
    "confirmed at once (the portal has identified the citizen). The start must be exactly "
    "a free slot.",
    security=[{}, {"bearerAuth": []}],
)
def create_booking(data: dict):
    key = _require_valid_key_if_sent()
    service = _active_service(data["service"])
    if service is None:
        return problems.invalid({"service": ["Unknown service."]})
    now = clock.now()
    start = data["start"].astimezone(UTC)
    if not _bookable_start(service, start, now):
        raise booking.SlotUnavailable()
    citizen = booking.Citizen(
        name=data["name"],
        email=data.get("email"),
        phone=data.get("phone"),
        language=data.get("language") or problems.language(),
        note=data.get("note") or "",
    )
    if key is not None:
        result = booking.book_confirmed(service, start, citizen, now=now, via="api", api_key=key)
    else:
        if not citizen.email:
            return problems.invalid({"email": ["Required: the confirmation link is sent there."]})
        result = booking.hold(service, start, citizen, now=now, via="api")
    # Only the portal that made the booking gets its links (a repeat may find one made on
    # the web); an anonymous caller must confirm through the mail.
    own = key is not None and result.appointment.api_key_id == key.id
    body = _booking_body(result.appointment, with_links=own)
    return body, 201 if result.created else 200


def _authorised_booking(reference: str) -> tuple[Appointment, ApiKey | None]:
    """The appointment ``reference`` if the caller's key booked it or their manage token
    belongs to it. An unknown reference and a wrong token answer the same 404."""
    key = _require_valid_key_if_sent()
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
    booking.cancel(appointment)
    return _booking_body(appointment, with_links=True)
