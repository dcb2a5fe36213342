"""The clerks' pages: login and password, the agenda and each appointment, weekly hours,
absences, stranded appointments, booking for a caller on the phone, and the calendar feed
and upload. One blueprint (``bp``, under /staff); each area's routes live in a module of
their own (``account``, ``agenda``, ``hours``, ``absences``, ``conflicts``, ``phone``,
``calendar``, ``documents``), who may see a page in ``access``, what every page shares (date filters,
status labels, the messages for refusals) in ``pages``, the forms in ``forms``. The routes
parse the request, call a function of ``visits.clerks`` (or ``visits.booking``) and
render; they hold no queries and no rules of their own."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

# The route modules register their views on ``bp`` when imported.
from visits.web.staff import (  # noqa: E402
    absences,
    access,
    account,
    agenda,
    calendar,
    conflicts,
    documents,
    hours,
    pages,
    phone,
)

__all__ = ["absences", "access", "account", "agenda", "bp", "calendar", "conflicts", "documents", "hours", "pages", "phone"]
