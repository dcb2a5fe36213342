"""The site as an official one: imprint, privacy notice, accessibility statement and contact
name the city configured, every page links them, titles carry the city's name, and the
mails are signed by the city with its contact."""

from __future__ import annotations

import re

import pytest

from config import InvalidAccessibilitySetting
from visits import create_app
from visits.booking import operations as booking
from visits.mail import compose as mail

from ..staff.conftest import login
from .conftest import MONDAY, NOW, berlin_at, page

CITY = {
    "CITY_NAME": "Stadt Beispielstadt",
    "CITY_ADDRESS": "Marktplatz 7, 54321 Beispielstadt",
    "CITY_CONTACT_EMAIL": "rathaus@beispielstadt.example",
    "CITY_CONTACT_PHONE": "+49 987 654-0",
    "CITY_HOTLINE": "115",
    "IMPRINT_TEXT_DE": "Vertreten durch den Bürgermeister Max Muster.",
    "IMPRINT_TEXT_EN": "Represented by the mayor, Max Muster.",
    "DATA_PROTECTION_OFFICER": "Dr. Daniela Schutz",
    "DATA_PROTECTION_OFFICER_CONTACT": "datenschutz@beispielstadt.example",
    "ACCESSIBILITY_STATUS": "partial",
    "ACCESSIBILITY_STATEMENT_DATE": "2026-11-30",
    "ACCESSIBILITY_KNOWN_ISSUES_DE": "Die Terminübersicht als PDF ist nicht barrierefrei.",
    "ACCESSIBILITY_KNOWN_ISSUES_EN": "The appointment overview as PDF is not accessible.",
    "ACCESSIBILITY_CONTACT": "barrierefrei@beispielstadt.example",
}

FOOTER = ('href="/impressum"', 'href="/datenschutz"', 'href="/barrierefreiheit"', 'href="/kontakt"')


@pytest.fixture
def city(app_config):
    app_config.update(CITY)


def footer_of(html: str) -> str:
    return re.search(r'<footer class="site-footer">.*?</footer>', html, re.S).group(0)


def title_of(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


@pytest.mark.parametrize(
    ("lang", "heading", "text"),
    [("de", "Impressum", CITY["IMPRINT_TEXT_DE"]), ("en", "Imprint", CITY["IMPRINT_TEXT_EN"])],
)
def test_the_imprint_names_the_city_its_address_and_contact(city, client, lang, heading, text):
    html = page(client.get(f"/impressum?lang={lang}"))
    assert f"<h1>{heading}</h1>" in html and text in html
    for value in (
        "Stadt Beispielstadt",
        "Marktplatz 7, 54321 Beispielstadt",
        "rathaus@beispielstadt.example",
    ):
        assert value in html
    assert 'href="tel:+49987654-0"' in html and 'href="tel:115"' in html
    assert title_of(html) == f"{heading} – Stadt Beispielstadt"


def test_the_citys_own_imprint_page_is_linked_instead_of_ours(city, client, reconfigure):
    reconfigure(IMPRINT_URL="https://www.beispielstadt.example/impressum")
    answer = client.get("/impressum")
    assert answer.status_code == 302 and answer.location == "https://www.beispielstadt.example/impressum"
    assert 'href="https://www.beispielstadt.example/impressum"' in footer_of(page(client.get("/")))


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "de",
            [
                "Erklärung zur Barrierefreiheit",
                "teilweise mit den Richtlinien für barrierefreie Webinhalte",
                "Die Terminübersicht als PDF ist nicht barrierefrei.",
                "Diese Erklärung wurde am 30. November 2026 erstellt.",
                "Durchsetzungsverfahren",
                "an die Ombudsstelle für barrierefreie Informationstechnik des Landes Nordrhein-Westfalen wenden",
            ],
        ),
        (
            "en",
            [
                "Accessibility statement",
                "partially compliant with the Web Content Accessibility Guidelines",
                "The appointment overview as PDF is not accessible.",
                "This statement was prepared on November 30, 2026.",
                "Enforcement procedure",
                "turn to the Ombudsstelle für barrierefreie Informationstechnik des Landes Nordrhein-Westfalen",
            ],
        ),
    ],
)
def test_the_accessibility_statement_has_status_feedback_and_enforcement_body(city, client, lang, expected):
    html = page(client.get(f"/barrierefreiheit?lang={lang}"))
    for text in expected:
        assert text in html
    assert 'href="mailto:barrierefrei@beispielstadt.example"' in html
    assert 'href="https://www.lbbp.nrw.de/ombudsstelle"' in html
    assert 'href="mailto:ombudsstelle-barrierefreie-it@mags.nrw.de"' in html


def test_a_fully_compliant_statement_lists_no_gaps_and_feedback_goes_to_the_city(city, client, reconfigure):
    reconfigure(ACCESSIBILITY_STATUS="full", ACCESSIBILITY_CONTACT="")
    html = page(client.get("/barrierefreiheit?lang=de"))
    assert "vollständig mit den Richtlinien" in html and "Nicht barrierefreie Inhalte" not in html
    assert 'href="mailto:rathaus@beispielstadt.example"' in html


def test_a_wrong_accessibility_status_stops_the_start(app_config):
    app_config.update(ACCESSIBILITY_STATUS="mostly")
    with pytest.raises(InvalidAccessibilitySetting):
        create_app(app_config)


@pytest.mark.parametrize(("lang", "heading"), [("de", "Kontakt"), ("en", "Contact")])
def test_the_contact_page_names_the_hotline_and_the_citys_contact(city, client, lang, heading):
    html = page(client.get(f"/kontakt?lang={lang}"))
    assert f"<h1>{heading}</h1>" in html
    for value in (
        "115",
        "+49 987 654-0",
        "rathaus@beispielstadt.example",
        "Marktplatz 7, 54321 Beispielstadt",
    ):
        assert value in html


@pytest.mark.parametrize(
    ("lang", "controller", "officer"),
    [
        ("de", "Verantwortlich für die Verarbeitung Ihrer Angaben", "Datenschutzbeauftragten erreichen Sie"),
        ("en", "Responsible for processing your details", "reach the data protection officer"),
    ],
)
def test_the_privacy_notice_names_the_controller_and_the_data_protection_officer(
    city, client, lang, controller, officer
):
    html = page(client.get(f"/datenschutz?lang={lang}"))
    assert controller in html and officer in html
    assert "Stadt Beispielstadt" in html and "Marktplatz 7, 54321 Beispielstadt" in html
    assert "Dr. Daniela Schutz" in html and "datenschutz@beispielstadt.example" in html


def test_the_privacy_notice_says_so_when_calls_run_on_a_public_jitsi(city, client, reconfigure):
    reconfigure(JITSI_DOMAIN="https://meet.jit.si/")
    html = page(client.get("/datenschutz?lang=de"))
    assert "über meet.jit.si, einen öffentlichen Jitsi-Dienst des Unternehmens 8x8" in html
    assert "nicht über einen Server der Stadtverwaltung" in html
    assert "für die Stadtverwaltung betrieben" not in html


def test_the_privacy_notice_names_the_citys_own_video_server(city, client, reconfigure):
    reconfigure(JITSI_DOMAIN="video.beispielstadt.example")
    html = page(client.get("/datenschutz?lang=en"))
    assert (
        "runs on the video server video.beispielstadt.example, operated for the city administration" in html
    )
    assert "public Jitsi service" not in html


def test_a_booking_page_links_imprint_privacy_accessibility_and_contact(city, client, traveller, service):
    html = page(client.get(f"/dienstleistungen/wohngeld?week={MONDAY.isoformat()}&lang=de"))
    footer = footer_of(html)
    for link in FOOTER:
        assert link in footer
    assert "Stadt Beispielstadt" in footer and 'href="tel:115"' in footer
    assert title_of(html).endswith(" – Stadt Beispielstadt") and "Visits" not in title_of(html)


def test_a_staff_page_links_them_too_and_carries_the_citys_name(city, client, factories, service):
    clerk = factories.clerk([service], name="Anna Schmidt")
    assert login(client, clerk.email).status_code == 302
    html = page(client.get("/staff/?lang=de"))
    for link in FOOTER:
        assert link in footer_of(html)
    assert title_of(html).endswith(" – Stadt Beispielstadt")


def test_the_header_names_the_city_with_its_logo(city, client, reconfigure):
    reconfigure(CITY_LOGO_URL="/static/wappen.svg")
    html = page(client.get("/?lang=de"))
    header = re.search(r'<header class="site-header">.*?</header>', html, re.S).group(0)
    assert '<img src="/static/wappen.svg" alt="" height="32"> Stadt Beispielstadt: Online-Termine' in header


def test_the_favicon_is_linked_and_answers_at_favicon_ico(client):
    assert 'rel="icon" href="/static/favicon.svg"' in page(client.get("/"))
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer.location.endswith("/static/favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


@pytest.mark.parametrize(
    ("language", "question"),
    [("de", "Fragen? Rufen Sie 115 oder +49 987 654-0 an, oder schreiben Sie an rathaus@beispielstadt.example."),
     ("en", "Questions? Call 115 or +49 987 654-0, or write to rathaus@beispielstadt.example.")],
)  # fmt: skip
def test_the_mails_are_signed_by_the_city_with_its_contact(city, app, service, factories, language, question):
    held = booking.hold(service, berlin_at(MONDAY, 8), factories.citizen(language=language), now=NOW)
    message = mail.compose("confirmation", booking.confirm(held.appointment, now=NOW), now=NOW)
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_content()
    assert "Stadt Beispielstadt, Marktplatz 7, 54321 Beispielstadt" in text and question in text
    assert "Stadt Beispielstadt, Marktplatz 7, 54321 Beispielstadt" in html and question in html
