"""The details form's errors, and every refusal as a clear message on a page (never an
error page): slot taken, limit per address, booking pause, rate limits, CSRF, wrong links."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from visits.booking import links
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import Appointment, OutboxMessage

from .conftest import MONDAY, NOW, details, page, slot

FORM = "/dienstleistungen/wohngeld/buchen"


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Appointment))


def test_errors_are_shown_next_to_the_fields_and_keep_what_was_typed(client, traveller, service):
    answer = client.post(
        FORM + "?lang=de",
        data=details(name="", email="erika@@example", phone="0221 1234", note="Rollstuhl", consent=None),
    )
    assert answer.status_code == 422
    html = page(answer)
    # summary at the top, a link to each failing field
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', html, re.S).group(0)
    for field in ("name", "email", "consent"):
        assert f'href="#{field}"' in summary
    # the message next to the field, tied to it
    assert '<span class="field-error" id="name-error">' in html and "Geben Sie Ihren Namen ein." in html
    assert re.search(r'<input aria-describedby="email-hint email-error" aria-invalid="true"[^>]*id="email"', html)
    assert "Geben Sie eine E-Mail-Adresse wie name@example.org ein." in html
    assert "Bitte stimmen Sie der Verarbeitung Ihrer Angaben zu" in html
    assert re.search(r'<input aria-describedby="consent-hint consent-error"[^>]*type="checkbox" value="y">', html)
    # what was typed stays
    assert 'value="erika@@example"' in html and 'value="0221 1234"' in html and "Rollstuhl</textarea>" in html
    assert count() == 0


def test_errors_in_english_on_an_english_page(client, traveller, service):
    html = page(client.post(FORM + "?lang=en", data=details(name="", consent=None)))
    assert "There is a problem" in html and "Enter your name." in html
    assert "Please agree to the processing of your details" in html


def test_the_form_links_to_the_privacy_page(client, traveller, service):
    html = page(client.get(FORM, query_string={"start": slot(MONDAY, 8)}))
    assert 'href="/datenschutz"' in html
    privacy = client.get("/datenschutz?lang=de")
    assert privacy.status_code == 200 and "30 Tage nach Ihrem Termin" in page(privacy)


def test_a_link_to_a_slot_that_is_not_free_leads_back_to_the_picker(client, traveller, service):
    answer = client.get(FORM, query_string={"start": slot(MONDAY, 13)}, follow_redirects=True)
    assert "Diese Uhrzeit ist nicht (mehr) frei." in page(answer)
    assert 'type="radio"' in page(answer)


def test_a_slot_taken_meanwhile_is_a_clear_message_with_the_details_kept(client, traveller, service, factories):
    booking.hold(service, slot_start(), factories.citizen(), now=NOW)
    answer = client.post(FORM, data=details(name="Erika Schmidt"))
    assert answer.status_code == 409
    html = page(answer)
    assert "Diese Uhrzeit wurde leider gerade von jemand anderem gebucht." in html
    assert 'value="Erika Schmidt"' in html
    assert f"week={MONDAY.isoformat()}" in html
    assert count() == 1


def slot_start():
    from .conftest import berlin

    return berlin(MONDAY, 8)


def test_more_upcoming_appointments_than_allowed_are_refused_by_mail(client, traveller, service):
    for hour in (8, 9):
        assert client.post(FORM, data=details(start=slot(MONDAY, hour))).status_code == 303
    # the form's answer is the one a new hold gets; the reason goes to the address
    answer = client.post(FORM, data=details(start=slot(MONDAY, 10)))
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/buchen/postfach")
    assert count() == 2
    assert "limit_reached" in db.session.scalars(select(OutboxMessage.kind)).all()


def test_a_booking_pause_is_told_by_mail_not_on_the_form(client, factories, traveller, service):
    factories.booking_pause(now=NOW, reason="repeated_no_shows")
    answer = client.post(FORM + "?lang=en", data=details())
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/buchen/postfach")
    assert count() == 0
    assert db.session.scalars(select(OutboxMessage.kind)).all() == ["booking_paused"]


def test_the_booking_rate_limit_keeps_the_form_and_says_why(app_config, traveller_free_client, service):
    client = traveller_free_client
    for hour in (8, 9):
        client.post(FORM, data=details(start=slot(MONDAY, hour), email=f"p{hour}@example.org"))
    answer = client.post(FORM + "?lang=de", data=details(start=slot(MONDAY, 10), name="Dritte Person"))
    assert answer.status_code == 429
    html = page(answer)
    assert "Von Ihrer Verbindung kamen zu viele Buchungsanfragen." in html
    assert 'value="Dritte Person"' in html
    assert count() == 2


def test_without_a_csrf_token_a_post_is_refused_with_a_clear_page_and_nothing_held(csrf_client, service):
    client = csrf_client
    answer = client.post(FORM + "?lang=de", data=details())
    assert answer.status_code == 400
    assert "Das Formular konnte nicht gesendet werden" in page(answer)
    assert count() == 0
    # with the token from the page, the same form goes through
    html = page(client.get(FORM, query_string={"start": slot(MONDAY, 8)}))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    assert client.post(FORM, data={**details(), "csrf_token": token}).status_code == 303
    assert count() == 1


def test_manage_buttons_need_the_csrf_token_too(csrf_client, service, factories):
    held = booking.hold(service, slot_start(), factories.citizen(), now=clock.now()).appointment
    link = f"/termin/{links.derive_token('manage', held.uid)}"
    assert csrf_client.post(f"{link}/absagen").status_code == 400
    db.session.refresh(held)
    assert held.status == "held"


def test_a_wrong_manage_link_and_an_anonymised_one_give_the_same_plain_404(client, traveller, service, factories):
    held = booking.hold(service, slot_start(), factories.citizen(), now=NOW).appointment
    token = links.derive_token("manage", held.uid)
    assert client.get(f"/termin/{token}").status_code == 200
    wrong = client.get("/termin/" + "x" * 43)
    held.anonymised_at = NOW
    db.session.commit()
    gone = client.get(f"/termin/{token}")
    assert wrong.status_code == gone.status_code == 404
    assert page(wrong).replace("x" * 43, "TOKEN") == page(gone).replace(token, "TOKEN")
    assert client.post(f"/termin/{token}/absagen").status_code == 404
    assert client.get(f"/termin/{token}/termin.ics").status_code == 404
    # only the hash is stored
    assert held.manage_token_hash == links.token_hash(token) and token not in held.manage_token_hash


def test_manage_link_lookups_are_rate_limited_with_a_clear_page(limited_links_client):
    client = limited_links_client
    for _ in range(3):
        assert client.get("/termin/" + "y" * 43).status_code == 404
    answer = client.get("/termin/" + "z" * 43 + "?lang=de")
    assert answer.status_code == 429
    assert "Von Ihrer Verbindung kamen in kurzer Zeit zu viele Anfragen." in page(answer)


def test_a_past_appointment_can_no_longer_be_changed(client, traveller, service, factories):
    appointment = booking.hold(service, slot_start(), factories.citizen(), now=NOW).appointment
    booking.confirm(appointment, now=NOW)
    link = f"/termin/{links.derive_token('manage', appointment.uid)}"
    traveller.move_to(slot_start() + timedelta(hours=1))
    html = page(client.get(link + "?lang=de"))
    assert "Dieser Termin liegt in der Vergangenheit." in html and "Diesen Termin absagen" not in html
    answer = client.post(f"{link}/absagen", follow_redirects=True)
    assert "Dieser Termin kann nicht mehr abgesagt werden." in page(answer)
    db.session.refresh(appointment)
    assert appointment.status == "confirmed"
