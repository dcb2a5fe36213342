"""Pages for clerks: login, agenda, availability, phone booking, calendar feed settings."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
