"""The clerk chooses the mode for a caller; a phone appointment shows the number to call."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from visits.extensions import db
from visits.models import Appointment, Mode

from .conftest import berlin
from .test_phone_booking import book


@pytest.fixture
def service(factories):
    return factories.service(duration_minutes=30, modes=[Mode.ON_SITE, Mode.VIDEO, Mode.PHONE])


def test_the_clerk_books_a_phone_appointment_and_sees_the_number_to_call(clerk_client, service, monday):
    form = clerk_client.get(f"/staff/phone-booking?service={service.id}&week={monday.isoformat()}").get_data(
        as_text=True
    )
    assert all(f'value="{mode}"' in form for mode in ("on_site", "video", "phone"))
    response = book(clerk_client, service, monday, mode="phone", phone="0221 987654")
    assert response.status_code == 302
    appointment = db.session.scalar(select(Appointment))
    assert (appointment.mode, appointment.room) == (Mode.PHONE, None)

    agenda = clerk_client.get(f"/staff/?view=day&date={monday.isoformat()}&lang=de").get_data(as_text=True)
    assert "Telefonisch: anrufen: 0221 987654" in agenda
    shown = clerk_client.get(f"/staff/appointments/{appointment.id}").get_data(as_text=True)
    assert "(Telefonisch)" in shown and "<dt>Bürgerin oder Bürger anrufen unter</dt><dd>0221 987654</dd>" in shown


def test_a_phone_appointment_for_a_caller_needs_the_number(clerk_client, service, monday):
    response = book(clerk_client, service, monday, mode="phone", email="karl@example.org")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="phone-error"' in page and "Der Termin ist telefonisch." in page
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_mode_the_service_does_not_offer_is_refused_for_a_caller_too(clerk_client, factories, monday):
    on_site = factories.service(modes=[Mode.ON_SITE])
    factories.clerk([on_site])
    response = clerk_client.post(
        f"/staff/phone-booking?service={on_site.id}&week={monday.isoformat()}",
        data={"start": berlin(monday, 10).isoformat(), "name": "Karl", "phone": "0221 1", "language": "de",
              "mode": "video"},
    )
    assert response.status_code == 400
    assert "Diese Dienstleistung wird so nicht angeboten." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0
