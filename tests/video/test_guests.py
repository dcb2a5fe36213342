"""A third person in a video appointment: the citizen (or the clerk) invites an interpreter or
a support person, who gets a mail with a link of their own and enters the same room as a
non-moderator waiting in the lobby. Mails go through a real SMTP server; tokens are decoded
as a Jitsi server with token authentication decodes them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from visits.admin import retention
from visits.booking import guests, links
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.mail import outbox
from visits.models import AppointmentGuest, JoinEvent
from visits.web.staff import access as staff_access

from .conftest import BOOKED_AT, CLOSES, DOMAIN, OPENS, START, JitsiServer, at, book, join_path, token_from

INVITED_AT = BOOKED_AT + timedelta(hours=1)
INTERPRETER = {
    "name": "Ingrid Interpretin",
    "email": "ingrid@dolmetsch.example",
    "role": "sign_language",
    "language": "en",
}


def manage_path(appointment) -> str:
    return f"/termin/{links.derive_token('manage', appointment.uid)}"


def invite(client, appointment, when=INVITED_AT, **fields):
    """The citizen fills in the invitation form on their manage page at ``when``."""
    with at(when):
        return client.post(
            f"{manage_path(appointment)}/gast?lang=de", data={**INTERPRETER, **fields}, follow_redirects=True
        )


def deliver(smtp_server, when) -> list:
    """Send what is due at ``when``; every mail the server has received so far."""
    outbox.deliver_due(now=when)
    expected = db.session.scalar(
        select(db.func.count()).select_from(outbox.OutboxMessage).where(outbox.OutboxMessage.status == "sent")
    )
    return smtp_server.wait_for(expected)


def mails_to(messages, address: str) -> list:
    return [m for m in messages if m["To"].addresses[0].addr_spec == address]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def guest_link_in(message) -> str:
    found = re.search(r"https://visits\.test(/video/[A-Za-z0-9_-]+)", text_of(message))
    assert found, text_of(message)
    return found.group(1)


def visible(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def log_in(client, user) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session.update(staff_access.session_fields(user, now=clock.now()))


def press_join(client, path, when):
    with at(when):
        return client.post(path)


def claims_of(response, appointment, when) -> dict:
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    assert location.startswith(f"https://{DOMAIN}/{appointment.room}#jwt=")
    claims = JitsiServer().admits(token_from(location), appointment.room, when)
    assert claims is not None
    return claims


def active(appointment) -> AppointmentGuest | None:
    db.session.expire_all()
    return guests.active_guest(appointment)


# -- the journey ---------------------------------------------------------------------------


def test_citizen_interpreter_and_clerk_meet_in_one_room_each_with_their_own_rights(
    client, factories, smtp_server, appointment, clerk
):
    staff = factories.staff_client()  # the clerk, at their own desk
    page = invite(client, appointment)
    assert "Ingrid Interpretin ist eingeladen" in visible(page)

    (invitation,) = mails_to(deliver(smtp_server, INVITED_AT), INTERPRETER["email"])
    body = text_of(invitation)
    assert invitation["Subject"].strip().startswith("Invitation to a video appointment")  # the inviter chose English
    assert "Erika Mustermann" in body.replace("\u200b", "") and "Sign-language interpreter" in body
    assert "9:00" in body  # English: 9:00 AM
    guest_path = guest_link_in(invitation)
    assert guest_path != join_path(appointment)

    with at(START - timedelta(days=1)):
        welcome = client.get(f"{guest_path}?lang=de")
    assert welcome.status_code == 200 and "Willkommen, Ingrid Interpretin" in visible(welcome)

    guest_entry = claims_of(press_join(client, guest_path, OPENS), appointment, OPENS)
    citizen_entry = claims_of(press_join(client, join_path(appointment), OPENS), appointment, OPENS)
    with at(OPENS):
        log_in(staff, clerk)
        clerk_entry = claims_of(staff.post(f"/staff/appointments/{appointment.id}/join"), appointment, OPENS)

    user = guest_entry["context"]["user"]
    assert guest_entry["room"] == citizen_entry["room"] == clerk_entry["room"] == appointment.room
    assert user["moderator"] is False and user["lobby"] is True and user["affiliation"] == "member"
    assert user["name"] == "Ingrid Interpretin" and "email" not in user
    assert user["id"].startswith("guest-") and "ingrid" not in user["id"]
    assert user["id"] != citizen_entry["context"]["user"]["id"]
    assert clerk_entry["context"]["user"]["moderator"] is True
    roles = sorted(e.role for e in db.session.scalars(select(JoinEvent)))
    assert roles == ["citizen", "clerk", "guest"]


def test_the_guests_token_is_minted_only_inside_the_rooms_window(client, smtp_server, appointment):
    invite(client, appointment)
    guest_path = guest_link_in(mails_to(deliver(smtp_server, INVITED_AT), INTERPRETER["email"])[0])

    too_early = press_join(client, guest_path, OPENS - timedelta(seconds=1))
    assert too_early.status_code == 200 and "#jwt=" not in too_early.headers.get("Location", "")
    late = START + timedelta(minutes=55)
    claims = claims_of(press_join(client, guest_path, late), appointment, late)
    assert claims["exp"] <= int(CLOSES.timestamp())
    assert press_join(client, guest_path, CLOSES).status_code == 200  # closed: the page, no token
    assert [e.role for e in db.session.scalars(select(JoinEvent))] == ["guest"]


def test_the_guests_email_goes_into_the_token_only_when_asked_for(
    client, reconfigure, smtp_server, appointment
):
    invite(client, appointment)
    guest_path = guest_link_in(mails_to(deliver(smtp_server, INVITED_AT), INTERPRETER["email"])[0])
    reconfigure(JITSI_TOKEN_EMAIL=True)
    user = claims_of(press_join(client, guest_path, START), appointment, START)["context"]["user"]
    assert user["email"] == INTERPRETER["email"] and user["moderator"] is False


def test_a_second_guest_is_refused_with_a_clear_message(client, appointment):
    invite(client, appointment)
    page = invite(client, appointment, name="Zweite Person", email="zweite@example.org")
    assert "Nur eine weitere Person kann am Videoanruf teilnehmen" in visible(page)
    assert active(appointment).name == "Ingrid Interpretin"
    assert db.session.scalar(select(db.func.count()).select_from(AppointmentGuest)) == 1


def test_the_database_holds_one_guest_per_appointment_even_past_the_rule(appointment):
    guests.invite(appointment, name="Eins", email="eins@example.org", role="support", now=INVITED_AT)
    with pytest.raises(guests.GuestLimitReached):
        guests.invite(appointment, name="Zwei", email="zwei@example.org", role="other", now=INVITED_AT)
    assert db.session.scalar(select(db.func.count()).select_from(AppointmentGuest)) == 1


def test_a_guest_can_be_invited_only_to_a_confirmed_video_appointment_not_yet_over(
    client, factories, appointment
):
    held = booking.hold(appointment.service, START + timedelta(hours=1), factories.citizen(), now=BOOKED_AT).appointment
    refusal = "nur zu einem bestätigten Videotermin eingeladen werden"
    assert refusal in visible(invite(client, held))  # not confirmed yet
    assert guests.active_guest(held) is None
    assert refusal in visible(invite(client, appointment, when=CLOSES))  # the room has closed
    assert active(appointment) is None
    assert "Ingrid Interpretin ist eingeladen" in visible(invite(client, appointment, when=START))  # during the call


def test_removing_the_guest_kills_their_link_and_tells_them(client, smtp_server, appointment):
    invite(client, appointment)
    guest_path = guest_link_in(mails_to(deliver(smtp_server, INVITED_AT), INTERPRETER["email"])[0])
    later = INVITED_AT + timedelta(hours=1)
    with at(later):
        page = client.post(f"{manage_path(appointment)}/gast/entfernen?lang=de", follow_redirects=True)
    assert "Die Einladung ist zurückgenommen" in visible(page)

    with at(later):
        assert client.get(guest_path).status_code == 404
    assert press_join(client, guest_path, START).status_code == 404
    farewell = mails_to(deliver(smtp_server, later), INTERPRETER["email"])[-1]
    assert farewell["Subject"].strip().startswith("You are no longer invited")
    assert "/video/" not in text_of(farewell)
    # the citizen may invite someone else now
    invite(client, appointment, when=later, name="Sven Support", email="sven@example.org", role="support")
    assert active(appointment).name == "Sven Support"


def test_a_cancelled_appointments_guest_link_answers_404_and_the_guest_is_told(
    client, smtp_server, appointment
):
    invite(client, appointment, language="de")
    guest_path = guest_link_in(mails_to(deliver(smtp_server, INVITED_AT), INTERPRETER["email"])[0])
    booking.cancel(appointment, now=INVITED_AT + timedelta(hours=2))

    with at(INVITED_AT + timedelta(hours=2)):
        assert client.get(guest_path).status_code == 404
    notice = mails_to(deliver(smtp_server, INVITED_AT + timedelta(hours=2)), INTERPRETER["email"])[-1]
    assert notice["Subject"].strip().startswith("Videotermin abgesagt")
    assert "findet nicht statt" in text_of(notice)


def test_rescheduling_tells_the_guest_the_new_time(client, smtp_server, appointment):
    invite(client, appointment)
    deliver(smtp_server, INVITED_AT)
    booking.reschedule(appointment, START + timedelta(hours=2), now=INVITED_AT + timedelta(hours=1))
    moved = mails_to(deliver(smtp_server, INVITED_AT + timedelta(hours=1)), INTERPRETER["email"])[-1]
    assert moved["Subject"].strip().startswith("Video appointment moved")
    body = text_of(moved)
    assert "11:00" in body and "Previously" in body
    assert "/video/" in body  # the same link still works, at the new time


def test_another_appointments_manage_link_cannot_touch_this_guest(client, factories, service, appointment):
    invite(client, appointment)
    other = book(factories, service, START + timedelta(hours=2), name="Otto Other", email="otto@example.org")
    with at(INVITED_AT):
        page = client.post(f"{manage_path(other)}/gast/entfernen?lang=de", follow_redirects=True)
    assert "Zu diesem Termin ist niemand eingeladen" in visible(page)
    assert "Ingrid" not in visible(page)
    assert active(appointment).name == "Ingrid Interpretin"


# -- the clerk's side ----------------------------------------------------------------------


def test_the_clerk_invites_and_sees_who_is_invited_by_whom(client, factories, smtp_server, appointment, clerk):
    with at(INVITED_AT):
        log_in(client, clerk)
        response = client.post(
            f"/staff/appointments/{appointment.id}/guest?lang=de",
            data={**INTERPRETER, "role": "spoken_language", "language": "de"},
            follow_redirects=True,
        )
    page = visible(response)
    assert "Ingrid Interpretin" in page and "Lautsprachdolmetscher/in" in page and "Clara Clerk" in page
    (invitation,) = mails_to(deliver(smtp_server, INVITED_AT), INTERPRETER["email"])
    assert "Clara Clerk" in text_of(invitation).replace("\u200b", "")

    with at(INVITED_AT):
        log_in(client, clerk)
        client.post(f"/staff/appointments/{appointment.id}/guest/remove")
    assert active(appointment) is None


def test_a_clerk_cannot_invite_to_another_clerks_appointment(client, factories, service, appointment):
    stranger = factories.clerk([service], name="Fremde Kollegin")
    with at(INVITED_AT):
        log_in(client, stranger)
        response = client.post(f"/staff/appointments/{appointment.id}/guest", data=INTERPRETER)
    assert response.status_code == 404
    assert active(appointment) is None


# -- retention -----------------------------------------------------------------------------


def test_the_guests_data_is_erased_with_the_appointments(client, smtp_server, appointment):
    invite(client, appointment)
    guest_path = guest_link_in(mails_to(deliver(smtp_server, INVITED_AT), INTERPRETER["email"])[0])
    assert retention.anonymise_due(now=START + timedelta(days=400)) == 1
    db.session.expire_all()
    guest = db.session.scalar(select(AppointmentGuest))
    assert guest.name == "" and guest.email is None
    with at(START + timedelta(days=400)):
        assert client.get(guest_path).status_code == 404
