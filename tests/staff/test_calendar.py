"""The clerk's secret feed URL and uploads of their own calendar as busy times."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from visits.booking import availability
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import Absence, AuditEvent

from .conftest import berlin


def feed_path(page: str) -> str:
    match = re.search(r'value="https://visits\.test(/feed/[A-Za-z0-9_-]+\.ics)"', page)
    assert match, "feed URL not shown"
    return match.group(1)


def ics(*events: tuple[datetime, datetime, str]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Outlook export//DE"]
    for n, (start, end, summary) in enumerate(events):
        lines += [
            "BEGIN:VEVENT",
            f"UID:event-{n}@test",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}",
            f"DTEND:{end.astimezone(UTC):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{summary}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def upload(client, data: bytes, name: str = "kalender.ics"):
    return client.post(
        "/staff/calendar/upload", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def busy_of(clerk):
    return db.session.scalars(
        select(Absence)
        .where(Absence.clerk_id == clerk.id, Absence.source == "calendar")
        .order_by(Absence.start_at)
    ).all()


@pytest.fixture
def appointment(factories, service, clerk, monday):
    return booking.book_for_caller(service, berlin(monday, 9), factories.citizen(), clerk=clerk, now=clock.now())


def test_feed_url_serves_the_clerks_appointments_with_stable_uids(clerk_client, client, appointment):
    path = feed_path(clerk_client.post("/staff/calendar/feed").get_data(as_text=True))
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(first.data)
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == appointment.uid
    assert event.decoded("DTSTART") == appointment.start_at
    assert "X-PUBLISHED-TTL" in calendar
    assert appointment.citizen_name not in first.get_data(as_text=True)
    again = Calendar.from_ical(client.get(path).data)
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == [appointment.uid]


def test_feed_marks_a_cancelled_appointment_instead_of_dropping_it(clerk_client, client, appointment):
    path = feed_path(clerk_client.post("/staff/calendar/feed").get_data(as_text=True))
    booking.cancel(appointment, reason="krank", now=clock.now())
    (event,) = Calendar.from_ical(client.get(path).data).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1


def test_renewing_revokes_the_old_url(clerk_client, client, clerk, appointment):
    old = feed_path(clerk_client.post("/staff/calendar/feed").get_data(as_text=True))
    new = feed_path(clerk_client.post("/staff/calendar/feed").get_data(as_text=True))
    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "feed.renewed")).actor_id == clerk.id
    )


def test_wrong_feed_token_is_404(client, clerk):
    assert client.get("/feed/not-a-real-token.ics").status_code == 404


def test_another_clerks_feed_shows_only_their_appointments(clerk_client, client, factories, appointment):
    other_service = factories.service()
    factories.clerk([other_service])
    path = feed_path(clerk_client.post("/staff/calendar/feed").get_data(as_text=True))
    uids = [str(e["UID"]) for e in Calendar.from_ical(client.get(path).data).walk("VEVENT")]
    assert uids == [appointment.uid]


def test_uploaded_events_become_busy_times_no_citizen_can_book(clerk_client, clerk, service, monday):
    response = upload(clerk_client, ics((berlin(monday, 9), berlin(monday, 10), "Dienstbesprechung")))
    assert response.status_code == 302
    (busy,) = busy_of(clerk)
    assert (busy.start_at, busy.end_at, busy.reason) == (
        berlin(monday, 9),
        berlin(monday, 10),
        "Dienstbesprechung",
    )
    now = clock.now()
    assert availability.slot_at(service, berlin(monday, 9), now) is None
    assert availability.slot_at(service, berlin(monday, 9, 30), now) is None
    assert availability.slot_at(service, berlin(monday, 10), now) is not None


def test_a_new_upload_replaces_the_previous_busy_times(clerk_client, clerk, monday):
    upload(clerk_client, ics((berlin(monday, 9), berlin(monday, 10), "Alt")))
    factories_manual = Absence(
        clerk_id=clerk.id,
        start_at=berlin(monday, 14),
        end_at=berlin(monday, 15),
        reason="Urlaub",
        source="manual",
        created_at=clock.now(),
    )
    db.session.add(factories_manual)
    db.session.commit()
    upload(
        clerk_client,
        ics(
            (berlin(monday, 11), berlin(monday, 12), "Neu"),
            (berlin(monday + timedelta(days=1), 8), berlin(monday + timedelta(days=1), 9), "Neu 2"),
        ),
    )
    assert [b.reason for b in busy_of(clerk)] == ["Neu", "Neu 2"]
    assert db.session.get(Absence, factories_manual.id) is not None  # manual absences stay


def test_a_malformed_upload_says_why_and_changes_nothing(clerk_client, clerk, monday):
    upload(clerk_client, ics((berlin(monday, 9), berlin(monday, 10), "Bleibt")))
    response = upload(clerk_client, b"this is not a calendar at all", "kaputt.ics")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Die Datei ist keine gültige iCalendar-Datei (.ics). Es wurde nichts geändert." in page
    assert 'href="#file"' in page
    assert [b.reason for b in busy_of(clerk)] == ["Bleibt"]


def test_upload_that_strands_an_appointment_leads_to_the_conflicts(clerk_client, appointment, monday):
    response = upload(clerk_client, ics((berlin(monday, 8), berlin(monday, 12), "Schulung")))
    assert response.headers["Location"] == "/staff/conflicts"
    assert f'id="conflict-{appointment.id}"' in clerk_client.get("/staff/conflicts").get_data(as_text=True)
