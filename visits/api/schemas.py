"""What goes in and out of the API, as marshmallow schemas (the OpenAPI document is
generated from them by flask-smorest; there is no hand-written copy)."""

from __future__ import annotations

import re

import marshmallow as ma
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from visits.api import problems
from visits.core import citizen, slugs
from visits.core.language import LANGUAGE_NAMES
from visits.core.refusals import Refused
from visits.models import Mode

MODES = [mode.value for mode in Mode]
REFERENCE_PATTERN = r"^T-[0-9A-Z]{4}-[0-9A-Z]{4}$"
REFERENCE_RE = re.compile(REFERENCE_PATTERN)

# What the rules of visits/core/citizen.py refuse, said to the portal in its language.
_CHARACTERS = _l("Must not contain control characters or bidirectional overrides.")
MESSAGES = {
    "name_missing": _l("Enter a name."),
    "name_too_long": _l("At most %(max)s characters.", max=citizen.NAME_MAX),
    "name_characters": _CHARACTERS,
    "email_invalid": _l("Not a valid email address."),
    "phone_too_long": _l("At most %(max)s characters.", max=citizen.PHONE_MAX),
    "phone_invalid": _l("Only digits, spaces and + ( ) / . - are allowed."),
    "note_too_long": _l("At most %(max)s characters.", max=citizen.NOTE_MAX),
    "note_characters": _CHARACTERS,
}


def citizen_rule(check):
    """A marshmallow validator that asks one function of the rule set. The document shows
    the rule through the field's metadata (pattern, description); the rule decides."""

    def validate_by_rule(value) -> None:
        try:
            check(value)
        except Refused as refused:
            with force_locale(problems.language()):
                raise ma.ValidationError(str(MESSAGES.get(refused.code, _CHARACTERS))) from refused

    return validate_by_rule


def _slug(value: str) -> None:
    if not slugs.is_slug(value):
        raise ma.ValidationError("Not a service slug.")


def _location_slug(value: str) -> None:
    if not slugs.is_slug(value):
        raise ma.ValidationError("Not a location slug.")


def _year_in_range(value) -> None:
    # Far-away years overflow when converted between time zones; no slot is there anyway.
    if not 2000 <= value.year <= 9000:
        raise ma.ValidationError("Must be between the years 2000 and 9000.")


class ServiceSchema(ma.Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    duration_minutes = fields.Integer(required=True)
    video = fields.Boolean(
        required=True, metadata={"description": "true: video is one of its modes (kept from before `modes`)"}
    )
    modes = fields.List(
        fields.String(validate=validate.OneOf(MODES)),
        required=True,
        metadata={
            "description": "The modes the citizen may choose among, in the order on_site, video, phone"
        },
    )
    address = fields.String(required=True, metadata={"description": "Where to go, for on-site services"})
    documents = fields.List(
        fields.String(), required=True, metadata={"description": "Documents to have at hand"}
    )
    booking_url = fields.String(
        required=True, metadata={"description": "The service's booking page for citizens"}
    )


class SlotQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    from_ = fields.Date(
        data_key="from",
        metadata={"description": "First local day (YYYY-MM-DD, Europe/Berlin); default today"},
    )
    to = fields.Date(metadata={"description": "Last local day, inclusive; default six days after `from`"})
    location = fields.String(
        load_default="any",
        validate=_location_slug,
        metadata={
            "description": "On-site services: a location's slug (see GET /api/v1/locations), or `any` "
            "(default: every location, sorted by time)",
            "pattern": slugs.SLUG_PATTERN,
            "minLength": 1,
            "maxLength": slugs.SLUG_MAX,
        },
    )
    mode = fields.String(
        validate=validate.OneOf(MODES),
        metadata={"description": "Only slots bookable in this mode: none if the service does not offer it"},
    )


class SlotLocationSchema(ma.Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True, metadata={"description": "In the language of Accept-Language"})


# One service with its number of persons, as the slot query writes it: "<slug>:<persons>".
ITEM_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*:[1-9][0-9]?"
ITEMS_PATTERN = rf"^{ITEM_PATTERN}(?:,{ITEM_PATTERN})*$"
MAX_ITEMS = 10


class CompositeSlotQuerySchema(SlotQuerySchema):
    items = fields.String(
        required=True,
        validate=[validate.Regexp(ITEMS_PATTERN), validate.Length(max=MAX_ITEMS * (slugs.SLUG_MAX + 4))],
        metadata={
            "description": "The services of one appointment with their numbers of persons, "
            f"`<service-slug>:<persons>` separated by commas (at most {MAX_ITEMS}), e.g. "
            "`anmeldung:1,personalausweis:2`. Several services must each be combinable and "
            "of one department; persons at most the service's maximum",
            "example": "anmeldung:1,personalausweis:2",
        },
    )


class ItemSchema(ma.Schema):
    """One service of a booking with its number of persons."""

    service = fields.String(
        required=True,
        validate=_slug,
        metadata={
            "description": "Service slug",
            "pattern": slugs.SLUG_PATTERN,
            "minLength": 1,
            "maxLength": slugs.SLUG_MAX,
        },
    )
    persons = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(1, 99),
        metadata={"description": "How many persons come for this service (at most its maximum)"},
    )


class SlotSchema(ma.Schema):
    start = fields.DateTime(required=True, metadata={"description": "ISO 8601 with the Europe/Berlin offset"})
    end = fields.DateTime(required=True)
    location = fields.Nested(
        SlotLocationSchema,
        required=True,
        allow_none=True,
        metadata={"description": "Where the appointment is held; null for hours without a location"},
    )
    modes = fields.List(
        fields.String(validate=validate.OneOf(MODES)),
        required=True,
        metadata={
            "description": "The modes this slot can be booked in: the service's (not on site without a location)"
        },
    )


class SlotListSchema(ma.Schema):
    service = fields.String(required=True)
    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)
    slots = fields.List(fields.Nested(SlotSchema), required=True)


class CompositeSlotListSchema(ma.Schema):
    items = fields.List(fields.Nested(ItemSchema), required=True)
    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)
    slots = fields.List(fields.Nested(SlotSchema), required=True)


class BookingRequestSchema(ma.Schema):
    """A booking request. Without an API key it becomes a hold that the citizen confirms by
    the link in the mail (as on the web); with a portal's key it is confirmed at once."""

    service = fields.String(
        validate=_slug,
        metadata={
            "description": "Service slug (see GET /api/v1/services), for one person; "
            "required unless `items` is given",
            "pattern": slugs.SLUG_PATTERN,
            "minLength": 1,
            "maxLength": slugs.SLUG_MAX,
        },
    )
    items = fields.List(
        fields.Nested(ItemSchema),
        validate=validate.Length(1, MAX_ITEMS),
        metadata={
            "description": "Instead of `service`: several services in one appointment, each "
            "with its number of persons (combinable services of one department)",
        },
    )
    start = fields.AwareDateTime(
        required=True,
        validate=_year_in_range,
        metadata={"description": "Start of a free slot, exactly as GET .../slots lists it"},
    )
    location = fields.String(
        validate=_location_slug,
        metadata={
            "description": "On-site services: the slot's location (its slug). Default: the first free "
            "slot at that time at any location",
            "pattern": slugs.SLUG_PATTERN,
            "minLength": 1,
            "maxLength": slugs.SLUG_MAX,
        },
    )
    # Lengths count once spaces around are trimmed (and a note's CRLF is one line break),
    # so they are said in the descriptions, not as maxLength of the raw text.
    name = fields.String(
        required=True,
        validate=citizen_rule(citizen.name),
        metadata={
            "pattern": citizen.ONE_LINE_PATTERN,
            "minLength": 1,
            "description": f"1 to {citizen.NAME_MAX} characters once trimmed; no control characters, "
            "no bidirectional overrides or isolates",
        },
    )
    email = fields.String(
        validate=citizen_rule(citizen.email),
        metadata={
            "format": "email",
            "pattern": citizen.ONE_LINE_PATTERN,
            "description": "Required without an API key (the confirmation link goes there); "
            "stored lower-cased",
        },
    )
    phone = fields.String(
        validate=citizen_rule(citizen.phone),
        metadata={
            "pattern": citizen.PHONE_PATTERN,
            "description": f"Digits, spaces and + ( ) / . -, at most {citizen.PHONE_MAX} characters once trimmed",
        },
    )
    language = fields.String(
        validate=validate.OneOf(list(LANGUAGE_NAMES)),
        metadata={"description": "Language of the mails; default from Accept-Language, else de"},
    )
    mode = fields.String(
        metadata={
            "enum": MODES,
            "description": "How they meet, one of the service's `modes`; default: video if offered, else "
            "on_site, else phone. A mode the service does not offer: 422 mode-not-offered. phone "
            "needs `phone` (the number the clerk calls).",
        },
    )
    note = fields.String(
        validate=citizen_rule(citizen.note),
        metadata={
            "pattern": citizen.NOTE_PATTERN,
            "description": "Accessibility needs, e.g. a sign-language interpreter. At most "
            f"{citizen.NOTE_MAX} characters once line breaks are LF and the text is trimmed; "
            "line breaks allowed, no other control characters",
        },
    )

    @ma.validates_schema(
        skip_on_field_errors=False, pass_original=True
    )  # named with the other missing fields
    def _one_way_to_name_the_services(self, _data: dict, original, **_kwargs) -> None:
        if not isinstance(original, dict):
            return  # not an object at all: marshmallow says so already
        if ("service" in original) == ("items" in original):
            raise ma.ValidationError("Give either `service` or `items`.", "service")


class BookingSchema(ma.Schema):
    reference = fields.String(required=True, metadata={"description": "e.g. T-7K3M-9XQ2"})
    status = fields.String(
        required=True,
        metadata={
            "description": "held (waiting for the citizen's email confirmation), confirmed, "
            "attended, no_show, cancelled, expired"
        },
    )
    hold_expires_at = fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "Until when a held slot is reserved; null once confirmed"},
    )
    service = fields.String(required=True, metadata={"description": "The first service's slug"})
    service_name = fields.String(required=True, metadata={"description": "The names of all its services"})
    items = fields.List(
        fields.Nested(ItemSchema),
        required=True,
        metadata={"description": "Its services with their numbers of persons (one for a single service)"},
    )
    start = fields.DateTime(required=True)
    end = fields.DateTime(required=True)
    video = fields.Boolean(required=True, metadata={"description": "true: mode is video"})
    mode = fields.String(
        required=True, validate=validate.OneOf(MODES), metadata={"description": "on_site, video or phone"}
    )
    location = fields.Nested(
        SlotLocationSchema,
        required=True,
        allow_none=True,
        metadata={
            "description": "On site: the location the citizen goes to (see GET /api/v1/locations); null for video and phone"
        },
    )
    language = fields.String(required=True)
    manage_url = fields.String(
        metadata={
            "description": "The citizen's manage link; only for the portal's key or the manage token's holder"
        }
    )
    join_url = fields.String(
        metadata={"description": "The video join page (video appointments; as manage_url)"}
    )


_LOCAL_TIME = {"description": "Local time (Europe/Berlin), HH:MM", "pattern": r"^[0-2][0-9]:[0-5][0-9]$"}


class DepartmentSchema(ma.Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    locations = fields.List(
        fields.String(), required=True, metadata={"description": "Slugs of the department's locations"}
    )


class ClosingDaySchema(ma.Schema):
    date = fields.Date(required=True, metadata={"description": "Local date the location is closed"})
    from_ = fields.String(
        data_key="from",
        required=True,
        allow_none=True,
        metadata={
            **_LOCAL_TIME,
            "description": "Closed from this local time (HH:MM); null: from the start of the day",
        },
    )
    until = fields.String(
        required=True,
        allow_none=True,
        metadata={
            **_LOCAL_TIME,
            "description": "Closed until this local time (HH:MM); null: until the end of the day",
        },
    )
    reason = fields.String(required=True)


class LocationSchema(ma.Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    department = fields.String(required=True, metadata={"description": "The department's slug"})
    address = fields.String(required=True, metadata={"description": "Street, postcode and city in one line"})
    street = fields.String(required=True)
    postcode = fields.String(required=True)
    city = fields.String(required=True)
    directions = fields.String(required=True)
    step_free = fields.Boolean(required=True, metadata={"description": "true: step-free access"})
    hearing_loop = fields.Boolean(
        required=True, metadata={"description": "true: a hearing loop is installed"}
    )
    opening_hours = fields.String(required=True, metadata={"description": "Opening hours as free text"})
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
    closing_days = fields.List(
        fields.Nested(ClosingDaySchema),
        required=True,
        metadata={"description": "Closing days (no on-site appointments) from today for the next 60 days"},
    )
