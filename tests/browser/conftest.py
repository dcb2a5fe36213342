"""Real-browser harness: the app as a real HTTP server on 127.0.0.1, Debian's
chromium driven by Playwright, a real SMTP server on loopback, axe-core on every page.

- ``live``: ``create_app`` served by werkzeug in a thread, on its own database (a fresh
  SQLite file built by the migrations, or on PostgreSQL the test session's schema, emptied),
  CSRF on (real forms), mails to an aiosmtpd server, ``PUBLIC_BASE_URL`` = the server.
- Time stands at ``NOW`` (a Monday 09:00 in Berlin) and ticks on; ``live.travel(moment)``
  jumps. The server thread reads the same clock (time-machine patches the process).
- ``browser``/``page``: chromium from /usr/bin/chromium (never a downloaded one); every
  request that is not for 127.0.0.1 is blocked, except the Jitsi domain, whose navigations
  are caught (``page.jitsi``) and answered by a stub, so nothing leaves the machine.
- ``check(page, name)``: axe (WCAG 2.1 A/AA) with zero violations, the page also fits a
  375 px wide viewport, and screenshots (desktop and mobile) go to tests/screenshots/.
  The terminal summary says how many pages axe checked.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from werkzeug.serving import make_server

from visits import create_app
from visits.core import clock
from visits.extensions import db
from visits.mail import outbox

from .. import days
from ..conftest import _test_config, berlin, ready_database
from ..factories import Factories
from ..mailserver import SmtpServer, free_port
from .support import SCREENSHOTS, axe_violations, chromium

MOBILE_WIDTH = 375
JITSI_DOMAIN = "meet.visits.test"


MONDAY = days.BOOKING_MONDAY  # a working week (tests/days.py)
NOW = berlin(MONDAY, 9)  # the journeys start on this Monday, 09:00 Berlin time


# -- the live server ---------------------------------------------------------------------

class LiveServer:
    def __init__(self, app, url: str, smtp: SmtpServer, traveller) -> None:
        self.app = app
        self.url = url
        self.smtp = smtp
        self.traveller = traveller
        self.factories = Factories(app)

    def travel(self, moment: datetime) -> None:
        """Jump the clock of the server (and of this process) to ``moment``; it ticks on."""
        self.traveller.move_to(moment)

    def mails_to(self, address: str, total: int, timeout: float = 10.0) -> list:
        """Deliver the outbox; wait until ``address`` has ``total`` mails; return them in order
        (other tests' mails may go out in the same round)."""
        import time


        with self.app.app_context():
            outbox.deliver_due(now=clock.now() + timedelta(seconds=5))
            db.session.remove()
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.smtp.messages if address in [a.addr_spec for a in m["To"].addresses]]
            if len(found) >= total or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(found) >= total, f"expected {total} mails to {address}, got {len(found)}"
        return found

    def run(self, work):
        """``work(factories)`` in an app context of the server's app, then the session ends
        (so the server's requests never wait for a transaction of the test)."""
        with self.app.app_context():
            try:
                return work(self.factories)
            finally:
                db.session.commit()
                db.session.remove()


@pytest.fixture(scope="package")
def live(migrated, tmp_path_factory) -> Iterator[LiveServer]:

    folder = tmp_path_factory.mktemp("live")
    database_url = migrated
    if database_url.startswith("sqlite"):
        url_db = f"sqlite:///{folder / 'browser.db'}"  # a database of its own
        fresh = True
    else:
        # The test session's own schema (built by the ``migrated`` fixture), emptied.
        url_db = database_url
        fresh = False
    smtp = SmtpServer().start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = _test_config(url_db, folder)
    config.update(smtp.config())
    config.update(
        PUBLIC_BASE_URL=url,
        WTF_CSRF_ENABLED=True,  # real forms, as in production
        RATELIMIT_ENABLED=False,
        SESSION_COOKIE_SECURE=False,
        REMEMBER_COOKIE_SECURE=False,
        PREFERRED_URL_SCHEME="http",
        JITSI_DOMAIN=JITSI_DOMAIN,
        TESTING=False,  # errors as a person would see them
    )
    with time_machine.travel(NOW, tick=True) as traveller:
        app = create_app(config)
        ready_database(app, fresh)
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        try:
            yield LiveServer(app, url, smtp, traveller)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            smtp.stop()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(autouse=True)
def _start_of_day(live):
    """Every test starts on MONDAY at 09:00 (Berlin)."""
    live.travel(NOW)


# -- the browser -------------------------------------------------------------------------

@pytest.fixture(scope="package")
def browser():
    for old in SCREENSHOTS.glob("*.png"):  # this run's pictures only
        old.unlink()

    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, live, request):
    """A fresh tab (own cookies) that may only talk to the live server."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    context.set_default_timeout(15000)
    tab = context.new_page()
    tab.jitsi = []  # URLs of navigations to Jitsi, caught
    tab.blocked = []  # anything else that tried to leave 127.0.0.1

    def guard(route, req):
        host = urlsplit(req.url).hostname
        if host == "127.0.0.1" and req.method == "POST":
            # A route sees only the first URL of a redirect that the browser follows: answer
            # POSTs here, so that their redirect (e.g. to Jitsi) comes back through ``guard``.
            route.fulfill(response=route.fetch(max_redirects=0))
        elif host == "127.0.0.1":
            route.continue_()
        elif host == JITSI_DOMAIN:
            tab.jitsi.append(req.url)
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>Jitsi stub</title><h1>Jitsi stub</h1>")
        else:
            tab.blocked.append(req.url)
            route.abort()

    context.route("**/*", guard)
    context.on(
        "request",
        lambda req: urlsplit(req.url).hostname not in ("127.0.0.1", JITSI_DOMAIN) and tab.blocked.append(req.url),
    )
    module = request.node.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").removesuffix("_journey")
    callspec = getattr(request.node, "callspec", None)
    tab.shots = _Shots(module + (f"-{callspec.id}" if callspec else ""))
    yield tab
    context.close()
    assert tab.blocked == [], f"requests that tried to leave 127.0.0.1: {tab.blocked}"


class _Shots:
    def __init__(self, prefix: str) -> None:
        self.prefix = re.sub(r"[^A-Za-z0-9_-]+", "-", prefix).strip("-")
        self.count = 0

    def path(self, name: str, suffix: str) -> Path:
        self.count += 1
        SCREENSHOTS.mkdir(exist_ok=True)
        return SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{name}{suffix}.png"


# Elements whose content is wider than they are and hidden (cut off), not counting the
# visually-hidden texts for screen readers and regions that scroll (wide data tables).
CLIPPED = """() => [...document.querySelectorAll('body *')].filter(e => {
  const s = getComputedStyle(e);
  if (!e.getClientRects().length) return false;
  for (let a = e; a; a = a.parentElement) {  // hidden on purpose, for screen readers only
    const r = a.getBoundingClientRect();
    if (r.width <= 1 && r.height <= 1) return false;
  }
  const hides = ['hidden', 'clip'].includes(s.overflowX);
  return hides && e.scrollWidth > e.clientWidth + 1;
}).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""


def check(page, name: str) -> None:
    """The page as it is now: no axe violations, fits 375 px, screenshots for people."""
    page.wait_for_load_state("load")
    problems = axe_violations(page)
    page.screenshot(path=page.shots.path(name, ""), full_page=True)
    size = page.viewport_size
    page.set_viewport_size({"width": MOBILE_WIDTH, "height": 800})
    try:
        problems += [f"at {MOBILE_WIDTH} px: {p}" for p in axe_violations(page, count=False)]
        width = page.evaluate("document.documentElement.scrollWidth")
        clipped = page.evaluate(CLIPPED)
        wide = page.evaluate(
            """(limit) => [...document.querySelectorAll('body *')]
                 .filter(e => e.getBoundingClientRect().right > limit + 0.5 && e.getClientRects().length)
                 .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''))""",
            MOBILE_WIDTH,
        )
        page.screenshot(path=page.shots.path(name, "-mobile"), full_page=True)
    finally:
        page.set_viewport_size(size)
    assert problems == [], f"{name} ({page.url}): axe violations {problems}"
    assert width <= MOBILE_WIDTH, f"{name} ({page.url}) scrolls sideways at 375 px: {width}px, e.g. {wide}"
    assert clipped == [], f"{name} ({page.url}) cuts off content at 375 px: {clipped}"
