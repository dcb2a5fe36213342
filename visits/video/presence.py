"""Who was in a video appointment's room and lobby: Jitsi tells us, not button presses.

Prosody's event_sync component (jitsi-contrib/prosody-plugins; deploy/jitsi/) posts an
event when an occupant joins or leaves a room and when a room is destroyed. Two instances
report: one for the conference rooms (``place`` "room") and one for their lobbies
("lobby"). Each occupant carries the ``id`` of the token they entered with, which tells the
citizen (``jitsi.citizen_id``), the clerk (``staff-<id>``) and a guest (``guest-…``) apart;
anyone else (a dial-in caller) is "other".

What is done with it: the agenda shows the citizen "in the lobby", "in the call" or "left";
the no-show job (``visits.booking.no_shows``) tells a citizen who never came (pressing
"join" is not coming) from a clerk who never came, and marks a call both were in as
attended. Presence is used only when JITSI_EVENTS_TOKEN is set (the deployment reports it);
without it the job goes by the join buttons as before.

Events are idempotent: event_sync retries a POST that timed out, so a stay is one row
(unique by appointment, place, occupant and joined_at), and a "left" without its "joined"
(lost) still records the stay."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from visits import settings
from visits.extensions import db, transaction
from visits.models import Appointment, RoomPresence
from visits.video import jitsi

PLACES = ("room", "lobby")
EVENTS = ("occupant/joined", "occupant/left", "room/created", "room/destroyed")

# How long citizen and clerk must have been in the room together for the job to call the
# visit attended (a call that connected, not two people passing each other).
TOGETHER_AT_LEAST = timedelta(minutes=1)
# Prosody's timestamps are believed within this distance of our clock, else ours is used.
CLOCK_TOLERANCE = timedelta(hours=12)


class Where(StrEnum):
    """Where the citizen is, as the agenda shows it."""

    NOT_SEEN = "not_seen"
    IN_LOBBY = "in_lobby"
    IN_CALL = "in_call"
    LEFT = "left"


def enabled() -> bool:
    """The deployment reports presence (JITSI_EVENTS_TOKEN is set)."""
    return bool(settings.current().jitsi_events_token)


def _instant(value: Any, now: datetime) -> datetime:
    try:
        moment = datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
    return moment if abs(moment - now) <= CLOCK_TOLERANCE else now


def _appointment(room_name: Any) -> Appointment | None:
    if not isinstance(room_name, str) or not room_name or len(room_name) > 64:
        return None
    return db.session.scalar(select(Appointment).where(Appointment.room == room_name.lower()))


def who_is(appointment: Appointment, occupant_id: Any) -> str:
    """citizen, clerk, guest or other, from the id in the occupant's token."""
    if not isinstance(occupant_id, str):
        return "other"
    if occupant_id == jitsi.citizen_id(appointment):
        return "citizen"
    if occupant_id.startswith("staff-"):
        return "clerk"
    if occupant_id.startswith("guest-"):
        return "guest"
    return "other"


@dataclass(frozen=True)
class Event:
    place: str  # room | lobby
    kind: str  # one of EVENTS
    body: Mapping[str, Any]


def record(event: Event, *, now: datetime) -> bool:
    """Store what ``event`` says; False when it concerns no appointment of ours (ignored)."""
    if event.place not in PLACES or event.kind not in EVENTS:
        raise ValueError(event)
    appointment = _appointment(event.body.get("room_name"))
    if appointment is None:
        return False
    if event.kind == "room/created":
        return True  # nothing to keep: occupants tell us everything
    if event.kind == "room/destroyed":
        _close_all(appointment, event.place, _instant(event.body.get("destroyed_at"), now))
        return True
    occupant = event.body.get("occupant")
    if not isinstance(occupant, Mapping) or not isinstance(occupant.get("occupant_jid"), str):
        return False
    jid = occupant["occupant_jid"][:300]
    joined_at = _instant(occupant.get("joined_at"), now)
    left_at = _instant(occupant.get("left_at"), now) if event.kind == "occupant/left" else None
    stay = RoomPresence(
        appointment_id=appointment.id,
        place=event.place,
        who=who_is(appointment, occupant.get("id")),
        occupant_jid=jid,
        joined_at=joined_at,
        left_at=left_at,
    )
    try:
        with transaction():
            db.session.add(stay)
    except IntegrityError:  # the same stay again (a retried POST, or its "left")
        if left_at is not None:
            with transaction():
                db.session.execute(
                    update(RoomPresence)
                    .where(
                        RoomPresence.appointment_id == appointment.id,
                        RoomPresence.place == event.place,
                        RoomPresence.occupant_jid == jid,
                        RoomPresence.joined_at == joined_at,
                        RoomPresence.left_at.is_(None),
                    )
                    .values(left_at=left_at)
                )
    return True


def _close_all(appointment: Appointment, place: str, at: datetime) -> None:
    """The room (or lobby) is gone: whoever we still think is in it has left."""
    with transaction():
        db.session.execute(
            update(RoomPresence)
            .where(
                RoomPresence.appointment_id == appointment.id,
                RoomPresence.place == place,
                RoomPresence.left_at.is_(None),
            )
            .values(left_at=at)
        )


# -- reading it ---------------------------------------------------------------------------


def citizen_whereabouts(appointment_ids: Iterable[int]) -> dict[int, Where]:
    """Where the citizen of each appointment is (one query for a whole agenda)."""
    ids = list(appointment_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(RoomPresence.appointment_id, RoomPresence.place, RoomPresence.left_at).where(
            RoomPresence.appointment_id.in_(ids), RoomPresence.who == "citizen"
        )
    ).all()
    found: dict[int, Where] = {}
    rank = {Where.NOT_SEEN: 0, Where.LEFT: 1, Where.IN_LOBBY: 2, Where.IN_CALL: 3}
    for appointment_id, place, left_at in rows:
        here = Where.IN_CALL if place == "room" else Where.IN_LOBBY
        where = Where.LEFT if left_at is not None else here
        if rank[where] > rank[found.get(appointment_id, Where.NOT_SEEN)]:
            found[appointment_id] = where
    return found


def _stays(appointment_id: int, who: str, place: str | None = None) -> list[RoomPresence]:
    statement = select(RoomPresence).where(RoomPresence.appointment_id == appointment_id, RoomPresence.who == who)
    if place is not None:
        statement = statement.where(RoomPresence.place == place)
    return list(db.session.scalars(statement))


def came(appointment_id: int, who: str) -> bool:
    """``who`` was there: in the room, or (a citizen) waiting in the lobby."""
    places = None if who == "citizen" else "room"
    return bool(_stays(appointment_id, who, places))


def together(appointment_id: int, *, now: datetime) -> timedelta:
    """How long the citizen and the clerk were in the room at the same time."""
    citizen = _stays(appointment_id, "citizen", "room")
    clerk = _stays(appointment_id, "clerk", "room")
    total = timedelta(0)
    for a in citizen:
        for b in clerk:
            start = max(a.joined_at, b.joined_at)
            end = min(a.left_at or now, b.left_at or now)
            if end > start:
                total += end - start
    return total
