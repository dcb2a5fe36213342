"""Booking changes mail the citizen, whichever way they came (web, phone, API, jobs).

Listens to ``events.appointment_changed`` (wired in ``visits.listeners``); the receiver runs inside the booking transaction,
so the outbox row commits with the change or not at all. Which change sends which mail:

- held -> confirm_request (double opt-in link)
- confirmed -> confirmation (a confirmed hold, a phone booking, an API booking alike)
- rescheduled -> rescheduled (a new invitation, same UID, SEQUENCE raised); a hold that is
  moved gets a fresh confirm_request instead, since it was never in a calendar
- cancelled -> cancellation (with the clerk's reason, if any)
- no_show -> no_show
- reassigned, attended, expired -> no mail: the citizen's time and link stay the same, or
  nothing is left to tell."""

from __future__ import annotations

from datetime import datetime

from visits.core.events import Change
from visits.mail import compose as mail
from visits.models import Appointment, Status

_SIMPLE = {
    Change.HELD: "confirm_request",
    Change.CONFIRMED: "confirmation",
    Change.NO_SHOW: "no_show",
}


def on_appointment_changed(kind: Change, *, appointment: Appointment, now: datetime, **extra) -> None:
    if kind in _SIMPLE:
        mail.enqueue(_SIMPLE[kind], appointment, now=now)
    elif kind == Change.RESCHEDULED:
        moved = "confirm_request" if appointment.status == Status.HELD else "rescheduled"
        mail.enqueue(moved, appointment, now=now, old_start=extra.get("old_start"))
    elif kind == Change.CANCELLED:
        mail.enqueue(
            "cancellation",
            appointment,
            now=now,
            reason=extra.get("reason") or "",
            by=extra.get("by"),
            was_confirmed=extra.get("was_confirmed", appointment.confirmed_at is not None),
        )
