"""Waiting for another process or thread: poll for the condition, with a deadline.

A fixed ``time.sleep()`` either waits too long (a slow suite) or too short (a flaky one,
on a loaded CI machine); ``wait_until`` waits exactly until what the test needs is true,
and fails with a message saying what did not happen if it never is."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], timeout: float, message: str | Callable[[], str], interval: float = 0.05
) -> T:
    """Call ``condition`` until it returns something true, and return that; after
    ``timeout`` seconds fail with ``message`` (a callable is asked only then, so it may
    read logs or rows to say what was seen instead)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(interval)


def job_runs(log: str, job: str) -> int:
    """How many runs of ``job`` a scheduler's log reports as finished (``visits.jobs`` logs
    ``job <name>: <n> done in <ms> ms`` after each, in the text and in the JSON format)."""
    return len(re.findall(rf"job {re.escape(job)}: \d+ done", log))
