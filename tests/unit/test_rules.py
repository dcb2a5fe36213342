"""What may be done with an appointment now (visits/booking/rules.py), at the boundaries:
exactly when the hold runs out, exactly at the start, exactly at the end plus the grace
time. Pure: no database, no app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from tests.days import BOOKING_MONDAY, NOW, berlin
from visits.booking import rules
from visits.models import Status

START = berlin(BOOKING_MONDAY, 10)
END = START + timedelta(minutes=30)
HOLD_UNTIL = NOW + timedelta(minutes=15)
OPENS = timedelta(minutes=10)
GRACE = timedelta(minutes=15)
SECOND = timedelta(seconds=1)


@dataclass
class Visit:
    status: str
    hold_expires_at: datetime | None = None
    start_at: datetime = START
    end_at: datetime = END
    is_video: bool = True


def held(**kwargs) -> Visit:
    return Visit(Status.HELD, hold_expires_at=HOLD_UNTIL, **kwargs)


def join(visit: Visit, now: datetime) -> bool:
    return rules.can_join(visit, now, opens_before=OPENS, grace_after=GRACE)


@pytest.mark.parametrize(
    ("visit", "now", "expected"),
    [
        (held(), HOLD_UNTIL - SECOND, True),
        (held(), HOLD_UNTIL, True),  # ran out: still confirmed if nobody took the slot
        (Visit(Status.EXPIRED), NOW, True),
        (Visit(Status.CONFIRMED), NOW, False),  # nothing left to confirm (the use case: a no-op)
        (Visit(Status.CANCELLED), NOW, False),
        (held(start_at=NOW + timedelta(minutes=5), end_at=NOW + timedelta(minutes=35)), NOW + timedelta(minutes=5), False),
    ],
    ids=["hold-valid", "at-hold-expiry", "swept", "confirmed", "cancelled", "at-start"],
)
def test_can_confirm(visit, now, expected):
    assert rules.can_confirm(visit, now) is expected


@pytest.mark.parametrize("rule", [rules.can_cancel, rules.can_reschedule], ids=["cancel", "reschedule"])
@pytest.mark.parametrize(
    ("visit", "now", "expected"),
    [
        (held(), HOLD_UNTIL - SECOND, True),
        (held(), HOLD_UNTIL, False),  # run out but not swept yet: as if swept
        (Visit(Status.EXPIRED), NOW, False),
        (Visit(Status.CONFIRMED), START - SECOND, True),
        (Visit(Status.CONFIRMED), START, False),
        (Visit(Status.CANCELLED), NOW, False),
        (Visit(Status.ATTENDED), START, False),
    ],
    ids=["hold-valid", "at-hold-expiry", "swept", "before-start", "at-start", "cancelled", "attended"],
)
def test_can_cancel_and_reschedule(rule, visit, now, expected):
    assert rule(visit, now) is expected


@pytest.mark.parametrize(
    ("status", "now", "expected"),
    [
        (Status.CONFIRMED, START - SECOND, False),
        (Status.CONFIRMED, START, True),
        (Status.ATTENDED, END + timedelta(days=1), True),  # a clerk may correct a mark
        (Status.NO_SHOW, START, True),
        (Status.HELD, START, False),
        (Status.CANCELLED, START, False),
        (Status.EXPIRED, START, False),
    ],
)
def test_can_mark(status, now, expected):
    assert rules.can_mark(Visit(status), now) is expected


@pytest.mark.parametrize(
    ("visit", "now", "expected"),
    [
        (Visit(Status.CONFIRMED), START - OPENS - SECOND, False),
        (Visit(Status.CONFIRMED), START - OPENS, True),
        (Visit(Status.CONFIRMED), END + GRACE - SECOND, True),
        (Visit(Status.CONFIRMED), END + GRACE, False),
        (Visit(Status.ATTENDED), END, True),  # marked during the call, the line dropped
        (Visit(Status.NO_SHOW), START, True),
        (Visit(Status.HELD, hold_expires_at=END), START, False),  # not confirmed
        (Visit(Status.CANCELLED), START, False),
        (Visit(Status.CONFIRMED, is_video=False), START, False),
    ],
    ids=["before-opening", "at-opening", "last-second", "at-end-plus-grace", "attended", "no-show",
         "held", "cancelled", "on-site"],
)
def test_can_join(visit, now, expected):
    assert join(visit, now) is expected


def test_join_is_offered_until_the_room_closes_but_entered_only_once_it_opens():
    visit = Visit(Status.CONFIRMED)
    early = START - timedelta(days=1)
    offered = rules.join_offered(visit, early, opens_before=OPENS, grace_after=GRACE)
    assert offered and not join(visit, early)
    assert not rules.join_offered(visit, END + GRACE, opens_before=OPENS, grace_after=GRACE)


@pytest.mark.parametrize(
    ("visit", "now", "valid", "lapsed"),
    [
        (held(), HOLD_UNTIL - SECOND, True, False),
        (held(), HOLD_UNTIL, False, True),
        (Visit(Status.EXPIRED), NOW, False, True),
        (Visit(Status.HELD), NOW, True, False),  # no expiry set: held until swept otherwise
        (Visit(Status.CONFIRMED), NOW, False, False),
    ],
)
def test_a_hold_is_valid_until_the_moment_it_runs_out(visit, now, valid, lapsed):
    assert rules.hold_is_valid(visit, now) is valid
    assert rules.hold_has_lapsed(visit, now) is lapsed
