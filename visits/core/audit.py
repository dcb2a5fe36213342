"""Recording who did what, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from visits.extensions import db
from visits.models import AuditEvent, StaffUser


def record(
    action: str,
    *,
    at: datetime,
    actor: StaffUser | None = None,
    actor_label: str | None = None,
    obj: Any = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the current transaction (it commits with the change itself)."""
    event = AuditEvent(
        at=at,
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.email if actor else "system"),
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "",
        object_id=getattr(obj, "id", None),
        details={k: _plain(v) for k, v in details.items()},
    )
    db.session.add(event)
    return event


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
