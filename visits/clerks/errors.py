"""The refusal of a change to a clerk's calendar or account."""

from __future__ import annotations

from visits.core.refusals import Refused


class StaffingError(Refused):
    """A change to a clerk's calendar or account that cannot be made."""
