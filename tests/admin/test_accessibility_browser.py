"""The administration pages in a real browser (Debian's chromium): no axe violations of
WCAG 2.1 AA, in German and English, including a form showing its errors."""

from __future__ import annotations

import pytest

from visits.core import clock

from ..browser.support import axe_violations, open_page
from .test_operations import _failed_mail, _pause

pytestmark = pytest.mark.browser

PAGES = [
    "/admin/",
    "/admin/services",
    "/admin/services/new",
    "/admin/staff",
    "/admin/staff/new",
    "/admin/api-keys",
    "/admin/mails",
    "/admin/pauses",
    "/admin/video",
    "/admin/reports",
    "/admin/audit",
]


@pytest.fixture
def filled(factories, admin):
    service = factories.service(name_de="Wohngeld")
    factories.clerk([service], name="Carla Clerk")
    _failed_mail(clock.now())
    _pause()


def test_admin_pages_have_no_accessibility_violations(browser, admin_client, filled):
    found = {}
    for path in PAGES:
        for lang in ("de", "en"):
            page = open_page(browser, admin_client, f"{path}?lang={lang}")
            if problems := axe_violations(page):
                found[f"{path} ({lang})"] = problems
            page.context.close()
    assert found == {}


def test_form_with_errors_is_accessible_and_links_to_the_fields(browser, admin_client, filled):
    page = open_page(browser, admin_client, "/admin/services/new?lang=en")
    page.get_by_label("Address part (slug)").fill("Not Valid!")
    page.get_by_role("button", name="Save").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "lower-case letters" in summary.inner_text() and "Enter the German name." in summary.inner_text()
    summary.get_by_role("link", name="Enter the German name.").click()
    assert page.evaluate("document.activeElement.id") == "name_de"
    assert axe_violations(page) == []
    page.context.close()
