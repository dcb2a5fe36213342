"""What happened to an appointment, announced to whoever listens (mail outbox, metrics).

Receivers run synchronously inside the booking transaction, so an outbox row is committed
together with the change that caused it, or not at all."""

from blinker import Namespace

_signals = Namespace()

# send(kind, appointment=..., now=..., **extra); kinds: held, confirmed, cancelled,
# rescheduled, attended, no_show, expired, reassigned
appointment_changed = _signals.signal("appointment-changed")

# send(kind): the outbox handed a mail to the server, or gave up on it for good.
mail_delivered = _signals.signal("mail-delivered")
mail_failed = _signals.signal("mail-failed")

# send(job_name, seconds=..., done=..., failed=...): one scheduled job run ended (metrics).
job_ran = _signals.signal("job-ran")
