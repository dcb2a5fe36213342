"""What happened to an appointment, announced to whoever listens (mail outbox, metrics).

Receivers run synchronously inside the booking transaction, so an outbox row is committed
together with the change that caused it, or not at all. They are connected in one place,
``visits.listeners.wire``."""

from enum import StrEnum

from blinker import Namespace


class Change(StrEnum):
    """The kinds of change an appointment goes through, as senders announce them.

    The values are the words used in metrics labels and in the audit trail."""

    HELD = "held"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    REASSIGNED = "reassigned"


_signals = Namespace()

# send(change: Change, appointment=..., now=..., **extra)
appointment_changed = _signals.signal("appointment-changed")

# send(kind): the outbox handed a mail to the server, or gave up on it for good.
mail_delivered = _signals.signal("mail-delivered")
mail_failed = _signals.signal("mail-failed")

# send(job_name, seconds=..., done=..., failed=...): one scheduled job run ended (metrics).
job_ran = _signals.signal("job-ran")
