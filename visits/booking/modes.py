"""How citizen and clerk meet (``Mode``: on site, video, phone): which mode a booking gets,
and where an on-site appointment is held.

A service allows one or more modes; the citizen (or the clerk on the phone, or a portal)
chooses one of them. A request that names none gets what a booking got before modes
existed: video if the service offers it, else on site, else phone.

What the citizen is told about the mode is worded here once, for the pages, the mails and
the calendar file alike: where to go (``place_of``) or who calls from which number
(``phone_call``), in the language Flask-Babel speaks at the moment."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, case, func, null

from visits import settings
from visits.core.refusals import Refused
from visits.models import Appointment, Location, Mode, Service

# Each mode as a citizen and a clerk read it (a form's choice, a summary, the agenda).
LABELS = {Mode.ON_SITE: _l("On site"), Mode.VIDEO: _l("Video call"), Mode.PHONE: _l("By phone")}

# The order a citizen is offered the modes in, and the order of the default.
ORDER = (Mode.ON_SITE, Mode.VIDEO, Mode.PHONE)
_DEFAULT_ORDER = (Mode.VIDEO, Mode.ON_SITE, Mode.PHONE)


def default_for(service: Service) -> Mode:
    """The mode of a request that names none (a body or form from before modes)."""
    return default_among(service.modes)


def default_among(offered: Sequence[Mode]) -> Mode:
    """The default of these modes (in the order video, on site, phone); ``offered`` has one at least."""
    return next(mode for mode in _DEFAULT_ORDER if mode in offered)


def offered_by_all(services: Iterable[Service]) -> list[Mode]:
    """The modes every one of these services is offered in (one appointment for all of
    them takes one mode), in the order on site, video, phone."""
    services = list(services)
    return [mode for mode in ORDER if all(mode in service.modes for service in services)]


def of_slot(offered: Iterable[str], location_id: int | None) -> list[str]:
    """The modes a free slot can be booked in, of the ``offered`` ones: any of them at a
    location; a slot of hours without a location (video and phone only) not on site."""
    return [mode for mode in offered if location_id is not None or mode != Mode.ON_SITE]


def chosen(service: Service, mode: str | None) -> Mode:
    """The mode asked for, if the service offers it; ``Refused("mode_not_offered", "mode")``
    otherwise (an unknown word too). None: the service's default."""
    if mode is None or mode == "":
        return default_for(service)
    try:
        wanted = Mode(mode)
    except ValueError as exc:
        raise Refused("mode_not_offered", "mode") from exc
    if wanted not in service.modes:
        raise Refused("mode_not_offered", "mode")
    return wanted


def where(appointment: Appointment) -> Location | None:
    """The location an on-site appointment brings the citizen to; None for video and phone
    (and for a service held nowhere yet). The one place that says which location it is."""
    if appointment.mode != Mode.ON_SITE:
        return None
    # Where it was booked (the slot's location); older bookings: where the service is held.
    return appointment.location or appointment.service.location


def where_column(first_service: type[Service] = Service) -> ColumnElement[int | None]:
    """``where`` as an SQL expression (the location's id), for queries that count by
    location: ``first_service`` is the appointment's service joined in the query (an alias
    when the query joins ``Service`` twice). Kept beside ``where`` so the two say the same."""
    return case(
        (Appointment.mode == Mode.ON_SITE, func.coalesce(Appointment.location_id, first_service.location_id)),
        else_=null(),
    )


def label(mode: str) -> str:
    """The mode in the current language ("On site", "Video call", "By phone")."""
    return str(LABELS.get(mode, mode))


@dataclass(frozen=True)
class Place:
    """Where the citizen goes, as pages, mails and the calendar file say it."""

    name: str
    address: str
    directions: str
    accessibility: tuple[str, ...]
    geo: tuple[float, float] | None

    @property
    def one_line(self) -> str:
        """Name and address, as the calendar's LOCATION carries them."""
        return ", ".join(part for part in (self.name, self.address) if part)


def place_of(appointment: Appointment, language: str) -> Place | None:
    """Where an on-site appointment is held, with directions and accessibility; None for
    video and phone. A service held nowhere yet still names its old address, if any."""
    if appointment.mode != Mode.ON_SITE:
        return None
    location = where(appointment)
    if location is None:
        address = appointment.service.address
        return Place("", address, "", (), None) if address else None
    access = []
    if location.step_free:
        access.append(gettext("Step-free access"))
    if location.hearing_loop:
        access.append(gettext("Hearing loop"))
    has_geo = location.latitude is not None and location.longitude is not None
    directions = (
        location.directions_en if language == "en" and location.directions_en else location.directions_de
    )
    return Place(
        name=location.name(language),
        # A location entered without its street still has the service's old address.
        address=location.address or appointment.service.address,
        directions=directions.strip(),
        accessibility=tuple(access),
        geo=(location.latitude, location.longitude) if has_geo else None,
    )


def phone_call(appointment: Appointment) -> str | None:
    """What a phone appointment's citizen is told: the clerk calls them at the appointment's
    time on the number they gave, from PHONE_CALLS_FROM (or "the city administration").
    None for on site and video."""
    if appointment.mode != Mode.PHONE:
        return None
    calls_from = settings.current().phone_calls_from.strip()
    if calls_from:
        return gettext(
            "Your clerk will call you at the appointment time on %(phone)s. The call comes from %(number)s.",
            phone=appointment.citizen_phone or "",
            number=calls_from,
        )
    return gettext(
        "Your clerk will call you at the appointment time on %(phone)s. The call comes from the city "
        "administration.",
        phone=appointment.citizen_phone or "",
    )
