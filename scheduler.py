"""The background worker: ``python scheduler.py`` runs APScheduler's blocking scheduler.

Each job is a plain function of ``now`` in ``visits/jobs.py``; the truth lives in database
rows, so any number of these processes may run side by side. ``--once`` runs every job
one time and exits (cron, tests)."""

from __future__ import annotations

import argparse
import logging

from visits import create_app
from visits.jobs import run_forever, run_once
from visits.ops.observability import serve_scheduler_metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the scheduled jobs of Visits.")
    parser.add_argument("--once", action="store_true", help="run every job once and exit")
    args = parser.parse_args(argv)
    app = create_app()
    if not logging.getLogger().handlers:  # the app configures logging unless told not to
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.once:
        results = run_once(app)
        return 1 if any(done < 0 for done in results.values()) else 0
    serve_scheduler_metrics(app)  # SCHEDULER_METRICS_PORT; off by default
    run_forever(app)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
