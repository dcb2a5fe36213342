"""No double booking under a real race: 50 requests at once, each on its own connection.

On PostgreSQL the exclusion constraint decides; on SQLite the write lock taken at BEGIN
serialises the writers and the triggers decide. Both must give the same answer."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from visits.booking import operations as booking
from visits.extensions import db
from visits.models import Appointment, AppointmentItem, Service

from .. import days
from ..conftest import berlin
from ..factories import ANMELDUNG, PERSONALAUSWEIS

ATTEMPTS = 50


def _race(app, service_id: int, start, now, citizen_for, items_for=None) -> Counter:
    """``items_for(n)``: instead of the service, what racer n books as (service id, persons)."""
    # End this thread's transaction: on SQLite it would hold the write lock the racers need.
    db.session.commit()
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def attempt(n: int) -> None:
        with app.app_context():
            barrier.wait()
            service = db.session.get(Service, service_id)
            if items_for is not None:
                service = [(db.session.get(Service, what), persons) for what, persons in items_for(n)]
            try:
                result = booking.hold(service, start, citizen_for(n), now=now)
                outcome = "booked" if result.created else "same-hold"
            except booking.SlotUnavailable:
                outcome = "slot-no-longer-free"
            except Exception as exc:  # anything else is a failure of the guarantee
                outcome = f"error: {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def test_fifty_concurrent_attempts_at_one_slot_of_two_clerks_book_exactly_two(app, factories):
    service = factories.service(duration_minutes=30)
    clerks = [factories.clerk([service]), factories.clerk([service])]
    monday = days.BOOKING_MONDAY
    start, now = berlin(monday, 9), berlin(monday - timedelta(days=3), 9)

    outcomes = _race(
        app, service.id, start, now, lambda n: factories.citizen(email=f"racer{n}@example.org")
    )

    assert outcomes == {"booked": 2, "slot-no-longer-free": 48}
    db.session.expire_all()
    rows = db.session.execute(select(Appointment.clerk_id, Appointment.start_at)).all()
    assert sorted(r.clerk_id for r in rows) == sorted(c.id for c in clerks)
    assert all(r.start_at == start for r in rows)


def test_one_person_clicking_fifty_times_at_once_gets_one_hold(app, factories):
    service = factories.service(duration_minutes=30)
    factories.clerk([service])
    factories.clerk([service])
    monday = days.BOOKING_MONDAY
    start, now = berlin(monday, 10), berlin(monday - timedelta(days=3), 9)
    same = factories.citizen(email="doppelklick@example.org")

    outcomes = _race(app, service.id, start, now, lambda n: same)

    assert outcomes == {"booked": 1, "same-hold": ATTEMPTS - 1}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_families_and_single_bookings_racing_for_overlapping_time_never_overlap(app, factories):
    """Half the racers book a family (registration x1 + ID cards x2: 08:10-09:05, blocked
    08:00-09:10), half one ID card at the same start (blocked 08:00-08:30): each of the two
    clerks gets exactly one of them, whichever came first, and nothing overlaps."""
    anmeldung = factories.service(**ANMELDUNG)
    ausweis = factories.service(**PERSONALAUSWEIS)
    clerks = [factories.clerk([anmeldung, ausweis]), factories.clerk([anmeldung, ausweis])]
    monday = days.BOOKING_MONDAY
    start, now = berlin(monday, 8, 10), berlin(monday - timedelta(days=3), 9)
    family, one_card = [(anmeldung.id, 1), (ausweis.id, 2)], [(ausweis.id, 1)]

    outcomes = _race(
        app, ausweis.id, start, now, lambda n: factories.citizen(email=f"family{n}@example.org"),
        items_for=lambda n: family if n % 2 == 0 else one_card,
    )

    assert outcomes == {"booked": 2, "slot-no-longer-free": ATTEMPTS - 2}
    db.session.expire_all()
    rows = db.session.scalars(select(Appointment)).all()
    assert sorted(row.clerk_id for row in rows) == sorted(clerk.id for clerk in clerks)
    for row in rows:
        persons = sum(item.persons for item in row.items)
        expected = timedelta(minutes=55) if persons == 3 else timedelta(minutes=20)
        assert row.end_at - row.start_at == expected
    assert db.session.scalar(select(func.count()).select_from(AppointmentItem)) == sum(len(r.items) for r in rows)
