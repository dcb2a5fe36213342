"""A family's appointment (registration x1 + ID cards x2) on the citizen's pages: the
manage page names every service, and moving it offers only times with room for all of it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from visits.booking import links
from visits.booking import operations as booking
from visits.extensions import db
from visits.models import Appointment, Mode

from ..conftest import berlin
from ..factories import ANMELDUNG, PERSONALAUSWEIS
from .conftest import MONDAY, NOW, details, slot


def test_moving_a_family_appointment_offers_only_times_with_room_for_all_of_it(client, factories, traveller):
    anmeldung, ausweis = factories.service(**ANMELDUNG), factories.service(**PERSONALAUSWEIS)
    factories.clerk([anmeldung, ausweis])
    family = booking.book_confirmed(
        [(anmeldung, 1), (ausweis, 2)], berlin(MONDAY, 8, 10), factories.citizen(), now=NOW, via="api"
    ).appointment
    link = "/termin/" + links.derive_token("manage", family.uid)

    shown = client.get(link, headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Anmeldung, Personalausweis (2 Personen)" in shown
    picker = client.get(f"{link}/verschieben", query_string={"week": MONDAY.isoformat()}).get_data(as_text=True)
    assert f'value="{slot(MONDAY, 10, 30)}"' in picker
    assert f'value="{slot(MONDAY, 8, 40)}"' not in picker  # one ID card's time, too short for the family
    moved = client.post(f"{link}/verschieben", data={"start": slot(MONDAY, 10, 30), "week": MONDAY.isoformat()})
    assert moved.status_code == 303
    assert family.start_at == berlin(MONDAY, 10, 30)


@pytest.fixture
def family_office(factories):
    anmeldung, ausweis = factories.service(**ANMELDUNG), factories.service(**PERSONALAUSWEIS)
    factories.service(slug="wohngeld", combinable=False)  # never offered as an addition
    factories.clerk([anmeldung, ausweis])
    return anmeldung, ausweis


def test_a_family_adds_id_cards_to_the_registration_and_books_one_appointment_without_javascript(
    client, traveller, family_office
):
    page = client.get("/dienstleistungen/anmeldung", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Wer kommt, und wofür?" in page
    assert 'name="persons-personalausweis"' in page and 'name="persons-wohngeld"' not in page
    assert 'value="0"' in page  # ID cards not wanted until the family says so

    picker = client.get(
        "/dienstleistungen/anmeldung",
        query_string={"persons-anmeldung": "1", "persons-personalausweis": "2", "week": MONDAY.isoformat()},
    ).get_data(as_text=True)
    assert f'value="{slot(MONDAY, 8, 10)}"' in picker and f'value="{slot(MONDAY, 8, 40)}"' not in picker
    assert '<input type="hidden" name="persons-personalausweis" value="2">' in picker

    chosen = client.get("/dienstleistungen/anmeldung/buchen", query_string={
        "start": slot(MONDAY, 8, 10), "persons-personalausweis": "2",
    }).get_data(as_text=True)
    assert "Anmeldung, Personalausweis (2 Personen)" in chosen
    sent = client.post("/dienstleistungen/anmeldung/buchen", data=details(
        start=slot(MONDAY, 8, 10), **{"persons-personalausweis": "2"}
    ))
    assert sent.status_code == 303
    (appointment,) = db.session.scalars(select(Appointment)).all()
    assert [(item.service.slug, item.persons) for item in appointment.items] == [
        ("anmeldung", 1), ("personalausweis", 2)
    ]
    inbox = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Anmeldung, Personalausweis (2 Personen)" in inbox


def test_too_many_persons_are_refused_with_a_clear_message_in_english(client, traveller, family_office):
    page = client.get("/dienstleistungen/anmeldung", query_string={"lang": "en", "persons-personalausweis": "9"})
    html = page.get_data(as_text=True)
    assert "One appointment takes fewer persons for one of these services" in html
    assert 'role="alert"' in html
    # ... and the picker falls back to the registration alone
    assert '<input type="hidden" name="persons-personalausweis"' not in html


@pytest.mark.browser
def test_the_family_pages_have_no_accessibility_violations_in_german_and_english(
    browser, client, traveller, family_office
):
    from ..browser.support import axe_violations, open_page

    family = f"persons-anmeldung=1&persons-personalausweis=2&week={MONDAY.isoformat()}"
    for language in ("de", "en"):
        for path in (
            f"/dienstleistungen/anmeldung?{family}&lang={language}",
            f"/dienstleistungen/anmeldung?persons-personalausweis=9&lang={language}",
            f"/dienstleistungen/anmeldung/buchen?start={slot(MONDAY, 8, 10)}&persons-personalausweis=2&lang={language}",
        ):
            page = open_page(browser, client, path)
            assert page.first_status == 200, path
            assert axe_violations(page) == [], path
            page.context.close()


def test_a_family_is_offered_only_the_modes_all_its_services_share(client, traveller, factories):
    # Registration by video or on site; an ID card only on site (fingerprints): together, on site.
    anmeldung = factories.service(**ANMELDUNG, modes=[Mode.ON_SITE, Mode.VIDEO])
    ausweis = factories.service(**PERSONALAUSWEIS, modes=[Mode.ON_SITE])
    factories.clerk([anmeldung, ausweis])
    alone = client.get("/dienstleistungen/anmeldung/buchen", query_string={"start": slot(MONDAY, 8)})
    assert 'value="video"' in alone.get_data(as_text=True)
    family = {"start": slot(MONDAY, 8, 10), "persons-personalausweis": "2"}
    page = client.get("/dienstleistungen/anmeldung/buchen", query_string=family).get_data(as_text=True)
    assert 'value="video"' not in page and '<input type="hidden" name="mode" value="on_site">' in page
    sent = client.post("/dienstleistungen/anmeldung/buchen", data=details(**family, mode="on_site"))
    assert sent.status_code == 303
    (appointment,) = db.session.scalars(select(Appointment)).all()
    assert appointment.mode == Mode.ON_SITE and len(appointment.items) == 2


def test_a_service_with_no_way_to_meet_in_common_is_not_offered_as_an_addition(client, traveller, factories):
    factories.service(**ANMELDUNG, modes=[Mode.ON_SITE])
    factories.service(**PERSONALAUSWEIS, modes=[Mode.ON_SITE])
    factories.service(slug="beratung", name_de="Beratung", combinable=True, modes=[Mode.VIDEO])
    page = client.get("/dienstleistungen/anmeldung").get_data(as_text=True)
    assert 'name="persons-personalausweis"' in page and 'name="persons-beratung"' not in page
    refused = client.get("/dienstleistungen/beratung", query_string={"persons-anmeldung": "1"})
    assert 'name="persons-anmeldung"' not in refused.get_data(as_text=True)
