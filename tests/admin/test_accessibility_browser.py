"""The administration pages in a real browser (Debian's chromium): no axe violations of
WCAG 2.1 AA, in German and English, including a form showing its errors."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from visits import clock
from visits.extensions import db

from .test_operations import _failed_mail, _pause

pytestmark = pytest.mark.browser

BASE = "https://visits.test"
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
        route.fulfill(status=response.status_code, headers=dict(response.headers), body=response.get_data())

    page.route("**/*", answer)
    page.goto(BASE + path)
    return page


def violations(page) -> list[str]:
    results = Axe().run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]})
    return [f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']]}" for v in results.response["violations"]]


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
            if problems := violations(page):
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
    assert violations(page) == []
    page.context.close()
