"""The outbox keeps no secret: after a citizen's whole journey (hold, confirm, reminder,
reschedule, cancel), with every mail delivered to a real SMTP server, a copy of the
database holds no link that opens the appointment's manage page or join page, nor the join
page of a guest (an interpreter) invited to it, nor the conference PIN that lets a caller
into its room by phone (dial-in numbers configured), nor a document's way in."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from visits.booking import links
from visits.booking import operations as booking
from visits.extensions import db
from visits.mail import compose as mail
from visits.mail import outbox, reminders
from visits.models import Appointment, OutboxMessage
from visits.video import dial_in

from .. import days
from ..conftest import berlin
from ..factories import HOUSING_BENEFIT

MONDAY = days.BOOKING_MONDAY
NOW = berlin(MONDAY - timedelta(days=7), 9)

# Anything that looks like a token on one of the citizen's pages, however it is encoded.
TOKEN_LIKE = re.compile(r"[A-Za-z0-9_-]{40,}")
# Anything that could be a conference PIN (ten digits, the first not 0).
PIN_LIKE = re.compile(r"(?<![0-9])[1-9][0-9]{9}(?![0-9])")


@pytest.fixture(autouse=True)
def dial_in_numbers(app_config):
    """With numbers to call, the confirmation, reminder and "moved" mails carry the PIN."""
    app_config["DIAL_IN_NUMBERS"] = "DE:+49 221 123456"


@pytest.fixture
def video_service(factories):
    service = factories.service(**HOUSING_BENEFIT)
    factories.clerk([service])
    return service


def deliver(smtp_server, total: int, now):
    outbox.deliver_due(now=now)
    return smtp_server.wait_for(total)


def texts(message) -> str:
    return "\n".join(
        part.get_content() if part.get_content_maintype() == "text" else part.get_content().decode()
        for part in message.walk()
        if not part.is_multipart()
    )


def database_dump() -> str:
    """Every column of every row of every table, as a read-only copy would show them."""
    db.session.expire_all()
    return "\n".join(
        repr(tuple(row)) for table in db.metadata.sorted_tables for row in db.session.execute(table.select())
    )


def test_after_a_whole_journey_no_table_holds_a_working_link(client, smtp_server, video_service, factories):
    citizen = factories.citizen(name="Erika Mustermann")
    appointment = booking.hold(video_service, berlin(MONDAY, 8), citizen, now=NOW).appointment
    booking.confirm(appointment, now=NOW + timedelta(minutes=2))
    start = appointment.start_at
    mail.enqueue(
        "reminder", appointment, now=start - timedelta(hours=24),
        dedupe_key=reminders.dedupe_key(appointment, timedelta(hours=24)),
    )
    db.session.commit()
    deliver(smtp_server, 3, start - timedelta(hours=24))
    booking.reschedule(appointment, berlin(MONDAY, 10), now=start - timedelta(hours=23))
    booking.cancel(appointment, now=start - timedelta(hours=22))
    received = deliver(smtp_server, 5, start - timedelta(hours=21))

    manage = links.derive_token("manage", appointment.uid)
    join = links.derive_token("join", appointment.uid)
    pin = dial_in.pin_for(appointment)
    assert pin is not None
    # the citizen got the working links and the PIN: they are in the mails, and they work
    delivered = "\n".join(texts(message) for message in received)
    assert links.manage_url(appointment) in delivered and links.join_url(appointment) in delivered
    assert f"Konferenz-PIN {dial_in.formatted(pin)}#" in delivered
    assert client.get(f"/termin/{manage}").status_code == 200

    rows = db.session.scalars(select(OutboxMessage)).all()
    assert len(rows) == 5 and all(row.status == "sent" for row in rows)
    dump = database_dump()
    assert manage not in dump and join not in dump
    assert "/termin/" not in dump and "/video/" not in dump
    assert outbox.MANAGE_LINK in dump  # the rows keep the message, with placeholders
    for candidate in set(TOKEN_LIKE.findall(dump)):
        assert links.by_manage_token(candidate) is None and links.by_join_token(candidate) is None
    # Nor the PIN: not as typed, not as printed, not as a bare (reversible) SHA-256; the
    # keyed hash that is stored gives nothing without SECRET_KEY.
    assert pin not in dump and dial_in.formatted(pin) not in dump
    assert hashlib.sha256(pin.encode()).hexdigest() not in dump
    assert appointment.dial_in_pin_hash in dump  # what a look-up needs, and only that
    for candidate in set(PIN_LIKE.findall(dump)):
        hashed = dial_in.pin_hash(candidate)
        assert db.session.scalar(select(Appointment.id).where(Appointment.dial_in_pin_hash == hashed)) is None


def test_a_queued_mail_holds_placeholders_and_is_sent_with_the_links(smtp_server, video_service, factories):
    appointment = booking.hold(video_service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    booking.confirm(appointment, now=NOW)
    (row,) = [r for r in db.session.scalars(select(OutboxMessage)) if r.kind == "confirmation"]
    assert links.derive_token("manage", appointment.uid) not in row.body
    assert links.derive_token("join", appointment.uid) not in row.body

    pin = dial_in.formatted(dial_in.pin_for(appointment))
    assert pin not in row.body

    sent = outbox.as_sent(row)
    assert outbox.MANAGE_LINK not in sent and outbox.JOIN_LINK not in sent and outbox.PIN not in sent
    received = deliver(smtp_server, 2, NOW)
    (confirmation,) = [m for m in received if m["Message-ID"] == row.message_id]
    body = texts(confirmation)
    assert links.manage_url(appointment) in body and links.join_url(appointment) in body
    assert f"Konferenz-PIN {pin}#" in body
    assert "link.invalid" not in body


def test_a_guests_link_is_kept_as_a_placeholder_and_mailed_working(client, smtp_server, video_service, factories):
    from visits.booking import guests

    appointment = booking.hold(video_service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    booking.confirm(appointment, now=NOW)
    guest = guests.invite(
        appointment, name="Ingrid Interpretin", email="ingrid@example.org", role="sign_language", now=NOW
    )
    booking.reschedule(appointment, berlin(MONDAY, 10), now=NOW + timedelta(hours=1))
    received = deliver(smtp_server, 5, NOW + timedelta(hours=1))  # confirm request, confirmation, invitation, 2 moves

    token = guests.guest_token(appointment.uid, guest.id)
    to_guest = [m for m in received if m["To"].addresses[0].addr_spec == "ingrid@example.org"]
    assert len(to_guest) == 2 and all(guests.guest_url(guest) in texts(m) for m in to_guest)
    assert client.get(f"/video/{token}").status_code == 200

    dump = database_dump()
    assert token not in dump and "/video/" not in dump
    assert outbox.guest_link(guest.id) in dump
    for candidate in set(TOKEN_LIKE.findall(dump)):
        assert guests.by_guest_token(candidate) is None and links.by_join_token(candidate) is None


def test_a_handed_in_document_leaves_no_working_link_in_the_database_or_the_folder(client, video_service, factories):
    import io
    from pathlib import Path

    from visits import settings

    from ..documents import pdf

    appointment = booking.hold(video_service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    booking.confirm(appointment, now=NOW)
    manage = links.derive_token("manage", appointment.uid)
    response = client.post(
        f"/termin/{manage}/unterlagen",
        data={"document": (io.BytesIO(pdf()), "Mietvertrag.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    dump = database_dump()
    assert "appointment_document" in {t.name for t in db.metadata.sorted_tables}
    assert manage not in dump and "/termin/" not in dump
    stored = [path.name for path in Path(settings.current().documents_dir).iterdir()]
    assert len(stored) == 1 and manage not in stored[0]
    for candidate in set(TOKEN_LIKE.findall(dump)) | set(stored):
        assert links.by_manage_token(candidate) is None and links.by_join_token(candidate) is None
