"""The slot picker and a booking on the days that broke booking systems before: Christmas and
New Year on workdays, a week that crosses into the next year, and both DST changes (with
holidays beside them). The days are named in tests/days.py; each test travels to a moment
shortly before them. One clerk works Monday to Friday 08:00-12:00 (30-minute slots)."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from ..days import (
    ALL_SAINTS_MONDAY,
    AUTUMN_DST_SUNDAY,
    CHRISTMAS_MONDAY,
    EASTER_MONDAY,
    GOOD_FRIDAY,
    NEW_YEAR_MONDAY,
    SPRING_DST_SUNDAY,
    berlin,
)
from .conftest import deliver, details, page, slot, text_of

SLOTS_A_DAY = 8  # 08:00-12:00 in 30-minute slots


def picker(client, monday) -> str:
    return page(client.get(f"/dienstleistungen/wohngeld?week={monday.isoformat()}&lang=de"))


def days_shown(html: str) -> int:
    return html.count('<fieldset class="slot-day">')


def test_the_christmas_week_offers_no_slot_on_christmas_day_or_the_second_day(client, service):
    with time_machine.travel(berlin(CHRISTMAS_MONDAY - timedelta(days=14), 9), tick=False):
        html = picker(client, CHRISTMAS_MONDAY)
    boxing_day = CHRISTMAS_MONDAY + timedelta(days=1)
    assert slot(CHRISTMAS_MONDAY, 8) not in html and slot(boxing_day, 8) not in html
    assert days_shown(html) == 3  # Wednesday to Friday
    assert html.count('type="radio"') == 3 * SLOTS_A_DAY
    assert slot(CHRISTMAS_MONDAY + timedelta(days=2), 8) in html
    assert "<legend>Mittwoch, 27. Dezember 2028" in html


def test_the_week_before_new_year_pages_into_the_next_year(client, service):
    with time_machine.travel(berlin(CHRISTMAS_MONDAY - timedelta(days=14), 9), tick=False):
        html = picker(client, CHRISTMAS_MONDAY)
        following = picker(client, NEW_YEAR_MONDAY)
    assert f"week={NEW_YEAR_MONDAY.isoformat()}" in html  # "next week" leads into 2029
    assert f"week={CHRISTMAS_MONDAY.isoformat()}" in following  # and back into 2028
    assert slot(NEW_YEAR_MONDAY, 8) not in following  # New Year's Day is closed
    assert days_shown(following) == 4
    assert "<legend>Dienstag, 2. Januar 2029" in following


def test_the_next_free_slot_skips_christmas_and_new_year(client, factories, service):
    """On the Friday before Christmas, after hours, with the clerk away between the holidays:
    the next free slot is on the first workday of the new year, 2 January."""
    (clerk,) = service.clerks
    between = CHRISTMAS_MONDAY + timedelta(days=2)
    factories.absence(clerk, berlin(between, 0), berlin(between + timedelta(days=3), 0), "Urlaub")
    with time_machine.travel(berlin(CHRISTMAS_MONDAY - timedelta(days=3), 13), tick=False):
        html = picker(client, CHRISTMAS_MONDAY)
    assert 'type="radio"' not in html
    assert "In dieser Woche sind keine Termine frei." in html
    assert "Der nächste freie Termin ist am Dienstag, 2. Januar 2029" in html
    assert f"week={NEW_YEAR_MONDAY.isoformat()}" in html


def test_slots_after_the_spring_change_keep_their_wall_clock_and_skip_easter(client, service):
    """Before the change 08:00 in Berlin is 07:00 UTC, after it 06:00 UTC; Good Friday and
    Easter Monday, on either side of the change, are closed."""
    with time_machine.travel(berlin(SPRING_DST_SUNDAY - timedelta(days=6), 9), tick=False):
        before = picker(client, SPRING_DST_SUNDAY - timedelta(days=6))
        after = picker(client, EASTER_MONDAY)
    thursday = GOOD_FRIDAY - timedelta(days=1)
    assert f'value="{thursday.isoformat()}T07:00:00Z"' in before
    assert slot(GOOD_FRIDAY, 8) not in before
    tuesday = EASTER_MONDAY + timedelta(days=1)
    assert f'value="{tuesday.isoformat()}T06:00:00Z"' in after
    assert re.search(r"Dienstag, 30\. März 2027[^<]*, 08:00 Uhr</span>", after)
    assert slot(EASTER_MONDAY, 8) not in after
    assert days_shown(after) == 4


def test_slots_after_the_autumn_change_keep_their_wall_clock(client, service):
    with time_machine.travel(berlin(AUTUMN_DST_SUNDAY - timedelta(days=6), 9), tick=False):
        before = picker(client, AUTUMN_DST_SUNDAY - timedelta(days=6))
        after = picker(client, ALL_SAINTS_MONDAY)
    friday = AUTUMN_DST_SUNDAY - timedelta(days=2)
    assert f'value="{friday.isoformat()}T06:00:00Z"' in before
    tuesday = ALL_SAINTS_MONDAY + timedelta(days=1)
    assert f'value="{tuesday.isoformat()}T07:00:00Z"' in after
    assert slot(ALL_SAINTS_MONDAY, 8) not in after  # All Saints' Day, a holiday in NRW
    assert days_shown(after) == 4


def test_a_slot_booked_before_the_spring_change_is_confirmed_at_its_wall_clock(client, service, smtp_server):
    """Booked on the Wednesday before Easter (UTC+1) for the Tuesday after it (UTC+2): the
    mail names 08:00, and the invitation's start is the same instant as the slot."""
    booked_at = berlin(SPRING_DST_SUNDAY - timedelta(days=4), 9)
    tuesday = EASTER_MONDAY + timedelta(days=1)
    with time_machine.travel(booked_at, tick=False):
        response = client.post("/dienstleistungen/wohngeld/buchen", data=details(start=slot(tuesday, 8)))
        assert response.status_code == 303, response.status_code
        (mail,) = deliver(smtp_server, 1, now=booked_at + timedelta(minutes=1))
    text = text_of(mail)
    assert "Dienstag, 30. März 2027" in text and "08:00" in text
    assert "07:00" not in text and "06:00" not in text
