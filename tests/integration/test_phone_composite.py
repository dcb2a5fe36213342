"""A caller books for the family by phone: registration for one and ID cards for two, on
site, as one appointment. The clerk fills in the phone-booking page as a browser sends it
(CSRF token included, no JavaScript); the appointment then shows every service with its
persons and the location in the agenda, on its page and in the clerk's calendar feed. Too
many persons are refused at their field, and nothing is booked."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from visits.admin import places
from visits.extensions import db
from visits.models import Appointment, Location, Mode, Status

from ..days import berlin
from ..factories import ANMELDUNG, PERSONALAUSWEIS, STAFF_PASSWORD
from ..hostile.forms import Form, forms_of

FAMILY = "Anmeldung, Personalausweis (2 Personen)"


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def client(factories):
    """A browser of its own: each request with a fresh CSRF token and user (factories.staff_client)."""
    return factories.staff_client()


@pytest.fixture
def monday(factories) -> date:
    return factories.working_monday()


@pytest.fixture
def town_hall(app) -> Location:
    department_id = places.default_location().department_id
    location = Location(
        slug="buergerbuero-mitte",
        name_de="Bürgerbüro Mitte",
        name_en="Citizens' office centre",
        street="Markt 1",
        postcode="40213",
        city="Düsseldorf",
        department_id=department_id,
    )
    db.session.add(location)
    db.session.commit()
    return location


@pytest.fixture
def family_desk(factories, town_hall):
    """Registration (on site, video, phone) and ID cards (on site, video; up to 4 persons)
    combine; one clerk offers both at the town hall, Monday to Friday 08:00-12:00."""
    anmeldung = factories.service(
        **ANMELDUNG, modes=[Mode.ON_SITE, Mode.VIDEO, Mode.PHONE], location_id=town_hall.id
    )
    ausweis = factories.service(**PERSONALAUSWEIS, modes=[Mode.ON_SITE, Mode.VIDEO], location_id=town_hall.id)
    clerk = factories.clerk([anmeldung, ausweis], name="Anna Schmidt", location_id=town_hall.id)
    return anmeldung, ausweis, clerk


def form_with(page: str, url: str, field: str) -> Form:
    """The form of the page that has ``field``."""
    found = next((form for form in forms_of(page, url) if field in form.fields), None)
    assert found is not None, f"no form with {field} on {url}"
    return found


def send(client, form: Form, **fields):
    """The form as a browser sends it, with ``fields`` typed or chosen."""
    data = {**form.fields, **fields}
    if form.method == "GET":
        return client.get(f"{urlsplit(form.action).path}?{urlencode(data)}")
    return client.post(form.action, data=data)


def log_in(client, email: str) -> None:
    login = form_with(client.get("/staff/login").text, "/staff/login", "password")
    assert send(client, login, email=email, password=STAFF_PASSWORD).status_code == 302


def family_times(client, anmeldung, monday: date, **persons) -> str:
    """The phone-booking page after choosing registration, this week, and the persons."""
    url = f"/staff/phone-booking?service={anmeldung.id}&week={monday.isoformat()}"
    choice = form_with(client.get(url).text, url, "persons-personalausweis")
    page = send(client, choice, service=str(anmeldung.id), week=monday.isoformat(), **persons)
    assert page.status_code == 200
    return page.text


def test_a_clerk_books_the_family_on_site_for_a_caller_and_sees_it_everywhere(
    csrf_on, client, family_desk, town_hall, monday
):
    anmeldung, ausweis, clerk = family_desk
    log_in(client, clerk.email)
    page = family_times(client, anmeldung, monday, **{"persons-personalausweis": "2"})
    assert f"{FAMILY}:" in page
    eight_ten = f"{berlin(monday, 8, 10).isoformat()}@{town_hall.id}"
    assert f'value="{eight_ten}"' in page and "Bürgerbüro Mitte" in page
    # 08:40 leaves one ID card's time before 09:30, not the family's 55 minutes and buffers.
    assert f'value="{berlin(monday, 8, 40).isoformat()}@{town_hall.id}"' not in page
    assert 'value="on_site"' in page and 'value="video"' in page
    assert 'value="phone"' not in page  # the ID card is not done by phone

    booking_form = form_with(page, "/staff/phone-booking", "start")
    assert booking_form.method == "POST" and booking_form.fields["csrf_token"]
    booked = send(
        client, booking_form, start=eight_ten, mode="on_site", name="Karl Anrufer", phone="0221 123456"
    )

    assert booked.status_code == 302, booked.text
    (appointment,) = db.session.scalars(select(Appointment)).all()
    assert [(item.service.slug, item.persons) for item in appointment.items] == [
        ("anmeldung", 1),
        ("personalausweis", 2),
    ]
    assert (appointment.status, appointment.mode, appointment.location_id) == (
        Status.CONFIRMED,
        Mode.ON_SITE,
        town_hall.id,
    )
    assert appointment.start_at == berlin(monday, 8, 10) and appointment.end_at == berlin(monday, 9, 5)
    assert f"Gebucht: {FAMILY} am" in client.get(booked.headers["Location"]).text

    agenda = client.get(f"/staff/?view=day&date={monday.isoformat()}").text
    assert FAMILY in agenda and f"Vor Ort: Bürgerbüro Mitte · {appointment.reference}" in agenda
    shown = client.get(f"/staff/appointments/{appointment.id}").text
    assert (
        FAMILY in shown and "<dt>Standort</dt><dd>Bürgerbüro Mitte, Markt 1, 40213 Düsseldorf</dd>" in shown
    )

    renew = next(
        f for f in forms_of(client.get("/staff/calendar").text, "/staff/calendar") if "feed" in f.action
    )
    feed_url = re.search(r'value="https://visits\.test(/feed/[A-Za-z0-9_-]+\.ics)"', send(client, renew).text)
    (event,) = Calendar.from_ical(client.get(feed_url.group(1)).data).walk("VEVENT")
    assert str(event["SUMMARY"]) == f"{FAMILY} (vor Ort, {appointment.reference})"
    assert str(event["DESCRIPTION"]) == "Anmeldung\nPersonalausweis (2 Personen)"
    assert str(event["LOCATION"]) == "Bürgerbüro Mitte, Markt 1, 40213 Düsseldorf"


def test_too_many_persons_are_refused_at_their_field_and_nothing_is_booked(
    csrf_on, client, family_desk, monday
):
    anmeldung, _ausweis, clerk = family_desk
    log_in(client, clerk.email)
    asked = family_times(client, anmeldung, monday, **{"persons-personalausweis": "5"})  # at most 4
    assert 'id="persons-personalausweis-error"' in asked and 'aria-invalid="true"' in asked
    assert 'href="#persons-personalausweis"' in asked and 'value="5"' in asked
    assert 'name="start"' not in asked  # no times to book for what cannot be one appointment

    # The booking form of two ID cards, sent as if five had been asked for.
    booking_form = form_with(
        family_times(client, anmeldung, monday, **{"persons-personalausweis": "2"}),
        "/staff/phone-booking",
        "start",
    )
    action = urlsplit(booking_form.action)
    query = {**parse_qs(action.query), "persons-personalausweis": ["5"]}
    booking_form.action = f"{action.path}?{urlencode(query, doseq=True)}"
    refused = send(client, booking_form, name="Karl Anrufer", phone="0221 123456")

    assert refused.status_code == 400
    error = re.search(r'id="persons-personalausweis-error">(.*?)</span>\s*<input', refused.text, re.S)
    assert error and "Bitte verringern Sie die Zahl." in error.group(1)
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0
