"""Public holidays of the configured state (HOLIDAY_STATE): nobody works on them, the slot
engine offers no slot and the clerks' pages name them. The ``holidays`` package knows the
dates; this is the one place that asks it."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays as holidays_lib

from visits import settings


@lru_cache(maxsize=64)
def _of_year(state: str, year: int, language: str) -> tuple[tuple[date, str], ...]:
    found = holidays_lib.country_holidays("DE", subdiv=state, years=year, language=language)
    return tuple(sorted(found.items()))


def holidays(first_day: date, last_day: date, language: str = "de") -> dict[date, str]:
    """The public holidays on the days first_day..last_day, named in ``language``."""
    state = settings.current().holiday_state
    names = "en_US" if language == "en" else "de"
    return {
        day: name
        for year in range(first_day.year, last_day.year + 1)
        for day, name in _of_year(state, year, names)
        if first_day <= day <= last_day
    }
