"""Dial-in by phone: the conference PIN of a video appointment, the conference-mapper and
dial-in-numbers routes jitsi-meet and the telephony platform call, and the PIN in the
citizen's mails (over real SMTP), join page and calendar file."""

from __future__ import annotations

import email
import hashlib
import importlib.util
import re
import secrets
from datetime import timedelta
from email.policy import default
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select

from config import InvalidDialInNumbers, InvalidJitsiSetting, dial_in_numbers, jitsi_muc_domain
from visits import create_app
from visits.admin import retention
from visits.booking import links
from visits.booking import operations as booking
from visits.extensions import db
from visits.mail import compose as mail
from visits.mail import outbox, reminders
from visits.models import Appointment, OutboxMessage
from visits.video import dial_in

from ..mail.test_secrets_at_rest import database_dump
from .conftest import BOOKED_AT, CLOSES, OPENS, START, at, book, join_path

NUMBERS = "DE:+49 221 123456, DE:+49 221 654321"
MUC = "conference.meet.visits.test"  # conference. + the host of JITSI_DOMAIN (tests/conftest.py)
JITSI_ORIGIN = "https://meet.visits.test"
MAPPER = "/jitsi/conference-mapper"
NUMBERS_PATH = "/jitsi/dial-in-numbers"
DURING = START + timedelta(minutes=5)
MAPPING_KEYS = {"message", "id", "conference"}
PHONE_WORDS = re.compile(r"\btelefon|\bphone\b|\bPIN\b|\+49 221", re.I)  # not "smartphone"


@pytest.fixture(autouse=True)
def numbers_configured(app_config):
    """Every test here starts with dial-in numbers; ``reconfigure(DIAL_IN_NUMBERS="")`` takes
    them away."""
    app_config["DIAL_IN_NUMBERS"] = NUMBERS


def mapper(client, when, **params):
    with at(when):
        return client.get(MAPPER, query_string=params)


def pin_of(appointment: Appointment) -> str:
    pin = dial_in.pin_for(appointment)
    assert pin is not None
    return pin


def unused_pin(*taken: str) -> str:
    while True:
        guess = str(secrets.randbelow(9 * 10**9) + 10**9)
        if guess not in taken:
            return guess


# -- the PIN -------------------------------------------------------------------------------


def test_a_video_appointment_has_a_ten_digit_pin_that_only_its_keyed_hash_stores(appointment):
    pin = pin_of(appointment)
    assert re.fullmatch(r"[1-9][0-9]{9}", pin)
    assert pin == dial_in.derive_pin(appointment.uid)  # a reminder days later names the same PIN
    assert appointment.dial_in_pin_hash == dial_in.pin_hash(pin)
    # keyed: a copy of the table cannot be reversed by hashing all 9e9 PINs
    assert appointment.dial_in_pin_hash != hashlib.sha256(pin.encode()).hexdigest()
    assert dial_in.formatted(pin) == f"{pin[:3]} {pin[3:6]} {pin[6:]}"


def test_an_on_site_appointment_has_no_pin(factories):
    service = factories.service(video=False, slug="vor-ort", address="Rathausplatz 1")
    factories.clerk([service])
    appointment = book(factories, service)
    assert appointment.dial_in_pin_hash is None and dial_in.pin_for(appointment) is None


def test_pins_differ_between_appointments_and_stay_when_moved(factories, service, clerk):
    first = book(factories, service)
    second = book(factories, service, start=START + timedelta(hours=1))
    assert pin_of(first) != pin_of(second)
    before = pin_of(first)
    booking.reschedule(first, START + timedelta(hours=2), now=BOOKED_AT + timedelta(hours=1))
    assert pin_of(first) == before


def test_a_new_appointment_whose_pin_is_taken_draws_another(factories, service, clerk, monkeypatch):
    first = book(factories, service)
    taken = pin_of(first)
    real = dial_in.derive_pin
    draws: list[str] = []

    def colliding_once(uid, secret_key=None):
        draws.append(uid)
        return taken if len(draws) == 1 else real(uid, secret_key)

    monkeypatch.setattr(dial_in, "derive_pin", colliding_once)
    second = book(factories, service, start=START + timedelta(hours=1))
    assert len(draws) >= 2 and second.uid != draws[0]  # the colliding uid was not used
    monkeypatch.setattr(dial_in, "derive_pin", real)
    assert pin_of(second) != taken


def test_the_migration_derives_pins_as_the_app_does(appointment):
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0005_dial_in_pin.py"
    spec = importlib.util.spec_from_file_location("dial_in_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    key = "another-key-for-the-comparison-0123456789"
    for uid in (appointment.uid, links.new_uid(), "x@visits"):
        assert module._derive_pin(key, uid) == dial_in.derive_pin(uid, key)
        pin = dial_in.derive_pin(uid, key)
        assert module._pin_hash(key, pin) == dial_in.pin_hash(pin, key)


# -- the conference mapper: contract ------------------------------------------------------


def test_inside_the_window_a_pin_maps_to_its_room_and_the_room_back_to_the_pin(client, appointment):
    pin = pin_of(appointment)
    by_pin = mapper(client, DURING, id=pin)
    assert by_pin.status_code == 200 and by_pin.mimetype == "application/json"
    body = by_pin.get_json()
    assert set(body) == MAPPING_KEYS
    assert isinstance(body["message"], str) and body["message"]
    assert body["id"] == int(pin) and isinstance(body["id"], int)
    assert body["conference"] == f"{appointment.room}@{MUC}"

    by_room = mapper(client, DURING, conference=body["conference"])
    assert by_room.status_code == 200
    assert by_room.get_json() == body


@pytest.mark.parametrize("moment", [OPENS, CLOSES - timedelta(seconds=1)], ids=["opening", "last-second"])
def test_the_pin_works_from_the_opening_to_the_last_second(client, appointment, moment):
    assert mapper(client, moment, id=pin_of(appointment)).status_code == 200


def test_the_room_part_is_read_in_any_case_and_the_domain_must_be_the_muc(client, appointment):
    room = appointment.room
    assert mapper(client, DURING, conference=f"{room.upper()}@{MUC}").status_code == 200
    assert mapper(client, DURING, conference=f"{room}@{MUC.upper()}").status_code == 200
    for wrong in (room, f"{room}@meet.visits.test", f"{room}@conference.other.test", f"{room}@{MUC}.evil",
                  f"{room}x@{MUC}", f"@{MUC}", f"{room}@"):  # fmt: skip
        answer = mapper(client, DURING, conference=wrong)
        assert answer.status_code == 404, wrong
        assert answer.get_json() == {"message": "No conference mapping was found", "id": None, "conference": wrong}


def test_a_tenant_muc_domain_is_matched_against_the_setting(client, appointment, reconfigure):
    reconfigure(JITSI_MUC_DOMAIN="conference.tenant1.meet.visits.test")
    tenant = f"{appointment.room}@conference.tenant1.meet.visits.test"
    answer = mapper(client, DURING, conference=tenant)
    assert answer.status_code == 200 and answer.get_json()["conference"] == tenant
    assert mapper(client, DURING, conference=f"{appointment.room}@{MUC}").status_code == 404


def test_a_pin_may_come_with_spaces_and_the_closing_hash(client, appointment):
    pin = pin_of(appointment)
    assert mapper(client, DURING, id=f"{dial_in.formatted(pin)}#").get_json()["id"] == int(pin)


def test_asking_with_both_they_must_name_the_same_room(client, appointment, factories, service):
    other = book(factories, service, start=START + timedelta(minutes=30))
    conference = f"{appointment.room}@{MUC}"
    assert mapper(client, DURING, conference=conference, id=pin_of(appointment)).status_code == 200
    assert mapper(client, DURING, conference=conference, id=pin_of(other)).status_code == 404


# -- the conference mapper: nothing to learn outside the window ---------------------------


def _same_as_unknown(client, when, pin: str) -> None:
    """The answer for ``pin`` at ``when`` is the answer for a PIN nobody has, but for the
    echoed id: status, content type, keys, message."""
    asked = mapper(client, when, id=pin)
    unknown_pin = unused_pin(pin)
    unknown = mapper(client, when, id=unknown_pin)
    assert asked.status_code == unknown.status_code == 404
    assert asked.mimetype == unknown.mimetype == "application/json"
    assert asked.get_json() == {**unknown.get_json(), "id": int(pin)}
    assert unknown.get_json() == {"message": "No conference mapping was found", "id": int(unknown_pin), "conference": None}
    assert sorted(asked.headers.keys()) == sorted(unknown.headers.keys())


@pytest.mark.parametrize(
    "moment",
    [BOOKED_AT + timedelta(hours=1), OPENS - timedelta(seconds=1), CLOSES, CLOSES + timedelta(days=1)],
    ids=["days-before", "a-second-early", "closing", "next-day"],
)
def test_outside_the_window_a_pin_answers_like_an_unknown_one(client, appointment, moment):
    _same_as_unknown(client, moment, pin_of(appointment))
    assert mapper(client, moment, conference=f"{appointment.room}@{MUC}").status_code == 404


def test_a_cancelled_appointments_pin_answers_like_an_unknown_one(client, appointment):
    pin = pin_of(appointment)
    booking.cancel(appointment, now=BOOKED_AT + timedelta(hours=1))
    _same_as_unknown(client, DURING, pin)
    assert mapper(client, DURING, conference=f"{appointment.room}@{MUC}").status_code == 404


def test_an_unconfirmed_or_lapsed_holds_pin_answers_like_an_unknown_one(client, factories, service, clerk):
    held = booking.hold(service, START, factories.citizen(), now=BOOKED_AT).appointment
    _same_as_unknown(client, DURING, pin_of(held))  # never confirmed: its hold has run out by then


def test_an_anonymised_appointments_pin_is_gone(client, appointment):
    pin = pin_of(appointment)
    assert retention.anonymise_due(now=CLOSES + timedelta(days=60)) == 1
    db.session.refresh(appointment)
    assert appointment.anonymised_at is not None and appointment.dial_in_pin_hash is None
    assert dial_in.pin_for(appointment) is None
    _same_as_unknown(client, DURING, pin)


def test_guessed_pins_answer_404_and_nothing_else(client, appointment):
    real = pin_of(appointment)
    neighbours = [str(int(real) + 1), str(int(real) - 1), real[:-1], real + "0", "0" + real[1:]]
    guesses = neighbours + [unused_pin(real) for _ in range(20)]
    for guess in guesses:
        answer = mapper(client, DURING, id=guess)
        assert answer.status_code == 404, guess
        body = answer.get_json()
        assert body == {"message": "No conference mapping was found", "id": int(guess), "conference": None}
        assert appointment.room not in answer.get_data(as_text=True)
    for odd in ("", "abc", "12345678901234567890123", "１２３４５６７８９０", "1e9", "-1234567890", real + "x"):
        answer = mapper(client, DURING, id=odd)
        assert answer.status_code == 404, odd
        assert set(answer.get_json()) == MAPPING_KEYS and answer.get_json()["conference"] is None
    nothing = client.get(MAPPER)
    assert nothing.status_code == 404
    assert nothing.get_json() == {"message": "No conference mapping was found", "id": None, "conference": None}


def test_the_rate_limit_answers_429_after_the_configured_number(app_config, request):
    app_config.update(RATELIMIT_ENABLED=True, RATELIMIT_DIAL_IN="4 per minute")
    client = request.getfixturevalue("client")
    appointment = request.getfixturevalue("appointment")
    with at(DURING):
        for _ in range(4):
            assert client.get(MAPPER, query_string={"id": unused_pin()}).status_code == 404
        refused = client.get(MAPPER, query_string={"id": pin_of(appointment)})  # even the right one
        assert refused.status_code == 429
        assert set(refused.get_json()) == MAPPING_KEYS and refused.get_json()["conference"] is None
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["Access-Control-Allow-Origin"] == JITSI_ORIGIN
        # Another client has its own budget.
        other = client.get(MAPPER, query_string={"id": pin_of(appointment)}, environ_base={"REMOTE_ADDR": "192.0.2.9"})
        assert other.status_code == 200
        # The numbers route counts for itself.
        for _ in range(4):
            assert client.get(NUMBERS_PATH).status_code == 200
        limited = client.get(NUMBERS_PATH)
        assert limited.status_code == 429
        assert limited.get_json() == {"message": limited.get_json()["message"], "numbers": {}, "numbersEnabled": False}


# -- dial-in numbers ----------------------------------------------------------------------


def test_dial_in_numbers_are_listed_by_country(client):
    answer = client.get(NUMBERS_PATH, query_string={"conference": f"termin-x@{MUC}"})  # as jitsi-meet asks
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.get_json() == {
        "message": "Phone numbers available.",
        "numbers": {"DE": ["+49 221 123456", "+49 221 654321"]},
        "numbersEnabled": True,
    }


def test_without_numbers_the_list_is_empty_and_disabled(client, reconfigure):
    reconfigure(DIAL_IN_NUMBERS="")
    body = client.get(NUMBERS_PATH).get_json()
    assert set(body) == {"message", "numbers", "numbersEnabled"}
    assert body["numbers"] == {} and body["numbersEnabled"] is False and isinstance(body["message"], str)


def test_the_routes_are_not_stored_and_readable_by_the_jitsi_page_only(client, appointment):
    for path, params in ((MAPPER, {"id": pin_of(appointment)}), (MAPPER, {"conference": f"{appointment.room}@{MUC}"}),
                         (MAPPER, {"id": "1"}), (NUMBERS_PATH, {})):  # fmt: skip
        answer = mapper(client, DURING, **params) if path == MAPPER else client.get(path)
        assert answer.headers["Cache-Control"] == "no-store", path
        assert answer.headers["Access-Control-Allow-Origin"] == JITSI_ORIGIN, path
        assert "Access-Control-Allow-Credentials" not in answer.headers
        assert "Set-Cookie" not in answer.headers
    assert "Access-Control-Allow-Origin" not in client.get("/").headers
    assert "Access-Control-Allow-Origin" not in client.get(join_path(appointment)).headers


def test_the_settings_are_checked_at_start(tmp_path, app_config):
    assert dial_in_numbers("") == ()
    assert dial_in_numbers(" DE:+49 221 123456 , at:+43  1 234 ") == (("DE", "+49 221 123456"), ("AT", "+43 1 234"))
    for wrong in ("+49 221 123456", "DE:", "GER:+49 221 1", "DE:call us", "DE:12"):
        with pytest.raises(InvalidDialInNumbers):
            dial_in_numbers(wrong)
    with pytest.raises(InvalidDialInNumbers):
        create_app({**app_config, "DIAL_IN_NUMBERS": "DE:+49 221 123456,oops"})
    assert jitsi_muc_domain("meet.stadt.example") == "conference.meet.stadt.example"
    assert jitsi_muc_domain("https://Meet.Stadt.Example:443/") == "conference.meet.stadt.example"
    assert jitsi_muc_domain("meet.stadt.example/tenant1") == "conference.tenant1.meet.stadt.example"
    assert jitsi_muc_domain("meet.stadt.example", "Conference.Meet.Stadt.Example") == "conference.meet.stadt.example"
    with pytest.raises(InvalidJitsiSetting):
        jitsi_muc_domain("meet.stadt.example", "https://conference.meet.stadt.example/")


# -- mails, join page, calendar file --------------------------------------------------------


def _texts(message) -> str:
    return "\n".join(
        part.get_content() if part.get_content_maintype() == "text" else part.get_content().decode()
        for part in message.walk()
        if not part.is_multipart()
    )


def _descriptions(message) -> list[str]:
    found = []
    for part in message.walk():
        if part.get_content_type() in ("text/calendar", "application/ics"):
            for event in Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT"):
                found.append(str(event["DESCRIPTION"]))
    return found


def _journey(factories, service, smtp_server, language: str):
    """Confirmation, reminder and the mail about a move of one video appointment, delivered."""
    appointment = book(factories, service, language=language)
    start = appointment.start_at
    mail.enqueue("reminder", appointment, now=start - timedelta(hours=24),
                 dedupe_key=reminders.dedupe_key(appointment, timedelta(hours=24)))  # fmt: skip
    db.session.commit()
    outbox.deliver_due(now=start - timedelta(hours=24))
    booking.reschedule(appointment, START + timedelta(hours=2), now=start - timedelta(hours=23))
    outbox.deliver_due(now=start - timedelta(hours=23))
    received = smtp_server.wait_for(4)
    assert len(received) == 4
    return appointment, {m["Subject"].split(":")[0]: m for m in received}


def test_mails_and_their_calendar_files_name_numbers_and_pin(factories, service, clerk, smtp_server):
    appointment, mails = _journey(factories, service, smtp_server, "de")
    pin = dial_in.formatted(pin_of(appointment))
    line = f"Per Telefon: +49 221 123456 oder +49 221 654321, Konferenz-PIN {pin}#"
    for subject in ("Terminbestätigung", "Terminerinnerung", "Termin verschoben"):
        message = mails[subject]
        text = _texts(message)
        assert line in text, subject
        assert "können Sie auch anrufen und die PIN eingeben" in text
        assert outbox.PIN not in text and "link.invalid" not in text
        (description,) = set(_descriptions(message))  # the inline part and the attachment agree
        assert line in description, subject
    request_to_confirm = mails["Bitte bestätigen Sie Ihren Termin"]
    assert not PHONE_WORDS.search(_texts(request_to_confirm))  # no PIN before the booking is confirmed


def test_english_mails_say_it_in_english(factories, service, clerk, smtp_server):
    appointment, mails = _journey(factories, service, smtp_server, "en")
    pin = dial_in.formatted(pin_of(appointment))
    text = _texts(mails["Appointment confirmed"])
    assert f"By phone: +49 221 123456 or +49 221 654321, conference PIN {pin}#" in text
    assert "you can also call and enter the PIN" in text


def test_without_numbers_no_mail_or_calendar_file_mentions_phones(factories, service, clerk, smtp_server, reconfigure):
    reconfigure(DIAL_IN_NUMBERS="")
    appointment, mails = _journey(factories, service, smtp_server, "de")
    pin = pin_of(appointment)  # the appointment has its PIN all the same
    for subject, message in mails.items():
        text = _texts(message)
        assert not PHONE_WORDS.search(text), subject
        assert pin not in text and dial_in.formatted(pin) not in text


def test_a_cancellation_names_no_pin(factories, service, clerk, smtp_server):
    appointment = book(factories, service)
    booking.cancel(appointment, now=BOOKED_AT + timedelta(hours=1))
    outbox.deliver_due(now=BOOKED_AT + timedelta(hours=1))
    (cancellation,) = [m for m in smtp_server.wait_for(3) if m["Subject"].startswith("Termin abgesagt")]
    assert not PHONE_WORDS.search(_texts(cancellation))


def test_the_join_page_names_numbers_and_pin_while_the_room_can_be_entered(factories, appointment, reconfigure):
    client = factories.staff_client()  # a fresh locale per request (German, then English)
    pin = dial_in.formatted(pin_of(appointment))
    for moment in (START - timedelta(hours=2), DURING):
        with at(moment):
            page = client.get(f"{join_path(appointment)}?lang=de").get_data(as_text=True)
        assert "Per Telefon teilnehmen" in page
        assert f"Per Telefon: +49 221 123456 oder +49 221 654321, Konferenz-PIN {pin}#" in page
    with at(DURING):
        english = client.get(f"{join_path(appointment)}?lang=en").get_data(as_text=True)
    assert f"By phone: +49 221 123456 or +49 221 654321, conference PIN {pin}#" in english
    with at(CLOSES + timedelta(minutes=1)):
        ended = client.get(f"{join_path(appointment)}?lang=de").get_data(as_text=True)
    assert "Konferenz-PIN" not in ended
    reconfigure(DIAL_IN_NUMBERS="")
    with at(DURING):
        plain = client.get(f"{join_path(appointment)}?lang=de").get_data(as_text=True)
    assert not PHONE_WORDS.search(plain) and pin not in plain


def test_the_join_page_of_a_cancelled_appointment_names_no_pin(client, appointment):
    booking.cancel(appointment, now=BOOKED_AT + timedelta(hours=1))
    with at(DURING):
        page = client.get(f"{join_path(appointment)}?lang=de").get_data(as_text=True)
    assert "Konferenz-PIN" not in page


def test_the_downloaded_calendar_file_names_numbers_and_pin(client, appointment, reconfigure):
    pin = dial_in.formatted(pin_of(appointment))
    path = f"/termin/{links.derive_token('manage', appointment.uid)}/termin.ics"
    with at(BOOKED_AT + timedelta(hours=1)):
        data = client.get(path).data
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    assert f"Konferenz-PIN {pin}#" in str(event["DESCRIPTION"])
    reconfigure(DIAL_IN_NUMBERS="")
    with at(BOOKED_AT + timedelta(hours=1)):
        data = client.get(path).data
    assert not PHONE_WORDS.search(Calendar.from_ical(data).to_ical().decode())


def test_the_pin_is_in_no_table_in_clear(factories, service, clerk, smtp_server):
    appointment, _ = _journey(factories, service, smtp_server, "de")
    pin = pin_of(appointment)
    dump = database_dump()
    assert pin not in dump and dial_in.formatted(pin) not in dump
    assert hashlib.sha256(pin.encode()).hexdigest() not in dump
    rows = db.session.scalars(select(OutboxMessage)).all()
    stored = [_texts(email.message_from_string(row.body, policy=default)) for row in rows]
    assert len(stored) == 4 and all(pin not in text and dial_in.formatted(pin) not in text for text in stored)
    assert sum(outbox.PIN in text for text in stored) == 3  # the stored mails keep the placeholder
    # No ten-digit run anywhere in the tables is a PIN of any appointment.
    for candidate in set(re.findall(r"(?<!\d)[1-9]\d{9}(?!\d)", dump)):
        assert db.session.scalar(
            select(Appointment.id).where(Appointment.dial_in_pin_hash == dial_in.pin_hash(candidate))
        ) is None
