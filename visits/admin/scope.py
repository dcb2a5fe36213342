"""Which departments an administrator manages: the one rule every administration page asks.

The city's administrator (role ``admin``) manages every department; a department
administrator (``department_admin``) only their own: its services, its locations and their
closing days, its clerks, and the figures of its appointments. Anything of another
department is, for them, as if it did not exist (the pages answer 404 and disclose
nothing). Clerks manage nothing.

Listing functions filter with ``limit``; a page that acts on one object asks ``in_scope``;
a form's department is checked with ``may_use_department``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false

from visits.models import ClosingDay, Department, Location, Role, Service, StaffUser

# What belongs to a department (a closing day through its location).
DEPARTMENT_BOUND = (Department, Location, ClosingDay, Service, StaffUser)

# None: every department.
Departments = frozenset[int] | None


def departments_of(user: StaffUser) -> Departments:
    """The ids of the departments ``user`` manages; None for the city's administrator."""
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.DEPARTMENT_ADMIN and user.department_id is not None:
        return frozenset({user.department_id})
    return frozenset()


def may_use_department(user: StaffUser, department_id: int | None) -> bool:
    """May ``user`` put something into that department (a posted department_id)?"""
    managed = departments_of(user)
    return department_id is not None and (managed is None or department_id in managed)


def _department_of(obj: Any) -> int | None:
    if isinstance(obj, Department):
        return obj.id
    if isinstance(obj, ClosingDay):
        return obj.location.department_id
    return obj.department_id


def in_scope(user: StaffUser, obj: Any) -> bool:
    """May ``user`` see and change ``obj`` on the administration pages?

    A department administrator manages the clerks of their department, never an
    administrator (of the city or of a department, themselves included): that is how they
    cannot raise anyone's rights, their own neither."""
    managed = departments_of(user)
    if managed is None or not isinstance(obj, DEPARTMENT_BOUND):
        # Not bound to a department (an API key, a failed mail, a booking pause): the
        # route's access rule (visits.web.admin.access) alone decides.
        return True
    if isinstance(obj, StaffUser) and obj.role != Role.CLERK:
        return False
    return _department_of(obj) in managed


def limit(query: Select, user: StaffUser, column: Any) -> Select:
    """``query`` narrowed to the rows whose department ``column`` ``user`` manages."""
    managed = departments_of(user)
    if managed is None:
        return query
    if not managed:
        return query.where(false())
    return query.where(column.in_(sorted(managed)))
