"""The services a portal can offer and their free slots."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

from flask import Response, current_app
from sqlalchemy import select

from visits.api import problems
from visits.api.callers import anonymous_listing_limit, portal_limit
from visits.api.routes import RATE_LIMITED, ApiProblem, bp, problem_response
from visits.api.schemas import ServiceSchema, SlotListSchema, SlotQuerySchema
from visits.booking import availability, catalogue, links, slot_cache
from visits.booking.modes import of_slot
from visits.core import clock
from visits.extensions import db
from visits.models import Service

# The widest span one slot request may ask for (two months).
MAX_SLOT_RANGE_DAYS = 62
DEFAULT_SLOT_RANGE_DAYS = 7


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
                "modes": [mode.value for mode in service.modes],
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
@anonymous_listing_limit
@portal_limit
@bp.arguments(SlotQuerySchema, location="query")
@bp.response(200, SlotListSchema)
@problem_response(404, "not-found: no such service (or it is not offered any more)")
@problem_response(422, "invalid-input: `to` before `from`, a span too long, or an unknown `location`")
@RATE_LIMITED
@bp.doc(
    summary="Free slots of a service",
    description=f"Free slots on the local days `from`..`to` (inclusive, at most "
    f"{MAX_SLOT_RANGE_DAYS} days), times in ISO 8601 with the Europe/Berlin offset. "
    "Book one with its exact `start` (and `location`, `mode`). On-site services list the slots of "
    "every location where they are held (or of the one asked for), sorted by time, each naming its "
    "location; each slot lists the modes it can be booked in (a slot without a location: not on site). "
    "`mode`: only slots bookable that way (none if the service does not offer it; `video` and `phone` "
    "also list times of hours without a location).",
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
    location = availability.location_choice(query["location"])
    if location is None:
        return problems.invalid({"location": ["Unknown location."]})
    now = clock.now()
    days = days_asked(query, now, service.horizon_days)
    if isinstance(days, Response):
        return days
    first, last, search_first, search_last = days
    offered = _modes_of(service.slug, generation)
    mode = query.get("mode")
    if search_first > search_last or (mode is not None and mode not in offered):
        body = _slot_body(service.slug, first, last, (), "de", offered)
    else:
        if mode is not None:  # the listing of that mode: on site only at locations, else anywhere
            service = dataclasses.replace(service, on_site=availability.is_on_site(offered, mode))
        found = slot_cache.listing(
            service,
            search_first,
            search_last,
            now,
            location=location,
            generation=generation,
            have_generation=True,
        )
        language = problems.language()
        body = the_cache.memo(
            generation,
            ("api-slots", service.slug, first, last, search_first, search_last, found.key, language, mode),
            lambda: _slot_body(service.slug, first, last, found.slots, language, offered, mode),
        )
    return current_app.response_class(body, mimetype="application/json")


def _modes_of(slug: str, generation: str | None) -> tuple[str, ...]:
    """The active service's modes, remembered per generation like the service itself (a
    change to the service starts a new one)."""

    def load() -> tuple[str, ...]:
        found = catalogue.active_service(slug)
        return tuple(mode.value for mode in found.modes) if found is not None else ()

    return slot_cache.cache().memo(generation, ("service-modes", slug), load)


def days_asked(query: dict, now: datetime, horizon_days: int) -> tuple[date, date, date, date] | Response:
    """The local days ``from``..``to`` asked for (default: a week from today), and the part
    of them worth asking the engine: nothing is free before today or past the horizon, and
    leaving far-away days out keeps them from overflowing. Invalid input: its answer."""
    today = availability.local(now).date()
    first = query.get("from_") or today
    last = query.get("to") or _add_days(first, DEFAULT_SLOT_RANGE_DAYS - 1)
    if last < first:
        return problems.invalid({"to": ["Must not be before `from`."]})
    if (last - first).days + 1 > MAX_SLOT_RANGE_DAYS:
        return problems.invalid({"to": [f"At most {MAX_SLOT_RANGE_DAYS} days from `from` (inclusive)."]})
    return first, last, max(first, today), min(last, _add_days(today, horizon_days + 1))


def slot_places(found, language: str) -> dict[int, dict[str, str]]:
    """The locations the slots ``found`` name, as each slot's ``location`` says them in JSON."""
    return {
        location_id: {"name": location.name(language), "slug": location.slug}
        for location_id, location in availability.locations_by_id(s.location_id for s in found).items()
    }


def _slot_body(
    slug: str, first: date, last: date, found, language: str, modes: tuple[str, ...], mode: str | None = None
) -> bytes:
    """What SlotListSchema dumps, as the JSON flask-smorest would send. A slot at a location
    can be booked in any of the service's ``modes``; one without, in all but on site."""
    tz = availability.zone()
    places = slot_places(found, language)
    body = {
        "service": slug,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "slots": [
            {
                "end": s.end.astimezone(tz).isoformat(),
                "location": places.get(s.location_id),
                "modes": of_slot(modes, s.location_id),
                "start": s.start.astimezone(tz).isoformat(),
            }
            for s in found
        ],
    }
    return (current_app.json.dumps(body) + "\n").encode()
