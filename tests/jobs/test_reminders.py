"""Reminders: 24 h and 1 h before, once each, only while they still make sense."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import berlin, next_weekday
from tests.factories import Factories
from visits import jobs
from visits.booking import links
from visits.booking import operations as booking
from visits.mail import reminders
from visits.models import Appointment

from .conftest import outbox_rows

MONDAY = next_weekday(date(2030, 3, 4), 0)
WEDNESDAY = MONDAY + timedelta(days=2)
THURSDAY = MONDAY + timedelta(days=3)
H = timedelta(hours=1)


@pytest.fixture
def video(factories):
    service = factories.service(video=True)
    factories.clerk([service])
    return service


def book(service, start, now, **citizen) -> Appointment:
    return booking.book_confirmed(
        service, start, Factories.citizen(**citizen), now=now, via="web"
    ).appointment


def sweep(now) -> int:
    return reminders.send_due(now=now)


def text_part(message) -> str:
    return next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()


def test_reminders_arrive_24h_and_1h_before_with_calendar_and_join_link(smtp_server, app, video):
    start = berlin(WEDNESDAY, 10)
    appointment = book(video, start, berlin(MONDAY, 8))

    assert sweep(start - 25 * H) == 0
    assert sweep(start - 24 * H) == 1
    assert sweep(start - 23 * H) == 0  # the next sweeps find it given
    assert sweep(start - 61 * timedelta(minutes=1)) == 0
    assert sweep(start - H) == 1
    assert sweep(start - timedelta(minutes=5)) == 0

    jobs.deliver_mail(start - timedelta(minutes=5))
    ids = {row.message_id for row in outbox_rows("reminder")}
    received = [m for m in smtp_server.messages if m["Message-ID"] in ids]
    assert len(received) == 2
    for message in received:
        assert message["To"].addresses[0].addr_spec == appointment.citizen_email
        assert message["Subject"].startswith("Terminerinnerung")
        assert message["Content-Language"] == "de"
        assert links.join_url(appointment) in text_part(message)
        calendars = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert calendars and appointment.uid in calendars[0].get_content()


def test_a_citizen_who_booked_in_english_is_reminded_in_english(smtp_server, app, video):
    start = berlin(WEDNESDAY, 10)
    book(video, start, berlin(MONDAY, 8), language="en")
    assert sweep(start - 24 * H) == 1
    jobs.deliver_mail(start - 24 * H)
    (row,) = outbox_rows("reminder")
    (message,) = [m for m in smtp_server.wait_for(1) if m["Message-ID"] == row.message_id]
    assert message["Subject"].startswith("Reminder:") and message["Content-Language"] == "en"


def test_an_on_site_appointment_is_reminded_without_a_join_link(app, factories):
    service = factories.service(video=False, address="Rathaus, Markt 1")
    factories.clerk([service])
    start = berlin(WEDNESDAY, 10)
    appointment = book(service, start, berlin(MONDAY, 8))
    assert sweep(start - 24 * H) == 1
    (row,) = outbox_rows("reminder")
    assert "/video/" not in row.body and appointment.reference in row.body


def test_a_cancelled_appointment_gets_no_reminder(app, video):
    start = berlin(WEDNESDAY, 10)
    appointment = book(video, start, berlin(MONDAY, 8))
    booking.cancel(appointment, now=berlin(MONDAY, 9))
    assert sweep(start - 24 * H) == 0
    assert sweep(start - H) == 0
    assert outbox_rows("reminder") == []


def test_a_reminder_not_sent_yet_is_withdrawn_when_the_appointment_is_cancelled(smtp_server, app, video):
    start = berlin(WEDNESDAY, 10)
    appointment = book(video, start, berlin(MONDAY, 8))
    assert sweep(start - H) == 1  # queued; the mail server is slow today
    booking.cancel(appointment, now=start - H + timedelta(minutes=1))
    jobs.deliver_mail(start - H + timedelta(minutes=2))
    assert outbox_rows("reminder") == []
    assert not [m for m in smtp_server.messages if m["Subject"].startswith("Terminerinnerung")]


def test_a_rescheduled_appointment_is_reminded_of_its_new_time(app, video):
    old_start = berlin(WEDNESDAY, 10)
    new_start = berlin(THURSDAY, 10)
    appointment = book(video, old_start, berlin(MONDAY, 8))
    assert sweep(old_start - 24 * H) == 1  # Tuesday 10:00, for Wednesday
    assert jobs.deliver_mail(old_start - 24 * H) >= 1
    old_key = reminders.dedupe_key(appointment, 24 * H)

    booking.reschedule(appointment, new_start, now=old_start - 23 * H)  # moved on Tuesday 11:00
    assert sweep(old_start - H) == 0  # nothing for the old time
    assert sweep(new_start - 24 * H) == 1
    assert sweep(new_start - H) == 1

    keys = [row.dedupe_key for row in outbox_rows("reminder")]
    assert keys == [
        old_key,
        reminders.dedupe_key(appointment, 24 * H),
        reminders.dedupe_key(appointment, H),
    ]


def test_moved_late_at_night_to_the_next_morning_only_the_1h_reminder_follows(app, video):
    appointment = book(video, berlin(THURSDAY + timedelta(days=1), 10), berlin(MONDAY, 8))
    new_start = berlin(THURSDAY, 9)
    booking.reschedule(appointment, new_start, now=berlin(WEDNESDAY, 21))  # 12 h before
    assert sweep(berlin(WEDNESDAY, 21, 1)) == 0
    assert sweep(new_start - H) == 1
    (row,) = outbox_rows("reminder")
    assert row.dedupe_key == reminders.dedupe_key(appointment, H)


def test_booked_30_minutes_ahead_no_reminder_at_all(app, video):
    now = berlin(MONDAY, 9, 30)
    start = berlin(MONDAY, 10)
    book(video, start, now)
    for minutes in range(0, 31, 5):
        assert sweep(now + timedelta(minutes=minutes)) == 0
    assert outbox_rows("reminder") == []


def test_booked_5_hours_ahead_only_the_1h_reminder(app, video):
    now = berlin(MONDAY, 6, 30)
    start = berlin(MONDAY, 11, 30)
    appointment = book(video, start, now)
    assert sweep(now) == 0
    assert sweep(start - 2 * H) == 0
    assert sweep(start - H) == 1
    (row,) = outbox_rows("reminder")
    assert row.dedupe_key == reminders.dedupe_key(appointment, H)


def test_a_hold_confirmed_late_counts_from_its_confirmation(app, video):
    start = berlin(WEDNESDAY, 10)
    held = booking.hold(video, start, Factories.citizen(), now=start - 22 * H - timedelta(minutes=10)).appointment
    assert sweep(start - 22 * H - timedelta(minutes=5)) == 0  # not confirmed yet
    booking.confirm(held, now=start - 22 * H)
    assert sweep(start - 22 * H + timedelta(minutes=1)) == 0
    assert sweep(start - H) == 1


def test_after_a_day_without_a_worker_only_the_nearest_reminder_is_sent(app, video):
    start = berlin(WEDNESDAY, 10)
    appointment = book(video, start, berlin(MONDAY, 8))
    assert sweep(start - H) == 1  # the first sweep in a day, exactly an hour before
    assert sweep(start - timedelta(minutes=20)) == 0
    (row,) = outbox_rows("reminder")
    assert row.dedupe_key == reminders.dedupe_key(appointment, H)


def test_nothing_is_reminded_once_it_has_started_or_without_an_email(app, video, factories):
    start = berlin(WEDNESDAY, 10)
    clerk = factories.clerk([video])
    booking.book_for_caller(
        video, start, Factories.citizen(email=None, phone="0211 123"), clerk=clerk, now=berlin(MONDAY, 8)
    )
    assert sweep(start - H) == 0
    assert sweep(start + timedelta(minutes=1)) == 0


def test_offsets_come_from_the_setting(reconfigure, video):
    reconfigure(REMINDER_OFFSETS="2d")
    start = berlin(THURSDAY, 10)
    book(video, start, berlin(MONDAY, 8))
    assert sweep(start - 48 * H) == 1
    assert sweep(start - H) == 0
    reconfigure(REMINDER_OFFSETS="")
    assert sweep(start - timedelta(minutes=5)) == 0


def test_offsets_are_read_nearest_first_and_typos_refused():
    assert reminders.parse_offsets("24h, 1h,90m") == (H, 90 * timedelta(minutes=1), 24 * H)
    assert reminders.parse_offsets("2d") == (48 * H,)
    assert reminders.parse_offsets("") == ()
    for wrong in ("1x", "h", "0h", "-1h"):
        with pytest.raises(ValueError):
            reminders.parse_offsets(wrong)
