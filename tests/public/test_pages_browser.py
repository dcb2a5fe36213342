"""The citizen's pages in a real browser (Debian's chromium): no WCAG 2.1 AA violations
(axe), and the booking can be done with the keyboard alone."""

from __future__ import annotations

import pytest

from visits.booking import links
from visits.booking import operations as booking
from visits.extensions import db
from visits.models import Appointment

from ..browser.support import axe_violations, open_page
from .conftest import MONDAY, NOW, berlin_at, details

pytestmark = pytest.mark.browser


def assert_axe_clean(browser, client, paths) -> None:
    """Each page opens (200) and axe finds no WCAG 2.1 A/AA violation on it."""
    for path in paths:
        page = open_page(browser, client, path)
        assert page.first_status == 200, path
        assert axe_violations(page) == [], path
        page.context.close()


def test_the_booking_pages_have_no_accessibility_violations(browser, client, traveller, service, factories):
    held = booking.hold(service, berlin_at(MONDAY, 11), factories.citizen(), now=NOW).appointment
    manage = f"/termin/{links.derive_token('manage', held.uid)}"
    paths = [
        "/?lang=de",
        "/?q=wohn&lang=en",
        f"/dienstleistungen/wohngeld?week={MONDAY.isoformat()}&lang=de",
        f"/dienstleistungen/wohngeld/buchen?start={details()['start']}&lang=de",
        "/buchen/postfach?lang=de",
        "/datenschutz?lang=en",
        manage + "?lang=de",
        manage + "/verschieben?lang=en",
    ]
    assert_axe_clean(browser, client, paths)


def test_a_form_with_errors_has_no_accessibility_violations(browser, client, traveller, service):
    page = open_page(browser, client, f"/dienstleistungen/wohngeld/buchen?start={details()['start']}&lang=de")
    page.get_by_role("button", name="Diese Uhrzeit reservieren").click()
    page.get_by_role("alert").filter(has_text="Es gibt ein Problem").wait_for()
    assert axe_violations(page) == []
    page.context.close()


def test_a_slot_can_be_chosen_and_booked_with_the_keyboard_alone(browser, client, traveller, service):
    page = open_page(browser, client, f"/dienstleistungen/wohngeld?week={MONDAY.isoformat()}&lang=de")
    first = page.get_by_role("radio").first
    first.focus()
    page.keyboard.press("ArrowRight")  # the next time in the same day
    page.keyboard.press("Space")
    assert page.locator("input[type=radio]:checked").count() == 1
    assert page.get_by_role("radio", name=f"Montag, {MONDAY.day}.", exact=False).nth(1).is_checked()
    page.get_by_role("button", name="Weiter mit der gewählten Uhrzeit").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Ihre Angaben").wait_for()
    page.get_by_label("Vor- und Nachname").fill("Erika Mustermann")
    page.get_by_label("E-Mail-Adresse").fill("erika@example.org")
    page.get_by_label("Ich bin einverstanden", exact=False).focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Diese Uhrzeit reservieren").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Bitte sehen Sie in Ihr E-Mail-Postfach").wait_for()
    page.context.close()
    db.session.expire_all()
    (appointment,) = db.session.query(Appointment).all()
    assert appointment.start_at == berlin_at(MONDAY, 8, 30)


def test_a_video_appointment_with_a_guest_and_documents_has_no_accessibility_violations(
    browser, client, traveller, service, factories
):
    """The manage page with the guest section and the documents section filled, the guest's
    join page, and both sections' refusals, in German and English."""
    from visits.booking import documents, guests

    from ..documents import pdf

    held = booking.hold(service, berlin_at(MONDAY, 11), factories.citizen(), now=NOW).appointment
    appointment = booking.confirm(held, now=NOW)
    assert appointment.is_video
    guest = guests.invite(appointment, name="Ingrid Interpretin", email="ingrid@example.org", role="sign_language", now=NOW)
    documents.hand_in(appointment, filename="Mietvertrag.pdf", data=pdf(), now=NOW)
    db.session.commit()
    manage = f"/termin/{links.derive_token('manage', appointment.uid)}"
    paths = [manage + "?lang=de", manage + "?lang=en", f"/video/{guests.guest_token(appointment.uid, guest.id)}?lang=de"]
    assert_axe_clean(browser, client, paths)
    # A program renamed .pdf: refused at the file field, and the page stays accessible.
    page = open_page(browser, client, manage + "?lang=de")
    page.set_input_files("#document", files=[{"name": "Mietvertrag.pdf", "mimeType": "application/pdf",
                                              "buffer": b"MZ\x90\x00" + bytes(200)}])  # fmt: skip
    page.get_by_role("button", name="Dokument einreichen").click()
    page.get_by_role("alert").filter(has_text="keine PDF-, JPEG- oder PNG-Datei").wait_for()
    assert page.get_by_label("Datei", exact=True).get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []
    page.context.close()


def test_the_mode_choice_and_phone_and_on_site_pages_have_no_accessibility_violations(
    browser, client, traveller, factories
):
    """The details form with the choice of modes (and its refusal: phone without a number),
    the manage pages of a phone and of an on-site appointment, in German and English."""
    from visits.admin import places
    from visits.models import Mode

    location = places.default_location()
    location.street, location.postcode, location.city = "Markt 1", "40213", "Düsseldorf"
    location.directions_de, location.directions_en = "Eingang B", "Entrance B"
    location.step_free, location.hearing_loop = True, True
    service = factories.service(slug="wohngeld", modes=[Mode.ON_SITE, Mode.VIDEO, Mode.PHONE])
    factories.clerk([service])
    by_phone = factories.citizen(phone="0221 123456")
    phone = booking.confirm(
        booking.hold(service, berlin_at(MONDAY, 10), by_phone, now=NOW, mode="phone").appointment, now=NOW
    )
    on_site = booking.hold(service, berlin_at(MONDAY, 11), factories.citizen(email="max@example.org"), now=NOW,
                           mode="on_site").appointment  # fmt: skip
    form = f"/dienstleistungen/wohngeld/buchen?start={details()['start']}"
    paths = [form + "&lang=de", form + "&lang=en"] + [
        f"/termin/{links.derive_token('manage', appointment.uid)}?lang={language}"
        for appointment in (phone, on_site)
        for language in ("de", "en")
    ]
    assert_axe_clean(browser, client, paths)
    page = open_page(browser, client, form + "&lang=en")
    page.get_by_label("By phone").check()
    page.get_by_label("Full name").fill("Erika Mustermann")
    page.get_by_label("Email address").fill("erika@example.org")
    page.get_by_label("I agree", exact=False).check()
    page.get_by_role("button", name="Reserve this time").click()
    page.get_by_role("alert").filter(has_text="Enter the phone number your clerk should call you on.").wait_for()
    assert axe_violations(page) == []
    page.context.close()


def test_the_location_filter_and_slots_at_two_locations_have_no_accessibility_violations(
    browser, client, traveller, factories
):
    from visits.admin import places
    from visits.models import Location

    town_hall = places.default_location()
    annex = Location(slug="nebenstelle-nord", name_de="Nebenstelle Nord", name_en="North office",
                     department_id=town_hall.department_id)
    db.session.add(annex)
    db.session.commit()
    ausweis = factories.service(slug="ausweis", video=False)
    factories.clerk([ausweis], location_id=town_hall.id)
    factories.clerk([ausweis], location_id=annex.id)
    for lang in ("de", "en"):
        page = open_page(browser, client, f"/dienstleistungen/ausweis?week={MONDAY.isoformat()}&lang={lang}")
        assert page.first_status == 200
        assert page.get_by_label({"de": "Standort", "en": "Location"}[lang], exact=True).count() == 1
        assert axe_violations(page) == [], lang
        page.context.close()
