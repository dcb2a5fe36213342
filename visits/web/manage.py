"""Citizens' manage pages behind the secret manage link: see, download, cancel, reschedule."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("manage", __name__)
