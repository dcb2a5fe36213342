"""A calendar file a clerk uploads is read with bounds: a few bytes of recurrence rule must
not make the server expand half a million events (the 170-byte FREQ=MINUTELY file held a
worker for 52 s and 1.25 GiB). The bounds are checked before any expansion happens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import recurring_ical_events

from visits.booking import calendar
from visits.booking.calendar import CalendarFileError, busy_times_from_ics

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

BOMB = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:b\r\n"
    b"DTSTART:20261201T000000Z\r\nDTEND:20261201T000100Z\r\nRRULE:FREQ=MINUTELY\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _ics(*rules: str, start: str = "20261201T080000Z") -> bytes:
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:e{i}\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nRRULE:{rule}\r\nEND:VEVENT\r\n"
        for i, rule in enumerate(rules)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{events}END:VCALENDAR\r\n".encode()


@pytest.fixture
def expansions(monkeypatch):
    """How often the expansion library was asked to expand a calendar."""
    calls = []
    original = recurring_ical_events.of

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(calendar.recurring_ical_events, "of", counting)
    return calls


def _refusal(data: bytes) -> str:
    with pytest.raises(CalendarFileError) as raised:
        busy_times_from_ics(data, tz=UTC, window_start=NOW)
    return raised.value.code


def test_the_170_byte_minutely_bomb_is_refused_before_any_expansion(expansions):
    assert len(BOMB) < 200
    assert _refusal(BOMB) == "repeats_too_often"
    assert expansions == []  # nothing was expanded


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=SECONDLY",
        "FREQ=HOURLY;BYMINUTE=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29",
        "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,6,12,18,24,30,36,42,48,54",
        "FREQ=MINUTELY;BYHOUR=9;COUNT=10",  # the filter makes the walk long whatever COUNT says
    ],
)
def test_rules_that_expand_into_too_many_occurrences_are_refused_unexpanded(expansions, rule):
    assert _refusal(_ics(rule)) == "repeats_too_often"
    assert expansions == []


def test_a_daily_rule_from_the_year_one_is_refused_unexpanded(expansions):
    """The expansion walks from DTSTART: a rule begun in the year 1 is 740 000 steps to today."""
    assert _refusal(_ics("FREQ=DAILY", start="00010101T080000Z")) == "repeats_too_often"
    assert expansions == []


def test_ordinary_series_are_still_read():
    data = _ics(
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",  # a clerk's standing meetings
        "FREQ=DAILY;UNTIL=20261224T000000Z",
        "FREQ=MINUTELY;COUNT=3",  # a bounded count is harmless
        "FREQ=YEARLY",
    )
    old_series = _ics("FREQ=WEEKLY;BYDAY=TU", start="19900102T080000Z")  # weekly since 1990
    assert len(busy_times_from_ics(data, tz=UTC, window_start=NOW)) > 100
    assert busy_times_from_ics(old_series, tz=UTC, window_start=NOW)


def test_the_bomb_uploaded_through_the_absences_page_is_a_clear_refusal(factories, app):
    from io import BytesIO

    clerk = factories.clerk()
    client = factories.staff_client()
    factories.login(client, clerk)
    response = client.post(
        "/staff/calendar/upload",
        data={"file": (BytesIO(BOMB), "bomb.ics")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "wiederholt sich zu oft" in page or "repeats too often" in page
