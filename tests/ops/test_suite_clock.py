"""The suite's clock reaches the processes it starts (tests/timeshift/sitecustomize.py), and
they keep time with it: two gunicorn instances must accept each other's session cookies, and
itsdangerous refuses a cookie signed "in the future" by more than a second."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.processes  # starts processes (left out of the libfaketime runs)

# A process that spends a while starting (gunicorn importing the app on a loaded machine)
# before it first reads the clock.
SLOW_START = "import sys, time; time.sleep(float(sys.argv[1])); print(repr(time.time()))"


@pytest.mark.parametrize("start_up", [0.0, 1.5])
def test_a_started_process_keeps_the_suites_time_however_slowly_it_starts(start_up):
    started = time.time()
    output = subprocess.run(
        [sys.executable, "-c", SLOW_START, str(start_up)], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    finished = time.time()
    theirs = float(output)
    # Read between our two readings, give or take scheduling; a lag of the start-up time
    # (the clock ticking only from its first reading) would put it far before `started + start_up`.
    assert started + start_up - 0.5 <= theirs <= finished + 0.5, (started, theirs, finished)
