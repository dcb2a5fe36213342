"""The whole journey through the app, with a real SMTP server: choose a slot, fill in the
form, receive the mail, follow its link, press the buttons (confirm, reschedule, cancel)."""

from __future__ import annotations

import re
from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import func, select

from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import Appointment, OutboxMessage, Status

from .conftest import MONDAY, NOW, berlin_at, deliver, details, manage_path, page, slot, text_of


def only_appointment() -> Appointment:
    db.session.expire_all()
    (appointment,) = db.session.scalars(select(Appointment)).all()
    return appointment


def test_book_confirm_reschedule_and_cancel_in_german(client, traveller, smtp_server, service):
    # the slot picker leads to the details form with the chosen start
    picker = page(client.get(f"/dienstleistungen/wohngeld?week={MONDAY.isoformat()}&lang=de"))
    assert f'value="{slot(MONDAY, 8)}"' in picker
    form = client.get("/dienstleistungen/wohngeld/buchen", query_string={"start": slot(MONDAY, 8)})
    assert form.status_code == 200
    html = page(form)
    assert f"Montag, {MONDAY.day}. " in html and ", 08:00 Uhr" in html
    assert '<option selected value="de">' in html  # language defaults to the page's

    sent = client.post("/dienstleistungen/wohngeld/buchen", data=details(note="Gebärdensprachdolmetschung"))
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/buchen/postfach")
    inbox = page(client.get(sent.headers["Location"]))
    assert "Bitte sehen Sie in Ihr E-Mail-Postfach" in inbox and "erika@example.org" in inbox
    assert "Bitte bestätigen Sie bis 09:15 Uhr" in inbox
    held = only_appointment()
    assert held.status == Status.HELD and held.citizen_note == "Gebärdensprachdolmetschung"

    (request_mail,) = deliver(smtp_server, 1)
    assert request_mail["To"].addresses[0].addr_spec == "erika@example.org"
    link = manage_path(request_mail)

    # opening the link changes nothing; the page offers the button
    shown = page(client.get(link))
    assert "Noch nicht gebucht" in shown and "Termin bestätigen" in shown
    assert only_appointment().status == Status.HELD
    assert re.search(rf'<form method="post" action="{link}/bestaetigen"', shown)

    confirmed = client.post(f"{link}/bestaetigen")
    assert confirmed.status_code == 303
    shown = page(client.get(link))
    assert "Ihr Termin ist bestätigt." in shown and "Diesen Termin absagen" in shown
    assert only_appointment().status == Status.CONFIRMED
    mails = deliver(smtp_server, 2)
    assert "Terminbestätigung" in mails[1]["Subject"] or "bestätigt" in mails[1]["Subject"]

    # the calendar file to download
    download = client.get(f"{link}/termin.ics")
    assert download.mimetype == "text/calendar"
    assert "attachment" in download.headers["Content-Disposition"]
    (event,) = Calendar.from_ical(download.data).walk("VEVENT")
    uid = str(event["UID"])
    assert event.decoded("DTSTART") == held.start_at

    # reschedule to Tuesday 10:00: same UID, SEQUENCE + 1, the old slot free again
    picker = page(client.get(f"{link}/verschieben", query_string={"week": MONDAY.isoformat()}))
    assert f'value="{slot(MONDAY, 8)}"' not in picker  # its own time is not offered
    assert f'value="{slot(MONDAY, 8, 30)}"' in picker
    tuesday = MONDAY + timedelta(days=1)
    moved = client.post(f"{link}/verschieben", data={"start": slot(tuesday, 10)})
    assert moved.status_code == 303
    shown = page(client.get(link))
    assert f"Dienstag, {tuesday.day}. " in shown and "10:00 Uhr" in shown
    assert "wurde auf" in shown and "verschoben" in shown
    appointment = only_appointment()
    assert appointment.uid == uid and appointment.sequence == 1
    assert appointment.start_at == slot_instant(tuesday, 10)
    picker = page(client.get(f"/dienstleistungen/wohngeld?week={MONDAY.isoformat()}"))
    assert f'value="{slot(MONDAY, 8)}"' in picker and f'value="{slot(tuesday, 10)}"' not in picker
    mails = deliver(smtp_server, 3)
    assert f"Dienstag, {tuesday.day}. " in text_of(mails[2]) and "10:00" in text_of(mails[2])

    # cancel: the page says so and offers nothing to change any more
    cancelled = client.post(f"{link}/absagen")
    assert cancelled.status_code == 303
    shown = page(client.get(link))
    assert "Ihr Termin ist abgesagt." in shown and "Dieser Termin wurde abgesagt." in shown
    assert "Diesen Termin absagen" not in shown and "Termin bestätigen" not in shown
    assert only_appointment().status == Status.CANCELLED
    mails = deliver(smtp_server, 4)
    assert "METHOD:CANCEL" in mails[3].as_string() or "abgesagt" in mails[3]["Subject"].lower()

    # a cancelled appointment can no longer be changed, with a clear message
    again = client.get(f"{link}/verschieben", follow_redirects=True)
    assert "Dieser Termin kann nicht mehr geändert werden." in page(again)
    again = client.post(f"{link}/absagen", follow_redirects=True)
    assert "Dieser Termin kann nicht mehr abgesagt werden." in page(again)


def slot_instant(day, hour, minute=0):
    from ..conftest import berlin

    return berlin(day, hour, minute)


def test_book_and_confirm_in_english(client, traveller, smtp_server, service):
    html = page(client.get("/dienstleistungen/wohngeld/buchen", query_string={"start": slot(MONDAY, 9), "lang": "en"}))
    assert "Your details" in html and "Monday, " in html and "09:00" in html
    assert '<option selected value="en">' in html
    sent = client.post("/dienstleistungen/wohngeld/buchen", data=details(start=slot(MONDAY, 9), language="en"))
    assert sent.status_code == 303
    assert "Check your inbox" in page(client.get("/buchen/postfach"))
    (mail,) = deliver(smtp_server, 1)
    assert "confirm" in text_of(mail).lower()
    link = manage_path(mail)
    shown = page(client.get(link))
    assert "Not booked yet: please confirm." in shown and "Confirm appointment" in shown
    assert "Housing benefit advice" in shown
    client.post(f"{link}/bestaetigen")
    shown = page(client.get(link))
    assert "Your appointment is confirmed." in shown and "Tenancy agreement" in shown
    assert "Go to the video call page" in shown


def test_sending_the_form_twice_leaves_one_hold_and_one_mail(client, traveller, smtp_server, service):
    first = client.post("/dienstleistungen/wohngeld/buchen", data=details())
    second = client.post("/dienstleistungen/wohngeld/buchen", data=details())
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert "erika@example.org" in page(client.get("/buchen/postfach"))


def test_an_unconfirmed_hold_expires_and_frees_the_slot(client, traveller, smtp_server, service):
    client.post("/dienstleistungen/wohngeld/buchen", data=details())
    week = f"/dienstleistungen/wohngeld?week={MONDAY.isoformat()}"
    assert f'value="{slot(MONDAY, 8)}"' not in page(client.get(week))
    (mail,) = deliver(smtp_server, 1)
    link = manage_path(mail)

    traveller.move_to(NOW + timedelta(minutes=16))
    assert booking.expire_holds(now=clock.now()) == 1
    assert only_appointment().status == Status.EXPIRED
    assert f'value="{slot(MONDAY, 8)}"' in page(client.get(week))
    shown = page(client.get(link + "?lang=de"))
    assert "Diese Reservierung ist abgelaufen." in shown
    assert "Termin bestätigen" in shown and "Andere Uhrzeit wählen" not in shown

    # someone else takes the time; confirming the old link now says so clearly
    client.post("/dienstleistungen/wohngeld/buchen", data=details(email="max@example.org", name="Max"))
    answer = client.post(f"{link}/bestaetigen", follow_redirects=True)
    assert "inzwischen von jemand anderem gebucht" in page(answer)
    db.session.expire_all()
    assert db.session.scalar(
        select(func.count()).select_from(Appointment).where(Appointment.status == Status.CONFIRMED)
    ) == 0


def test_a_hold_that_ran_out_but_is_not_swept_yet_offers_no_change(client, traveller, smtp_server, service):
    client.post("/dienstleistungen/wohngeld/buchen", data=details())
    (mail,) = deliver(smtp_server, 1)
    link = manage_path(mail)
    traveller.move_to(NOW + timedelta(minutes=15))  # exactly when the hold runs out; no sweep

    shown = page(client.get(link + "?lang=de"))
    assert "Diese Reservierung ist abgelaufen." in shown
    assert "Termin bestätigen" in shown  # while nobody has taken the slot
    for button in ("Andere Uhrzeit wählen", "Diesen Termin absagen"):
        assert button not in shown
    picker = client.get(f"{link}/verschieben", follow_redirects=True)
    assert "nicht mehr geändert werden" in page(picker)
    moved = client.post(f"{link}/verschieben", data={"start": slot(MONDAY, 10), "week": MONDAY.isoformat()})
    assert moved.status_code == 303
    appointment = only_appointment()
    assert appointment.status == Status.HELD and appointment.start_at == berlin_at(MONDAY, 8)
    assert appointment.sequence == 0
