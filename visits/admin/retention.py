"""Keep personal data only as long as needed (GDPR art. 5(1)(e)).

RETENTION_DAYS after an appointment's end, its personal data is anonymised: name, email,
phone, the citizen's note, the clerk's internal note and the cancellation reason are
erased, the secret-link hashes are replaced by hashes of tokens nobody holds (so the links
in old mails die), and ``anonymised_at`` is set. What statistics need stays: service,
clerk, times, status, channel, language, join times. The mails queued for the appointment
lose their bodies and recipient, a guest's name and address (an interpreter, a support
person) are erased with the appointment's and their link dies, and personal words in its
audit details (a reason, a note) are removed; who did what and when remains. Documents the
citizen handed in are deleted, rows and files (``visits/booking/documents.py``).

No-show appointments keep their email address until the no-show window
(NO_SHOW_WINDOW_DAYS) has passed too, if that is longer: the repeat policy needs to count
them. A booking pause is deleted as long after its end (it marks which no-shows were
counted already)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update

from visits import settings
from visits.booking import documents, guests, links
from visits.extensions import db, transaction
from visits.models import Appointment, AuditEvent, BookingPause, OutboxMessage, Status

BATCH_SIZE = 500

# Keys of audit details that may carry what a person wrote or who they are.
PERSONAL_DETAILS = frozenset({"reason", "note", "citizen_note", "internal_note", "name", "email", "phone"})


def _dead_link_hash() -> str:
    """The hash of a token nobody was ever given: unique, and no link matches it."""
    return links.token_hash("anonymised:" + secrets.token_urlsafe(32))


def anonymise_due(*, now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """Anonymise every appointment past its retention; returns how many."""
    config = settings.current()
    days = config.retention_days
    cutoff = now - timedelta(days=days)
    no_show_cutoff = now - timedelta(days=max(days, config.no_show_window_days))
    due = and_(
        Appointment.anonymised_at.is_(None),
        Appointment.end_at <= cutoff,
        or_(Appointment.status != Status.NO_SHOW, Appointment.end_at <= no_show_cutoff),
    )
    done = 0
    while True:
        files: list[str] = []
        with transaction():  # one batch per transaction: locks are short, progress is kept
            batch = db.session.scalars(
                select(Appointment)
                .where(due)
                .order_by(Appointment.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            for appointment in batch:
                _anonymise(appointment, now)
            if batch:
                guests.anonymise([a.id for a in batch], _dead_link_hash)
                _forget_mails_and_details([a.id for a in batch])
                files = documents.discard([a.id for a in batch])
        documents.unlink(files)  # after the commit: never a row without its file
        done += len(batch)
        if len(batch) < batch_size:
            break
    _delete_old_pauses(no_show_cutoff)
    return done


def _anonymise(appointment: Appointment, now: datetime) -> None:
    appointment.citizen_name = ""
    appointment.citizen_email = None
    appointment.citizen_phone = None
    appointment.citizen_note = ""
    appointment.internal_note = ""
    appointment.cancel_reason = ""
    appointment.manage_token_hash = _dead_link_hash()
    appointment.join_token_hash = _dead_link_hash()
    appointment.dial_in_pin_hash = None  # its PIN dies with the links
    appointment.anonymised_at = now


def _forget_mails_and_details(appointment_ids: list[int]) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.appointment_id.in_(appointment_ids), OutboxMessage.status == "pending")
        .values(status="failed", last_error="anonymised before it was sent")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.appointment_id.in_(appointment_ids))
        .values(body="", recipient="")
        .execution_options(synchronize_session=False)
    )
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "appointment", AuditEvent.object_id.in_(appointment_ids)
        )
    )
    for event in events:
        if event.details and PERSONAL_DETAILS & event.details.keys():
            event.details = {k: v for k, v in event.details.items() if k not in PERSONAL_DETAILS}


def _delete_old_pauses(cutoff: datetime) -> None:
    with transaction():
        db.session.execute(
            delete(BookingPause).where(
                or_(
                    and_(BookingPause.lifted_at.is_(None), BookingPause.paused_until <= cutoff),
                    BookingPause.lifted_at <= cutoff,
                )
            )
        )
