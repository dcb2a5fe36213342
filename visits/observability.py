"""Health and readiness probes, JSON logs with a request id, Prometheus metrics."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach probes, logging and metrics to the app (filled in by the operations work)."""
