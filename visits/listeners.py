"""Every receiver of the events in ``visits.core.events``, connected in one place.

``create_app`` calls ``wire()``. Which module reacts to what:

- an appointment change: the citizen's mail (``mail.notifications``), pending reminders
  withdrawn after a cancellation or a move (``mail.reminders``), the repeated no-show pause
  (``booking.no_shows``), the guest's mail about a move or cancellation (``booking.guests``),
  and the metrics counter (``ops.observability``);
- a mail delivered or given up on, a scheduled job run: the metrics.

Connecting is idempotent (blinker keys receivers by identity), so one app per test adds no
second receiver; the references are strong, as the receivers are module-level functions."""

from __future__ import annotations

from visits.booking import guests, no_shows
from visits.core.events import appointment_changed, job_ran, mail_delivered, mail_failed
from visits.mail import notifications, reminders
from visits.ops import observability

APPOINTMENT_RECEIVERS = (
    observability.count_appointment_change,
    no_shows.on_appointment_changed,
    reminders.withdraw_pending,
    notifications.on_appointment_changed,
    guests.on_appointment_changed,
)


def wire() -> None:
    for receiver in APPOINTMENT_RECEIVERS:
        appointment_changed.connect(receiver, weak=False)
    mail_delivered.connect(observability.count_mail_sent, weak=False)
    mail_failed.connect(observability.count_mail_failed, weak=False)
    job_ran.connect(observability.count_job, weak=False)
