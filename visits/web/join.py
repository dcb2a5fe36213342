"""The video join page for citizens and the clerk's moderator join (Jitsi tokens)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("join", __name__)
