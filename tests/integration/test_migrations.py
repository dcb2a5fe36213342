"""The second migration moves two facts out of the audit log into their own places, filled
from the audit rows a database already has; the schema keeps refusing overlapping
appointments after it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.conftest import _postgres_schema_url, _test_config
from visits import create_app
from visits.extensions import db
from visits.models.types import UTCDateTime

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
START = datetime(2030, 3, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
def fresh_app(tmp_path) -> Iterator:
    """An app on an empty database of its own (a fresh schema on PostgreSQL)."""
    url = os.environ.get("DATABASE_URL", "")
    schema = None
    if url.startswith("postgres"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        base = url
        url, schema = _postgres_schema_url(base)
    else:
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    app = create_app(_test_config(url, tmp_path))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    if schema is not None:
        engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def _table(name: str, *columns: str, instants: tuple[str, ...] = ()) -> sa.TableClause:
    return sa.table(
        name, *(sa.column(c) for c in columns), *(sa.column(c, UTCDateTime()) for c in instants)
    )


STAFF = _table("staff_user", "id", "email", "name", "password_hash", "role", "active", instants=("created_at",))
SERVICE = _table(
    "service", "id", "slug", "name_de", "name_en", "description_de", "description_en", "documents_de",
    "documents_en", "duration_minutes", "buffer_before_minutes", "buffer_after_minutes", "video", "address",
    "min_notice_minutes", "horizon_days", "active", instants=("created_at",),
)
APPOINTMENT = _table(
    "appointment", "id", "reference", "uid", "service_id", "clerk_id", "status", "sequence", "citizen_name",
    "citizen_email", "language", "citizen_note", "internal_note", "booked_via", "manage_token_hash",
    "join_token_hash", "cancel_reason",
    instants=("start_at", "end_at", "blocked_from", "blocked_until", "confirmed_at", "created_at", "updated_at"),
)
AUDIT = sa.table(
    "audit_event", sa.column("id"), sa.column("actor_id"), sa.column("actor_label"), sa.column("action"),
    sa.column("object_type"), sa.column("object_id"), sa.column("details", sa.JSON()), sa.column("at", UTCDateTime()),
)


def _appointment(number: int, start: datetime, *, confirmed_at: datetime | None) -> dict:
    return {
        "id": number, "reference": f"T-0000-000{number}", "uid": f"{number}@visits", "service_id": 1,
        "clerk_id": 1, "status": "confirmed" if confirmed_at else "held", "sequence": 0,
        "citizen_name": "Erika Mustermann", "citizen_email": f"erika{number}@example.org", "language": "de",
        "citizen_note": "", "internal_note": "", "booked_via": "web", "manage_token_hash": f"m{number}",
        "join_token_hash": f"j{number}", "cancel_reason": "", "start_at": start,
        "end_at": start + timedelta(minutes=30), "blocked_from": start, "blocked_until": start + timedelta(minutes=30),
        "confirmed_at": confirmed_at, "created_at": T0, "updated_at": T0,
    }


def _audit(number: int, action: str, at: datetime, appointment_id: int, **details) -> dict:
    return {
        "id": number, "actor_id": 1, "actor_label": "anna@stadt.test", "action": action,
        "object_type": "appointment", "object_id": appointment_id, "details": details, "at": at,
    }


def test_the_second_migration_fills_told_times_and_kept_conflicts_from_the_audit_log(fresh_app):
    upgrade(revision="0001")
    with db.engine.begin() as conn:
        conn.execute(sa.insert(STAFF), [{"id": 1, "email": "anna@stadt.test", "name": "Anna", "password_hash": "x",
                                         "role": "clerk", "active": True, "created_at": T0}])
        conn.execute(sa.insert(SERVICE), [{
            "id": 1, "slug": "ausweis", "name_de": "Ausweis", "name_en": "ID card", "description_de": "",
            "description_en": "", "documents_de": "", "documents_en": "", "duration_minutes": 30,
            "buffer_before_minutes": 0, "buffer_after_minutes": 0, "video": False, "address": "Rathaus",
            "min_notice_minutes": 0, "horizon_days": 60, "active": True, "created_at": T0,
        }])
        conn.execute(sa.insert(APPOINTMENT), [
            _appointment(1, START, confirmed_at=T0 + timedelta(hours=1)),  # confirmed, then moved twice
            _appointment(2, START + timedelta(hours=1), confirmed_at=T0 + timedelta(hours=2)),  # confirmed only
            _appointment(3, START + timedelta(hours=2), confirmed_at=None),  # a hold
        ])
        conn.execute(sa.insert(AUDIT), [
            _audit(1, "appointment.rescheduled", T0 + timedelta(days=1), 1),
            _audit(2, "appointment.rescheduled", T0 + timedelta(days=2), 1),
            _audit(3, "appointment.kept", T0 + timedelta(days=3), 2,
                   start=(START + timedelta(hours=1)).isoformat(), clerk_id=1, conflict="hours,absence:7"),
        ])
    upgrade(revision="0002")

    with db.engine.connect() as conn:
        told = dict(conn.execute(sa.select(sa.column("id"), sa.column("time_told_at", UTCDateTime()))
                                 .select_from(sa.table("appointment"))).all())
        kept = conn.execute(sa.select(
            sa.column("appointment_id"), sa.column("start_at", UTCDateTime()), sa.column("clerk_id"),
            sa.column("conflict"), sa.column("kept_at", UTCDateTime()), sa.column("kept_by_id"),
        ).select_from(sa.table("kept_conflict"))).all()
    assert told == {1: T0 + timedelta(days=2), 2: T0 + timedelta(hours=2), 3: None}
    assert [tuple(row) for row in kept] == [
        (2, START + timedelta(hours=1), 1, "hours,absence:7", T0 + timedelta(days=3), 1)
    ]

    # The overlap guard survives the migration (SQLite keeps its triggers: no table copy).
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.insert(APPOINTMENT), [
            {**_appointment(4, START + timedelta(minutes=15), confirmed_at=T0), "citizen_email": "max@example.org"}
        ])

    downgrade(revision="0001")
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("appointment")}
    assert "time_told_at" not in columns and not sa.inspect(db.engine).has_table("kept_conflict")
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.insert(APPOINTMENT), [
            {**_appointment(4, START + timedelta(minutes=15), confirmed_at=T0), "citizen_email": "max@example.org"}
        ])


def test_the_dial_in_migration_gives_existing_video_appointments_their_pin(fresh_app):
    """0005_dial_in: existing video appointments get the keyed hash of the PIN the app derives for them
    (so their reminders name a PIN that works), on-site and anonymised ones none; the overlap
    guard survives, up and down."""
    from visits.video import dial_in

    upgrade(revision="0005_documents")
    with db.engine.begin() as conn:
        conn.execute(sa.insert(STAFF), [{"id": 1, "email": "anna@stadt.test", "name": "Anna", "password_hash": "x",
                                         "role": "clerk", "active": True, "created_at": T0}])
        conn.execute(sa.insert(SERVICE), [{
            "id": 1, "slug": "wohngeld", "name_de": "Wohngeld", "name_en": "Housing benefit", "description_de": "",
            "description_en": "", "documents_de": "", "documents_en": "", "duration_minutes": 30,
            "buffer_before_minutes": 0, "buffer_after_minutes": 0, "video": True, "address": "",
            "min_notice_minutes": 0, "horizon_days": 60, "active": True, "created_at": T0,
        }])
        conn.execute(sa.insert(APPOINTMENT), [
            _appointment(1, START, confirmed_at=T0),
            _appointment(2, START + timedelta(hours=1), confirmed_at=T0),
            _appointment(3, START + timedelta(hours=2), confirmed_at=T0),
        ])
        rooms = sa.table("appointment", sa.column("id"), sa.column("room"), sa.column("anonymised_at", UTCDateTime()))
        conn.execute(rooms.update().where(rooms.c.id == 1).values(room="termin-eins"))
        conn.execute(rooms.update().where(rooms.c.id == 2).values(room="termin-zwei", anonymised_at=T0))
    upgrade(revision="0005_dial_in")

    with db.engine.connect() as conn:
        stored = dict(conn.execute(sa.select(sa.column("id"), sa.column("dial_in_pin_hash"))
                                   .select_from(sa.table("appointment"))).all())
    assert stored == {1: dial_in.pin_hash(dial_in.derive_pin("1@visits")), 2: None, 3: None}
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE appointment SET dial_in_pin_hash = :h WHERE id = 3"), {"h": stored[1]})
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.insert(APPOINTMENT), [
            {**_appointment(4, START + timedelta(minutes=15), confirmed_at=T0), "citizen_email": "max@example.org"}
        ])

    downgrade(revision="0005_documents")
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("appointment")}
    assert "dial_in_pin_hash" not in columns
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.insert(APPOINTMENT), [
            {**_appointment(4, START + timedelta(minutes=15), confirmed_at=T0), "citizen_email": "max@example.org"}
        ])


def test_the_places_migration_moves_services_and_staff_into_the_default_department_and_location(fresh_app):
    """0006_places: one default department and location, its address taken from the first
    service that has one; every service and staff member belongs to them; down again cleanly."""
    upgrade(revision="0005_dial_in")
    service = {
        "description_de": "", "description_en": "", "documents_de": "", "documents_en": "", "duration_minutes": 30,
        "buffer_before_minutes": 0, "buffer_after_minutes": 0, "min_notice_minutes": 0, "horizon_days": 60,
        "active": True, "created_at": T0,
    }
    with db.engine.begin() as conn:
        conn.execute(sa.insert(STAFF), [
            {"id": 1, "email": "anna@stadt.test", "name": "Anna", "password_hash": "x", "role": "clerk",
             "active": True, "created_at": T0},
            {"id": 2, "email": "ada@stadt.test", "name": "Ada", "password_hash": "x", "role": "admin",
             "active": True, "created_at": T0},
        ])
        conn.execute(sa.insert(SERVICE), [
            {**service, "id": 1, "slug": "wohngeld", "name_de": "Wohngeld", "name_en": "Housing benefit",
             "video": True, "address": ""},
            {**service, "id": 2, "slug": "ausweis", "name_de": "Ausweis", "name_en": "ID card", "video": False,
             "address": "Marktplatz 1, 40213 Düsseldorf"},
            {**service, "id": 3, "slug": "pass", "name_de": "Pass", "name_en": "Passport", "video": False,
             "address": "Anderswo 2"},
        ])
    upgrade(revision="0006_places")

    with db.engine.connect() as conn:
        departments = conn.execute(sa.text("SELECT id, slug, name_de, name_en, active FROM department")).all()
        locations = conn.execute(sa.text("SELECT id, slug, department_id, street, name_en FROM location")).all()
        services = dict(conn.execute(sa.text("SELECT id, department_id FROM service")).all())
        held_at = dict(conn.execute(sa.text("SELECT id, location_id FROM service")).all())
        staff = dict(conn.execute(sa.text("SELECT id, department_id FROM staff_user")).all())
    [(department_id, slug, name_de, name_en, active)] = departments
    assert (slug, name_de, name_en, bool(active)) == ("buergerservice", "Bürgerservice", "Citizens' service", True)
    [(location_id, location_slug, of_department, street, _name)] = locations
    assert (location_slug, of_department, street) == ("buergerservice", department_id, "Marktplatz 1, 40213 Düsseldorf")
    assert services == {1: department_id, 2: department_id, 3: department_id}
    assert held_at == {1: location_id, 2: location_id, 3: location_id}
    assert staff == {1: department_id, 2: department_id}

    downgrade(revision="0005_dial_in")
    inspector = sa.inspect(db.engine)
    assert "department_id" not in {c["name"] for c in inspector.get_columns("service")}
    assert "location_id" not in {c["name"] for c in inspector.get_columns("service")}
    assert "department_id" not in {c["name"] for c in inspector.get_columns("staff_user")}
    assert not any(inspector.has_table(t) for t in ("department", "location", "closing_day"))
    # The overlap guard survives the way down (no table was copied).
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.insert(APPOINTMENT), [_appointment(1, START, confirmed_at=T0), _appointment(2, START, confirmed_at=T0)])


def test_the_places_migration_leaves_the_default_location_without_address_when_no_service_has_one(fresh_app):
    upgrade(revision="0006_places")
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT slug, street FROM location")).all() == [("buergerservice", "")]


def test_the_department_admin_migration_keeps_admins_city_admins_and_requires_a_department(fresh_app):
    """0007_department_admins: existing administrators stay the city's administrators and
    clerks stay clerks; a department administrator needs a department; weekly hours survive
    (no table copy); down again, department administrators become clerks."""
    upgrade(revision="0006_places")
    with db.engine.begin() as conn:
        department_id = conn.execute(sa.text("SELECT id FROM department")).scalar()
        conn.execute(sa.insert(STAFF), [
            {"id": 1, "email": "anna@stadt.test", "name": "Anna", "password_hash": "x", "role": "clerk",
             "active": True, "created_at": T0},
            {"id": 2, "email": "ada@stadt.test", "name": "Ada", "password_hash": "x", "role": "admin",
             "active": True, "created_at": T0},
        ])
        conn.execute(sa.text("UPDATE staff_user SET department_id = :d"), {"d": department_id})
        conn.execute(sa.text(
            "INSERT INTO weekly_hours (id, clerk_id, weekday, start_time, end_time) VALUES (1, 1, 0, '08:00:00', '12:00:00')"
        ))
    upgrade(revision="0007_department_admins")

    with db.engine.connect() as conn:
        roles = dict(conn.execute(sa.text("SELECT id, role FROM staff_user")).all())
        hours = conn.execute(sa.text("SELECT count(*) FROM weekly_hours")).scalar()
    assert roles == {1: "clerk", 2: "admin"} and hours == 1
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE staff_user SET role = 'department_admin' WHERE id = 1"))
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE staff_user SET department_id = NULL WHERE id = 1"))
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE staff_user SET role = 'chief' WHERE id = 2"))

    downgrade(revision="0006_places")
    with db.engine.connect() as conn:
        assert dict(conn.execute(sa.text("SELECT id, role FROM staff_user")).all()) == {1: "clerk", 2: "admin"}
        assert conn.execute(sa.text("SELECT count(*) FROM weekly_hours")).scalar() == 1
    # Refused again (PostgreSQL: the shorter column already refuses the value).
    with pytest.raises((sa.exc.IntegrityError, sa.exc.DataError)), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE staff_user SET role = 'department_admin' WHERE id = 1"))
    upgrade(revision="0007_department_admins")


def test_the_hours_migration_puts_existing_hours_and_on_site_appointments_at_the_default_location(fresh_app):
    """0007_hours_locations: existing hours are worked at the default location (not reserved),
    so on-site services keep their slots; on-site appointments are held at their service's
    location, video ones nowhere; departments release reserved hours 48 hours ahead."""
    upgrade(revision="0006_places")
    service = {
        "description_de": "", "description_en": "", "documents_de": "", "documents_en": "", "duration_minutes": 30,
        "buffer_before_minutes": 0, "buffer_after_minutes": 0, "min_notice_minutes": 0, "horizon_days": 60,
        "active": True, "created_at": T0, "address": "",
    }
    with db.engine.begin() as conn:
        location_id = conn.execute(sa.text("SELECT id FROM location WHERE slug = 'buergerservice'")).scalar_one()
        conn.execute(sa.insert(STAFF), [{"id": 1, "email": "anna@stadt.test", "name": "Anna", "password_hash": "x",
                                         "role": "clerk", "active": True, "created_at": T0}])
        conn.execute(sa.insert(SERVICE), [
            {**service, "id": 1, "slug": "ausweis", "name_de": "Ausweis", "name_en": "ID card", "video": False},
            {**service, "id": 2, "slug": "wohngeld", "name_de": "Wohngeld", "name_en": "Housing", "video": True},
        ])
        conn.execute(sa.text("UPDATE service SET location_id = :location"), {"location": location_id})
        conn.execute(sa.text(
            "INSERT INTO weekly_hours (id, clerk_id, weekday, start_time, end_time) VALUES "
            "(1, 1, 0, '08:00:00', '12:00:00'), (2, 1, 1, '13:00:00', '16:00:00')"
        ))
        on_site, by_video = _appointment(1, START, confirmed_at=T0), _appointment(2, START + timedelta(hours=1), confirmed_at=T0)
        conn.execute(sa.insert(APPOINTMENT), [on_site, {**by_video, "service_id": 2}])
    upgrade(revision="0007_hours_locations")

    with db.engine.connect() as conn:
        hours = conn.execute(sa.text("SELECT id, location_id, reserved FROM weekly_hours ORDER BY id")).all()
        held_at = dict(conn.execute(sa.text("SELECT id, location_id FROM appointment")).all())
        release = conn.execute(sa.text("SELECT reserved_release_hours FROM department")).scalars().all()
    assert [(i, at, bool(reserved)) for i, at, reserved in hours] == [(1, location_id, False), (2, location_id, False)]
    assert held_at == {1: location_id, 2: None}
    assert release == [48]

    downgrade(revision="0006_places")
    inspector = sa.inspect(db.engine)
    assert not {"location_id", "reserved"} & {c["name"] for c in inspector.get_columns("weekly_hours")}
    assert "location_id" not in {c["name"] for c in inspector.get_columns("appointment")}
    assert "reserved_release_hours" not in {c["name"] for c in inspector.get_columns("department")}
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:  # the overlap guard survives
        conn.execute(sa.insert(APPOINTMENT), [_appointment(3, START, confirmed_at=T0)])


def test_the_modes_migration_turns_the_video_flag_into_modes_and_gives_appointments_theirs(fresh_app):
    """0007_modes: video=True allows video, video=False on site; an appointment with a room is
    a video one, the others on site; a service without any mode is refused; down again."""
    upgrade(revision="0006_places")
    service = {
        "description_de": "", "description_en": "", "documents_de": "", "documents_en": "", "duration_minutes": 30,
        "buffer_before_minutes": 0, "buffer_after_minutes": 0, "min_notice_minutes": 0, "horizon_days": 60,
        "active": True, "created_at": T0, "address": "",
    }
    with db.engine.begin() as conn:
        conn.execute(sa.insert(STAFF), [{"id": 1, "email": "anna@stadt.test", "name": "Anna", "password_hash": "x",
                                         "role": "clerk", "active": True, "created_at": T0}])
        conn.execute(sa.insert(SERVICE), [
            {**service, "id": 1, "slug": "wohngeld", "name_de": "Wohngeld", "name_en": "Housing benefit", "video": True},
            {**service, "id": 2, "slug": "ausweis", "name_de": "Ausweis", "name_en": "ID card", "video": False},
        ])
        conn.execute(sa.insert(APPOINTMENT), [
            _appointment(1, START, confirmed_at=T0),
            {**_appointment(2, START + timedelta(hours=1), confirmed_at=T0), "service_id": 2},
        ])
        rooms = sa.table("appointment", sa.column("id"), sa.column("room"))
        conn.execute(rooms.update().where(rooms.c.id == 1).values(room="termin-eins"))
    upgrade(revision="0007_modes")

    with db.engine.connect() as conn:
        offers = {row[0]: tuple(bool(v) for v in row[1:]) for row in conn.execute(
            sa.text("SELECT id, offers_on_site, offers_video, offers_phone FROM service"))}
        modes = dict(conn.execute(sa.text("SELECT id, mode FROM appointment")).all())
    assert offers == {1: (False, True, False), 2: (True, False, False)}
    assert modes == {1: "video", 2: "on_site"}
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE service SET offers_on_site = false WHERE id = 2"))
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE appointment SET mode = 'fax' WHERE id = 2"))
    # The overlap guard survives (no table was copied).
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.insert(APPOINTMENT), [
            {**_appointment(3, START + timedelta(minutes=15), confirmed_at=T0), "citizen_email": "max@example.org"}
        ])

    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE service SET offers_phone = true, offers_video = false WHERE id = 1"))
    downgrade(revision="0006_places")
    with db.engine.connect() as conn:
        video = {row[0]: bool(row[1]) for row in conn.execute(sa.text("SELECT id, video FROM service"))}
    assert video == {1: False, 2: False}
    assert "mode" not in {c["name"] for c in sa.inspect(db.engine).get_columns("appointment")}
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.insert(APPOINTMENT), [
            {**_appointment(3, START + timedelta(minutes=15), confirmed_at=T0), "citizen_email": "max@example.org"}
        ])


def test_the_composite_migration_gives_every_appointment_one_item_of_its_service(fresh_app):
    """0007_composite: each existing appointment is for its service, one person; services
    take one person and do not combine until an admin says so; down again cleanly."""
    upgrade(revision="0006_places")
    service = {
        "description_de": "", "description_en": "", "documents_de": "", "documents_en": "", "duration_minutes": 30,
        "buffer_before_minutes": 0, "buffer_after_minutes": 0, "min_notice_minutes": 0, "horizon_days": 60,
        "active": True, "created_at": T0, "video": True, "address": "",
    }
    with db.engine.begin() as conn:
        conn.execute(sa.insert(STAFF), [
            {"id": 1, "email": "anna@stadt.test", "name": "Anna", "password_hash": "x", "role": "clerk",
             "active": True, "created_at": T0},
        ])
        conn.execute(sa.insert(SERVICE), [
            {**service, "id": 1, "slug": "anmeldung", "name_de": "Anmeldung", "name_en": "Registration"},
            {**service, "id": 2, "slug": "ausweis", "name_de": "Ausweis", "name_en": "ID card"},
        ])
        conn.execute(sa.insert(APPOINTMENT), [
            _appointment(1, START, confirmed_at=T0),
            {**_appointment(2, START + timedelta(hours=1), confirmed_at=None), "service_id": 2},
        ])
    upgrade(revision="0007_composite")

    with db.engine.connect() as conn:
        items = conn.execute(sa.text(
            "SELECT appointment_id, service_id, persons, position FROM appointment_item ORDER BY appointment_id"
        )).all()
        services = conn.execute(sa.text("SELECT id, max_persons, combinable FROM service ORDER BY id")).all()
    assert [tuple(row) for row in items] == [(1, 1, 1, 0), (2, 2, 1, 0)]
    assert [(i, m, bool(c)) for i, m, c in services] == [(1, 1, False), (2, 1, False)]
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE service SET max_persons = 0 WHERE id = 1"))
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO appointment_item (appointment_id, service_id, persons, position) VALUES (1, 1, 2, 1)"
        ))

    downgrade(revision="0006_places")
    inspector = sa.inspect(db.engine)
    assert not inspector.has_table("appointment_item")
    assert not {"max_persons", "combinable"} & {c["name"] for c in inspector.get_columns("service")}
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.insert(APPOINTMENT), [
            {**_appointment(3, START, confirmed_at=T0), "citizen_email": "max@example.org"}
        ])


def test_the_share_migration_keeps_nothing_back_and_refuses_more_than_everything(fresh_app):
    """0008_reserved_share: existing departments keep no share; a share is 0 to 100 percent;
    down again cleanly."""
    upgrade(revision="0007_composite")
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO department (slug, name_de, name_en, active, reserved_release_hours) "
            "VALUES ('verkehrsamt', 'Straßenverkehrsamt', 'Road traffic office', true, 48)"
        ))
    upgrade(revision="0008_reserved_share")

    with db.engine.connect() as conn:
        shares = conn.execute(sa.text("SELECT reserved_share_percent FROM department")).scalars().all()
    assert shares and set(shares) == {0}
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE department SET reserved_share_percent = 100"))
    for wrong in (101, -1):
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text(f"UPDATE department SET reserved_share_percent = {wrong}"))

    downgrade(revision="0007_composite")
    inspector = sa.inspect(db.engine)
    assert "reserved_share_percent" not in {c["name"] for c in inspector.get_columns("department")}
    assert "department" in inspector.get_table_names()
