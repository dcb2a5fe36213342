"""The citizen rule set (visits/core/citizen.py) as a WTForms validator.

The rule decides; the form only says, for each refusal code, what the page tells the
person, in the page's language. A code the form has no message for reads as the field's
general message, so a new rule never shows a raw code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wtforms.validators import ValidationError

from visits.core.refusals import Refused


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
