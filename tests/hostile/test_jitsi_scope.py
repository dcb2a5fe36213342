"""Jitsi room and token scope: whatever a citizen's link is combined with
(extra form fields, query parameters, a staff login in the same browser), it yields a token
for exactly its own room, in the citizen's name, never a moderator's. More in
tests/video/test_tokens.py (room per token, signature, audience, time window)."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
import time_machine

from ..conftest import berlin
from .conftest import log_in

SECRET = "jitsi-test-secret-0123456789abcdef"  # tests/conftest.py
HOSTILE_FIELDS = {
    "moderator": "true",
    "role": "moderator",
    "affiliation": "owner",
    "room": "*",
    "name": "Clara Clerk",
    "email": "clara@stadt.test",
    "lobby": "false",
}


def claims_of(response) -> dict:
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    _, _, token = location.partition("#jwt=")
    return jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience="visits-test",
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},  # time: tests/video
    ), location


@pytest.mark.parametrize("who", ["nobody", "clerk", "admin"])
def test_a_citizens_link_never_yields_a_moderator_token(client, world, who):
    with time_machine.travel(berlin(world.monday, 9) + timedelta(minutes=1), tick=False):
        log_in(client, {"nobody": None, "clerk": world.clerk, "admin": world.admin}[who])
        response = client.post(f"/video/{world.join_token}", query_string=HOSTILE_FIELDS, data=HOSTILE_FIELDS)
    claims, location = claims_of(response)
    user = claims["context"]["user"]
    assert user["moderator"] is False and user.get("affiliation") != "owner"
    assert user["lobby"] is True
    assert user["name"] == "Erika Mustermann" and "email" not in user
    assert claims["room"] == world.appointment.room != "*"
    assert location.startswith(f"https://meet.visits.test/{world.appointment.room}#jwt=")


def test_the_clerk_gets_a_moderator_token_only_through_the_staff_route(client, world):
    """The positive side: the same room, as moderator, only through the login-protected POST."""
    with time_machine.travel(berlin(world.monday, 9) + timedelta(minutes=1), tick=False):
        log_in(client, world.clerk)  # a session begun then (it would be idle-expired otherwise)
        response = client.post(f"/staff/appointments/{world.appointment.id}/join")
    claims, _ = claims_of(response)
    assert claims["context"]["user"]["moderator"] is True
    assert claims["room"] == world.appointment.room


def test_the_manage_link_is_no_join_link(client, world):
    with time_machine.travel(berlin(world.monday, 9) + timedelta(minutes=1), tick=False):
        assert client.post(f"/video/{world.manage_token}").status_code == 404
