"""A clerk books for a caller: confirmed at once, confirmation mail when an email is given."""

from __future__ import annotations

from sqlalchemy import func, select

from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import Appointment, OutboxMessage, Status

from .conftest import berlin


def book(client, service, monday, **fields):
    data = {"start": berlin(monday, 10).isoformat(), "name": "Karl Anrufer", "language": "de"}
    data.update(fields)
    return client.post(f"/staff/phone-booking?service={service.id}&week={monday.isoformat()}", data=data)


def test_free_times_of_the_week_are_offered_in_berlin_time(clerk_client, service, monday):
    page = clerk_client.get(f"/staff/phone-booking?service={service.id}&week={monday.isoformat()}").get_data(
        as_text=True
    )
    assert f'value="{berlin(monday, 8).isoformat()}"' in page
    assert "08:00" in page and "11:30" in page


def test_caller_with_email_is_booked_confirmed_and_mailed(clerk_client, clerk, service, monday):
    response = book(clerk_client, service, monday, email="karl@example.org", note="Hörgerät")
    assert response.status_code == 302
    appointment = db.session.scalar(select(Appointment))
    assert appointment.status == Status.CONFIRMED
    assert appointment.start_at == berlin(monday, 10)
    assert appointment.booked_via == "phone" and appointment.booked_by_id == clerk.id
    assert appointment.citizen_note == "Hörgerät"
    page = clerk_client.get(response.headers["Location"]).get_data(as_text=True)
    assert appointment.reference in page
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.appointment_id == appointment.id))
    assert mail is not None and mail.kind == "confirmation" and mail.recipient == "karl@example.org"


def test_caller_with_phone_only_is_booked_without_mail(clerk_client, service, monday):
    assert book(clerk_client, service, monday, phone="0221 123456").status_code == 302
    appointment = db.session.scalar(select(Appointment))
    assert appointment.citizen_phone == "0221 123456" and appointment.citizen_email is None
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_caller_without_email_or_phone_is_asked_for_one(clerk_client, service, monday):
    response = book(clerk_client, service, monday)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Geben Sie eine E-Mail-Adresse oder eine Telefonnummer an." in page
    assert 'href="#email"' in page
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_time_taken_meanwhile_gives_a_clear_message(clerk_client, factories, service, monday):
    booking.book_for_caller(service, berlin(monday, 10), factories.citizen(), clerk=factories.clerk([]), now=clock.now())
    response = book(clerk_client, service, monday, phone="0221 123456")
    assert response.status_code == 400
    assert "Diese Zeit ist nicht mehr frei" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_an_invalid_email_address_is_marked_on_its_field(clerk_client, service, monday):
    response = book(clerk_client, service, monday, email="karl(at)example")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page and 'aria-invalid="true"' in page
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0
