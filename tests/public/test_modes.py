"""Modes per booking, through the citizen's pages with a real SMTP server: a service offered
several ways lets the citizen choose; a phone appointment needs the number and says who
calls from where; an on-site one carries the location's address, directions, accessibility
and coordinates into the mails and the calendar file; video stays as it was."""

from __future__ import annotations

import pytest
from icalendar import Calendar
from sqlalchemy import select

from visits.admin import places
from visits.booking import links
from visits.extensions import db
from visits.mail import compose
from visits.models import Appointment, Mode

from ..factories import HOUSING_BENEFIT
from .conftest import MONDAY, NOW, berlin_at, deliver, details, manage_path, page, slot, text_of

CALLS_FROM = "+49 221 221-0"


@pytest.fixture
def calls_from(app_config):
    app_config["PHONE_CALLS_FROM"] = CALLS_FROM


@pytest.fixture
def town_hall(app):
    """The default location, with its address, directions, accessibility and coordinates."""
    location = places.default_location()
    location.name_de, location.name_en = "Bürgerbüro Mitte", "Citizens' office centre"
    location.street, location.postcode, location.city = "Markt 1", "40213", "Düsseldorf"
    location.directions_de = "Straßenbahn 706 bis Rathaus, Eingang B"
    location.directions_en = "Tram 706 to Rathaus, entrance B"
    location.step_free, location.latitude, location.longitude = True, 51.2254, 6.7763
    db.session.commit()
    return location


def only_appointment() -> Appointment:
    db.session.expire_all()
    (appointment,) = db.session.scalars(select(Appointment)).all()
    return appointment


def calendar_event(message):
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    (event,) = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    return event


def book_and_confirm(client, smtp_server, slug: str, **fields):
    """Send the details form, follow the mail's link, confirm; the confirmation mail."""
    sent = client.post(f"/dienstleistungen/{slug}/buchen", data=details(**fields))
    assert sent.status_code == 303, page(sent)
    (request_mail,) = deliver(smtp_server, 1)
    link = manage_path(request_mail)
    assert client.post(f"{link}/bestaetigen").status_code == 303
    return link, deliver(smtp_server, 2)[1]


def test_a_phone_appointment_needs_the_number_and_says_the_clerk_calls_from_which_number(
    calls_from, client, traveller, smtp_server, factories
):
    service = factories.service(**HOUSING_BENEFIT, modes=[Mode.ON_SITE, Mode.PHONE])
    factories.clerk([service])

    form = page(client.get("/dienstleistungen/wohngeld/buchen", query_string={"start": slot(MONDAY, 8)}))
    assert "<legend>Wie möchten Sie den Termin wahrnehmen?</legend>" in form
    assert 'value="on_site"' in form and 'value="phone"' in form and 'value="video"' not in form

    # By phone without a number: refused at the phone field, with what was typed kept.
    refused = client.post("/dienstleistungen/wohngeld/buchen", data=details(mode="phone", name="Erika Muster"))
    assert refused.status_code == 422
    html = page(refused)
    assert 'id="phone-error"' in html and "unter der wir Sie anrufen sollen" in html
    assert 'value="Erika Muster"' in html and db.session.scalar(select(Appointment)) is None

    link, confirmation = book_and_confirm(client, smtp_server, "wohngeld", mode="phone", phone="0221 123456")
    appointment = only_appointment()
    assert (appointment.mode, appointment.room, appointment.dial_in_pin_hash) == (Mode.PHONE, None, None)
    said = "ruft Sie zur Terminzeit unter 0221 123456 an. Der Anruf kommt von der Nummer +49 221 221-0."
    assert said in text_of(confirmation)
    assert "/video/" not in text_of(confirmation)
    event = calendar_event(confirmation)
    assert said in str(event["DESCRIPTION"]) and "LOCATION" not in event and "URL" not in event
    shown = page(client.get(link))
    assert "Telefonisch" in shown and said in shown
    # the reminder says it too, and a move keeps the mode
    assert said in text_of(compose.compose("reminder", appointment, now=NOW))
    moved = client.post(f"{link}/verschieben", data={"start": slot(MONDAY, 10)})
    assert moved.status_code == 303
    appointment = only_appointment()
    assert appointment.start_at == berlin_at(MONDAY, 10) and (appointment.mode, appointment.room) == (Mode.PHONE, None)


def test_without_phone_calls_from_the_call_comes_from_the_city_administration(
    client, traveller, smtp_server, factories
):
    service = factories.service(**HOUSING_BENEFIT, modes=[Mode.PHONE])
    factories.clerk([service])
    form = page(client.get("/dienstleistungen/wohngeld/buchen", query_string={"start": slot(MONDAY, 8)}))
    assert 'type="radio"' not in form  # one mode: nothing to choose (it is sent as it is)

    _link, confirmation = book_and_confirm(
        client, smtp_server, "wohngeld", phone="0221 123456", language="en"
    )
    said = "Your clerk will call you at the appointment time on 0221 123456. The call comes from the city administration."
    assert said in text_of(confirmation)
    assert said in str(calendar_event(confirmation)["DESCRIPTION"])


def test_an_on_site_appointment_carries_address_directions_and_accessibility_into_mail_and_calendar(
    client, traveller, smtp_server, factories, town_hall
):
    service = factories.service(**HOUSING_BENEFIT, modes=[Mode.ON_SITE])
    factories.clerk([service])
    form = page(client.get("/dienstleistungen/wohngeld/buchen", query_string={"start": slot(MONDAY, 8)}))
    assert 'type="radio"' not in form and "Vor Ort" in form

    link, confirmation = book_and_confirm(client, smtp_server, "wohngeld")
    appointment = only_appointment()
    assert (appointment.mode, appointment.room) == (Mode.ON_SITE, None)
    text = text_of(confirmation)
    assert "Bürgerbüro Mitte, Markt 1, 40213 Düsseldorf" in text
    assert "Straßenbahn 706 bis Rathaus, Eingang B" in text and "Stufenloser Zugang" in text
    event = calendar_event(confirmation)
    assert str(event["LOCATION"]) == "Bürgerbüro Mitte, Markt 1, 40213 Düsseldorf"
    assert (event["GEO"].latitude, event["GEO"].longitude) == (51.2254, 6.7763)
    assert "Eingang B" in str(event["DESCRIPTION"])
    shown = page(client.get(link))
    assert "Markt 1, 40213 Düsseldorf" in shown and "Stufenloser Zugang" in shown

    download = Calendar.from_ical(client.get(f"{link}/termin.ics").data)
    (event,) = download.walk("VEVENT")
    assert str(event["LOCATION"]) == "Bürgerbüro Mitte, Markt 1, 40213 Düsseldorf" and "GEO" in event


def test_a_video_appointment_chosen_among_modes_gets_its_room_and_join_page(
    client, traveller, smtp_server, factories, town_hall
):
    service = factories.service(**HOUSING_BENEFIT, modes=[Mode.ON_SITE, Mode.VIDEO])
    factories.clerk([service])
    _link, confirmation = book_and_confirm(client, smtp_server, "wohngeld", mode="video")
    appointment = only_appointment()
    assert appointment.mode == Mode.VIDEO and appointment.room and appointment.is_video
    assert "/video/" in text_of(confirmation) and "Markt 1" not in text_of(confirmation)
    event = calendar_event(confirmation)
    assert "Video" in str(event["LOCATION"]) and "GEO" not in event
    assert client.get(f"/video/{links.join_token(appointment)}").status_code == 200


def test_a_mode_the_service_does_not_offer_is_refused_at_the_choice(client, traveller, factories):
    service = factories.service(**HOUSING_BENEFIT, modes=[Mode.ON_SITE, Mode.PHONE])
    factories.clerk([service])
    for language, message in (
        ("de", "Diese Dienstleistung wird so nicht angeboten."),
        ("en", "This service is not offered that way."),
    ):
        refused = client.post(
            f"/dienstleistungen/wohngeld/buchen?lang={language}", data=details(mode="video", language=language)
        )
        assert refused.status_code == 422
        html = page(refused)
        assert message in html and 'id="mode-error"' in html and 'href="#mode"' in html
    assert db.session.scalar(select(Appointment)) is None


def test_several_modes_and_none_chosen_asks_for_a_choice(client, traveller, factories):
    service = factories.service(**HOUSING_BENEFIT, modes=[Mode.VIDEO, Mode.PHONE])
    factories.clerk([service])
    refused = client.post("/dienstleistungen/wohngeld/buchen", data=details())
    assert refused.status_code == 422
    assert "Wählen Sie, wie Sie den Termin wahrnehmen möchten." in page(refused)


def test_a_video_appointment_found_among_any_locations_slots_is_held_nowhere(
    client, traveller, smtp_server, factories, town_hall
):
    """The picker lists every location's times, earliest first, each naming its location;
    the citizen takes the annex's Monday time and chooses video: a video call with its room,
    no address anywhere."""
    from datetime import time, timedelta

    from visits.models import Location

    annex = Location(slug="nebenstelle-nord", name_de="Nebenstelle Nord", name_en="North office",
                     department_id=town_hall.department_id, street="Nordstraße 5")
    db.session.add(annex)
    db.session.commit()
    service = factories.service(**HOUSING_BENEFIT, modes=[Mode.ON_SITE, Mode.VIDEO])
    factories.clerk([service], hours=[(1, time(8), time(12))], location_id=town_hall.id)  # Tuesdays in town
    factories.clerk([service], hours=[(0, time(8), time(12))], location_id=annex.id)  # Mondays north

    listing = page(client.get("/dienstleistungen/wohngeld", query_string={"week": MONDAY.isoformat()}))
    assert "Alle Standorte (früheste zuerst)" in listing
    chosen = f"{slot(MONDAY, 8)}@nebenstelle-nord"
    in_town = f"{slot(MONDAY + timedelta(days=1), 8)}@buergerservice"
    assert listing.index(chosen) < listing.index(in_town)  # both locations, by time

    _link, confirmation = book_and_confirm(client, smtp_server, "wohngeld", start=chosen, mode="video")
    appointment = only_appointment()
    assert (appointment.mode, appointment.location_id) == (Mode.VIDEO, None) and appointment.room
    assert appointment.start_at == berlin_at(MONDAY, 8)
    text = text_of(confirmation)
    assert "/video/" in text and "Nordstraße" not in text and "Markt 1" not in text
    assert "GEO" not in calendar_event(confirmation)
