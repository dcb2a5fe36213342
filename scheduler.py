"""The background worker: ``python scheduler.py`` runs APScheduler's blocking scheduler.

Each job is a plain function of ``now`` in ``visits/jobs.py``; the truth lives in database
rows, so any number of these processes may run side by side."""

from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler

from visits import create_app
from visits.jobs import JOBS, run_job


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app()
    scheduler = BlockingScheduler(timezone="UTC")
    for name, seconds in JOBS:
        scheduler.add_job(
            run_job,
            "interval",
            seconds=seconds,
            args=[app, name],
            id=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=seconds,
        )
    scheduler.start()


if __name__ == "__main__":
    main()
