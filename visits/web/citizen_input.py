"""The citizen rule set (visits/core/citizen.py) as WTForms validators, for the booking
form and the clerk's phone booking form.

The rule decides; the form only says, for each refusal code, what the page tells the
person, in the page's language. The limits in the messages are the rule set's own
constants. A code the form has no message for reads as the field's general message, so a
new rule never shows a raw code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice
from wtforms.validators import ValidationError

from visits.core import citizen
from visits.core.language import LANGUAGE_NAMES
from visits.core.refusals import Refused

LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]

# What the rules refuse, worded the same for a citizen and for a clerk about a caller;
# each form adds what it says in its own words (a missing name, an unreadable address).
REFUSALS = {
    "name_too_long": _l("The name can have at most %(max)d characters.", max=citizen.NAME_MAX),
    "name_characters": _l("The name contains characters we cannot use."),
    "phone_too_long": _l("A phone number can have at most %(max)d characters.", max=citizen.PHONE_MAX),
    "note_too_long": _l("The note can have at most %(max)d characters.", max=citizen.NOTE_MAX),
    "note_characters": _l("The note contains characters we cannot use."),
}

# Each field's rule, the longest input it takes (None: no limit for the browser, which
# would cut a pasted note without a word) and the code whose message stands for any refusal.
_FIELDS: dict[str, tuple[Callable[[Any], Any], int | None, str]] = {
    "name": (citizen.name, citizen.NAME_MAX, "name_characters"),
    "email": (citizen.email, citizen.EMAIL_MAX, "email_invalid"),
    "phone": (citizen.phone, citizen.PHONE_MAX, "phone_invalid"),
    "note": (citizen.note, None, "note_characters"),
}


class CitizenRule:
    """Validate a field by one function of the rule set (``citizen.name``, ``citizen.note``...)."""

    def __init__(
        self,
        check: Callable[[Any], Any],
        messages: Mapping[str, Any],
        *,
        otherwise: Any,
        maxlength: int | None = None,
    ) -> None:
        self.check = check
        self.messages = messages
        self.otherwise = otherwise
        # Rendered as the input's maxlength: the browser stops typing where the rule would refuse.
        self.field_flags = {"maxlength": maxlength} if maxlength else {}

    def __call__(self, form, field) -> None:
        try:
            self.check(field.data)
        except Refused as refused:
            raise ValidationError(str(self.messages.get(refused.code, self.otherwise))) from refused


def citizen_rule(field: str, messages: Mapping[str, Any]) -> CitizenRule:
    """The rule set's validator for ``field`` ("name", "email", "phone", "note"), saying
    ``messages`` (a form's table: ``REFUSALS`` and its own words)."""
    check, maxlength, general = _FIELDS[field]
    return CitizenRule(check, messages, otherwise=messages[general], maxlength=maxlength)
