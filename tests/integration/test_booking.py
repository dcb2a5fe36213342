"""The booking use cases on a real database (SQLite, or PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from visits.booking import links
from visits.booking import operations as booking
from visits.core.citizen import Citizen
from visits.extensions import db
from visits.models import Appointment, AuditEvent, BookingPause, Status

from .. import days
from ..conftest import berlin

# A Monday well in the future, and "now" one week before it at 09:00 Berlin.
MONDAY = days.BOOKING_MONDAY
NOW = berlin(MONDAY - timedelta(days=7), 9)


@pytest.fixture
def service(factories):
    return factories.service(duration_minutes=30)


@pytest.fixture
def two_clerks(factories, service):
    return factories.clerk([service]), factories.clerk([service])


def count(status: Status | None = None) -> int:
    query = select(func.count()).select_from(Appointment)
    if status:
        query = query.where(Appointment.status == status)
    return db.session.scalar(query)


def test_hold_places_a_held_appointment_that_expires_after_the_hold_time(factories, service, two_clerks):
    start = berlin(MONDAY, 8)
    result = booking.hold(service, start, factories.citizen(), now=NOW)
    appointment = result.appointment
    assert result.created
    assert appointment.status == Status.HELD
    assert appointment.start_at == start
    assert appointment.end_at == start + timedelta(minutes=30)
    assert appointment.hold_expires_at == NOW + timedelta(minutes=15)
    assert appointment.reference.startswith("T-")
    assert appointment.room and appointment.room == appointment.room.lower()


def test_same_form_submitted_twice_leaves_one_hold(factories, service, two_clerks):
    citizen = factories.citizen()
    first = booking.hold(service, berlin(MONDAY, 8), citizen, now=NOW)
    second = booking.hold(service, berlin(MONDAY, 8), citizen, now=NOW + timedelta(seconds=2))
    assert not second.created
    assert second.appointment.id == first.appointment.id
    assert count() == 1


def test_slot_offered_by_two_clerks_takes_two_bookings_then_refuses(factories, service, two_clerks):
    start = berlin(MONDAY, 9)
    a = booking.hold(service, start, factories.citizen(), now=NOW).appointment
    b = booking.hold(service, start, factories.citizen(), now=NOW).appointment
    assert {a.clerk_id, b.clerk_id} == {c.id for c in two_clerks}
    with pytest.raises(booking.SlotUnavailable):
        booking.hold(service, start, factories.citizen(), now=NOW)
    assert count() == 2


def test_time_outside_weekly_hours_is_refused(factories, service, two_clerks):
    with pytest.raises(booking.SlotUnavailable):
        booking.hold(service, berlin(MONDAY, 13), factories.citizen(), now=NOW)
    with pytest.raises(booking.SlotUnavailable):
        booking.hold(service, berlin(MONDAY, 8, 10), factories.citizen(), now=NOW)  # off the grid


def test_public_holiday_has_no_slots(factories, service, two_clerks):
    import holidays

    today = days.TODAY
    nw = holidays.country_holidays("DE", subdiv="NW", years=[today.year + 1, today.year + 2])
    holiday = min(d for d in nw if d.weekday() < 5)  # a weekday holiday, where the rules offer 8-12
    with pytest.raises(booking.SlotUnavailable):
        booking.hold(service, berlin(holiday, 8), factories.citizen(), now=berlin(holiday, 7) - timedelta(days=3))
    # The next working day offers the same time.
    day_after = next(holiday + timedelta(days=n) for n in range(1, 7)
                     if (holiday + timedelta(days=n)).weekday() < 5 and holiday + timedelta(days=n) not in nw)
    assert booking.hold(service, berlin(day_after, 8), factories.citizen(),
                        now=berlin(holiday, 7) - timedelta(days=3)).created


def test_absence_hides_the_clerk(factories, service, two_clerks):
    away, present = two_clerks
    factories.absence(away, berlin(MONDAY, 0), berlin(MONDAY + timedelta(days=1), 0))
    appointment = booking.hold(service, berlin(MONDAY, 10), factories.citizen(), now=NOW).appointment
    assert appointment.clerk_id == present.id


def test_expired_hold_frees_the_slot(factories, service):
    factories.clerk([service])
    start = berlin(MONDAY, 8)
    booking.hold(service, start, factories.citizen(), now=NOW)
    with pytest.raises(booking.SlotUnavailable):
        booking.hold(service, start, factories.citizen(), now=NOW + timedelta(minutes=14))
    later = booking.hold(service, start, factories.citizen(), now=NOW + timedelta(minutes=16))
    assert later.created
    assert count(Status.EXPIRED) == 1
    assert count(Status.HELD) == 1


def test_expire_holds_job_counts_and_frees(factories, service):
    factories.clerk([service])
    booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW)
    assert booking.expire_holds(now=NOW + timedelta(minutes=10)) == 0
    assert booking.expire_holds(now=NOW + timedelta(minutes=15)) == 1
    assert count(Status.EXPIRED) == 1


def test_confirm_turns_the_hold_into_an_appointment_and_is_harmless_twice(factories, service):
    factories.clerk([service])
    appointment = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    booking.confirm(appointment, now=NOW + timedelta(minutes=3))
    booking.confirm(appointment, now=NOW + timedelta(minutes=4))
    assert appointment.status == Status.CONFIRMED
    assert appointment.hold_expires_at is None
    assert appointment.confirmed_at == NOW + timedelta(minutes=3)
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "appointment.confirmed")) == 1


@pytest.mark.parametrize("swept", [True, False], ids=["swept", "not-swept-yet"])
def test_late_confirmation_succeeds_while_the_slot_is_still_free(factories, service, swept):
    factories.clerk([service])
    appointment = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    if swept:
        booking.expire_holds(now=NOW + timedelta(hours=1))
    booking.confirm(appointment, now=NOW + timedelta(hours=2))
    assert appointment.status == Status.CONFIRMED


def test_late_confirmation_fails_when_someone_else_took_the_slot(factories, service):
    factories.clerk([service])
    start = berlin(MONDAY, 8)
    first = booking.hold(service, start, factories.citizen(), now=NOW).appointment
    booking.hold(service, start, factories.citizen(), now=NOW + timedelta(minutes=20))
    with pytest.raises(booking.HoldExpired):
        booking.confirm(first, now=NOW + timedelta(minutes=21))
    db.session.refresh(first)
    assert first.status == Status.EXPIRED


def test_cancel_frees_the_slot_and_raises_the_sequence(factories, service):
    factories.clerk([service])
    start = berlin(MONDAY, 8)
    appointment = booking.hold(service, start, factories.citizen(), now=NOW).appointment
    booking.confirm(appointment, now=NOW)
    booking.cancel(appointment, now=NOW + timedelta(minutes=1), reason="Termin nicht mehr nötig")
    assert appointment.status == Status.CANCELLED
    assert appointment.sequence == 1
    assert booking.hold(service, start, factories.citizen(), now=NOW + timedelta(minutes=2)).created


def test_cancelled_or_past_appointment_cannot_be_changed(factories, service):
    factories.clerk([service])
    appointment = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    booking.confirm(appointment, now=NOW)
    with pytest.raises(booking.NotChangeable):
        booking.cancel(appointment, now=berlin(MONDAY, 8, 1))
    booking.cancel(appointment, now=NOW)
    with pytest.raises(booking.NotChangeable):
        booking.reschedule(appointment, berlin(MONDAY, 9), now=NOW)


def test_reschedule_keeps_uid_and_raises_sequence_and_frees_the_old_slot(factories, service):
    factories.clerk([service])
    appointment = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    booking.confirm(appointment, now=NOW)
    uid, reference = appointment.uid, appointment.reference
    booking.reschedule(appointment, berlin(MONDAY, 10), now=NOW)
    assert appointment.uid == uid and appointment.reference == reference
    assert appointment.sequence == 1
    assert appointment.start_at == berlin(MONDAY, 10)
    assert appointment.status == Status.CONFIRMED
    assert booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).created
    assert count() == 2


def test_reschedule_to_a_taken_slot_changes_nothing(factories, service):
    factories.clerk([service])
    mine = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    booking.hold(service, berlin(MONDAY, 9), factories.citizen(), now=NOW)
    with pytest.raises(booking.SlotUnavailable):
        booking.reschedule(mine, berlin(MONDAY, 9), now=NOW)
    db.session.refresh(mine)
    assert mine.start_at == berlin(MONDAY, 8) and mine.sequence == 0


def test_reschedule_into_an_overlapping_later_slot_of_its_own_clerk(factories):
    """Moving 08:00-09:00 to 08:30-09:30 overlaps only itself: allowed."""
    service = factories.service(duration_minutes=30)
    long = factories.service(duration_minutes=60)
    factories.clerk([service, long])
    mine = booking.hold(long, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    booking.reschedule(mine, berlin(MONDAY, 9), now=NOW)
    assert mine.start_at == berlin(MONDAY, 9)


def test_upcoming_appointments_per_email_are_limited(factories, service, two_clerks):
    email = "viel@example.org"
    booking.hold(service, berlin(MONDAY, 8), factories.citizen(email=email), now=NOW)
    booking.hold(service, berlin(MONDAY, 9), factories.citizen(email=email.upper()), now=NOW)
    with pytest.raises(booking.LimitReached) as refused:
        booking.hold(service, berlin(MONDAY, 10), factories.citizen(email=email), now=NOW)
    assert refused.value.info["limit"] == 2
    assert count() == 2


def test_booking_pause_after_no_shows_refuses_online_booking(factories, service, two_clerks):
    db.session.add(
        BookingPause(
            email="pausiert@example.org",
            paused_until=NOW + timedelta(days=30),
            created_at=NOW,
        )
    )
    db.session.commit()
    with pytest.raises(booking.BookingPaused):
        booking.hold(service, berlin(MONDAY, 8), factories.citizen(email="pausiert@example.org"), now=NOW)


def test_invalid_citizen_data_is_refused_with_the_field(factories, service, two_clerks):
    with pytest.raises(booking.InvalidCitizen) as refused:
        booking.hold(service, berlin(MONDAY, 8), Citizen(name="A", email="not-an-email"), now=NOW)
    assert refused.value.info["field"] == "email"
    with pytest.raises(booking.InvalidCitizen) as refused:
        booking.hold(service, berlin(MONDAY, 8), Citizen(name="  ", email="a@example.org"), now=NOW)
    assert refused.value.info["field"] == "name"
    assert count() == 0


def test_call_centre_booking_is_confirmed_at_once_without_email(factories, service, two_clerks):
    clerk = two_clerks[0]
    appointment = booking.book_for_caller(
        service, berlin(MONDAY, 8), Citizen(name="Anrufer", phone="+49 221 12345"), clerk=clerk, now=NOW
    )
    assert appointment.status == Status.CONFIRMED
    assert appointment.booked_via == "phone" and appointment.booked_by_id == clerk.id


def test_fair_choice_prefers_the_clerk_with_fewer_appointments_that_day(factories, service, two_clerks):
    first = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    second = booking.hold(service, berlin(MONDAY, 10), factories.citizen(), now=NOW).appointment
    third = booking.hold(service, berlin(MONDAY, 11), factories.citizen(), now=NOW).appointment
    assert first.clerk_id != second.clerk_id
    assert third.clerk_id == first.clerk_id  # rotation: back to the first once both have one


def test_secret_links_are_stored_only_as_hashes(factories, service):
    factories.clerk([service])
    appointment = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    token = links.derive_token("manage", appointment.uid)
    assert len(token) >= 40
    assert links.by_manage_token(token).id == appointment.id
    assert links.by_manage_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert links.by_join_token(token) is None  # a manage link is not a join link
    row = db.session.execute(sa.text("SELECT * FROM appointment")).mappings().one()
    assert token not in " ".join(str(v) for v in row.values())
    assert row["manage_token_hash"] == links.token_hash(token)


def test_buffers_keep_the_clerk_free_around_an_appointment(factories):
    service = factories.service(duration_minutes=30, buffer_after_minutes=15)
    factories.clerk([service])
    first = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    assert first.blocked_until == berlin(MONDAY, 8, 45)
    with pytest.raises(booking.SlotUnavailable):
        booking.hold(service, berlin(MONDAY, 8, 30), factories.citizen(), now=NOW)
    assert booking.hold(service, berlin(MONDAY, 8, 45), factories.citizen(), now=NOW).created


def test_database_refuses_overlap_whatever_code_writes_it(factories, service):
    """The guard is in the database: a direct insert that bypasses visits.booking.operations still fails."""
    clerk = factories.clerk([service])
    appointment = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    clone = Appointment(
        reference="T-TEST-0001",
        uid="clone@test",
        service_id=service.id,
        clerk_id=clerk.id,
        start_at=appointment.start_at + timedelta(minutes=10),
        end_at=appointment.end_at + timedelta(minutes=10),
        blocked_from=appointment.blocked_from + timedelta(minutes=10),
        blocked_until=appointment.blocked_until + timedelta(minutes=10),
        status=Status.CONFIRMED,
        citizen_name="Bypass",
        citizen_email="bypass@example.org",
        manage_token_hash="x" * 64,
        join_token_hash="y" * 64,
        created_at=NOW,
        updated_at=NOW,
    )
    db.session.add(clone)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Cancelled appointments do not occupy: the same row as cancelled is accepted.
    clone.status = Status.CANCELLED
    db.session.add(clone)
    db.session.commit()
    # ...but turning it back into an occupying one is refused too.
    clone.status = Status.CONFIRMED
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_mark_attended_only_after_start(factories, service):
    clerk = factories.clerk([service])
    appointment = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    booking.confirm(appointment, now=NOW)
    with pytest.raises(booking.NotChangeable):
        booking.mark(appointment, Status.ATTENDED, by=clerk, now=NOW)
    booking.mark(appointment, Status.ATTENDED, by=clerk, now=berlin(MONDAY, 8, 20))
    assert appointment.status == Status.ATTENDED


def test_times_are_stored_and_read_back_as_utc(factories, service):
    factories.clerk([service])
    appointment = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    db.session.expire_all()
    again = db.session.get(Appointment, appointment.id)
    assert again.start_at.tzinfo is not None
    assert again.start_at.utcoffset() == timedelta(0)
    assert again.start_at == berlin(MONDAY, 8)
    assert datetime(2020, 1, 1, tzinfo=UTC) < again.created_at


def test_a_hold_that_ran_out_but_is_not_swept_yet_cannot_be_rescheduled(factories, service):
    factories.clerk([service])
    mine = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    with pytest.raises(booking.NotChangeable):
        booking.reschedule(mine, berlin(MONDAY, 10), now=NOW + timedelta(minutes=15))
    db.session.refresh(mine)
    assert mine.status == Status.HELD  # the job has not swept it; the rule reads it as over
    assert mine.start_at == berlin(MONDAY, 8) and mine.sequence == 0


def test_the_citizen_is_told_the_time_at_confirmation_and_at_each_move(factories, service, two_clerks):
    held = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    assert held.time_told_at is None  # the hold's mail asks to confirm; the time is not settled
    booking.confirm(held, now=NOW + timedelta(minutes=3))
    assert held.time_told_at == NOW + timedelta(minutes=3)
    booking.reschedule(held, berlin(MONDAY, 10), now=NOW + timedelta(days=1))
    assert held.time_told_at == NOW + timedelta(days=1)
    by_phone = booking.book_for_caller(
        service, berlin(MONDAY, 11), factories.citizen(), clerk=two_clerks[0], now=NOW + timedelta(hours=2)
    )
    assert by_phone.time_told_at == NOW + timedelta(hours=2)
    db.session.execute(sa.delete(AuditEvent))  # the fact does not live in the audit log
    db.session.commit()
    db.session.refresh(held)
    assert held.time_told_at == NOW + timedelta(days=1)
