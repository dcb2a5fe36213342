"""A booking request as asked, each part checked by its one rule before anything is held:
what it is for (one service, or several with their persons: ``items_of``), in which mode
(``choose_mode``) and for whom (``clean_citizen``, the rule set the forms and the API use
too). A refusal is one of visits/booking/refusals.py."""

from __future__ import annotations

from visits import settings
from visits.booking import availability, combination, modes
from visits.booking.refusals import COMBINATION_REFUSALS, InvalidCitizen, ModeNotOffered
from visits.core import citizen as citizen_input
from visits.core.citizen import Citizen
from visits.core.refusals import Refused
from visits.models import Mode, Service

# What an appointment is for: one service (for one person), or a list of (service, persons).
Booked = Service | availability.Items


def _invalid(refused: Refused) -> InvalidCitizen:
    detail = citizen_input.DETAILS.get(refused.code, refused.code)
    return InvalidCitizen(detail, field=refused.field, reason=refused.code)


def clean_citizen(citizen: Citizen, *, need_email: bool, mode: Mode | None = None) -> Citizen:
    """The citizen's input by the one rule set that the forms and the API use too; a phone
    appointment needs the number the clerk calls."""
    try:
        return citizen_input.clean(
            citizen,
            languages=settings.current().languages,
            need_email=need_email,
            need_phone=mode == Mode.PHONE,
        )
    except Refused as refused:
        raise _invalid(refused) from refused


def choose_mode(service: Service, mode: str | None, items: availability.Items = ()) -> Mode:
    """The mode asked for (None: the service's default); ModeNotOffered when the service,
    or another service of ``items`` (one appointment for all), does not offer it."""
    try:
        chosen = modes.chosen(service, mode)
    except Refused as refused:
        raise ModeNotOffered(
            f"{service.slug} is not offered as {mode}", field=refused.field, mode=mode
        ) from refused
    if any(chosen not in other.modes for other, _persons in items):
        raise ModeNotOffered(f"not every service is offered as {chosen}", field="mode", mode=chosen)
    return chosen


def items_of(booked: Booked) -> list[tuple[Service, int]]:
    """The (service, persons) items of what is to be booked, refused when they cannot be
    one appointment (TooManyPersons, NotCombinable, DuplicateService, NoService)."""
    if isinstance(booked, Service):
        return [(booked, 1)]
    items = list(booked)
    try:
        combination.check(items)
    except combination.CombinationRefused as refused:
        info = {"service": refused.service_id, "limit": refused.limit}
        raise COMBINATION_REFUSALS[refused.code](**{k: v for k, v in info.items() if v is not None}) from None
    return items


def first_service(booked: Booked) -> Service:
    """The service an appointment for ``booked`` names first (``Appointment.service``)."""
    return booked if isinstance(booked, Service) else booked[0][0]
