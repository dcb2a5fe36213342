"""The one place that asks what time it is.

Everything else receives ``now`` as an argument; tests travel in time with time-machine,
which moves this clock too."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def local(moment: datetime, tz: tzinfo | str) -> datetime:
    """The instant ``moment`` as wall-clock time in ``tz`` (Europe/Berlin at the edges)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return moment.astimezone(zone)
