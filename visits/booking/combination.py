"""Several services in one appointment: which combine, and the rules of the combination.

A family books Anmeldung for one and Personalausweis for two as one appointment with one
clerk. Pure Python like ``slots.py``: the rules are checked and summed here, the slot
engine then finds starts for the combined rules as it does for one service.

* Each service says how many persons one appointment may bring for it (``max_persons``).
* Several services combine only when every one is marked combinable by the admin, all
  belong to the same department and share a way to meet (on site, video or phone: the
  appointment has one); a service appears once (with its number of persons).
* The combination takes the sum of duration x persons; the largest buffers, the largest
  minimum notice and the smallest horizon of its services, so it is never bookable where
  one of them would not be. One service for one person is exactly that service's rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # only for the types: the benchmark loads this module on its own
    from visits.booking.slots import ServiceRules


class CombinableService(Protocol):
    """What the rules need to know of a service (``models.Service`` has it)."""

    id: int
    max_persons: int
    combinable: bool
    department_id: int | None
    modes: Sequence[str]


@dataclass(frozen=True)
class CombinationRefused(Exception):
    """Why these items cannot be one appointment: ``code`` is one of too_many_persons,
    not_combinable, duplicate_service, no_service; ``service_id`` the service concerned."""

    code: str
    service_id: int | None = None
    limit: int | None = None


def check(items: Sequence[tuple[CombinableService, int]]) -> None:
    """Refuses items that may not be one appointment (CombinationRefused); a number of
    persons below one is a caller's error (ValueError), the input layers refuse it first."""
    if not items:
        raise CombinationRefused("no_service")
    seen: set[int] = set()
    for service, persons in items:
        if persons < 1:
            raise ValueError(f"service {service.id}: at least one person")
        if service.id in seen:
            raise CombinationRefused("duplicate_service", service.id)
        seen.add(service.id)
        if persons > service.max_persons:
            raise CombinationRefused("too_many_persons", service.id, limit=service.max_persons)
    if len(items) > 1:
        department = items[0][0].department_id
        for service, _persons in items:
            if not service.combinable or service.department_id != department:
                raise CombinationRefused("not_combinable", service.id)
        for n, (service, _persons) in enumerate(items):
            if not share_a_mode([other for other, _p in items[: n + 1]]):  # no way to meet for all
                raise CombinationRefused("not_combinable", service.id)


def share_a_mode(services: Sequence[CombinableService]) -> bool:
    """Whether one appointment can hold all these services: a mode every one of them offers."""
    return bool(set.intersection(*(set(service.modes) for service in services))) if services else True


def combined(items: Sequence[tuple[ServiceRules, int]]) -> ServiceRules:
    """The slot engine's rules for these services with their numbers of persons. Its ``id``
    is the first service's; ``combines`` names them all, so only hours open to every one
    of them count."""
    if not items:
        raise ValueError("a combination needs at least one service")
    first, persons = items[0]
    if len(items) == 1:
        return first if persons == 1 else replace(first, duration=first.duration * persons)
    rules = [rule for rule, _persons in items]
    return replace(
        first,
        duration=sum((rule.duration * count for rule, count in items), start=first.duration * 0),
        buffer_before=max(rule.buffer_before for rule in rules),
        buffer_after=max(rule.buffer_after for rule in rules),
        min_notice=max(rule.min_notice for rule in rules),
        horizon=min(rule.horizon for rule in rules),
        combines=frozenset(rule.id for rule in rules),
    )


def common_clerks(clerks_by_service: Sequence[Sequence[int]]) -> list[int]:
    """The clerks who offer every one of the services (one list of clerk ids per service),
    ascending."""
    if not clerks_by_service:
        return []
    common = set(clerks_by_service[0])
    for clerks in clerks_by_service[1:]:
        common &= set(clerks)
    return sorted(common)
