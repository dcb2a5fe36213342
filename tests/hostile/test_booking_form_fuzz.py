"""Hypothesis fuzz of the citizen's booking form: random and Unicode input in
every field, never a 500, and nothing booked unless the form was valid; what is booked is
stored as the citizen typed it (cleaned of surrounding space). The API's fuzz test is
tests/api/test_fuzz.py."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from visits.booking import availability
from visits.core import clock
from visits.extensions import db
from visits.models import Appointment, AuditEvent, OutboxMessage

any_text = st.text(st.characters(exclude_categories=[]), max_size=300)
exotic_text = st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=120)
sqlish = st.sampled_from(["' OR 1=1 --", '"; DROP TABLE appointment; --', "%' AND '%'='", "\\x00", "NULL"])
maybe = lambda strategy: st.one_of(st.none(), strategy)  # noqa: E731 (absent field)

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


URL = "/dienstleistungen/wohngeld/buchen"


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Appointment))


def is_instant(value: str | None) -> bool:
    """What the form's start field has to carry: an ISO 8601 instant with its UTC offset, of
    at most 40 characters (what a slot's radio button sends)."""
    if not value or len(value) > 40:
        return False
    try:
        return datetime.fromisoformat(value.strip()).tzinfo is not None
    except ValueError:
        return False


def booked(response) -> bool:
    return response.status_code == 303 and response.headers["Location"].endswith("/buchen/postfach")


def free_again(held: Appointment) -> None:
    """Delete a hold the fuzz made, so the next example has the same chances."""
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.appointment_id == held.id))
    db.session.execute(
        delete(AuditEvent).where(AuditEvent.object_id == held.id, AuditEvent.object_type == "appointment")
    )
    db.session.delete(held)
    db.session.commit()


def newest() -> Appointment:
    return db.session.scalar(select(Appointment).order_by(Appointment.id.desc()))


def test_random_and_unicode_input_never_crashes_and_books_only_valid_forms(client, world):
    starts = [
        s.start.strftime("%Y-%m-%dT%H:%M:%SZ")
        for s in availability.free_slots(
            world.service, world.monday, world.monday + timedelta(days=4), clock.now()
        )
    ]
    booked_before = count()
    outcomes = {"booked": 0, "refused": 0}

    def stored_as_typed_and_freed(data: dict[str, str]) -> None:
        """The hold just made keeps what was typed (cleaned), and is freed again."""
        outcomes["booked"] += 1
        held = newest()
        assert held.citizen_name == " ".join(data["name"].split())
        assert not any(
            ord(c) < 32
            for c in held.citizen_name
            + (held.citizen_note or "").replace("\n", "").replace("\r", "").replace("\t", "")
        )
        free_again(held)

    def details_are_valid(data: dict[str, str]) -> bool:
        """Whether these details book at a free time (that booking is checked and freed)."""
        before = count()
        response = client.post(URL, data={**data, "start": starts[-1]})
        if booked(response):
            assert count() == before + 1
            stored_as_typed_and_freed(data)
            return True
        assert response.status_code == 422, (response.status, response.get_data(as_text=True)[:300])
        return False

    def refused_with(data: dict[str, str]) -> int:
        """The one answer to a form that books nothing, from what the form carries."""
        if any("\x00" in value for value in data.values()):
            return 400  # refused before any view reads it (visits/web/__init__.py)
        if not is_instant(data.get("start")):
            return 303  # no time at all: back to the slot picker
        if data["start"] in starts or not details_are_valid(data):
            return 422  # details not valid (at a free time nothing else keeps a valid form from booking)
        return 409  # valid details, at a time that is not free (in the past, say)

    valid_email = st.from_regex(r"[a-z0-9._-]{1,30}@(example\.org|xn--bcher-kva\.example)", fullmatch=True)

    # Each field is mostly valid and sometimes hostile, so both outcomes are reached often.
    @given(
        start=st.one_of(
            st.sampled_from(starts), st.sampled_from(starts), any_text, st.just("2020-01-01T08:00:00Z")
        ),
        name=maybe(st.one_of(exotic_text, exotic_text, any_text, sqlish)),
        email=maybe(
            st.one_of(
                valid_email,
                valid_email,
                st.emails(),
                exotic_text.map(lambda t: t[:40] + "@example.org"),
                any_text,
                sqlish,
            )
        ),
        phone=maybe(st.one_of(st.from_regex(r"\+?[0-9 ]{3,20}", fullmatch=True), any_text)),
        language=st.one_of(
            st.sampled_from(["de", "en"]), maybe(st.sampled_from(["tr", "", "de\x00", "'--"]))
        ),
        note=maybe(st.one_of(exotic_text, any_text, sqlish)),
        consent=st.one_of(st.just("y"), maybe(st.sampled_from(["", "on", "0"]))),
    )
    @example(
        start=starts[0],
        name="Ömer Çelik-Łukasiewicz",
        email="oemer@example.org",
        phone="0221 1234",
        language="en",
        note="Rollstuhl 🦽",
        consent="y",
    )
    @example(  # valid details at a time long past: 409
        start="2020-01-01T08:00:00Z",
        name="Erika Mustermann",
        email="erika.m@example.org",
        phone=None,
        language="de",
        note=None,
        consent="y",
    )
    @SETTINGS
    def run(start, name, email, phone, language, note, consent):
        form = {
            "start": start,
            "name": name,
            "email": email,
            "phone": phone,
            "language": language,
            "note": note,
            "consent": consent,
        }
        data = {key: value for key, value in form.items() if value is not None}
        before = count()
        try:
            response = client.post(URL, data=data)
        except UnicodeEncodeError:
            return  # lone surrogates: not even a browser can send them
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        if booked(response):
            assert start in starts, start  # only a free time is booked
            assert count() == before + 1
            stored_as_typed_and_freed(data)
        else:
            assert count() == before  # refused: nothing booked
            expected = refused_with(data)
            assert response.status_code == expected, (
                expected,
                response.status,
                response.location,
                response.get_data(as_text=True)[:300],
            )
            if expected == 303:
                assert response.location.startswith("/dienstleistungen/wohngeld"), response.location
            outcomes["refused"] += 1

    run()
    assert count() == booked_before
    assert outcomes["booked"] >= 3 and outcomes["refused"] >= 20, outcomes  # both sides were reached
