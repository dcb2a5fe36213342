"""The citizen's pages in a real browser (Debian's chromium): no WCAG 2.1 AA violations
(axe), and the booking can be done with the keyboard alone."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from visits import booking
from visits.extensions import db
from visits.models import Appointment

from .conftest import MONDAY, NOW, berlin_at, details

pytestmark = pytest.mark.browser

BASE = "https://visits.test"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        yield chromium
        chromium.close()


def open_page(browser, client, path: str):
    """A browser tab whose requests are answered by the app (no server, no network)."""
    db.session.rollback()  # the browser's requests must not wait for this test's transaction
    context = browser.new_context()
    page = context.new_page()

    def answer(route, request):
        url = urlsplit(request.url)
        response = client.open(
            url.path + (f"?{url.query}" if url.query else ""),
            method=request.method,
            data=request.post_data_buffer,
            headers={"Content-Type": request.headers.get("content-type", "")},
        )
        headers = {k: v for k, v in response.headers.items() if k.lower() != "location"}
        if "Location" in response.headers:
            headers["Location"] = BASE + urlsplit(response.headers["Location"]).path + (
                "?" + urlsplit(response.headers["Location"]).query
                if urlsplit(response.headers["Location"]).query
                else ""
            )
        route.fulfill(status=response.status_code, headers=headers, body=response.get_data())

    page.route("**/*", answer)
    page.first_status = page.goto(BASE + path).status
    return page


def violations(page) -> list[str]:
    results = Axe().run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]})
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]]


def test_the_booking_pages_have_no_accessibility_violations(browser, client, traveller, service, factories):
    held = booking.hold(service, berlin_at(MONDAY, 11), factories.citizen(), now=NOW).appointment
    manage = f"/termin/{booking.manage_token(held)}"
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
    for path in paths:
        page = open_page(browser, client, path)
        assert page.first_status == 200, path
        assert violations(page) == [], path
        page.context.close()


def test_a_form_with_errors_has_no_accessibility_violations(browser, client, traveller, service):
    page = open_page(browser, client, f"/dienstleistungen/wohngeld/buchen?start={details()['start']}&lang=de")
    page.get_by_role("button", name="Diese Uhrzeit reservieren").click()
    page.get_by_role("alert").filter(has_text="Es gibt ein Problem").wait_for()
    assert violations(page) == []
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
