"""A citizen books as people do, in chromium against the live server, in German and English:
find the service, pick a slot, fill the form, read the mail from the SMTP server, open its
link, confirm; the join page; reschedule and cancel from the manage link. Every page passes
axe (WCAG 2.1 AA), fits 375 px and is photographed."""

from __future__ import annotations

import itertools
import re

import pytest

from visits.models import Appointment, Status

from .conftest import MONDAY, check

pytestmark = pytest.mark.browser

_numbers = itertools.count(1)

TEXT = {
    "de": {
        "search": "Dienstleistungen nach Namen suchen",
        "search_button": "Suchen",
        "continue": "Weiter mit der gewählten Uhrzeit",
        "details": "Ihre Angaben",
        "name": "Vor- und Nachname",
        "email": "E-Mail-Adresse",
        "consent": "Ich bin einverstanden",
        "reserve": "Diese Uhrzeit reservieren",
        "inbox": "Bitte sehen Sie in Ihr E-Mail-Postfach",
        "confirm": "Termin bestätigen",
        "confirmed": "Ihr Termin ist bestätigt.",
        "video": "Zur Seite des Videoanrufs",
        "not_open": "Der Videoraum ist noch nicht geöffnet",
        "other_time": "Andere Uhrzeit wählen",
        "next_week": "Nächste Woche",
        "move": "Meinen Termin auf diese Uhrzeit verschieben",
        "cancel": "Diesen Termin absagen",
        "cancelled": "Dieser Termin wurde abgesagt.",
        "join_cancelled": "Dieser Termin wurde abgesagt",
        "subject_request": "Bitte bestätigen",
    },
    "en": {
        "search": "Search services by name",
        "search_button": "Search",
        "continue": "Continue with the chosen time",
        "details": "Your details",
        "name": "Full name",
        "email": "Email address",
        "consent": "I agree",
        "reserve": "Reserve this time",
        "inbox": "Check your inbox",
        "confirm": "Confirm appointment",
        "confirmed": "Your appointment is confirmed.",
        "video": "Go to the video call page",
        "not_open": "The video room is not open yet",
        "other_time": "Choose another time",
        "next_week": "Next week",
        "move": "Move my appointment to this time",
        "cancel": "Cancel this appointment",
        "cancelled": "This appointment has been cancelled.",
        "join_cancelled": "This appointment was cancelled",
        "subject_request": "Please confirm",
    },
}


def link_in(message, base: str) -> str:
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    found = re.search(re.escape(base) + r"/termin/[A-Za-z0-9_-]+", text)
    assert found, f"no manage link to {base} in the mail:\n{text}"
    return found.group(0)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_citizen_books_confirms_reschedules_and_cancels(page, live, lang):
    t = TEXT[lang]
    n = next(_numbers)
    name_de, name_en = f"Wohngeldberatung {lang}{n}", f"Housing benefit advice {lang}{n}"
    service_name = name_de if lang == "de" else name_en
    email = f"erika.{lang}{n}@example.org"

    def setup(f):
        service = f.service(slug=f"wohngeld-{lang}-{n}", name_de=name_de, name_en=name_en)
        f.clerk([service])
        return service.id

    service_id = live.run(setup)

    # Find the service.
    page.goto(f"{live.url}/?lang={lang}")
    check(page, "catalogue")
    page.get_by_label(t["search"]).fill(service_name.split()[0])
    page.get_by_role("button", name=t["search_button"], exact=True).click()
    page.get_by_role("link", name=service_name, exact=True).wait_for()
    check(page, "search")
    page.get_by_role("link", name=service_name, exact=True).click()

    # Pick a slot: the first free one this week.
    page.get_by_role("heading", level=1, name=service_name).wait_for()
    check(page, "slots")
    first = page.get_by_role("radio").first
    first.check()
    page.get_by_role("button", name=t["continue"]).click()

    # Fill the form.
    page.get_by_role("heading", level=1, name=t["details"]).wait_for()
    check(page, "details")
    page.get_by_label(t["name"]).fill("Erika Mustermann")
    page.get_by_label(t["email"]).fill(email)
    page.get_by_label(t["consent"], exact=False).check()
    page.get_by_role("button", name=t["reserve"]).click()
    page.get_by_role("heading", level=1, name=t["inbox"]).wait_for()
    check(page, "check-inbox")

    # The mail, from the SMTP server, in the citizen's language.
    (request_mail,) = live.mails_to(email, 1)
    assert request_mail["To"].addresses[0].addr_spec == email
    assert t["subject_request"] in request_mail["Subject"]
    assert service_name in request_mail["Subject"]
    manage = link_in(request_mail, live.url)

    # Open its link and confirm.
    page.goto(manage)
    page.get_by_role("button", name=t["confirm"]).wait_for()
    check(page, "manage-held")
    page.get_by_role("button", name=t["confirm"]).click()
    page.get_by_text(t["confirmed"], exact=True).wait_for()
    check(page, "manage-confirmed")
    assert page.get_by_role("button", name=t["confirm"]).count() == 0
    confirmation = live.mails_to(email, 2)[1]
    assert service_name in confirmation["Subject"]
    assert any(p.get_content_type() == "text/calendar" for p in confirmation.walk())

    def stored(_f):
        from visits.extensions import db

        (appointment,) = db.session.query(Appointment).filter_by(service_id=service_id).all()
        return appointment.status, appointment.start_at

    status, first_start = live.run(stored)
    assert status == Status.CONFIRMED

    # The join page (the room opens 10 minutes before the start; now it is not yet open).
    page.get_by_role("link", name=t["video"]).click()
    page.get_by_role("heading", level=2, name=t["not_open"]).wait_for()
    check(page, "join-too-early")

    # Reschedule from the manage link: a time in the next week.
    page.goto(manage)
    page.get_by_role("link", name=t["other_time"]).click()
    page.get_by_role("button", name=t["move"]).wait_for()
    check(page, "reschedule")
    page.get_by_role("navigation").get_by_role("link", name=t["next_week"]).first.click()
    page.get_by_role("radio").first.wait_for()
    check(page, "reschedule-next-week")
    page.get_by_role("radio").nth(2).check()
    page.get_by_role("button", name=t["move"]).click()
    page.get_by_text(t["confirmed"], exact=True).wait_for()
    check(page, "manage-moved")
    moved = live.mails_to(email, 3)[2]
    assert service_name in moved["Subject"]
    status, new_start = live.run(stored)
    assert status == Status.CONFIRMED and new_start > first_start
    assert new_start.date() >= MONDAY

    # Cancel from the manage link.
    page.get_by_role("button", name=t["cancel"]).click()
    page.get_by_text(t["cancelled"], exact=True).wait_for()
    check(page, "manage-cancelled")
    assert page.get_by_role("button", name=t["cancel"]).count() == 0
    cancellation = live.mails_to(email, 4)[3]
    assert any(
        p.get_content_type() == "text/calendar" and "METHOD:CANCEL" in p.get_content() for p in cancellation.walk()
    )
    assert live.run(stored)[0] == Status.CANCELLED

    # The join page now says so.
    join = re.search(r'href="([^"]*/video/[^"]+)"', confirmation.get_body(("html",)).get_content())
    assert join, "no join link in the confirmation"
    page.goto(join.group(1).replace("&amp;", "&"))
    page.get_by_role("heading", level=2, name=t["join_cancelled"]).wait_for()
    check(page, "join-cancelled")
