"""Scheduled work. Each job is a plain function of ``now``: tests call it directly, the
scheduler only triggers it. Safe to run in several processes at once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask

from . import booking, clock

log = logging.getLogger(__name__)


def expire_holds(now: datetime) -> int:
    """Holds not confirmed in time free their slot."""
    return booking.expire_holds(now)


JOB_FUNCTIONS: dict[str, Callable[[datetime], int]] = {
    "expire_holds": expire_holds,
}

# (job, interval in seconds)
JOBS: list[tuple[str, int]] = [
    ("expire_holds", 60),
]


def run_job(app: Flask, name: str) -> int:
    """Run one job inside an app context; log what it did."""
    with app.app_context():
        done = JOB_FUNCTIONS[name](clock.now())
        if done:
            log.info("job %s: %s done", name, done)
        return done
