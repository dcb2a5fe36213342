"""Calendar files against the ``ics-*`` rules of docs/checklist.md, parsed with icalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from visits.booking import calendar
from visits.booking import operations as booking
from visits.core.citizen import Citizen

from .. import days
from ..conftest import berlin

MONDAY = days.BOOKING_MONDAY
NOW = berlin(MONDAY - timedelta(days=7), 9)


@pytest.fixture
def appointment(app, factories):
    service = factories.service(name_de="Wohngeldberatung", name_en="Housing benefit advice")
    factories.clerk([service])
    return booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment


def parse(data: bytes):
    cal = Calendar.from_ical(data)
    (event,) = cal.walk("VEVENT")
    return cal, event


def test_lines_end_with_crlf_and_are_folded_at_75_octets(appointment):
    data = calendar.appointment_ics(appointment, method="REQUEST", now=NOW)
    lines = data.split(b"\r\n")
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in lines)


def test_request_has_version_prodid_method_and_the_required_event_properties(appointment):
    cal, event = parse(calendar.appointment_ics(appointment, method="REQUEST", now=NOW))
    assert cal["VERSION"] == "2.0" and "Visits" in str(cal["PRODID"]) and cal["METHOD"] == "REQUEST"
    assert str(event["UID"]) == appointment.uid and "@" in appointment.uid
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert event.decoded("DTSTART") == appointment.start_at
    assert event.decoded("DTEND") == appointment.end_at
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)  # written as ...Z
    assert int(event["SEQUENCE"]) == 0
    assert str(event["SUMMARY"]) == "Termin: Wohngeldberatung"


def test_uid_is_not_derived_from_personal_data(appointment):
    uid = appointment.uid.lower()
    assert appointment.citizen_email.split("@")[0] not in uid
    assert appointment.citizen_name.split()[0].lower() not in uid


def test_request_and_cancel_carry_organizer_and_attendee(appointment, app):
    for method in ("REQUEST", "CANCEL"):
        _, event = parse(calendar.appointment_ics(appointment, method=method, now=NOW))
        assert str(event["ORGANIZER"]).lower() == "mailto:termine@stadt.example"
        assert str(event["ATTENDEE"]) == f"mailto:{appointment.citizen_email}"


def test_cancel_keeps_uid_raises_sequence_and_says_cancelled(appointment):
    before = appointment.sequence
    booking.cancel(appointment, now=NOW)
    cal, event = parse(calendar.appointment_ics(appointment, method="CANCEL", now=NOW))
    assert cal["METHOD"] == "CANCEL"
    assert str(event["UID"]) == appointment.uid
    assert int(event["SEQUENCE"]) == before + 1
    assert event["STATUS"] == "CANCELLED"


def test_reschedule_keeps_uid_and_raises_sequence(appointment):
    booking.reschedule(appointment, berlin(MONDAY, 10), now=NOW)
    _, event = parse(calendar.appointment_ics(appointment, method="REQUEST", now=NOW))
    assert str(event["UID"]) == appointment.uid and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == berlin(MONDAY, 10)


def test_video_appointment_links_the_join_page_in_url_and_description(appointment):
    _, event = parse(calendar.appointment_ics(appointment, method="REQUEST", now=NOW))
    url = str(event["URL"])
    assert url.startswith("https://visits.test/video/")
    assert url in str(event["DESCRIPTION"])
    assert "Video" in str(event["LOCATION"])
    assert "jwt" not in event.to_ical().decode()


def test_on_site_appointment_carries_the_address(app, factories):
    service = factories.service(video=False, address="Rathausplatz 1, 12345 Musterstadt")
    factories.clerk([service])
    appointment = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    _, event = parse(calendar.appointment_ics(appointment, method="REQUEST", now=NOW))
    # The location's name, and the service's old address while the location has no street.
    assert str(event["LOCATION"]) == "Bürgerservice, Rathausplatz 1, 12345 Musterstadt"
    assert "URL" not in event and "GEO" not in event


def test_english_citizen_gets_english_texts(app, factories):
    service = factories.service(name_en="Housing benefit advice")
    factories.clerk([service])
    citizen = factories.citizen(language="en")
    appointment = booking.hold(service, berlin(MONDAY, 8), citizen, now=NOW).appointment
    _, event = parse(calendar.appointment_ics(appointment, method="REQUEST", now=NOW))
    assert str(event["SUMMARY"]) == "Appointment: Housing benefit advice"
    assert "Change or cancel" in str(event["DESCRIPTION"])


def test_a_hostile_name_cannot_add_a_property_or_component(app, factories):
    service = factories.service()
    factories.clerk([service])
    evil = 'Eve\r\nBEGIN:VEVENT\r\nSUMMARY:pwned;x,y\\ "q"\nATTENDEE:mailto:x@evil.example'
    appointment = booking.hold(
        service, berlin(MONDAY, 8), Citizen(name="Eve", email="eve@example.org", note=evil), now=NOW
    ).appointment
    # The booking rules refuse line breaks in a name; a name stored before them may have some.
    appointment.citizen_name = evil
    data = calendar.appointment_ics(appointment, method="REQUEST", now=NOW)
    cal = Calendar.from_ical(data)
    assert len(cal.walk("VEVENT")) == 1
    (event,) = cal.walk("VEVENT")
    assert len(event.get("ATTENDEE") if isinstance(event.get("ATTENDEE"), list) else [event["ATTENDEE"]]) == 1
    assert b"\r\nBEGIN:VEVENT\r\nSUMMARY:pwned" not in data


def test_download_has_no_method(appointment):
    cal, _ = parse(calendar.appointment_ics(appointment, method=None, now=NOW))
    assert "METHOD" not in cal


def test_alarm_if_present_triggers_before_the_start(appointment):
    _, event = parse(calendar.appointment_ics(appointment, method="REQUEST", now=NOW))
    for alarm in event.walk("VALARM"):
        assert alarm.decoded("TRIGGER") < timedelta(0)


def test_feed_has_refresh_hints_no_method_stable_uids_and_keeps_cancelled(app, factories):
    service = factories.service()
    factories.clerk([service])
    a = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    b = booking.hold(service, berlin(MONDAY, 9), factories.citizen(), now=NOW).appointment
    booking.cancel(b, now=NOW)
    first = Calendar.from_ical(calendar.feed_ics([a, b], calendar_name="Termine", now=NOW))
    second = Calendar.from_ical(calendar.feed_ics([a, b], calendar_name="Termine", now=NOW + timedelta(hours=1)))
    assert "METHOD" not in first
    assert "X-PUBLISHED-TTL" in first and "REFRESH-INTERVAL" in first
    assert [str(e["UID"]) for e in first.walk("VEVENT")] == [str(e["UID"]) for e in second.walk("VEVENT")]
    statuses = {str(e["UID"]): str(e["STATUS"]) for e in first.walk("VEVENT")}
    assert statuses[b.uid] == "CANCELLED" and statuses[a.uid] == "CONFIRMED"
    assert a.citizen_name not in calendar.feed_ics([a], calendar_name="T", now=NOW).decode()


UPLOAD = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Test//EN\r
BEGIN:VEVENT\r
UID:1@test\r
DTSTART;TZID=Europe/Berlin:20270104T100000\r
DTEND;TZID=Europe/Berlin:20270104T110000\r
SUMMARY:Team meeting\r
RRULE:FREQ=WEEKLY;COUNT=3\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:2@test\r
DTSTART;VALUE=DATE:20270108\r
DTEND;VALUE=DATE:20270109\r
SUMMARY:Training\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:3@test\r
DTSTART:20270105T090000Z\r
DTEND:20270105T100000Z\r
TRANSP:TRANSPARENT\r
SUMMARY:Free time\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_uploaded_calendar_gives_busy_times_with_recurrences_and_all_day_events(app):
    window = datetime(2027, 1, 1, tzinfo=UTC)
    busy = calendar.busy_times_from_ics(UPLOAD, window_start=window)
    assert [(b.start, b.end) for b in busy] == [
        (berlin(date(2027, 1, 4), 10), berlin(date(2027, 1, 4), 11)),
        (berlin(date(2027, 1, 8), 0), berlin(date(2027, 1, 9), 0)),
        (berlin(date(2027, 1, 11), 10), berlin(date(2027, 1, 11), 11)),
        (berlin(date(2027, 1, 18), 10), berlin(date(2027, 1, 18), 11)),
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not_icalendar"),
        (b"not a calendar", "not_icalendar"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no_events"),
        (b"\x00\xff" * 50, "not_icalendar"),
    ],
)
def test_malformed_upload_is_refused_with_its_reason(app, data, reason):
    with pytest.raises(calendar.CalendarFileError) as refused:
        calendar.busy_times_from_ics(data, window_start=NOW)
    assert refused.value.code == reason
