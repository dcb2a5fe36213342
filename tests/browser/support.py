"""Helpers shared by every test that drives Debian's chromium: launching it, opening a tab
whose requests the app answers in-process, and axe (WCAG 2.1 A/AA) with a tally of the pages
checked (printed at the end of the run by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"  # Debian's, never a downloaded one
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BASE = "https://visits.test"  # the address of in-process tabs (see ``open_page``)


@contextmanager
def chromium() -> Iterator:
    """Debian's chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# -- axe bookkeeping ---------------------------------------------------------------------

@dataclass
class AxeTally:
    pages: int = 0
    violations: int = 0


TALLY = AxeTally()


def axe_summary(terminalreporter) -> None:
    """The line at the end of the run: how many pages axe checked (if any)."""
    if TALLY.pages:
        terminalreporter.write_line(
            f"axe checked {TALLY.pages} pages, {TALLY.violations} violations "
            f"(WCAG 2.1 A/AA; screenshots in {SCREENSHOTS})"
        )


def axe_violations(page, count: bool = True) -> list[str]:
    """axe's WCAG 2.1 A/AA violations on the page as it is now, one line each (empty: none)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    found = results.response["violations"]
    TALLY.pages += count
    TALLY.violations += len(found)
    return [
        f"{v['id']}: {v['help']} -> " + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5]) for v in found
    ]


# -- tabs answered by the app in-process (no server, no network) --------------------------

def _on_base(location: str) -> str:
    """A redirect's target, moved to ``BASE`` (the tab asks the app for it again)."""
    url = urlsplit(location)
    return BASE + url.path + (f"?{url.query}" if url.query else "")


def open_page(browser, client, path: str, *, bypass_csp: bool = False):
    """A browser tab on ``BASE + path`` whose requests are answered by the Flask test
    ``client``; ``page.first_status`` is the status of that first page."""
    from visits.extensions import db

    # The browser's requests run in Playwright's greenlet with a session of their own; end
    # this test's transaction so they are not waiting for it (e.g. SQLite's write lock).
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
        headers = {k: v for k, v in response.headers.items() if k.lower() != "location"}
        if "Location" in response.headers:
            headers["Location"] = _on_base(response.headers["Location"])
        route.fulfill(status=response.status_code, headers=headers, body=response.get_data())

    page.route("**/*", answer)
    page.first_status = page.goto(BASE + path).status
    return page
