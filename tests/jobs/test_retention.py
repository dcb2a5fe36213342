"""Retention: personal data goes RETENTION_DAYS after the appointment; the numbers stay."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from tests.conftest import berlin, next_weekday
from visits import jobs
from visits.booking import links
from visits.booking import operations as booking
from visits.extensions import db
from visits.models import Appointment, AuditEvent, BookingPause, OutboxMessage, Status

from .conftest import booked_online

MONDAY = next_weekday(date(2030, 3, 4), 0)
DAY = timedelta(days=1)


def book(service, start, **citizen) -> Appointment:
    citizen.setdefault("phone", "0211 555 0101")
    citizen.setdefault("note", "Ich bringe eine Dolmetscherin mit.")
    return booked_online(service, start, ahead=2 * DAY, **citizen)


def test_thirty_days_after_the_end_personal_data_is_gone_and_links_die(app, video, clerk):
    appointment = book(video, berlin(MONDAY, 10))
    booking.mark(appointment, Status.ATTENDED, by=clerk, now=appointment.end_at)
    manage, join = links.derive_token("manage", appointment.uid), links.join_token(appointment)
    assert links.by_manage_token(manage) == appointment

    assert jobs.anonymise_old(appointment.end_at + 29 * DAY) == 0
    assert appointment.citizen_email is not None
    now = appointment.end_at + 30 * DAY
    assert jobs.anonymise_old(now) == 1
    db.session.refresh(appointment)
    assert appointment.anonymised_at == now
    assert appointment.citizen_name == "" and appointment.citizen_email is None
    assert appointment.citizen_phone is None and appointment.citizen_note == ""
    assert links.by_manage_token(manage) is None and links.by_join_token(join) is None
    # what statistics need remains
    assert (appointment.status, appointment.service_id, appointment.clerk_id) == (
        Status.ATTENDED,
        video.id,
        clerk.id,
    )
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.appointment_id == appointment.id)
    ).all()
    assert mails and all(m.body == "" and m.recipient == "" for m in mails)
    assert jobs.anonymise_old(now + DAY) == 0  # once


def test_a_cancellation_reason_leaves_the_audit_trail_but_the_act_stays(app, video, clerk):
    appointment = book(video, berlin(MONDAY, 10))
    booking.cancel(appointment, now=berlin(MONDAY, 8), by=clerk, reason="Frau Mustermann ist erkrankt")
    jobs.anonymise_old(appointment.end_at + 31 * DAY)
    db.session.refresh(appointment)
    assert appointment.cancel_reason == ""
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.cancelled"))
    assert "Mustermann" not in str(event.details) and event.actor_id == clerk.id


def test_a_mail_not_sent_by_then_is_not_sent_at_all(app, video, clerk):
    appointment = book(video, berlin(MONDAY, 10))
    db.session.execute(
        OutboxMessage.__table__.update().values(status="pending", next_attempt_at=appointment.end_at)
    )
    db.session.commit()
    jobs.anonymise_old(appointment.end_at + 31 * DAY)
    assert db.session.scalar(select(func.count()).where(OutboxMessage.status == "pending")) == 0
    assert jobs.deliver_mail(appointment.end_at + 31 * DAY) == 0


def test_no_shows_keep_the_address_while_the_repeat_policy_counts_them(app, video, clerk):
    appointment = book(video, berlin(MONDAY, 10))
    booking.mark(appointment, Status.NO_SHOW, by=clerk, now=appointment.end_at)
    assert jobs.anonymise_old(appointment.end_at + 31 * DAY) == 0
    assert jobs.anonymise_old(appointment.end_at + 90 * DAY) == 1


def test_old_booking_pauses_are_deleted(factories):
    start = berlin(MONDAY, 10)
    factories.booking_pause(now=start)
    jobs.anonymise_old(start + 100 * DAY)
    assert db.session.scalar(select(BookingPause)) is not None
    jobs.anonymise_old(start + 121 * DAY)
    assert db.session.scalar(select(BookingPause)) is None


def test_the_retention_period_comes_from_the_setting(reconfigure, video, clerk):
    reconfigure(RETENTION_DAYS=7)
    appointment = book(video, berlin(MONDAY, 10))
    assert jobs.anonymise_old(appointment.end_at + 7 * DAY) == 1
