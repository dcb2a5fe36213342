"""What goes in and out of the API, as marshmallow schemas (the OpenAPI document is
generated from them by flask-smorest; there is no hand-written copy)."""

from __future__ import annotations

import re
import unicodedata

import marshmallow as ma
from marshmallow import fields, validate

MAX_NAME = 200
MAX_NOTE = 1000
MAX_EMAIL = 254
MAX_PHONE = 40

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"
REFERENCE_PATTERN = r"^T-[0-9A-Z]{4}-[0-9A-Z]{4}$"
SLUG_RE = re.compile(SLUG_PATTERN)
# The same rules as ``plain_text`` below, written into the document so that clients (and
# schemathesis) know them: no C0/C1 control characters; a note may have line breaks and tabs.
ONE_LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTILINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
NOT_BLANK_LINE = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
REFERENCE_RE = re.compile(REFERENCE_PATTERN)


def plain_text(*, multiline: bool = False):
    """Refuse control characters (NUL breaks PostgreSQL, CR/LF would break mail headers)
    and lone surrogates (not encodable); a note may have line breaks and tabs."""
    allowed = {"\n", "\r", "\t"} if multiline else set()

    def check(value: str) -> None:
        for char in value:
            if char in allowed:
                continue
            if unicodedata.category(char) in ("Cc", "Cs"):
                raise ma.ValidationError("Must not contain control characters.")

    return check


def _year_in_range(value) -> None:
    # Far-away years overflow when converted between time zones; no slot is there anyway.
    if not 2000 <= value.year <= 9000:
        raise ma.ValidationError("Must be between the years 2000 and 9000.")


class ServiceSchema(ma.Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    duration_minutes = fields.Integer(required=True)
    video = fields.Boolean(required=True, metadata={"description": "true: by video call"})
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


class SlotSchema(ma.Schema):
    start = fields.DateTime(required=True, metadata={"description": "ISO 8601 with the Europe/Berlin offset"})
    end = fields.DateTime(required=True)


class SlotListSchema(ma.Schema):
    service = fields.String(required=True)
    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)
    slots = fields.List(fields.Nested(SlotSchema), required=True)


class BookingRequestSchema(ma.Schema):
    """A booking request. Without an API key it becomes a hold that the citizen confirms by
    the link in the mail (as on the web); with a portal's key it is confirmed at once."""

    service = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=80),
            validate.Regexp(SLUG_PATTERN, error="Not a service slug."),
        ],
        metadata={"description": "Service slug (see GET /api/v1/services)"},
    )
    start = fields.AwareDateTime(
        required=True,
        validate=_year_in_range,
        metadata={"description": "Start of a free slot, exactly as GET .../slots lists it"},
    )
    name = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=MAX_NAME),
            validate.Regexp(NOT_BLANK_LINE, error="Must not be blank or contain control characters."),
            plain_text(),
        ],
    )
    email = fields.String(
        validate=[validate.Length(min=1, max=MAX_EMAIL), validate.Regexp(ONE_LINE), plain_text()],
        metadata={
            "format": "email",
            "description": "Required without an API key (the confirmation link goes there)",
        },
    )
    phone = fields.String(validate=[validate.Length(max=MAX_PHONE), validate.Regexp(ONE_LINE), plain_text()])
    language = fields.String(
        validate=validate.OneOf(["de", "en"]),
        metadata={"description": "Language of the mails; default from Accept-Language, else de"},
    )
    note = fields.String(
        validate=[
            validate.Length(max=MAX_NOTE),
            validate.Regexp(MULTILINE),
            plain_text(multiline=True),
        ],
        metadata={"description": "Accessibility needs, e.g. a sign-language interpreter"},
    )


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
    service = fields.String(required=True)
    service_name = fields.String(required=True)
    start = fields.DateTime(required=True)
    end = fields.DateTime(required=True)
    video = fields.Boolean(required=True)
    language = fields.String(required=True)
    manage_url = fields.String(
        metadata={
            "description": "The citizen's manage link; only for the portal's key or the manage token's holder"
        }
    )
    join_url = fields.String(
        metadata={"description": "The video join page (video appointments; as manage_url)"}
    )
