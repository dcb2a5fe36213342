"""Creating a row from what an administrator entered, or writing it onto an existing one,
with the audit record of what happened: the one way the administration's forms save."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from visits.core import audit
from visits.extensions import db
from visits.models import StaffUser

Row = TypeVar("Row")


def create_or_change(
    model: type[Row], row: Row | None, values: dict[str, Any], by: StaffUser, *, now: datetime, kind: str
) -> Row:
    """A new ``model`` from ``values`` (``row`` None; audit "<kind>.created") or ``values``
    written onto ``row`` (audit "<kind>.updated" naming the fields that changed, nothing if
    none did). Call it inside the caller's transaction; the row has a ``slug``."""
    if row is None:
        row = model(**values)
        db.session.add(row)
        db.session.flush()
        audit.record(f"{kind}.created", at=now, actor=by, obj=row, slug=row.slug)
        return row
    changed = sorted(k for k, v in values.items() if getattr(row, k) != v)
    for key, value in values.items():
        setattr(row, key, value)
    if changed:
        audit.record(f"{kind}.updated", at=now, actor=by, obj=row, slug=row.slug, fields=",".join(changed))
    return row
