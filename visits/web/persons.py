"""What a form asks to book: the services of one appointment, each with its number of
persons ("persons-<slug>" fields), read the same for the citizen's slot picker and the
clerk's phone booking. The rules are ``booking.items_of``'s (visits/booking/combination.py);
this says what a person typed and why the rules refused it, in the page's language."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from visits.booking import catalogue
from visits.booking import operations as booking
from visits.models import Service


@dataclass(frozen=True)
class Asked:
    """What was asked to book with the page's service: the services that may be added
    (``options``, the page's own first), how many persons come for each (0: not wanted),
    the query to carry on through the pages (``carry``), and why it was refused, if it was
    (``problem``, about the field "persons-<``problem_slug``>")."""

    items: list[tuple[Service, int]]
    options: list[Service]
    persons: dict[str, int]
    carry: dict[str, str]
    problem: str | None = None
    problem_slug: str | None = None


def persons_asked(service: Service, values) -> Asked:
    """The "persons-<slug>" fields of the page's GET form (or their hidden copies in the
    details form): one person for the page's service unless said otherwise. Numbers the
    rules refuse (too many persons...) give a message and the service alone for one."""
    options = [service, *catalogue.combinable_with(service)] if service.combinable else [service]
    persons: dict[str, int] = {}
    problem = problem_slug = None
    for option in options:
        raw = (values.get(f"persons-{option.slug}") or "").strip()
        default = 1 if option is service else 0
        persons[option.slug] = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 2 else default
        if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 2):
            problem = _("Please enter the number of persons as a number.")
            problem_slug = problem_slug or option.slug
    wanted = [(option, persons[option.slug]) for option in options if persons[option.slug] > 0]
    try:
        chosen = booking.items_of(wanted)
    except booking.BookingError as refused:
        if not problem:
            problem = str(_COMBINATION_PROBLEMS.get(refused.code, _COMBINATION_PROBLEMS["no_service"]))
            concerned = refused.info.get("service")
            problem_slug = next((o.slug for o in options if o.id == concerned), service.slug)
    if problem:
        persons = {option.slug: 1 if option is service else 0 for option in options}
        chosen = [(service, 1)]
    carry = {f"persons-{option.slug}": str(n) for option, n in chosen if not (option is service and n == 1)}
    if chosen[0][0] is not service:
        carry[f"persons-{service.slug}"] = "0"
    return Asked(chosen, options, persons, carry, problem, problem_slug)


_COMBINATION_PROBLEMS = {
    "too_many_persons": _l(
        "One appointment takes fewer persons for one of these services. Please lower the number."
    ),
    "not_combinable": _l("These services cannot be booked together. Please book them one after the other."),
    "duplicate_service": _l("Please name each service once."),
    "no_service": _l("Please choose at least one service with at least one person."),
}
