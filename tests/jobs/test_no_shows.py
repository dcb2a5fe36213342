"""No-shows: judged for video appointments after the grace time; repeats pause online booking."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import berlin, next_weekday
from tests.factories import Factories
from visits import jobs
from visits.booking import no_shows
from visits.booking import operations as booking
from visits.extensions import db
from visits.models import Appointment, AuditEvent, BookingPause, Status

from .conftest import booked_online, outbox_rows

MONDAY = next_weekday(date(2030, 3, 4), 0)
MIN = timedelta(minutes=1)


def attended_by_clerk_only(service, clerk, day, hour=10, email="erika@example.org") -> Appointment:
    """A confirmed video appointment the clerk joined and the citizen did not."""
    start = berlin(day, hour)
    appointment = booked_online(service, start, ahead=timedelta(days=2), email=email)
    booking.record_join(appointment, "clerk", clerk, now=start + MIN)
    return appointment


def test_nobody_joined_after_end_and_grace_becomes_no_show_with_a_friendly_mail(app, video, clerk):
    appointment = attended_by_clerk_only(video, clerk, MONDAY)
    end = appointment.end_at
    assert jobs.mark_no_shows(end + 14 * MIN) == 0
    assert appointment.status == Status.CONFIRMED
    assert jobs.mark_no_shows(end + 15 * MIN) == 1
    db.session.refresh(appointment)
    assert appointment.status == Status.NO_SHOW and appointment.marked_at == end + 15 * MIN
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.no_show"))
    assert event.actor_label == "system" and event.object_id == appointment.id
    (mail,) = outbox_rows("no_show")
    assert mail.recipient == appointment.citizen_email and "/dienstleistungen/" in mail.body
    assert jobs.mark_no_shows(end + 30 * MIN) == 0  # judged once


def test_a_citizen_who_joined_is_not_a_no_show(app, video, clerk):
    appointment = attended_by_clerk_only(video, clerk, MONDAY)
    booking.record_join(appointment, "citizen", now=appointment.start_at + 2 * MIN)
    assert jobs.mark_no_shows(appointment.end_at + 60 * MIN) == 0
    assert appointment.status == Status.CONFIRMED


def test_the_clerks_mark_is_left_alone(app, video, clerk):
    appointment = attended_by_clerk_only(video, clerk, MONDAY)
    booking.mark(appointment, Status.ATTENDED, by=clerk, now=appointment.end_at)
    assert jobs.mark_no_shows(appointment.end_at + 60 * MIN) == 0
    db.session.refresh(appointment)
    assert appointment.status == Status.ATTENDED


def test_when_the_clerk_did_not_join_either_the_citizen_is_not_blamed(app, video, clerk):
    start = berlin(MONDAY, 10)
    appointment = booked_online(video, start)
    assert jobs.mark_no_shows(appointment.end_at + 60 * MIN) == 0
    assert appointment.status == Status.CONFIRMED


def test_on_site_appointments_are_left_to_the_clerk(app, factories):
    service = factories.service(video=False, address="Rathaus")
    factories.clerk([service])
    start = berlin(MONDAY, 10)
    appointment = booked_online(service, start)
    assert jobs.mark_no_shows(appointment.end_at + 60 * MIN) == 0
    assert appointment.status == Status.CONFIRMED


def test_a_second_no_show_within_90_days_pauses_online_booking(app, video, clerk):
    first = attended_by_clerk_only(video, clerk, MONDAY)
    jobs.mark_no_shows(first.end_at + 15 * MIN)
    assert db.session.scalar(select(BookingPause)) is None  # one is forgiven

    second_day = MONDAY + timedelta(days=28)
    second = attended_by_clerk_only(video, clerk, second_day)
    now = second.end_at + 15 * MIN
    assert jobs.mark_no_shows(now) == 1
    pause = db.session.scalar(select(BookingPause))
    assert pause.email == "erika@example.org" and pause.paused_until == now + timedelta(days=30)
    assert pause.reason == no_shows.PAUSE_REASON

    with pytest.raises(booking.BookingPaused):
        booking.hold(
            video,
            berlin(second_day + timedelta(days=2), 10),
            Factories.citizen(email="Erika@example.org"),
            now=now,
        )
    # staff can still book for the caller on the phone
    booking.book_for_caller(
        video,
        berlin(second_day + timedelta(days=2), 10),
        Factories.citizen(email="erika@example.org"),
        clerk=clerk,
        now=now,
    )


def test_no_shows_further_apart_than_the_window_do_not_pause(app, video, clerk):
    first = attended_by_clerk_only(video, clerk, MONDAY)
    jobs.mark_no_shows(first.end_at + 15 * MIN)
    later = attended_by_clerk_only(video, clerk, MONDAY + timedelta(days=91))
    jobs.mark_no_shows(later.end_at + 15 * MIN)
    assert db.session.scalar(select(BookingPause)) is None


def test_lifting_a_pause_lets_the_address_book_again_and_forgives_the_past(app, video, clerk):
    for week in (0, 1):
        appointment = attended_by_clerk_only(video, clerk, MONDAY + timedelta(weeks=week))
        jobs.mark_no_shows(appointment.end_at + 15 * MIN)
    pause = db.session.scalar(select(BookingPause))
    admin = Factories(app).admin()
    now = berlin(MONDAY + timedelta(weeks=1), 16)

    no_shows.lift_pause(pause, admin, now=now)
    assert pause.lifted_at == now and pause.lifted_by_id == admin.id
    assert no_shows.active_pauses(now) == []
    lifted = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking_pause.lifted"))
    assert lifted.actor_id == admin.id
    held = booking.hold(
        video, berlin(MONDAY + timedelta(weeks=2), 10), Factories.citizen(email="erika@example.org"), now=now
    )
    assert held.created

    # the two no-shows before the pause do not count again; two new ones do
    third = attended_by_clerk_only(video, clerk, MONDAY + timedelta(weeks=3))
    jobs.mark_no_shows(third.end_at + 15 * MIN)
    assert len(no_shows.active_pauses(third.end_at + 15 * MIN)) == 0
    fourth = attended_by_clerk_only(video, clerk, MONDAY + timedelta(weeks=4))
    jobs.mark_no_shows(fourth.end_at + 15 * MIN)
    assert len(no_shows.active_pauses(fourth.end_at + 15 * MIN)) == 1


def test_a_clerks_no_show_mark_counts_towards_the_pause_too(app, factories):
    service = factories.service(video=False)
    clerk = factories.clerk([service])
    for week in (0, 1):
        start = berlin(MONDAY + timedelta(weeks=week), 10)
        appointment = booked_online(service, start, email="max@example.org")
        booking.mark(appointment, Status.NO_SHOW, by=clerk, now=appointment.end_at)
    (pause,) = no_shows.active_pauses(berlin(MONDAY + timedelta(weeks=1), 12))
    assert pause.email == "max@example.org"
