"""gunicorn settings for the web process: ``gunicorn -c gunicorn.conf.py "visits:create_app()"``.

Any number of these may run (one per host or several per host) behind nginx: sessions are
signed cookies (the same SECRET_KEY on every instance), holds and bookings live in
PostgreSQL, rate-limit counters in Redis (REDIS_URL). Nothing that matters is kept in a
worker's memory.

Settings from the environment (listed in .env.example): GUNICORN_BIND, WEB_CONCURRENCY,
GUNICORN_THREADS, GUNICORN_TIMEOUT, PROMETHEUS_MULTIPROC_DIR, LOG_FORMAT, LOG_LEVEL.
"""

import multiprocessing
import os
import tempfile
from pathlib import Path

# Metrics: every worker writes its counters to files in one folder and /metrics adds them
# up. prometheus_client decides at import time, so the folder is set before anything
# imports it (workers are forked from this process and inherit the environment).
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or (
    os.path.join(os.environ["RUNTIME_DIRECTORY"].split(":")[0], "prometheus")
    if os.environ.get("RUNTIME_DIRECTORY")
    else tempfile.mkdtemp(prefix="visits-prometheus-")
)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Workers are not recycled after N requests: each new worker leaves one more metrics file
# behind, and /metrics would read thousands of them after a few days.
max_requests = 0
# The app is created in each worker after the fork: no database connection is shared.
preload_app = False
# nginx in front sets X-Forwarded-*; the app trusts them through ProxyFix (TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = forwarded_allow_ips

# gunicorn 27's control socket sits at one fixed path per user: two instances on a host
# would take it from each other. Nothing here uses it.
control_socket_disable = True

# The app writes one log line per request with its request id; gunicorn's own access log
# would only repeat it without the id.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

if os.environ.get("LOG_FORMAT", "text").lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "visits.ops.observability.JsonFormatter"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
            "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
        # The app installs its own root handler in each worker (visits/ops/observability.py).
        "root": {"level": loglevel.upper(), "handlers": []},
    }


def on_starting(server):
    """Start with an empty metrics folder: files of a previous run would count twice."""
    path = Path(_metrics_dir)
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.db"):  # only prometheus_client's files, whatever the folder holds
        old.unlink()


def child_exit(server, worker):
    """A worker that ended keeps its counters, but its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
