"""A clerk's day in chromium against the live server, in German and English: log in, change
the weekly hours, add an absence, find the new appointment in the agenda, join its video
call as moderator (the redirect to Jitsi is caught in the browser and its token read), and
mark it attended. Every page passes axe (WCAG 2.1 AA), fits 375 px and is photographed."""

from __future__ import annotations

import itertools
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from visits.booking import operations as booking
from visits.core import clock
from visits.models import Appointment, Status

from ..conftest import berlin
from ..factories import STAFF_PASSWORD
from .conftest import JITSI_DOMAIN, MONDAY, check

pytestmark = pytest.mark.browser

_numbers = itertools.count(1)

TEXT = {
    "de": {
        "email": "E-Mail-Adresse",
        "password": "Passwort",
        "login": "Anmelden",
        "hours": "Sprechzeiten",
        "weekday": "Wochentag",
        "saturday": "Samstag",
        "from": "Von",
        "until": "Bis",
        "add_hours": "Zeiten hinzufügen",
        "absences": "Abwesenheiten",
        "whole_days": "Ganze Tage",
        "first_day": "Erster Tag",
        "reason": "Grund (optional, intern)",
        "add_absence": "Abwesenheit eintragen",
        "agenda": "Terminübersicht",
        "join": "Als Moderator beitreten",
        "attended": "Wahrgenommen",
        "attended_status": "wahrgenommen",
    },
    "en": {
        "email": "Email address",
        "password": "Password",
        "login": "Log in",
        "hours": "Hours",
        "weekday": "Weekday",
        "saturday": "Saturday",
        "from": "From",
        "until": "Until",
        "add_hours": "Add hours",
        "absences": "Absences",
        "whole_days": "Whole days",
        "first_day": "First day",
        "reason": "Reason (optional, internal)",
        "add_absence": "Add absence",
        "agenda": "Agenda",
        "join": "Join as moderator",
        "attended": "Attended",
        "attended_status": "attended",
    },
}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_clerk_changes_hours_adds_absence_joins_as_moderator_and_marks_attended(page, live, lang):
    t = TEXT[lang]
    n = next(_numbers)
    start = berlin(MONDAY, 10)
    citizen_name = f"Max Muster {lang}{n}"

    def setup(f):
        service = f.service(slug=f"ausweis-{lang}-{n}", name_de=f"Personalausweis {n}", name_en=f"ID card {n}")
        clerk = f.clerk([service], email=f"anna.{lang}{n}@stadt.test", name=f"Anna Schmidt {lang}{n}")
        held = booking.hold(service, start, f.citizen(name=citizen_name, language=lang), now=clock.now()).appointment
        booking.confirm(held, now=clock.now())
        return clerk.email, clerk.id, held.id, held.room, held.reference

    email, clerk_id, appointment_id, room, reference = live.run(setup)

    # Log in.
    page.goto(f"{live.url}/staff/login?lang={lang}")
    check(page, "login")
    page.get_by_label(t["email"]).fill(email)
    page.get_by_label(t["password"], exact=True).fill(STAFF_PASSWORD)
    page.get_by_role("button", name=t["login"]).click()
    page.get_by_role("navigation").get_by_role("link", name=t["agenda"]).wait_for()
    check(page, "agenda")

    # Change the weekly hours: Saturday mornings too.
    page.get_by_role("navigation").get_by_role("link", name=t["hours"], exact=True).click()
    check(page, "hours")
    page.get_by_label(t["weekday"]).select_option(label=t["saturday"])
    page.get_by_label(t["from"], exact=True).fill("09:00")
    page.get_by_label(t["until"], exact=True).fill("12:00")
    page.get_by_role("button", name=t["add_hours"]).click()
    saturday_row = page.get_by_role("row").filter(has_text=t["saturday"])
    saturday_row.filter(has_text="09:00–12:00").wait_for()
    check(page, "hours-added")

    # Add an absence: the Wednesday of this week.
    wednesday = MONDAY + timedelta(days=2)
    page.get_by_role("navigation").get_by_role("link", name=t["absences"]).click()
    check(page, "absences")
    page.get_by_role("radio", name=t["whole_days"]).check()
    page.get_by_label(t["first_day"], exact=True).fill(wednesday.isoformat())
    page.get_by_label(t["reason"]).fill("Fortbildung")
    page.get_by_role("button", name=t["add_absence"]).click()
    page.get_by_role("row").filter(has_text="Fortbildung").wait_for()
    check(page, "absence-added")

    # The appointment in the agenda.
    page.get_by_role("navigation").get_by_role("link", name=t["agenda"]).click()
    row = page.get_by_role("row").filter(has_text=citizen_name)
    row.wait_for()
    assert reference in row.inner_text()

    # The morning of the appointment: the session of the day before has ended on the server
    # (idle and absolute lifetime), so the clerk logs in again and lands on the agenda.
    live.travel(start - timedelta(minutes=2))
    page.reload()
    page.get_by_label(t["password"], exact=True).fill(STAFF_PASSWORD)
    page.get_by_label(t["email"]).fill(email)
    page.get_by_role("button", name=t["login"]).click()
    # The room is open from 10 minutes before the start: join as moderator.
    page.get_by_role("row").filter(has_text=citizen_name).wait_for()
    check(page, "agenda-room-open")
    # On a phone the rows are stacked, yet still a table with rows and cells for screen readers.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.get_by_role("row").filter(has_text=citizen_name).get_by_role("cell").count() >= 6
    assert page.get_by_role("columnheader").count() >= 6
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("row").filter(has_text=citizen_name).get_by_role("button", name=t["join"]).click()
    page.wait_for_url(f"https://{JITSI_DOMAIN}/**")
    page.get_by_role("heading", name="Jitsi stub").wait_for()
    assert len(page.jitsi) == 1, "the navigation to Jitsi was not caught"
    sent = urlsplit(page.jitsi[0])  # what the browser asked the Jitsi host for
    assert (sent.scheme, sent.hostname, sent.path) == ("https", JITSI_DOMAIN, f"/{room}")
    assert "jwt" not in sent.query, "the token reached the Jitsi host"
    token = parse_qs(urlsplit(page.url).fragment)["jwt"][0]  # the page keeps it in the fragment
    claims = jwt.decode(
        token,
        live.app.config["JITSI_APP_SECRET"],
        algorithms=["HS256"],
        audience=live.app.config["JITSI_AUDIENCE"],
        options={"verify_nbf": False},  # nbf lies in the travelled-to time; checked below
    )
    assert claims["room"] == room
    assert claims["iss"] == live.app.config["JITSI_APP_ID"]
    assert claims["sub"] == live.app.config["JITSI_SUBJECT"]
    user = claims["context"]["user"]
    assert user["moderator"] is True and user["name"] == f"Anna Schmidt {lang}{n}" and "email" not in user
    pressed = int((start - timedelta(minutes=2)).timestamp())
    opens = start - timedelta(minutes=live.app.config["JITSI_OPENS_MINUTES_BEFORE"])
    closes = start + timedelta(minutes=30 + live.app.config["JITSI_GRACE_MINUTES_AFTER"])
    assert pressed <= claims["iat"] <= pressed + 60  # minted when the button was pressed
    assert int(opens.timestamp()) - 60 <= claims["nbf"] <= claims["iat"]  # valid at once
    assert claims["iat"] < claims["exp"] <= int(closes.timestamp())  # never after the room closes

    # After the call: mark it attended.
    live.travel(start + timedelta(minutes=25))
    page.goto(f"{live.url}/staff/")
    row = page.get_by_role("row").filter(has_text=citizen_name)
    row.get_by_role("button", name=t["attended"]).click()
    page.get_by_role("heading", level=1).filter(has_text=reference).wait_for()
    page.locator(".status").filter(has_text=t["attended_status"]).wait_for()
    check(page, "appointment-attended")

    def stored(_f):
        from visits.extensions import db

        appointment = db.session.get(Appointment, appointment_id)
        return appointment.status, appointment.clerk_id

    assert live.run(stored) == (Status.ATTENDED, clerk_id)
