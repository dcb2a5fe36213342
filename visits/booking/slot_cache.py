"""Cached free-slot listings: the slot listing stays fast when many citizens ask at once.

The slot engine over 20 clerks and four weeks costs ~12 ms of CPU; thirty-two citizens
asking at once queued behind it. Between two changes the answer is the same, so it is
computed once per *generation* and served from memory until something changes:

* **Generation.** A random token that every committed change to appointments, weekly
  hours, absences, closing days, services or staff (and their service lists) replaces. The session
  events below notice such a change in a flush or a bulk UPDATE/DELETE, and replace the
  token **after the commit** (a reader that read the token before the commit may store the
  old state, but only under the token that is replaced a moment later; a reader that reads
  it after the replacement queries the new state). The token lives in Redis when
  ``REDIS_URL`` is set, so every instance sees the others' changes; otherwise in a file
  (``SLOT_CACHE_FILE``, default in the instance folder), shared by the worker processes of
  one host (several hosts need Redis, as the rate limits do). Readers read the token *before* they query.
* **Entries** live in each process's memory (a small LRU), keyed by service, days,
  location, audience and generation. An entry is computed at ``now`` with the horizon widened by its lifetime and
  filtered at every read by the reader's own ``now`` (minimum notice, horizon), so the
  answer equals a fresh computation at that moment. It is valid until the first hold among
  its bookings runs out (that frees a slot without any write), for the public until the
  next release of reserved hours or share (a reserved slot it could not show yet becomes
  the public's then, also without a write), and at most ``SLOT_CACHE_SECONDS``, which bounds
  what a change made outside the app (psql) can cost.
* A session with uncommitted changes to those tables reads past the cache (it must see
  its own changes). Without Redis or file the cache steps aside and the engine answers.

``SLOT_CACHE_ENABLED=false`` turns it off; every listing is then computed afresh.
Booking itself (``operations.py``) never reads this cache: it asks the engine and the
database, whose constraint is the guarantee against double booking."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from visits import settings
from visits.booking import availability, catalogue, slot_generation, slots
from visits.booking.availability import ANY, Audience, LocationChoice
from visits.extensions import db
from visits.models import (
    Absence,
    Appointment,
    ClosingDay,
    Department,
    Location,
    Service,
    StaffUser,
    Status,
    WeeklyHours,
)

log = logging.getLogger(__name__)

EXTENSION = "visits.slot_cache"
MAX_ENTRIES = 512
_CHANGED = "visits.slots_changed"  # key in Session.info: a watched table changed
# Everything the free slots are computed from.
_WATCHED_CLASSES = (Appointment, WeeklyHours, Absence, ClosingDay, Service, StaffUser, Department, Location)
_WATCHED_TABLES = frozenset(
    {
        "appointment",
        "weekly_hours",
        "absence",
        "closing_day",
        "department",
        "location",
        "service",
        "staff_user",
        "clerk_service",
        "weekly_hours_service",
    }
)


# -- entries -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """What a listing needs of a service, kept per generation (a change to it bumps)."""

    id: int
    slug: str
    horizon_days: int
    rules: slots.ServiceRules
    on_site: bool  # availability.is_on_site
    release: timedelta  # availability.reserved_release


@dataclass(frozen=True, slots=True)
class _Entry:
    serial: int  # unique in this process (id() could be reused after an entry is dropped)
    computed_at: datetime
    valid_until: datetime
    slots: tuple[slots.Slot, ...]  # sorted by start; computed with the horizon widened
    starts: tuple[datetime, ...]
    min_notice: timedelta
    horizon: timedelta


@dataclass(frozen=True, slots=True)
class Listing:
    """The free slots at one moment: ``entry.slots[lo:hi]``. ``key`` names exactly this
    answer (same entry, same cut), so a caller may keep what it builds from it."""

    entry: _Entry
    lo: int
    hi: int

    @property
    def slots(self) -> tuple[slots.Slot, ...]:
        return self.entry.slots[self.lo : self.hi]

    @property
    def key(self) -> tuple:
        return (self.entry.serial, self.lo, self.hi)


class SlotCache:
    def __init__(self, app: Flask) -> None:
        config = settings.of(app)
        self.enabled = config.slot_cache_enabled
        self.lifetime = timedelta(seconds=max(1, config.slot_cache_seconds))
        self.store: slot_generation.RedisGeneration | slot_generation.FileGeneration = (
            slot_generation.RedisGeneration(config.redis_url)
            if config.redis_url
            else slot_generation.FileGeneration(Path(config.slot_cache_file))
        )
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._generation_seen: str | None = None
        self._warned = False

    # generation

    def generation(self) -> str | None:
        """The current token, or None when the cache cannot be used for this read."""
        if not self.enabled or db.session.info.get(_CHANGED):
            return None
        try:
            token = self.store.current()
        except Exception:  # Redis away, folder not writable: compute afresh
            if not self._warned:  # once per process, not once per request
                self._warned = True
                log.warning("slot cache: generation unavailable, computing slots afresh", exc_info=True)
            return None
        self._warned = False
        if token != self._generation_seen:
            with self._lock:  # entries of older generations can never be read again
                self._entries.clear()
                self._generation_seen = token
        return token

    def bump(self) -> None:
        if not self.enabled:
            return
        try:
            self.store.bump()
        except Exception:
            # Entries elsewhere live at most SLOT_CACHE_SECONDS; ours go now.
            log.error("slot cache: could not announce a change; cached slots may lag", exc_info=True)
        with self._lock:
            self._entries.clear()

    # plain memory

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def memo(self, generation: str | None, key: Hashable, build: Callable[[], Any]) -> Any:
        """``build()`` once per generation and key (always afresh without a generation)."""
        if generation is None:
            return build()
        full = (generation, key)
        found = self.get(full)
        if found is None:
            found = build()
            self.put(full, found)
        return found


def cache() -> SlotCache:
    return current_app.extensions[EXTENSION]


# -- the listings ---------------------------------------------------------------------------


def info_of(service: Service) -> ServiceInfo:
    return ServiceInfo(
        service.id,
        service.slug,
        service.horizon_days,
        availability.service_rules(service),
        availability.is_on_site(service.modes),
        availability.reserved_release(service),
    )


def active_service_info(slug: str, generation: str | None) -> ServiceInfo | None:
    """The active service ``slug`` (None if there is none), without a query when cached."""

    def load() -> ServiceInfo | None:
        found = catalogue.active_service(slug)
        return info_of(found) if found is not None else None

    if generation is None:
        return load()
    key = ("service", slug)
    found = cache().get((generation, key))
    if found is None:
        found = load()
        if found is None:
            return None  # unknown slugs are not remembered: nothing to fill memory with
        cache().put((generation, key), found)
    return found


def listing(
    service: Service | ServiceInfo,
    first_day: date,
    last_day: date,
    now: datetime,
    *,
    location: LocationChoice = ANY,
    audience: Audience = Audience.PUBLIC,
    generation: str | None = None,
    have_generation: bool = False,
) -> Listing:
    """The free slots of ``service`` on the local days first_day..last_day at ``location``
    for ``audience``, as ``availability.free_slots`` would compute them at ``now``.

    Pass ``generation`` (with ``have_generation=True``) when it was read before other
    queries of the same answer (as the API does for the service itself)."""
    info = service if isinstance(service, ServiceInfo) else info_of(service)
    the_cache = cache()
    if not have_generation:
        generation = the_cache.generation()
    key = (generation, "slots", info.id, first_day, last_day, location, audience, info.on_site)
    entry: _Entry | None = the_cache.get(key) if generation is not None else None
    if entry is None or not entry.computed_at <= now < entry.valid_until:
        entry = _compute(info, first_day, last_day, now, the_cache.lifetime, location, audience)
        if generation is not None:
            the_cache.put(key, entry)
    lo = bisect_left(entry.starts, now + entry.min_notice)
    hi = bisect_right(entry.starts, now + entry.horizon, lo)
    return Listing(entry, lo, hi)


def free_slots(
    service: Service, first_day: date, last_day: date, now: datetime, *, location: LocationChoice = ANY
) -> list[slots.Slot]:
    """The public's free slots (the cache serves public listings; staff pages ask the engine)."""
    return list(listing(service, first_day, last_day, now, location=location).slots)


def next_free_slot(
    service: Service, after_day: date, now: datetime, *, location: LocationChoice = ANY
) -> slots.Slot | None:
    """The first free slot on or after ``after_day``, within the service's horizon."""
    last = (now + timedelta(days=service.horizon_days)).astimezone(availability.zone()).date()
    day = after_day
    while day <= last:
        chunk_end = min(day + timedelta(days=13), last)
        found = listing(service, day, chunk_end, now, location=location).slots
        if found:
            return found[0]
        day = chunk_end + timedelta(days=1)
    return None


def _compute(
    info: ServiceInfo,
    first_day: date,
    last_day: date,
    now: datetime,
    lifetime: timedelta,
    location: LocationChoice,
    audience: Audience,
) -> _Entry:
    rules = info.rules
    ids = availability.bookable_clerk_ids(info.id)
    span_start, span_end = availability._local_range_utc(first_day, last_day)
    # widened: a read up to ``lifetime`` later may see slots this far out
    wide = dataclasses.replace(rules, horizon=rules.horizon + lifetime)

    def compute(for_whom: Audience) -> list[slots.Slot]:
        return availability.free_slots(
            info,
            first_day,
            last_day,
            now,
            location=location,
            audience=for_whom,
            clerk_ids=ids,
            rules=wide,
            on_site=info.on_site,
            release=info.release,
        )

    found = compute(audience)
    valid_until = now + lifetime
    if audience == Audience.PUBLIC and (rules.reserved_share or availability.has_reserved_hours(ids)):
        next_release = _next_release(compute(Audience.STAFF), found, info.release)
        if next_release is not None and next_release < valid_until:
            valid_until = next_release  # that reserved slot is the public's from then on
    if ids:
        next_expiry = db.session.scalar(
            select(func.min(Appointment.hold_expires_at)).where(
                Appointment.clerk_id.in_(ids),
                Appointment.status == Status.HELD,
                Appointment.hold_expires_at > now,
                Appointment.blocked_from < span_end,
                Appointment.blocked_until > span_start,
            )
        )
        if next_expiry is not None and next_expiry < valid_until:
            valid_until = next_expiry  # that hold's slot is free from then on
    ordered = tuple(sorted(found, key=lambda s: s.start))
    return _Entry(
        serial=next(_serials),
        computed_at=now,
        valid_until=valid_until,
        slots=ordered,
        starts=tuple(s.start for s in ordered),
        min_notice=rules.min_notice,
        horizon=rules.horizon,
    )


def _next_release(
    staff_slots: list[slots.Slot], public_slots: list[slots.Slot], release: timedelta
) -> datetime | None:
    """When the public's listing next changes by a release: staff and public listings differ
    only by what reserved hours and the share hold back (a slot, or a clerk of a slot)."""
    public = set(public_slots)
    hidden = [slot.start for slot in staff_slots if slot not in public]
    return min(hidden) - release if hidden else None


# -- noticing changes ----------------------------------------------------------------------


def _mark(session: Session) -> None:
    session.info[_CHANGED] = True


def _after_flush(session: Session, _context) -> None:
    if session.info.get(_CHANGED):
        return
    for collection in (session.new, session.dirty, session.deleted):
        if any(isinstance(obj, _WATCHED_CLASSES) for obj in collection):
            _mark(session)
            return


def _on_execute(state) -> None:
    """Bulk UPDATE/DELETE/INSERT (expire_holds, calendar uploads) bypass the flush."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, _WATCHED_CLASSES):
        _mark(state.session)
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _WATCHED_TABLES:
        _mark(state.session)


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False) and has_app_context():
        found = current_app.extensions.get(EXTENSION)
        if found is not None:
            found.bump()


def _after_rollback(session: Session) -> None:
    # A whole transaction undone: nothing changed. (A savepoint's rollback keeps the mark:
    # it may have come from the outer transaction; one extra bump is harmless.)
    if not session.in_transaction():
        session.info.pop(_CHANGED, None)


_serials = itertools.count(1)
_listening = False


def init_app(app: Flask) -> None:
    global _listening
    app.extensions[EXTENSION] = SlotCache(app)
    if not _listening:
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        _listening = True
