"""A hold asked for by someone known only by the address they typed: the booking form and
the API without a key.

Whether that address already has an appointment at the time, has as many upcoming ones as
it may, or is paused after missed appointments is the business of whoever reads its
mailbox. So the caller's answer is the same as for a new hold, and the facts go to the
address in a short mail (at most one of each kind per address and hour). Refusals anyone
could see (the slot is not free, the input is wrong) are raised as ``operations.hold``
raises them."""

from __future__ import annotations

from datetime import datetime

from visits.booking import operations
from visits.booking.availability import ANY, LocationChoice
from visits.core.citizen import Citizen
from visits.extensions import transaction
from visits.mail import compose as mail
from visits.models import Appointment

# Refusals that depend on what the address already has: an anonymous booker hears none of
# them, the mailbox of the address is told instead (``request_hold``).
_TOLD_BY_MAIL = {
    "already_booked_at_this_time": "address_busy",
    "limit_reached": "limit_reached",
    "booking_paused": "booking_paused",
}


def request_hold(
    service: operations.Booked,
    start: datetime,
    citizen: Citizen,
    *,
    now: datetime,
    via: str,
    own_hold: int | None = None,
    location: LocationChoice = ANY,
    mode: str | None = None,
) -> Appointment | None:
    """The new hold, or None when nothing new was held (a repeat, or a refusal that only
    the address may hear of: the mail to it is queued)."""
    try:
        result = operations.hold(
            service, start, citizen, now=now, via=via, own_hold=own_hold, location=location, mode=mode
        )
    except (operations.AlreadyBookedAtThisTime, operations.LimitReached, operations.BookingPaused) as refusal:
        cleaned = operations.clean_citizen(citizen, need_email=True)
        with transaction():
            mail.enqueue_notice(
                _TOLD_BY_MAIL[refusal.code],
                email=cleaned.email,
                language=cleaned.language,
                service=operations.first_service(service),
                start=start,
                now=now,
                **refusal.info,
            )
        return None
    return result.appointment if result.created else None
