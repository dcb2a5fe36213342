"""Why a booking request is refused: one exception class per reason, each with a
machine-readable ``code`` that the web pages and the API turn into a message in the user's
language (visits/web/staff/pages.py, visits/web/public, visits/api/problems.py). The use cases
in ``operations`` raise them; callers catch them by name (``booking.SlotUnavailable``)."""

from __future__ import annotations


class BookingError(Exception):
    """A booking request that cannot be fulfilled; ``code`` is machine-readable, the web
    and API layers turn it into a message in the user's language."""

    code = "booking_error"

    def __init__(self, detail: str = "", **info) -> None:
        super().__init__(detail or self.code)
        self.detail = detail or self.code
        self.info = info


def refusal(name: str, code: str) -> type[BookingError]:
    """One kind of BookingError: a class of its own (callers catch it by name) with its ``code``."""
    return type(name, (BookingError,), {"code": code, "__module__": __name__, "__qualname__": name})


SlotUnavailable = refusal("SlotUnavailable", "slot_unavailable")
AlreadyBookedAtThisTime = refusal("AlreadyBookedAtThisTime", "already_booked_at_this_time")
LimitReached = refusal("LimitReached", "limit_reached")
BookingPaused = refusal("BookingPaused", "booking_paused")
NotChangeable = refusal("NotChangeable", "not_changeable")
HoldExpired = refusal("HoldExpired", "hold_expired")
InvalidCitizen = refusal("InvalidCitizen", "invalid_input")
ModeNotOffered = refusal("ModeNotOffered", "mode_not_offered")
# Services that cannot be one appointment (booking/combination.py).
TooManyPersons = refusal("TooManyPersons", "too_many_persons")
NotCombinable = refusal("NotCombinable", "not_combinable")
DuplicateService = refusal("DuplicateService", "duplicate_service")
NoService = refusal("NoService", "no_service")
COMBINATION_REFUSALS = {cls.code: cls for cls in (TooManyPersons, NotCombinable, DuplicateService, NoService)}
