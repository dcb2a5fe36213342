"""Presence from Jitsi: Prosody's event_sync posts who enters and leaves a room and its
lobby; the agenda shows where the citizen is, and the no-show job tells a citizen who never
came (pressing "join" is not coming) from a clerk who never came, and marks calls attended."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import Factories
from visits import jobs
from visits.booking import operations as booking
from visits.extensions import db
from visits.models import RoomPresence, Status
from visits.video import jitsi

from .conftest import START, at

TOKEN = "event-sync-token-0123456789abcdef"
MIN = timedelta(minutes=1)
CONFERENCE = "conference.meet.visits.test"


@pytest.fixture
def app_config(app_config):
    app_config["JITSI_EVENTS_TOKEN"] = TOKEN
    return app_config


def post(client, place: str, kind: str, body: dict, token: str = TOKEN):
    """Post as Prosody does, at the moment the event happened (its own timestamp)."""
    occupant = body.get("occupant") or {}
    moment = occupant.get("left_at") or occupant.get("joined_at") or body.get("destroyed_at")
    with at(datetime.fromtimestamp(moment, UTC)) if moment else nullcontext():
        return client.post(
            f"/jitsi/presence/{place}/events/{kind}", json=body, headers={"Authorization": f"Bearer {token}"}
        )


def occupant_event(appointment, who_id: str, *, jid: str, joined, left=None) -> dict:
    occupant = {"occupant_jid": jid, "id": who_id, "name": "someone", "joined_at": int(joined.timestamp())}
    if left is not None:
        occupant["left_at"] = int(left.timestamp())
    return {
        "event_name": "muc-occupant-left" if left else "muc-occupant-joined",
        "room_name": appointment.room,
        "room_jid": f"{appointment.room}@{CONFERENCE}",
        "is_breakout": False,
        "active_occupants_count": 1,
        "occupant": occupant,
    }


def citizen_enters(client, appointment, place: str, joined, left=None):
    body = occupant_event(
        appointment, jitsi.citizen_id(appointment), jid=f"c1@meet.visits.test/{place}", joined=joined, left=left
    )
    return post(client, place, "occupant/left" if left else "occupant/joined", body)


def clerk_enters(client, appointment, clerk, joined, left=None):
    body = occupant_event(appointment, f"staff-{clerk.id}", jid="k1@meet.visits.test/room", joined=joined, left=left)
    return post(client, "room", "occupant/left" if left else "occupant/joined", body)


def stays() -> int:
    return db.session.scalar(select(func.count()).select_from(RoomPresence))


# -- the endpoint ---------------------------------------------------------------------------


def test_without_a_token_setting_there_is_no_endpoint(reconfigure, client, appointment):
    reconfigure(JITSI_EVENTS_TOKEN="")
    assert citizen_enters(client, appointment, "lobby", START).status_code == 404


def test_a_wrong_token_is_refused_and_nothing_is_recorded(client, appointment):
    body = occupant_event(appointment, jitsi.citizen_id(appointment), jid="c@x/y", joined=START)
    assert post(client, "lobby", "occupant/joined", body, token="guessed").status_code == 401
    assert client.post("/jitsi/presence/lobby/events/occupant/joined", json=body).status_code == 401
    assert stays() == 0


def test_a_room_that_is_no_appointment_is_acknowledged_and_ignored(client, appointment):
    body = occupant_event(appointment, "x", jid="c@x/y", joined=START)
    body["room_name"] = "some-other-room"
    assert post(client, "room", "occupant/joined", body).status_code == 204
    assert stays() == 0


def test_a_retried_event_is_one_stay_and_its_leaving_closes_it(client, appointment):
    for _ in range(2):  # event_sync retries a POST that timed out
        assert citizen_enters(client, appointment, "room", START).status_code == 204
    assert citizen_enters(client, appointment, "room", START, left=START + 5 * MIN).status_code == 204
    (stay,) = db.session.scalars(select(RoomPresence)).all()
    assert (stay.who, stay.place, stay.joined_at, stay.left_at) == ("citizen", "room", START, START + 5 * MIN)


def test_a_destroyed_room_ends_every_stay_in_it(client, appointment, clerk):
    clerk_enters(client, appointment, clerk, START)
    destroyed = {"event_name": "muc-room-destroyed", "room_name": appointment.room, "destroyed_at": int((START + 9 * MIN).timestamp())}
    assert post(client, "room", "room/destroyed", destroyed).status_code == 204
    assert db.session.scalar(select(RoomPresence.left_at)) == START + 9 * MIN


# -- the agenda -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "shown"),
    [("lobby", "Wartet im Warteraum"), ("room", "Ist im Gespräch"), ("left", "Hat das Gespräch verlassen")],
)
def test_the_agenda_shows_where_the_citizen_is(app, client, appointment, clerk, where, shown):
    staff = Factories(app).staff_client()
    with at(START - MIN):  # the clerk logs in that morning
        Factories.login(staff, clerk)
    if where == "left":
        citizen_enters(client, appointment, "room", START, left=START + 3 * MIN)
    else:
        citizen_enters(client, appointment, where, START)
    with at(START + 4 * MIN):
        page = staff.get(f"/staff/?date={START.date().isoformat()}&lang=de").get_data(as_text=True)
    assert shown in page


# -- the no-show job ------------------------------------------------------------------------


def test_pressing_join_is_not_coming_a_citizen_never_in_the_room_is_a_no_show(client, appointment, clerk):
    booking.record_join(appointment, "citizen", now=START)  # pressed the button, never arrived
    clerk_enters(client, appointment, clerk, START, left=START + 20 * MIN)
    assert jobs.mark_no_shows(appointment.end_at + 60 * MIN) == 1
    db.session.refresh(appointment)
    assert appointment.status == Status.NO_SHOW


def test_a_citizen_kept_waiting_in_the_lobby_by_a_clerk_who_never_came_is_no_no_show(client, appointment, clerk):
    booking.record_join(appointment, "clerk", clerk, now=START)  # the clerk pressed join, never arrived
    citizen_enters(client, appointment, "lobby", START, left=START + 25 * MIN)
    assert jobs.mark_no_shows(appointment.end_at + 60 * MIN) == 0
    db.session.refresh(appointment)
    assert appointment.status == Status.CONFIRMED  # left to the clerk


def test_citizen_and_clerk_in_the_call_together_is_attended(client, appointment, clerk):
    clerk_enters(client, appointment, clerk, START - 2 * MIN, left=START + 25 * MIN)
    citizen_enters(client, appointment, "lobby", START, left=START + MIN)
    citizen_enters(client, appointment, "room", START + MIN, left=START + 24 * MIN)
    assert jobs.mark_no_shows(appointment.end_at + 60 * MIN) == 1
    db.session.refresh(appointment)
    assert appointment.status == Status.ATTENDED


def test_a_citizen_waiting_in_the_lobby_while_the_clerk_was_in_the_room_is_left_to_the_clerk(
    client, appointment, clerk
):
    clerk_enters(client, appointment, clerk, START, left=START + 20 * MIN)
    citizen_enters(client, appointment, "lobby", START + MIN, left=START + 15 * MIN)
    assert jobs.mark_no_shows(appointment.end_at + 60 * MIN) == 0
    db.session.refresh(appointment)
    assert appointment.status == Status.CONFIRMED


def test_calls_left_to_the_clerk_do_not_keep_the_sweep_from_newer_ones(client, factories, service, clerk):
    """Two citizens waited in the lobby (left to the clerk, so still candidates on every run)
    ahead of a newer call the citizen never came to: a sweep with a batch of two reaches it."""
    from visits.booking import no_shows

    from .conftest import book

    waited = [
        book(factories, service, START + i * 30 * MIN, name=f"Wartende {i}", email=f"lobby{i}@example.org")
        for i in range(2)
    ]
    never_came = book(factories, service, START + 60 * MIN, name="Nie Da", email="nie@example.org")
    for appointment in waited:
        clerk_enters(client, appointment, clerk, appointment.start_at, left=appointment.start_at + 20 * MIN)
        citizen_enters(client, appointment, "lobby", appointment.start_at + MIN, left=appointment.start_at + 15 * MIN)
    clerk_enters(client, never_came, clerk, never_came.start_at, left=never_came.start_at + 20 * MIN)

    later = never_came.end_at + 60 * MIN
    with at(later):
        assert no_shows.sweep(now=later, batch_size=2) == 1
    for appointment in (*waited, never_came):
        db.session.refresh(appointment)
    assert [a.status for a in waited] == [Status.CONFIRMED, Status.CONFIRMED]
    assert never_came.status == Status.NO_SHOW
