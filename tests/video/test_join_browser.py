"""The join page in a real browser (Debian's chromium): accessible (axe, WCAG 2.1 AA), and
the countdown runs under the page's CSP and says when the room has opened."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from ..browser.support import axe_violations, open_page
from .conftest import OPENS, START, join_path

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "when, lang",
    [(START - timedelta(minutes=30), "de"), (START, "de"), (START, "en"), (START + timedelta(hours=2), "de")],
    ids=["too early", "open", "open (en)", "ended"],
)
def test_join_page_has_no_accessibility_violations(browser, client, appointment, when, lang):
    with time_machine.travel(when, tick=False):
        page = open_page(browser, client, f"{join_path(appointment)}?lang={lang}", bypass_csp=True)
        assert axe_violations(page) == []
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


@pytest.mark.parametrize("when", [START - timedelta(minutes=30), START], ids=["too early", "open"])
def test_join_page_with_dial_in_numbers_has_no_accessibility_violations(browser, app_config, request, when):
    app_config["DIAL_IN_NUMBERS"] = "DE:+49 221 123456,DE:+49 221 654321"
    client, appointment = request.getfixturevalue("client"), request.getfixturevalue("appointment")
    with time_machine.travel(when, tick=False):
        page = open_page(browser, client, f"{join_path(appointment)}?lang=de", bypass_csp=True)
        assert page.get_by_role("heading", name="Per Telefon teilnehmen").is_visible()
        assert "Konferenz-PIN" in page.locator("section[aria-labelledby=phone-heading]").inner_text()
        assert axe_violations(page) == []
        page.context.close()
