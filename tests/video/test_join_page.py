"""The join page a citizen opens from their mail, and the clerk's moderator join."""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select

from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import JoinEvent
from visits.video import jitsi
from visits.web.staff import access as staff_access

from .conftest import CLOSES, DOMAIN, OPENS, START, JitsiServer, at, book, join_path, token_from


def get(client, appointment, when, lang="de"):
    with at(when):
        return client.get(f"{join_path(appointment)}?lang={lang}")


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def visible(response) -> str:
    """What a reader sees: the text without the tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


# -- the citizen's page --------------------------------------------------------------------


def body_without(response, path: str) -> str:
    """The page with its own address blanked out (the language links repeat it)."""
    return response.get_data(as_text=True).replace(path, "PATH")


def test_wrong_link_is_a_plain_404_like_any_other(client, appointment):
    first = client.get("/video/not-a-real-token")
    second = client.get("/video/" + "A" * 43)
    assert first.status_code == second.status_code == 404
    assert body_without(first, "/video/not-a-real-token") == body_without(second, "/video/" + "A" * 43)
    assert client.post("/video/not-a-real-token").status_code == 404


def test_link_of_an_anonymised_appointment_looks_like_a_wrong_one(client, appointment):
    wrong = client.get("/video/" + "B" * 43)
    appointment.anonymised_at = START + timedelta(days=90)
    db.session.commit()
    gone = client.get(join_path(appointment))
    assert gone.status_code == 404
    assert body_without(gone, join_path(appointment)) == body_without(wrong, "/video/" + "B" * 43)


def test_too_early_shows_local_start_and_opening_time_with_a_countdown(client, appointment):
    response = get(client, appointment, OPENS - timedelta(hours=1, minutes=2, seconds=3))
    page = text_of(response)
    assert response.status_code == 200
    assert "09:00–09:30 Uhr" in visible(response)  # Berlin time, whatever the server's zone
    assert "Der Raum öffnet am" in page and "um 08:50 Uhr" in page
    assert 'data-countdown-seconds="3723"' in page and "1:02:03" in page
    assert "js/countdown.js" in page
    assert "<script>" not in page and "http-equiv" not in page  # CSP: no inline scripts
    # Without JavaScript: a plain link reloads the page.
    assert f'href="{join_path(appointment)}"' in page
    assert "Am Videoanruf teilnehmen" not in page


def test_days_ahead_the_page_gives_the_opening_time_without_a_ticking_countdown(client, appointment):
    page = text_of(get(client, appointment, START - timedelta(days=3)))
    assert "noch nicht geöffnet" in page
    assert "data-countdown-seconds" not in page and "countdown.js" not in page


def test_open_room_shows_join_button_and_device_checklist_in_german(client, appointment):
    page = text_of(get(client, appointment, OPENS))
    assert "Der Videoraum ist geöffnet" in page
    assert f'<form method="post" action="{join_path(appointment)}">' in page
    assert "Am Videoanruf teilnehmen" in page
    assert "Kamera und Mikrofon" in page
    assert "Warteraum" in page
    assert "Personalausweis" in page  # the service's documents to have at hand
    assert "jwt" not in page and appointment.room not in page  # the page itself opens no room


def test_the_page_speaks_english_beside_german(client, appointment):
    page = text_of(get(client, appointment, OPENS, lang="en"))
    assert "The video room is open" in page
    assert "Join the video call" in page
    assert "camera and a microphone" in page
    assert '<html lang="en">' in page


def test_ended_appointment_explains_and_offers_a_new_booking(client, appointment):
    page = text_of(get(client, appointment, CLOSES))
    assert "Dieser Videotermin ist vorbei" in page
    assert "Neuen Termin buchen" in page
    assert "<form" not in page


def test_cancelled_appointment_gets_no_token(client, appointment):
    booking.cancel(appointment, now=START - timedelta(days=1))
    page = text_of(get(client, appointment, START))
    assert "Dieser Termin wurde abgesagt" in page
    with at(START):
        response = client.post(join_path(appointment))
    assert response.status_code == 200 and "Location" not in response.headers
    assert "Sie können jetzt nicht am Videoanruf teilnehmen" in text_of(response)
    assert db.session.scalar(select(JoinEvent)) is None


def test_unconfirmed_hold_asks_to_confirm_first_and_gets_no_token(client, factories, service, clerk):
    held = booking.hold(service, START, factories.citizen(), now=START - timedelta(minutes=20)).appointment
    page = text_of(get(client, held, START - timedelta(minutes=6)))  # the hold runs until -5
    assert "Bitte bestätigen Sie zuerst Ihren Termin" in page
    with at(START - timedelta(minutes=6)):
        assert "Location" not in client.post(join_path(held)).headers


def test_rescheduled_away_appointment_gets_no_token_at_the_old_time(client, appointment):
    booking.reschedule(appointment, START + timedelta(days=1), now=START - timedelta(days=2))
    with at(START):
        response = client.post(join_path(appointment))
    page = text_of(response)
    assert "Location" not in response.headers
    assert "Der Videoraum ist noch nicht geöffnet" in page
    assert "Dieser Termin wurde verschoben" in page
    # The same link works at the new time.
    with at(START + timedelta(days=1)):
        assert client.post(join_path(appointment)).status_code == 303


def test_on_site_appointment_says_so_and_mints_nothing(client, factories):
    service = factories.service(video=False, address="Rathaus, Markt 1, Zimmer 12")
    factories.clerk([service])
    appointment = book(factories, service)
    assert appointment.room is None
    page = text_of(get(client, appointment, START))
    assert "Dieser Termin findet vor Ort statt" in page
    assert "Rathaus, Markt 1, Zimmer 12" in page
    with at(START):
        response = client.post(join_path(appointment))
    assert response.status_code == 200 and "Location" not in response.headers


def test_pages_are_not_cached(client, appointment):
    assert get(client, appointment, OPENS).headers["Cache-Control"] == "no-store"


def client_and_appointment(request):
    """For tests that change ``app_config`` first: the ``client`` of the app it makes, and a
    confirmed 30-minute appointment with a clerk."""
    client = request.getfixturevalue("client")
    factories = request.getfixturevalue("factories")
    service = factories.service(duration_minutes=30)
    factories.clerk([service])
    return client, book(factories, service)


def test_join_needs_the_forms_csrf_token(app_config, request):
    app_config["WTF_CSRF_ENABLED"] = True
    client, appointment = client_and_appointment(request)
    with at(START):
        assert client.post(join_path(appointment)).status_code == 400
        page = client.get(join_path(appointment)).get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post(join_path(appointment), data={"csrf_token": csrf})
    assert response.status_code == 303


# -- without a Jitsi secret ---------------------------------------------------------------


def test_without_a_secret_the_room_is_linked_without_token_and_the_log_says_so(
    app_config, request, caplog, monkeypatch
):
    app_config["JITSI_APP_SECRET"] = ""
    monkeypatch.setattr(jitsi, "_status_logged", threading.Event())  # the process warns once: not yet
    caplog.set_level(logging.WARNING, logger="visits.video.jitsi")
    client, appointment = client_and_appointment(request)
    with at(START):
        response = client.post(join_path(appointment))
    assert "JITSI_APP_SECRET is not set" in caplog.text  # at the first request
    assert response.status_code == 303
    assert response.headers["Location"] == f"https://{DOMAIN}/{appointment.room}"
    assert db.session.scalar(select(JoinEvent)).role == "citizen"  # still recorded
    info = jitsi.status()
    assert info["mode"] == "none" and info["tokens"] is False
    assert info["problem_code"] == "no_secret"


def test_unreadable_key_file_shows_a_clear_error_not_a_token(app_config, request, tmp_path):
    app_config.update(JITSI_PRIVATE_KEY_FILE=str(tmp_path / "missing.pem"), JITSI_KEY_ID="kid")
    client, appointment = client_and_appointment(request)
    with at(START):
        response = client.post(join_path(appointment))
    assert response.status_code == 503
    assert "Der Videodienst ist im Moment nicht erreichbar" in text_of(response)
    assert db.session.scalar(select(JoinEvent)) is None
    assert jitsi.status()["problem_code"] == "key_unreadable"


# -- the clerk -----------------------------------------------------------------------------


def log_in(client, user) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session.update(staff_access.session_fields(user, now=clock.now()))


def clerk_join(client, appointment, when, user=None):
    """The clerk's join button, pressed at ``when`` (logged in at that moment, if ``user``)."""
    with at(when):
        if user is not None:
            log_in(client, user)
        return client.post(f"/staff/appointments/{appointment.id}/join")


def test_clerk_joins_the_same_room_as_moderator(client, appointment, clerk):
    response = clerk_join(client, appointment, OPENS, clerk)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"https://{DOMAIN}/{appointment.room}#jwt=")
    claims = JitsiServer().admits(token_from(response.headers["Location"]), appointment.room, OPENS)
    user = claims["context"]["user"]
    assert user["moderator"] is True
    assert user["name"] == "Clara Clerk"
    assert user["id"] == f"staff-{clerk.id}"
    assert "lobby" not in user
    event = db.session.scalar(select(JoinEvent))
    assert (event.role, event.staff_id, event.at) == ("clerk", clerk.id, OPENS)
    db.session.refresh(appointment)
    assert appointment.clerk_joined_at == OPENS and appointment.citizen_joined_at is None


def test_another_clerk_gets_404(client, factories, service, appointment):
    stranger = factories.clerk([service])
    assert clerk_join(client, appointment, START, stranger).status_code == 404
    assert clerk_join(client, type(appointment)(id=999999), START, stranger).status_code == 404
    assert db.session.scalar(select(JoinEvent)) is None


def test_an_admin_may_join_as_moderator(client, factories, appointment):
    admin = factories.admin(name="Ada Admin")
    response = clerk_join(client, appointment, START, admin)
    claims = jwt.decode(token_from(response.headers["Location"]), options={"verify_signature": False})
    assert claims["context"]["user"]["moderator"] is True
    assert claims["context"]["user"]["name"] == "Ada Admin"


def test_clerk_join_needs_a_login(client, appointment):
    response = clerk_join(client, appointment, START)
    # Flask-Login's redirect to the login page (login_view), coming back here afterwards.
    assert response.status_code == 302, (response.status, response.location, response.text[:500])
    assert response.location.startswith("/staff/login?next="), response.location
    assert "jwt=" not in response.location


@pytest.mark.parametrize("when", [OPENS - timedelta(seconds=1), CLOSES], ids=["too early", "ended"])
def test_clerk_gets_no_token_outside_the_window(client, appointment, clerk, when):
    response = clerk_join(client, appointment, when, clerk)
    assert response.status_code == 200 and "Location" not in response.headers
    assert "Der Videoraum ist" in text_of(response)
