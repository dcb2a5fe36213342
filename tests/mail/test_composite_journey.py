"""A family books residence registration for one and ID cards for two as one appointment
on site through the API: one mail over real SMTP, one calendar file with one UID, the
services named together, the documents to bring listed per service, and where to go."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from visits.admin import api_keys, places
from visits.core import clock
from visits.extensions import db
from visits.mail import outbox
from visits.models import Appointment

from .. import days
from ..conftest import berlin
from ..factories import ANMELDUNG, PERSONALAUSWEIS
from .test_mails import html_of, parts, text_of

MONDAY = days.BOOKING_MONDAY


def test_a_family_gets_one_confirmation_with_one_calendar_entry_and_documents_per_service(
    smtp_server, client, factories
):
    office = places.default_location()  # where both services are held, on site
    office.name_de, office.street, office.postcode, office.city = "Bürgerbüro Mitte", "Markt 1", "40213", "Düsseldorf"
    office.directions_de, office.hearing_loop = "Eingang B, 2. Stock", True
    office.latitude, office.longitude = 51.2254, 6.7763
    db.session.commit()
    anmeldung = factories.service(**ANMELDUNG, video=False, address="Rathausplatz 1, 12345 Musterstadt")
    ausweis = factories.service(**PERSONALAUSWEIS, video=False, address="Rathausplatz 1, 12345 Musterstadt")
    factories.clerk([anmeldung, ausweis])
    _key, plain = api_keys.create("Serviceportal", None, now=clock.now())
    start = berlin(MONDAY, 8, 10)

    response = client.post(
        "/api/v1/bookings",
        headers={"Authorization": f"Bearer {plain}"},
        json={
            "items": [{"service": "anmeldung", "persons": 1}, {"service": "personalausweis", "persons": 2}],
            "start": start.isoformat(),
            "name": "Aylin Yılmaz",
            "email": "yilmaz@example.org",
            "language": "de",
        },
    )
    assert response.status_code == 201
    assert outbox.deliver_due(now=clock.now()) == 1
    (received,) = smtp_server.wait_for(1)

    assert "Anmeldung, Personalausweis (2 Personen)" in received["Subject"]
    text = text_of(received).replace("\r\n", "\n")
    assert "Dienstleistung: Anmeldung, Personalausweis (2 Personen)" in text
    assert "Bürgerbüro Mitte" in text and "Markt 1" in text and "Eingang B, 2. Stock" in text
    assert (
        "Anmeldung:\n- Wohnungsgeberbestätigung\n"
        "Personalausweis (2 Personen):\n- Biometrisches Passfoto\n- Geburtsurkunde\n"
    ) in text
    html = html_of(received)
    assert "<h4" in html and "Personalausweis (2 Personen)</h4>" in html and "<li>Geburtsurkunde</li>" in html

    data = parts(received)["text/calendar"].get_payload(decode=True)
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    appointment = db.session.scalar(select(Appointment))
    assert str(event["UID"]) == appointment.uid
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=55)
    assert str(event["SUMMARY"]) == "Termin: Anmeldung, Personalausweis (2 Personen)"
    assert str(event["LOCATION"]) == "Bürgerbüro Mitte, Markt 1, 40213 Düsseldorf"
    assert (event["GEO"].latitude, event["GEO"].longitude) == (51.2254, 6.7763)
    assert response.get_json()["location"] == {"slug": office.slug, "name": "Bürgerbüro Mitte"}
    description = str(event["DESCRIPTION"])
    assert "Anmeldung:\n- Wohnungsgeberbestätigung" in description
    assert "Personalausweis (2 Personen):\n- Biometrisches Passfoto\n- Geburtsurkunde" in description
