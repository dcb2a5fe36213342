"""Fixtures for the video tests: a video service, its clerk, a confirmed appointment, and
what a Jitsi server with token authentication checks (prosody mod_auth_token)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
import pytest
import time_machine

from visits.booking import links
from visits.booking import operations as booking
from visits.models import Appointment

from .. import days
from ..conftest import berlin

# A Monday well in the future; the booking is made a week before it.
MONDAY = days.BOOKING_MONDAY
BOOKED_AT = berlin(MONDAY - timedelta(days=7), 9)
START = berlin(MONDAY, 9)  # 09:00 Berlin, 30 minutes
OPENS = START - timedelta(minutes=10)  # JITSI_OPENS_MINUTES_BEFORE default
CLOSES = START + timedelta(minutes=30 + 30)  # end + JITSI_GRACE_MINUTES_AFTER default

SECRET = "jitsi-test-secret-0123456789abcdef"  # as tests/conftest.py configures
APP_ID = "visits-test"
DOMAIN = "meet.visits.test"


@pytest.fixture
def service(factories):
    return factories.service(duration_minutes=30, video=True)


@pytest.fixture
def clerk(factories, service):
    return factories.clerk([service], name="Clara Clerk", email="clara@stadt.test")


def book(factories, service, start: datetime = START, **citizen) -> Appointment:
    """A confirmed appointment, booked the way a citizen books it (hold, then confirm)."""
    appointment = booking.hold(service, start, factories.citizen(**citizen), now=BOOKED_AT).appointment
    return booking.confirm(appointment, now=BOOKED_AT + timedelta(minutes=2))


@pytest.fixture
def appointment(factories, service, clerk) -> Appointment:
    return book(factories, service, name="Erika Mustermann", email="erika@example.org")


def join_path(appointment: Appointment) -> str:
    return f"/video/{links.join_token(appointment)}"


def at(moment: datetime):
    """Travel to ``moment`` (the clock stands still there)."""
    return time_machine.travel(moment, tick=False)


def token_from(location: str) -> str:
    prefix, _, token = location.partition("#jwt=")  # the fragment: never sent to a server
    assert prefix.startswith("https://") and token, location
    return token


@dataclass(frozen=True)
class JitsiServer:
    """What a Jitsi deployment with token authentication checks before letting someone
    into a room (docs/checklist.md, token-alg to token-window): signature with *its* key and only its algorithm (so never
    ``alg: none``), issuer, audience, subject, nbf/exp at the moment of joining, and the
    room claim equal to the room's name."""

    key: object = SECRET
    algorithm: str = "HS256"
    issuer: str = APP_ID
    audience: str = APP_ID
    subject: str = DOMAIN

    def admits(self, token: str, room: str, when: datetime) -> dict | None:
        """The token's claims if this server lets the bearer into ``room`` at ``when``."""
        try:
            with at(when):
                claims = jwt.decode(
                    token,
                    self.key,
                    algorithms=[self.algorithm],
                    audience=self.audience,
                    issuer=self.issuer,
                    options={"require": ["exp", "nbf", "iss", "aud", "sub", "room"]},
                )
        except jwt.PyJWTError:
            return None
        if claims["sub"] != self.subject:
            return None
        if claims["room"] == "*" or claims["room"].lower() != room:
            return None
        return claims
