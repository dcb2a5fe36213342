"""Free slots for several services in one appointment (a family: registration for one, ID
cards for two), with one clerk who offers them all: ``GET /api/v1/slots?items=...``."""

from __future__ import annotations

from flask import Response

from visits.api import problems
from visits.api.callers import anonymous_listing_limit, portal_limit
from visits.api.catalogue import MAX_SLOT_RANGE_DAYS, days_asked, slot_places
from visits.api.routes import RATE_LIMITED, bp, problem_response
from visits.api.schemas import MAX_ITEMS, CompositeSlotListSchema, CompositeSlotQuerySchema
from visits.booking import availability, catalogue, modes
from visits.booking import operations as booking
from visits.core import clock, slugs


def _items(text: str) -> list[tuple[str, int]] | None:
    """ "anmeldung:1,personalausweis:2" as [(slug, persons)]; None when it is not written so."""
    found = []
    for part in text.split(","):
        slug, _colon, persons = part.partition(":")
        if not (slugs.is_slug(slug) and persons.isascii() and persons.isdigit() and 1 <= int(persons) <= 99):
            return None
        found.append((slug, int(persons)))
    return found if len(found) <= MAX_ITEMS else None


@bp.route("/slots", methods=["GET"])
@anonymous_listing_limit
@portal_limit
@bp.arguments(CompositeSlotQuerySchema, location="query")
@bp.response(200, CompositeSlotListSchema)
@problem_response(404, "not-found: a service that does not exist (or is not offered any more)")
@problem_response(
    422, "invalid-input (with `errors`), too-many-persons (with `limit`), not-combinable, duplicate-service"
)
@RATE_LIMITED
@bp.doc(
    summary="Free slots for several services in one appointment",
    description=f"Starts where one clerk who offers every service named in `items` has their "
    f"summed time (duration per person, the largest buffers) free, on the local days "
    f"`from`..`to` (inclusive, at most {MAX_SLOT_RANGE_DAYS} days), at `location` (a slug, or "
    "`any`: every location, sorted by time), each slot naming its location and the modes all the "
    "services can be booked in. Book one with POST /api/v1/bookings, the same `items`, its exact "
    "`start` (and `location`, `mode`).",
)
def composite_slots(query: dict):
    asked = _items(query["items"])
    if asked is None:
        return problems.invalid({"items": ["Write `<service-slug>:<persons>` separated by commas."]})
    wanted = [(catalogue.active_service(slug), persons) for slug, persons in asked]
    if any(service is None for service, _persons in wanted):
        return problems.problem(404, "not-found")
    wanted = booking.items_of(wanted)
    location = availability.location_choice(query["location"])
    if location is None:
        return problems.invalid({"location": ["Unknown location."]})
    offered = modes.offered_by_all(service for service, _persons in wanted)
    mode = query.get("mode")
    now = clock.now()
    days = days_asked(query, now, availability.combination_rules(wanted).horizon.days)
    if isinstance(days, Response):
        return days
    first, last, search_first, search_last = days
    found = (
        availability.free_slots_of_items(
            wanted,
            search_first,
            search_last,
            now,
            location=location,
            on_site=availability.is_on_site(offered, mode),
        )
        if search_first <= search_last and (mode is None or mode in offered)
        else []
    )
    language = problems.language()
    places = slot_places(found, language)
    tz = availability.zone()
    return {
        "items": [{"service": service.slug, "persons": persons} for service, persons in wanted],
        "from_": first,
        "to": last,
        "slots": [
            {
                "start": slot.start.astimezone(tz),
                "end": slot.end.astimezone(tz),
                "location": places.get(slot.location_id),
                "modes": [str(m) for m in modes.of_slot(offered, slot.location_id)],
            }
            for slot in found
        ],
    }
