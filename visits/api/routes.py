"""The blueprint of /api/v1 and what its routes share: documented error answers and the
error handlers. The routes are in ``catalogue`` (services, free slots), ``composite`` (free
slots for several services in one appointment), ``places``
(departments, locations and their closing days) and ``bookings``;
who is asking (API key, manage token) and the rate limits in ``callers``. Thin: parse,
call visits.booking, answer.

Who may do what:
- anyone: list services and free slots; ask for a hold (the citizen confirms by the link in
  the mail, exactly as on the web);
- the holder of an appointment's manage token (X-Manage-Token): see and cancel it;
- a portal with an API key (Authorization: Bearer ...): book confirmed at once for a citizen
  it has identified, and see and cancel the appointments it booked."""

from __future__ import annotations

from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from visits.api import problems
from visits.booking import operations as booking

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Services, free slots and bookings for service portals",
)


def problem_response(status: int, description: str):
    """Document an error answer (problem+json) with the problem types it can carry."""
    return bp.alt_response(
        status, schema=problems.ProblemSchema, content_type=problems.MEDIA_TYPE, description=description
    )


RATE_LIMITED = problem_response(429, "rate-limited: too many requests; see Retry-After")


class ApiProblem(Exception):
    """Answer with a problem; raised in views and limit hooks, turned into problem+json."""

    def __init__(self, status: int, slug: str, **extra) -> None:
        super().__init__(slug)
        self.status, self.slug, self.extra = status, slug, extra


@bp.errorhandler(ApiProblem)
def _api_problem(error: ApiProblem):
    headers = {"WWW-Authenticate": 'Bearer realm="visits"'} if error.status == 401 else None
    return problems.problem(error.status, error.slug, headers=headers, **error.extra)


@bp.errorhandler(HTTPException)
def _http_problem(error: HTTPException):
    """Errors raised in the API's views (invalid input from webargs, 401, 409...)."""
    return problems.for_http_error(error)


@bp.errorhandler(booking.BookingError)
def _booking_problem(error: booking.BookingError):
    return problems.for_booking_error(error)


# The route modules register their views on ``bp`` when imported.
from visits.api import bookings, catalogue, composite, places  # noqa: E402

__all__ = ["ApiProblem", "bookings", "bp", "catalogue", "composite", "places", "problem_response"]
