"""Injection through what citizens and staff type.

- HTML/script in any stored text (citizen's name and note, internal note, absence reason,
  staff names, service texts, API key label, audit entries, failed mails) is escaped on
  every page: a walk over every GET page as clerk, admin and anonymous.
- Line breaks in a name or note reach neither the mail headers (no added recipient or
  header) nor the calendar (no added property or component), along the entry points that
  do not pass the citizen's form: phone booking and the API. (The mail and calendar
  builders themselves: tests/mail/test_mails.py, tests/integration/test_calendar.py.)"""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from visits.booking import availability
from visits.booking import operations as booking
from visits.core import audit, clock
from visits.extensions import db
from visits.jobs import deliver_mail
from visits.mail import outbox
from visits.models import Appointment, OutboxMessage, StaffUser

from .conftest import log_in, page_rules, url_for_rule

SCRIPT = '<script>alert("xss1")</script>'
ATTRIBUTE = '"><img src=x onerror=alert(2)>'
PAYLOAD = f"Eve {SCRIPT} {ATTRIBUTE}"
RAW_MARKERS = ("<script>alert", "<img src=x")


def plant_everywhere(world) -> Appointment:
    """Put the payload into every text a person can enter that some page shows."""
    start = availability.free_slots(
        world.service, world.monday, world.monday + timedelta(days=4), clock.now()
    )[0].start
    citizen = booking.Citizen(name=PAYLOAD, email="eve@example.org", phone="0221 123", note=PAYLOAD)
    appointment = booking.book_for_caller(world.service, start, citizen, clerk=world.clerk, now=clock.now())
    appointment.internal_note = PAYLOAD
    world.appointment.internal_note = PAYLOAD
    world.clerk.name = PAYLOAD
    world.admin.name = "Ada " + SCRIPT
    service = world.service
    service.name_de = service.name_en = "Wohngeld " + SCRIPT
    service.description_de = service.description_en = PAYLOAD
    service.documents_de = service.documents_en = PAYLOAD
    service.address = PAYLOAD
    for absence in world.clerk.absences if hasattr(world.clerk, "absences") else []:
        absence.reason = PAYLOAD
    for row in db.session.scalars(select(OutboxMessage)):
        row.subject = row.last_error = PAYLOAD
    audit.record("staff.login_failed", at=clock.now(), actor_label=PAYLOAD, email=PAYLOAD, ip="192.0.2.1")
    from visits.models import Absence, ApiKey, BookingPause

    for absence in db.session.scalars(select(Absence)):
        absence.reason = PAYLOAD
    for key in db.session.scalars(select(ApiKey)):
        key.name = PAYLOAD[:60]
    for pause in db.session.scalars(select(BookingPause)):
        pause.reason = PAYLOAD if hasattr(pause, "reason") else None
    db.session.commit()
    return appointment


def test_html_in_anything_typed_is_escaped_on_every_page(app, client, world):
    hostile = plant_everywhere(world)
    world.args["appointment_id"] = hostile.id
    shown_escaped = set()
    problems = []
    for rule in page_rules(app):
        url = url_for_rule(app, rule, world)
        if rule.endpoint.startswith("staff.") or rule.endpoint.startswith("admin."):
            url += f"?date={hostile.start_at.date().isoformat()}&view=week"
        for who in (None, world.clerk, world.admin):
            log_in(client, who)
            response = client.get(url)
            if "html" not in (response.content_type or ""):
                continue
            text = response.get_data(as_text=True)
            if any(marker in text for marker in RAW_MARKERS):
                problems.append(f"{who and who.email} {url}: unescaped")
            if "&lt;script&gt;alert(" in text or "&#34;&gt;&lt;img" in text or "&lt;img src=x" in text:
                shown_escaped.add(rule.endpoint)
    assert not problems, "\n".join(problems)
    # The payload really was on the pages that matter (escaped): the test can fail.
    assert {
        "staff.agenda",
        "staff.appointment",
        "public.index",
        "admin.staff",
        "admin.audit_log",
    } <= shown_escaped, sorted(shown_escaped)


def test_phone_booking_refuses_line_breaks_in_a_name_and_keeps_a_notes_out_of_headers_and_events(
    smtp_server, app, client, world
):
    log_in(client, world.clerk)
    start = availability.free_slots(
        world.service, world.monday, world.monday + timedelta(days=4), clock.now()
    )[0].start
    data = {
        "service": str(world.service.id),
        "week": world.monday.isoformat(),
        "start": start.isoformat(),
        "email": "eve@example.org",
        "phone": "0221 123456",
        "language": "de",
        "note": "x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nATTENDEE:mailto:mallory@evil.example\r\nSUMMARY:pwned;a,b",
    }
    refused = client.post(
        "/staff/phone-booking", data={**data, "name": "Eve\r\nBcc: mallory@evil.example\r\nSubject: pwned"}
    )
    assert refused.status_code == 400 and 'id="name-error"' in refused.text
    assert db.session.scalar(select(Appointment).where(Appointment.citizen_email == "eve@example.org")) is None

    response = client.post("/staff/phone-booking", data={**data, "name": 'Eve; Bcc: mallory, "x"'})
    # Booked: back to the phone-booking page of that week (a plain redirect).
    assert response.status_code == 302, (response.status, response.location, response.text[:500])
    assert response.location.startswith("/staff/phone-booking?"), response.location
    appointment = db.session.scalar(select(Appointment).where(Appointment.citizen_email == "eve@example.org"))
    assert appointment is not None
    assert deliver_mail(clock.now()) >= 1
    smtp_server.wait_for(1)
    raws = [r for r in smtp_server.received if "erika@example.org" not in r.envelope_to]  # the world's own
    assert raws and all(r.envelope_to == ["eve@example.org"] for r in raws)
    for raw in raws:
        message = raw.message
        header_lines = raw.raw.split(b"\r\n\r\n")[0].split(b"\r\n")
        assert message["Bcc"] is None and not any(line.lower().startswith(b"bcc:") for line in header_lines)
        assert not any(line.startswith(b"Subject: pwned") for line in header_lines)
        assert [a.addr_spec for a in message["To"].addresses] == ["eve@example.org"]
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                data = part.get_payload(decode=True)
                cal = Calendar.from_ical(data)
                assert len(cal.walk("VEVENT")) == 1
                attendees = cal.walk("VEVENT")[0].get("ATTENDEE")
                attendees = attendees if isinstance(attendees, list) else [attendees]
                assert all("mallory" not in str(a) for a in attendees)
                assert b"\r\nSUMMARY:pwned" not in data and b"\r\nATTENDEE:mailto:mallory" not in data


def test_the_api_refuses_line_breaks_in_a_name_and_keeps_a_notes_line_breaks_out_of_the_calendar(
    smtp_server, app, client, world
):
    start = availability.free_slots(
        world.service, world.monday, world.monday + timedelta(days=4), clock.now()
    )[0].start
    body = {"service": "wohngeld", "start": start.isoformat(), "email": "eve@example.org"}
    refused = client.post("/api/v1/bookings", json={**body, "name": "Eve\r\nBcc: mallory@evil.example"})
    assert refused.status_code == 422, (refused.status, refused.text[:500])  # invalid input, named
    assert "name" in refused.get_json()["errors"], refused.get_json()
    assert (
        db.session.scalar(select(Appointment).where(Appointment.citizen_email == "eve@example.org")) is None
    )

    accepted = client.post(
        "/api/v1/bookings",
        json={**body, "name": 'Eve; Mallory, "x"', "note": "a\r\nBEGIN:VEVENT\r\nSUMMARY:pwned"},
    )
    assert accepted.status_code == 201, accepted.get_data(as_text=True)
    appointment = db.session.scalar(select(Appointment).where(Appointment.citizen_email == "eve@example.org"))
    booking.confirm(appointment, now=clock.now())
    deliver_mail(clock.now())
    smtp_server.wait_for(2)
    mails = [r for r in smtp_server.received if "erika@example.org" not in r.envelope_to]  # the world's own
    assert len(mails) >= 2 and all(r.envelope_to == ["eve@example.org"] for r in mails)
    for message in (r.message for r in mails):
        assert [a.addr_spec for a in message["To"].addresses] == ["eve@example.org"]
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                data = part.get_payload(decode=True)
                assert len(Calendar.from_ical(data).walk("VEVENT")) == 1
                assert b"\r\nSUMMARY:pwned" not in data


def test_a_staff_name_with_line_breaks_cannot_become_a_header_either(app, world):
    """Staff names go into the clerk's calendar invitations as the organizer's name."""
    clerk = db.session.get(StaffUser, world.clerk.id)
    clerk.name = "Clara\r\nBcc: mallory@evil.example"
    db.session.commit()
    from visits.booking import calendar

    data = calendar.appointment_ics(world.appointment, method="REQUEST", now=clock.now())
    assert b"\r\nBcc:" not in data
    assert len(Calendar.from_ical(data).walk("VEVENT")) == 1


def test_a_forged_host_header_does_not_change_the_links_in_the_mail(client, world):
    """Links in mails come from PUBLIC_BASE_URL, never from the request's Host header."""
    start = availability.free_slots(
        world.service, world.monday, world.monday + timedelta(days=4), clock.now()
    )[0].start
    response = client.post(
        "/dienstleistungen/wohngeld/buchen",
        data={
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "name": "Eve",
            "email": "eve@example.org",
            "language": "de",
            "consent": "y",
        },
        headers={
            "Host": "evil.example",
            "X-Forwarded-Host": "evil.example",
            "Forwarded": "host=evil.example",
        },
    )
    assert response.status_code == 303
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "eve@example.org"))
    sent = outbox.as_sent(mail)  # the row holds placeholders; the links go in on sending
    assert "https://visits.test/termin/" in sent.replace("=\r\n", "").replace("=\n", "")
    assert "evil.example" not in sent
