"""The departments and their locations (address, accessibility, opening hours, closing days)."""

from __future__ import annotations

from datetime import time

from visits.admin import places
from visits.api import problems
from visits.api.routes import bp
from visits.api.schemas import DepartmentSchema, LocationSchema
from visits.booking import availability
from visits.core import clock

_LANGUAGE_HEADERS = {"Vary": "Accept-Language"}


def _hhmm(moment: time | None) -> str | None:
    return moment.strftime("%H:%M") if moment is not None else None


@bp.route("/departments", methods=["GET"])
@bp.response(200, DepartmentSchema(many=True))
@bp.doc(
    summary="Departments of the city administration",
    description="Names in the language of Accept-Language (de by default, en), with the slugs of their locations.",
)
def departments():
    language = problems.language()
    body = [
        {
            "slug": department.slug,
            "name": department.name(language),
            "locations": [location.slug for location in department.locations],
        }
        for department in places.all_departments()
        if department.active
    ]
    return body, 200, {"Content-Language": language, **_LANGUAGE_HEADERS}


@bp.route("/locations", methods=["GET"])
@bp.response(200, LocationSchema(many=True))
@bp.doc(
    summary="Locations for on-site appointments",
    description="Address, accessibility, opening hours and the closing days from today for the next "
    f"{places.CLOSING_DAYS_AHEAD} days (local dates, with local times for part of a day), "
    "in the language of Accept-Language (de by default, en).",
)
def locations():
    language = problems.language()
    today = availability.local(clock.now()).date()
    closed = places.upcoming_closing_days(today)
    body = [
        {
            "slug": location.slug,
            "name": location.name(language),
            "department": location.department.slug,
            "address": location.address,
            "street": location.street,
            "postcode": location.postcode,
            "city": location.city,
            "directions": location.directions_en
            if language == "en" and location.directions_en
            else location.directions_de,
            "step_free": location.step_free,
            "hearing_loop": location.hearing_loop,
            "opening_hours": location.opening_hours(language),
            "latitude": location.latitude,
            "longitude": location.longitude,
            "closing_days": [
                {
                    "date": row.day,
                    "from_": _hhmm(row.from_time),
                    "until": _hhmm(row.until_time),
                    "reason": row.reason(language),
                }
                for row in closed.get(location.id, [])
            ],
        }
        for location in places.all_locations()
        if location.department.active
    ]
    return body, 200, {"Content-Language": language, **_LANGUAGE_HEADERS}
