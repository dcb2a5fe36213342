"""The JSON API for service portals (/api/v1), its OpenAPI document generated from the code."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the API to the app (filled in by the API work)."""
