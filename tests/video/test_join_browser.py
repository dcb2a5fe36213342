"""The join page in a real browser (Debian's chromium): accessible (axe, WCAG 2.1 AA), and
the countdown runs under the page's CSP and says when the room has opened."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe

from visits.extensions import db

from .conftest import OPENS, START, join_path

pytestmark = pytest.mark.browser

BASE = "https://visits.test"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        yield chromium
        chromium.close()


def open_page(browser, client, path: str, *, bypass_csp: bool = False):
    """A browser tab whose requests are answered by the app (no server, no network)."""
    # The browser's requests run in Playwright's greenlet with a session of their own; end
    # this test's transaction so they are not waiting for SQLite's write lock.
    db.session.rollback()
    context = browser.new_context(bypass_csp=bypass_csp)
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
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]]


@pytest.mark.parametrize(
    "when, lang",
    [(START - timedelta(minutes=30), "de"), (START, "de"), (START, "en"), (START + timedelta(hours=2), "de")],
    ids=["too early", "open", "open (en)", "ended"],
)
def test_join_page_has_no_accessibility_violations(browser, client, appointment, when, lang):
    with time_machine.travel(when, tick=False):
        page = open_page(browser, client, f"{join_path(appointment)}?lang={lang}", bypass_csp=True)
        assert violations(page) == []
        page.context.close()


def test_countdown_ticks_and_announces_the_open_room(browser, client, appointment):
    with time_machine.travel(OPENS - timedelta(seconds=2), tick=True):
        page = open_page(browser, client, join_path(appointment))
        timer = page.locator("[role=timer]")
        assert timer.inner_text() in ("0:00:02", "0:00:01")
        done = page.locator("#countdown-done")
        done.filter(has_text="jetzt geöffnet").wait_for(timeout=8000)
        assert timer.inner_text() == "0:00:00"
        page.reload()
        assert page.get_by_role("button", name="Am Videoanruf teilnehmen").is_visible()
        page.context.close()
