"""Pages for administrators: services, staff, offers, API keys, failed mails, audit log."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
