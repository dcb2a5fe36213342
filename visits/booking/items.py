"""What an appointment is for, as people read it: its services with their numbers of
persons ("Anmeldung, Personalausweis (2 Personen)") and the documents to bring per service.
Pages, mails, the calendar file and the API all name an appointment's services this way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import force_locale, ngettext

from visits.models import Appointment, Service


@dataclass(frozen=True)
class Line:
    """One service of an appointment with its number of persons."""

    service: Service
    persons: int


def lines(appointment: Appointment) -> list[Line]:
    """The appointment's services in order (an appointment without items: its service, one person)."""
    found = [Line(item.service, item.persons) for item in appointment.items]
    return found or [Line(appointment.service, 1)]


def booked(appointment: Appointment) -> list[tuple[Service, int]]:
    """The appointment's (service, persons), as the use cases and the slot engine take them."""
    return [(line.service, line.persons) for line in lines(appointment)]


def label(line: Line, language: str) -> str:
    """"Personalausweis (2 Personen)"; one person is not mentioned."""
    name = line.service.name(language)
    if line.persons == 1:
        return name
    with force_locale(language):
        return ngettext("%(name)s (%(num)d person)", "%(name)s (%(num)d persons)", line.persons, name=name)


def summary_of(wanted: Sequence[tuple[Service, int]], language: str) -> str:
    """``summary`` of (service, persons) not booked yet (a request, a form)."""
    return ", ".join(label(Line(service, persons), language) for service, persons in wanted)


def summary(appointment: Appointment, language: str) -> str:
    """Every service of the appointment in one line, e.g. "Anmeldung, Personalausweis (2 Personen)"."""
    return summary_of(booked(appointment), language)


def documents_per_service(appointment: Appointment, language: str) -> list[tuple[str, list[str]]]:
    """(service label, its documents) for each service that asks for any: the union of what
    to bring, said per service so a family knows what belongs to which concern."""
    return [
        (label(line, language), line.service.documents(language))
        for line in lines(appointment)
        if line.service.documents(language)
    ]
