"""The mails a citizen receives, as a mail program sees them: booking use cases run, the
outbox delivers to a real SMTP server, the arrivals are parsed with ``email`` and the
calendar parts with ``icalendar``; held to the ``ics-*`` and ``mail-*`` rules of docs/checklist.md."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from visits import listeners
from visits.booking import links
from visits.booking import operations as booking
from visits.core.citizen import Citizen
from visits.core.events import Change, appointment_changed
from visits.extensions import db
from visits.mail import compose as mail
from visits.mail import notifications, outbox, reminders
from visits.models import OutboxMessage, Status

from .. import days
from ..conftest import berlin
from ..factories import HOUSING_BENEFIT

# A Monday two weeks ahead; "now" is 09:00 Berlin time a week before it.
MONDAY = days.BOOKING_MONDAY
NOW = berlin(MONDAY - timedelta(days=7), 9)


@pytest.fixture
def service(factories):
    service = factories.service(**HOUSING_BENEFIT)
    factories.clerk([service])
    return service


@pytest.fixture
def on_site(factories):
    service = factories.service(video=False, address="Rathausplatz 1, 12345 Musterstadt", slug="ausweis")
    factories.clerk([service])
    return service


def deliver(smtp_server, count: int, now=NOW) -> list[EmailMessage]:
    assert outbox.deliver_due(now=now) == count
    return smtp_server.wait_for(count)


def confirmed(service, citizen, hour: int = 8):
    appointment = booking.hold(service, berlin(MONDAY, hour), citizen, now=NOW).appointment
    return booking.confirm(appointment, now=NOW)


def remind(appointment, now, offset: timedelta):
    """Queue a reminder as the sweep does: under its own key (appointment, start, offset)."""
    return mail.enqueue("reminder", appointment, now=now, dedupe_key=reminders.dedupe_key(appointment, offset))


def parts(message: EmailMessage) -> dict[str, EmailMessage]:
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


def text_of(message: EmailMessage) -> str:
    return parts(message)["text/plain"].get_content()


def html_of(message: EmailMessage) -> str:
    return parts(message)["text/html"].get_content()


def invitation(message: EmailMessage) -> tuple[EmailMessage, bytes, Calendar]:
    part = parts(message)["text/calendar"]
    data = part.get_payload(decode=True)
    return part, data, Calendar.from_ical(data)


def event_of(cal: Calendar):
    (event,) = cal.walk("VEVENT")
    return event


def rows() -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


# -- what each use case sends --------------------------------------------------------------


def test_a_hold_mails_a_request_to_confirm_with_the_manage_link_and_no_calendar_yet(
    smtp_server, service, factories
):
    held = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    (received,) = deliver(smtp_server, 1)
    assert received["Subject"].startswith("Bitte bestätigen Sie Ihren Termin: Wohngeldberatung")
    assert received.get_content_type() == "multipart/alternative"
    assert set(parts(received)) == {"text/plain", "text/html"}  # a hold is not in a calendar
    text = text_of(received)
    assert links.manage_url(held) in text and "innerhalb von 15 Minuten" in text
    assert "bis 09:15 Uhr" in text  # the hold runs out at 09:15 Berlin time
    assert "/video/" not in text  # the video link comes with the confirmation
    assert f'href="{links.manage_url(held)}"' in html_of(received)


def test_confirming_sends_a_request_invitation_inside_the_alternative_and_as_invite_ics(
    smtp_server, service, factories
):
    appointment = confirmed(service, factories.citizen())
    _, received = deliver(smtp_server, 2)
    assert received["Subject"].startswith("Terminbestätigung: Wohngeldberatung")
    # ics-in-mail: text, HTML and calendar side by side in multipart/alternative; the file also attached
    assert received.get_content_type() == "multipart/mixed"
    alternative, attachment = received.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    part, data, cal = invitation(received)
    assert part.get_param("method") == "REQUEST" == cal["METHOD"]
    assert part.get_content_charset() == "utf-8"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == data
    # ics-lines, ics-method, ics-event, ics-utc, ics-parties
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    assert cal["VERSION"] == "2.0" and "Visits" in str(cal["PRODID"])
    event = event_of(cal)
    assert str(event["UID"]) == appointment.uid
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == appointment.start_at == berlin(MONDAY, 8)
    assert event.decoded("DTEND") == appointment.end_at
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert str(event["ORGANIZER"]).lower() == "mailto:termine@stadt.example"
    assert str(event["ATTENDEE"]) == f"mailto:{appointment.citizen_email}"
    assert event["STATUS"] == "CONFIRMED"
    # ics-where: the join page in URL and DESCRIPTION, never a Jitsi token
    assert str(event["URL"]) == links.join_url(appointment)
    assert links.join_url(appointment) in str(event["DESCRIPTION"])
    assert "jwt" not in data.decode()


def test_the_confirmation_names_service_time_documents_and_both_links(smtp_server, service, factories):
    appointment = confirmed(service, factories.citizen(name="Erika Mustermann"))
    _, received = deliver(smtp_server, 2)
    text = text_of(received)
    assert "Guten Tag Erika Mustermann," in text
    assert "Wohngeldberatung" in text
    assert f"Vorgangsnummer: {appointment.reference}" in text
    assert "Personalausweis" in text and "Mietvertrag" in text
    assert links.join_url(appointment) in text and links.manage_url(appointment) in text
    html = html_of(received)
    assert '<html lang="de">' in html and f"<title>{received['Subject']}</title>" in html
    assert "<li>Mietvertrag</li>" in html
    assert f'href="{links.join_url(appointment)}"' in html


def test_times_are_shown_in_berlin_time_not_utc(smtp_server, service, factories):
    appointment = confirmed(service, factories.citizen(), hour=8)
    _, received = deliver(smtp_server, 2)
    text = text_of(received)
    assert "Montag, " in text and "08:00–08:30 Uhr" in text
    assert f"{appointment.start_at.astimezone(UTC):%H:%M}" not in text  # 07:00 or 06:00 UTC


def test_after_the_change_to_summer_time_the_mail_still_says_08_00(smtp_server, service, factories):
    monday = date(2031, 3, 31)  # the day after the last Sunday of March: CEST, UTC+2
    now = berlin(monday - timedelta(days=7), 9)
    appointment = booking.hold(service, berlin(monday, 8), factories.citizen(), now=now).appointment
    booking.confirm(appointment, now=now)
    _, received = deliver(smtp_server, 2, now=now)
    assert "Montag, 31. März 2031, 08:00–08:30 Uhr" in text_of(received)
    assert event_of(invitation(received)[2]).decoded("DTSTART") == datetime(2031, 3, 31, 6, 0, tzinfo=UTC)


def test_an_on_site_appointment_names_the_address_and_has_no_join_link(smtp_server, on_site, factories):
    confirmed(on_site, factories.citizen())
    _, received = deliver(smtp_server, 2)
    text = text_of(received)
    # the location's name; its address, or the service's while the location has no street
    assert "Wo: Bürgerservice, Rathausplatz 1, 12345 Musterstadt" in text
    assert "/video/" not in text
    assert "URL" not in event_of(invitation(received)[2])


def test_rescheduling_sends_a_new_invitation_with_the_same_uid_and_a_higher_sequence(
    smtp_server, service, factories
):
    appointment = confirmed(service, factories.citizen())
    booking.reschedule(appointment, berlin(MONDAY, 10), now=NOW)
    _, confirmation, moved = deliver(smtp_server, 3)
    first, second = event_of(invitation(confirmation)[2]), event_of(invitation(moved)[2])
    assert moved["Subject"].startswith("Termin verschoben: Wohngeldberatung, neu am")
    assert invitation(moved)[2]["METHOD"] == "REQUEST"
    assert str(second["UID"]) == str(first["UID"]) == appointment.uid
    assert int(second["SEQUENCE"]) > int(first["SEQUENCE"])
    assert second.decoded("DTSTART") == berlin(MONDAY, 10)
    text = text_of(moved)
    assert "10:00–10:30 Uhr" in text and "08:00" in text  # new time, and the old one named


def test_a_moved_hold_asks_again_for_confirmation_without_a_calendar(smtp_server, service, factories):
    held = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    booking.reschedule(held, berlin(MONDAY, 11), now=NOW)
    first, second = deliver(smtp_server, 2)
    assert second["Subject"].startswith("Bitte bestätigen Sie Ihren Termin")
    assert "11:00" in second["Subject"] and "text/calendar" not in parts(second)


def test_cancelling_sends_method_cancel_with_the_same_uid_a_higher_sequence_and_the_reason(
    smtp_server, service, factories
):
    clerk = service.clerks[0]
    appointment = confirmed(service, factories.citizen())
    booking.cancel(appointment, now=NOW, by=clerk, reason="Die Sachbearbeiterin ist erkrankt.")
    _, confirmation, cancellation = deliver(smtp_server, 3)
    assert cancellation["Subject"].startswith("Termin abgesagt: Wohngeldberatung")
    part, _, cal = invitation(cancellation)
    assert part.get_param("method") == "CANCEL" == cal["METHOD"]  # ics-in-mail: MIME method = METHOD
    event = event_of(cal)
    assert str(event["UID"]) == appointment.uid
    assert int(event["SEQUENCE"]) > int(event_of(invitation(confirmation)[2])["SEQUENCE"])
    assert event["STATUS"] == "CANCELLED"
    assert str(event["ORGANIZER"]).lower() == "mailto:termine@stadt.example"
    assert str(event["ATTENDEE"]) == f"mailto:{appointment.citizen_email}"
    text = text_of(cancellation)
    assert "leider mussten wir Ihren Termin absagen" in text
    assert "Grund: Die Sachbearbeiterin ist erkrankt." in text
    assert "https://visits.test/dienstleistungen/wohngeld" in text  # book again
    assert links.manage_url(appointment) not in text  # nothing left to manage


def test_a_citizen_who_cancels_is_told_it_was_as_asked(smtp_server, service, factories):
    appointment = confirmed(service, factories.citizen())
    booking.cancel(appointment, now=NOW)
    *_, cancellation = deliver(smtp_server, 3)
    assert "Ihr Termin wurde wie gewünscht abgesagt." in text_of(cancellation)
    assert "Grund:" not in text_of(cancellation)


def test_cancelling_a_hold_says_so_without_a_calendar_file(smtp_server, service, factories):
    held = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    booking.cancel(held, now=NOW)
    _, cancellation = deliver(smtp_server, 2)
    assert cancellation["Subject"].startswith("Termin abgesagt")
    assert "text/calendar" not in parts(cancellation)  # no invitation was ever sent


def test_a_phone_booking_gets_the_same_confirmation_as_an_online_one(smtp_server, service, factories):
    clerk = service.clerks[0]
    appointment = booking.book_for_caller(
        service, berlin(MONDAY, 9), factories.citizen(), clerk=clerk, now=NOW
    )
    (received,) = deliver(smtp_server, 1)  # confirmed at once: no request to confirm
    assert received["Subject"].startswith("Terminbestätigung: Wohngeldberatung")
    assert str(event_of(invitation(received)[2])["UID"]) == appointment.uid


def test_a_caller_without_email_gets_no_mail_and_the_booking_still_works(smtp_server, service, factories):
    clerk = service.clerks[0]
    caller = Citizen(name="Hans Meier", phone="+49 201 1234567")
    appointment = booking.book_for_caller(service, berlin(MONDAY, 9), caller, clerk=clerk, now=NOW)
    assert appointment.status == Status.CONFIRMED
    assert rows() == []
    assert remind(appointment, NOW, timedelta(hours=24)) is None


def test_a_reminder_brings_the_join_link_and_the_invitation_again(smtp_server, service, factories):
    appointment = confirmed(service, factories.citizen())
    soon = berlin(MONDAY - timedelta(days=1), 8)
    assert remind(appointment, soon, timedelta(hours=24)) is not None
    db.session.commit()
    *_, reminder = deliver(smtp_server, 3, now=soon)
    assert reminder["Subject"].startswith("Terminerinnerung: Wohngeldberatung")
    assert links.join_url(appointment) in text_of(reminder)
    assert invitation(reminder)[2]["METHOD"] == "REQUEST"
    assert str(event_of(invitation(reminder)[2])["UID"]) == appointment.uid


def test_no_reminder_for_a_cancelled_appointment(app, service, factories):
    appointment = confirmed(service, factories.citizen())
    booking.cancel(appointment, now=NOW)
    assert remind(appointment, NOW, timedelta(hours=1)) is None


def test_a_no_show_gets_a_friendly_mail_with_a_link_to_book_again(smtp_server, service, factories):
    appointment = confirmed(service, factories.citizen())
    later = berlin(MONDAY, 9)
    booking.mark(appointment, Status.NO_SHOW, by=service.clerks[0], now=later)
    *_, no_show = deliver(smtp_server, 3, now=later)
    assert no_show["Subject"].startswith("Wir haben Sie vermisst: Wohngeldberatung")
    text = text_of(no_show)
    assert "https://visits.test/dienstleistungen/wohngeld" in text
    assert "text/calendar" not in parts(no_show)


def test_an_english_citizen_gets_english_mails(smtp_server, service, factories):
    confirmed(service, factories.citizen(name="Jane Doe", language="en"))
    _, received = deliver(smtp_server, 2)
    assert received["Subject"].startswith("Appointment confirmed: Housing benefit advice")
    text = text_of(received)
    assert "Hello Jane Doe," in text and "Your appointment is confirmed." in text
    assert "Monday, " in text and ("8:00\u202fAM" in text or "8:00 AM" in text)
    assert "ID card" in text and "Personalausweis" not in text
    assert received["Content-Language"] == "en"
    assert '<html lang="en">' in html_of(received)
    assert str(event_of(invitation(received)[2])["SUMMARY"]) == "Appointment: Housing benefit advice"


# -- headers and safety --------------------------------------------------------------------


def test_every_mail_has_the_headers_a_mail_program_expects(smtp_server, service, factories, reconfigure):
    reconfigure(MAIL_MESSAGE_ID_DOMAIN="termine.stadt.example")
    appointment = confirmed(service, factories.citizen(name="Erika Mustermann"))
    mails = deliver(smtp_server, 2)
    ids = [received["Message-ID"] for received in mails]
    assert len(set(ids)) == 2 and all(i.endswith("@termine.stadt.example>") for i in ids)
    assert ids == [row.message_id for row in rows()]
    for received, row in zip(mails, rows(), strict=True):
        assert received["From"].addresses[0].addr_spec == "termine@stadt.example"
        assert received["From"].addresses[0].display_name == "Bürgerservice"
        (to,) = received["To"].addresses
        # the request to confirm names no one: the address has not agreed to anything yet
        name = "" if row.kind == "confirm_request" else "Erika Mustermann"
        assert (to.display_name, to.addr_spec) == (name, appointment.citizen_email)
        assert received["Date"].datetime == NOW
        assert received["Auto-Submitted"] == "auto-generated"
    # mail-links: links are absolute, on the public base URL, over https
    assert all(
        link.startswith("https://visits.test/")
        for link in (links.manage_url(appointment), links.join_url(appointment))
    )


def test_line_breaks_in_a_name_cannot_add_headers_or_recipients(smtp_server, service, factories):
    appointment = confirmed(service, factories.citizen(email="eve@example.org"))
    # A name that never went through the booking form (older data, another entry point).
    appointment.citizen_name = "Eve\r\nBcc: mallory@evil.example\r\nSubject: pwned"
    db.session.commit()
    assert remind(appointment, NOW, timedelta(hours=2)) is not None
    db.session.commit()
    *_, received = deliver(smtp_server, 3)
    raw = smtp_server.received[-1]
    assert raw.envelope_to == ["eve@example.org"]
    assert received["Bcc"] is None and b"\r\nBcc:" not in raw.raw and b"\r\nSubject: pwned" not in raw.raw
    assert received["Subject"].startswith("Terminerinnerung")
    (to,) = received["To"].addresses
    assert to.addr_spec == "eve@example.org"
    assert "\n" not in to.display_name and "\r" not in to.display_name


def test_a_name_with_comma_and_quotes_still_reaches_only_its_owner(smtp_server, service, factories):
    confirmed(
        service, factories.citizen(name='Mustermann, Erika "Eri" <x@evil.example>', email="erika@example.org")
    )
    _, received = deliver(smtp_server, 2)
    assert smtp_server.received[-1].envelope_to == ["erika@example.org"]
    assert [a.addr_spec for a in received["To"].addresses] == ["erika@example.org"]


def test_an_international_domain_is_mailed_in_its_ascii_form(smtp_server, service, factories):
    confirmed(service, factories.citizen(email="erika@münchen.de"))
    _, received = deliver(smtp_server, 2)
    assert smtp_server.received[-1].envelope_to == ["erika@xn--mnchen-3ya.de"]
    assert received["To"].addresses[0].addr_spec == "erika@xn--mnchen-3ya.de"


def test_an_address_with_non_ascii_before_the_at_is_refused_when_booking(app, service, factories):
    # Most mail servers cannot deliver it (SMTPUTF8): the person hears it now, not never.
    with pytest.raises(booking.InvalidCitizen) as refused:
        booking.hold(service, berlin(MONDAY, 8), factories.citizen(email="jürgen@example.org"), now=NOW)
    assert refused.value.info["field"] == "email"
    assert rows() == []


def test_a_hostile_name_cannot_add_a_calendar_property_and_is_escaped_in_html(
    smtp_server, service, factories
):
    appointment = confirmed(service, factories.citizen(name="Tom & <b>Jerry</b>"))
    appointment.citizen_name = 'Tom & <b>Jerry</b>\r\nBEGIN:VEVENT\r\nSUMMARY:pwned;x,y"'
    db.session.commit()
    remind(appointment, NOW, timedelta(hours=2))
    db.session.commit()
    *_, received = deliver(smtp_server, 3)
    _, data, cal = invitation(received)
    assert len(cal.walk("VEVENT")) == 1 and b"\r\nSUMMARY:pwned" not in data
    assert str(event_of(cal)["SUMMARY"]) == "Termin: Wohngeldberatung"
    html, text = (body.replace("\u200b", "") for body in (html_of(received), text_of(received)))
    assert "Tom &amp; &lt;b&gt;Jerry&lt;/b&gt;" in html and "<b>Jerry" not in html
    assert "Guten Tag Tom & <b>Jerry</b> BEGIN:VEVENT" in text  # plain text: not escaped


# -- once and only once ----------------------------------------------------------------------


def test_the_same_change_announced_twice_sends_one_mail(smtp_server, service, factories):
    appointment = confirmed(service, factories.citizen())
    appointment_changed.send(Change.CONFIRMED, appointment=appointment, now=NOW)  # a second announcement
    notifications.on_appointment_changed(Change.CONFIRMED, appointment=appointment, now=NOW)
    db.session.commit()
    mails = deliver(smtp_server, 2)
    assert [m["Subject"].split(":")[0] for m in mails] == [
        "Bitte bestätigen Sie Ihren Termin",
        "Terminbestätigung",
    ]
    assert outbox.deliver_due(now=NOW + timedelta(minutes=10)) == 0


def test_wiring_again_does_not_double_any_receiver(app):
    def count(receiver) -> int:
        return sum(1 for r in appointment_changed.receivers.values() if r is receiver)

    listeners.wire()  # create_app wired them already; a second app does so again
    listeners.wire()
    assert [count(r) for r in listeners.APPOINTMENT_RECEIVERS] == [1] * len(listeners.APPOINTMENT_RECEIVERS)
    assert notifications.on_appointment_changed in listeners.APPOINTMENT_RECEIVERS


def test_a_repeated_hold_request_sends_no_second_mail(smtp_server, service, factories):
    citizen = factories.citizen()
    first = booking.hold(service, berlin(MONDAY, 8), citizen, now=NOW)
    # a double click: the browser's session names the hold it placed
    result = booking.hold(service, berlin(MONDAY, 8), citizen, now=NOW, own_hold=first.appointment.id)
    assert result.created is False
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_mails_wait_while_the_mail_server_is_down_and_arrive_once_when_it_is_back(
    smtp_server, service, factories
):
    smtp_server.stop()
    confirmed(service, factories.citizen())
    assert outbox.deliver_due(now=NOW) == 0
    assert {row.status for row in rows()} == {"pending"}
    smtp_server.start()
    retry = max(row.next_attempt_at for row in rows())
    assert outbox.deliver_due(now=retry) == 2
    assert outbox.deliver_due(now=retry + timedelta(hours=1)) == 0
    mails = smtp_server.wait_for(2)
    assert len(mails) == 2 and len({m["Message-ID"] for m in mails}) == 2


def test_unknown_kinds_are_refused(app, service, factories):
    appointment = confirmed(service, factories.citizen())
    with pytest.raises(mail.UnknownMailKind):
        mail.enqueue("newsletter", appointment, now=NOW)
