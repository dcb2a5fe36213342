"""Over https, as in production, every form works: gunicorn behind nginx (deploy/), TLS,
secure cookies, CSRF on, and Debian's chromium as the people who use it.

A clerk logs in and joins a video call as moderator; a citizen finds a service, books a
slot, gets the mail over SMTP, opens its https link, confirms and cancels; another citizen
joins their video call. Browsers send a Referer on these POSTs only if the pages'
Referrer-Policy lets them, and Flask-WTF refuses a POST over https without one (400): with
``no-referrer`` not one of these forms could be sent. Jitsi (here a stand-in on another
origin) must still get no Referer: the join page's address carries the citizen's token.
Last, nginx replaces a forged X-Forwarded-For, and the app believes nginx's.
"""

from __future__ import annotations

import http.client
import re
from datetime import UTC, time, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from sqlalchemy import select

from visits.booking import links
from visits.booking import operations as booking
from visits.core import clock
from visits.models import Appointment, AuditEvent, Status
from visits.web.public.views import slot_value

from .. import days
from ..browser.test_citizen_journey import TEXT as CITIZEN_TEXT
from ..browser.test_citizen_journey import link_in
from ..browser.test_clerk_journey import TEXT as CLERK_TEXT
from ..factories import HOUSING_BENEFIT, STAFF_PASSWORD
from .conftest import JITSI_APP_ID, JITSI_APP_SECRET

pytestmark = [pytest.mark.browser, pytest.mark.processes]

CITIZEN = CITIZEN_TEXT["de"]
CLERK = CLERK_TEXT["de"]
JOIN = "Am Videoanruf teilnehmen"
CLERK_EMAIL = "anna.schmidt@stadt.test"
ERIKA = "erika.mustermann@example.org"
BOOKED = days.berlin(days.BOOKING_MONDAY, 10)  # the slot the citizen picks


def _setup(f):
    """The service, its clerk (working every day, so the video call below is in her hours
    whenever the test runs), and a confirmed video appointment whose room is open now."""
    service = f.service(**HOUSING_BENEFIT)
    f.clerk([service], hours=[(d, time(6), time(22)) for d in range(7)], email=CLERK_EMAIL, name="Anna Schmidt")
    local = clock.now().astimezone(days.BERLIN)
    assert 6 <= local.hour < 22, f"the suite's clock ran far from 09:00: {local}"
    # The slot running now: its room is open until 30 minutes after its end (at least 30 min).
    start = local.replace(minute=local.minute - local.minute % 30, second=0, microsecond=0).astimezone(UTC)
    booked_at = start - timedelta(days=1)
    citizen = f.citizen(name="Max Muster", email="max.muster@example.org")
    video = booking.confirm(booking.hold(service, start, citizen, now=booked_at).appointment, now=booked_at)
    return service.id, video.room, links.join_token(video)


def _submit(tab, button) -> None:
    """Press a form's button: the POST it sends must be accepted (answered with a redirect),
    not refused (400, e.g. by the CSRF check)."""
    with tab.expect_response(lambda r: r.request.method == "POST") as answer:
        button.click()
    response = answer.value
    referer = response.request.headers.get("referer")
    assert response.status in (302, 303), f"POST {urlsplit(response.url).path}: {response.status} (Referer: {referer})"


def _text(message) -> str:
    return next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()


def _into_jitsi(production, tab, button, room: str) -> dict:
    """Press ``button`` (a join form), land on the Jitsi stand-in; return the token's claims.
    What reached "Jitsi": the room with a token, and no Referer (no join token)."""
    before = len(production.jitsi.requests)
    _submit(tab, button)
    tab.get_by_role("heading", name="Jitsi stub").wait_for()
    assert urlsplit(tab.url).netloc == production.jitsi.host
    path, headers = production.jitsi.requests[before]
    target = urlsplit(path)
    assert target.path == f"/{room}"
    assert "referer" not in headers, f"Jitsi was told where the citizen came from: {headers['referer']}"
    assert "jwt" not in target.query, "the token reached the Jitsi host (and its access log)"
    token = parse_qs(urlsplit(tab.url).fragment)["jwt"][0]  # the browser keeps the fragment
    return jwt.decode(token, JITSI_APP_SECRET, algorithms=["HS256"], audience=JITSI_APP_ID)


def _failed_login_from(production, source: str, forged: str) -> int:
    """A wrong password sent from ``source`` (another loopback address) with a forged
    X-Forwarded-For, the form's CSRF token and all; returns the status of the POST."""
    netloc = urlsplit(production.url).netloc
    host, port = netloc.rsplit(":", 1)
    connection = http.client.HTTPSConnection(
        host, int(port), source_address=(source, 0), context=production.tls.client_context(), timeout=30
    )
    try:
        connection.request("GET", "/staff/login", headers={"X-Forwarded-For": forged})
        response = connection.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page
        )
        assert token, "no CSRF token on the login page"
        form = urlencode({"csrf_token": token.group(1), "email": CLERK_EMAIL, "password": "not-the-password"})
        connection.request(
            "POST",
            "/staff/login",
            form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "Referer": f"{production.url}/staff/login",
                "X-Forwarded-For": forged,
            },
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_forms_work_over_https_behind_nginx_and_cookies_are_secure(production, new_tab):
    base = production.url
    service_id, room, join_token = production.run(_setup)

    # The clerk logs in: the session cookie is Secure, HttpOnly and bound to this host
    # (__Host-: no Domain, path /); the app itself says to use https only from now on.
    clerk = new_tab()
    login_page = clerk.goto(f"{base}/staff/login")
    assert login_page.headers["strict-transport-security"].startswith("max-age=")
    assert login_page.headers["cache-control"] == "no-store"
    clerk.get_by_label(CLERK["email"]).fill(CLERK_EMAIL)
    clerk.get_by_label(CLERK["password"], exact=True).fill(STAFF_PASSWORD)
    _submit(clerk, clerk.get_by_role("button", name=CLERK["login"]))
    clerk.get_by_role("navigation").get_by_role("link", name=CLERK["agenda"]).wait_for()
    cookies = {c["name"]: c for c in clerk.context.cookies()}
    session = cookies["__Host-session"]
    assert session["domain"] == "127.0.0.1" and session["path"] == "/"
    for cookie in cookies.values():
        assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax", cookie

    # ... and joins today's video call from the agenda, as moderator.
    row = clerk.get_by_role("row").filter(has_text="Max Muster")
    claims = _into_jitsi(production, clerk, row.get_by_role("button", name=CLERK["join"]), room)
    assert claims["room"] == room and claims["context"]["user"]["moderator"] is True
    assert claims["sub"] == "127.0.0.1"  # the bare host of JITSI_DOMAIN (its port dropped)

    # A citizen finds the service and books a slot on BOOKING_MONDAY (two weeks ahead).
    citizen = new_tab()
    citizen.goto(f"{base}/")
    citizen.get_by_label(CITIZEN["search"]).fill("Wohngeld")
    citizen.get_by_role("button", name=CITIZEN["search_button"], exact=True).click()
    citizen.get_by_role("link", name=HOUSING_BENEFIT["name_de"], exact=True).click()
    citizen.get_by_role("heading", level=1, name=HOUSING_BENEFIT["name_de"]).wait_for()
    this_monday = days.TODAY - timedelta(days=days.TODAY.weekday())
    for week in (1, 2):
        citizen.get_by_role("navigation").get_by_role("link", name=CITIZEN["next_week"]).first.click()
        citizen.wait_for_url(re.compile(r"week=" + (this_monday + timedelta(weeks=week)).isoformat()))
    citizen.locator(f'input[type="radio"][value="{slot_value(BOOKED)}"]').check()
    citizen.get_by_role("button", name=CITIZEN["continue"]).click()
    citizen.get_by_role("heading", level=1, name=CITIZEN["details"]).wait_for()
    citizen.get_by_label(CITIZEN["name"]).fill("Erika Mustermann")
    citizen.get_by_label(CITIZEN["email"]).fill(ERIKA)
    citizen.get_by_label(CITIZEN["consent"], exact=False).check()
    _submit(citizen, citizen.get_by_role("button", name=CITIZEN["reserve"]))
    citizen.get_by_role("heading", level=1, name=CITIZEN["inbox"]).wait_for()

    # The mail comes over SMTP; its link is https, on the public address (nginx's).
    (request_mail,) = production.mails_to(ERIKA, 1)
    assert CITIZEN["subject_request"] in request_mail["Subject"]
    manage = link_in(request_mail, base)
    assert urlsplit(manage).scheme == "https"
    assert "http://" not in _text(request_mail)

    # The citizen opens it, confirms, then cancels.
    citizen.goto(manage)
    _submit(citizen, citizen.get_by_role("button", name=CITIZEN["confirm"]))
    citizen.get_by_text(CITIZEN["confirmed"], exact=True).wait_for()
    _submit(citizen, citizen.get_by_role("button", name=CITIZEN["cancel"]))
    citizen.get_by_text(CITIZEN["cancelled"], exact=True).wait_for()
    assert citizen.get_by_role("button", name=CITIZEN["cancel"]).count() == 0

    def stored(_f):
        from visits.extensions import db

        (appointment,) = db.session.scalars(
            select(Appointment).where(Appointment.service_id == service_id, Appointment.citizen_email == ERIKA)
        ).all()
        return appointment.status, appointment.start_at

    assert production.run(stored) == (Status.CANCELLED, BOOKED)

    # The other citizen joins their video call from its join page (where their mails link to).
    caller = new_tab()
    caller.goto(f"{base}/video/{join_token}")
    claims = _into_jitsi(production, caller, caller.get_by_role("button", name=JOIN), room)
    assert claims["room"] == room and claims["context"]["user"]["moderator"] is False

    # Every form was accepted: no answer refused, each POST sent with a same-origin Referer.
    exchanges = [e for tab in (clerk, citizen, caller) for e in tab.exchanges if e.url.startswith(base + "/")]
    assert [e for e in exchanges if e.status >= 400] == []
    posts = [e for e in exchanges if e.method == "POST"]
    assert [urlsplit(e.url).path.rsplit("/", 1)[-1] for e in posts] == [
        "login",
        "join",
        "buchen",
        "bestaetigen",
        "absagen",
        join_token,
    ], posts
    assert all(e.status in (302, 303) and (e.referer or "").startswith(base + "/") for e in posts), posts

    # nginx hands the app the client's address, whatever the client claims, and the app
    # believes it (TRUSTED_PROXIES=1): the failed login is logged for 127.0.0.2.
    assert _failed_login_from(production, "127.0.0.2", forged="203.0.113.7") == 200

    def failed_logins(_f):
        from visits.extensions import db

        failed = select(AuditEvent).where(AuditEvent.action == "staff.login_failed")
        return [event.details.get("ip") for event in db.session.scalars(failed)]

    assert production.run(failed_logins) == ["127.0.0.2"]
