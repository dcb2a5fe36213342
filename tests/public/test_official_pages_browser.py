"""The imprint, privacy notice, accessibility statement and contact page in a real browser
(Debian's chromium): no WCAG 2.1 AA violations (axe), and the footer reached by keyboard."""

from __future__ import annotations

import pytest

from ..browser.support import axe_violations, open_page
from .test_official_pages import CITY

pytestmark = pytest.mark.browser


@pytest.fixture
def city(app_config):
    app_config.update(CITY, CITY_LOGO_URL="/static/favicon.svg")


def test_the_official_pages_have_no_accessibility_violations(browser, city, client):
    for path in ("/impressum", "/datenschutz", "/barrierefreiheit", "/kontakt"):
        for lang in ("de", "en"):
            page = open_page(browser, client, f"{path}?lang={lang}")
            assert page.first_status == 200, path
            assert axe_violations(page) == [], (path, lang)
            page.context.close()


def test_the_accessibility_statement_is_reached_from_the_footer_by_keyboard(browser, city, client):
    page = open_page(browser, client, "/?lang=de")
    link = page.get_by_role("navigation", name="Über diese Website").get_by_role(
        "link", name="Erklärung zur Barrierefreiheit"
    )
    link.focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Erklärung zur Barrierefreiheit", level=1).wait_for()
    assert page.title() == "Erklärung zur Barrierefreiheit – Stadt Beispielstadt"
    assert axe_violations(page) == []
    page.context.close()
