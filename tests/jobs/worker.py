"""A scheduler process for the multi-process tests: ``python -m tests.jobs.worker [--once]``.

Runs exactly what ``scheduler.py`` runs (``jobs.run_forever``, or ``jobs.run_once`` with
``--once``), with two test hooks taken from the environment:

- ``HANG_AFTER_SENDS=N``: after the mail server accepted the N-th mail, and before the
  outbox records it as sent, the process stops dead (sleeps until it is killed);
- ``JOBS_NOW=<ISO instant>``: ``--once`` runs at that time (a restart after the lease of
  the killed process ran out);
- ``START_AT=<unix time>``: wait until then, so two workers begin their rounds together;
- ``BATCH=N``: reminder and delivery batches of N rows, so two workers take turns."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime

from visits import create_app, jobs
from visits.mail import outbox, reminders


def hang_after(sends: int) -> None:
    original = outbox._SmtpTransport.send
    count = 0

    def send(self, sender, item):
        nonlocal count
        original(self, sender, item)
        count += 1
        if count == sends:
            print(f"HANGING after {item.message_id}", file=sys.stderr, flush=True)
            time.sleep(3600)

    outbox._SmtpTransport.send = send


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args()
    if os.environ.get("HANG_AFTER_SENDS"):
        hang_after(int(os.environ["HANG_AFTER_SENDS"]))
    if os.environ.get("BATCH"):
        reminders.BATCH_SIZE = jobs.DELIVERY_BATCH = int(os.environ["BATCH"])
    app = create_app()
    if os.environ.get("START_AT"):
        time.sleep(max(0.0, float(os.environ["START_AT"]) - time.time()))
    if args.once:
        now = datetime.fromisoformat(os.environ["JOBS_NOW"]) if os.environ.get("JOBS_NOW") else None
        jobs.run_once(app, now)
    else:
        jobs.run_forever(app)


if __name__ == "__main__":
    main()
