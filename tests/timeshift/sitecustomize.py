"""Puts every Python process the test suite starts at the suite's moment (tests/days.py).

tests/conftest.py puts this folder on PYTHONPATH and sets VISITS_TEST_CLOCK_OFFSET, the
seconds between the suite's clock and the machine's, so that gunicorn, schedulers and
worker processes read the same time as the tests that start them, and tick on with it.
time-machine moves ``time.time()`` and what datetime reads from it (threads included) but not the
monotonic clock, so timeouts and gunicorn's worker heartbeat keep working. Outside the
suite the variable is unset and nothing happens."""

import os

_offset = os.environ.get("VISITS_TEST_CLOCK_OFFSET")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
