"""The administrators' pages: departments, services, locations and their closing days, staff accounts, API keys,
failed mails, booking pauses, video status, the audit log and reports. One blueprint (``bp``, under /admin);
each area's routes live in a module of their own (``departments``, ``services``, ``locations``, ``staff``, ``keys``,
``mails``, ``pauses``, ``audit``, ``reports``, ``overview``), who may see what in
``access``, the steps every page shares in ``pages``, the forms in ``forms``. The routes
parse the request, call one function of ``visits.admin`` (or ``visits.booking.no_shows``)
and render; they hold no queries and no rules of their own."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The route modules register their views on ``bp`` when imported.
from visits.web.admin import (  # noqa: E402
    access,
    audit,
    departments,
    keys,
    locations,
    mails,
    overview,
    pauses,
    reports,
    services,
    staff,
)

__all__ = ["access", "audit", "bp", "departments", "keys", "locations", "mails", "overview", "pauses", "reports", "services", "staff"]
