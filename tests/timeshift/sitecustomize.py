"""Puts every Python process the test suite starts at the suite's moment (tests/days.py).

tests/conftest.py puts this folder on PYTHONPATH and sets VISITS_TEST_CLOCK_OFFSET, the
seconds between the suite's clock and the machine's, so that gunicorn, schedulers and
worker processes read the same time as the tests that start them, and tick on with it.
time-machine moves ``time.time()`` and what datetime reads from it (threads included) but not the
monotonic clock, so timeouts and gunicorn's worker heartbeat keep working. Outside the
suite the variable is unset and nothing happens.

time-machine starts ticking at the first reading of the clock, not when travel starts: a
process that reads the time only after a slow start (gunicorn importing the app under load)
would lag behind the others by that long, and a session cookie signed by one instance would
be "signed in the future" (itsdangerous refuses it) at another started a second later. So the
clock is read at once, and every process ticks from the moment its offset was applied."""

import os

_offset = os.environ.get("VISITS_TEST_CLOCK_OFFSET")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
    time.time()  # the tick starts now (see above)
