"""The report as a clerk in the administration reads it: a family appointment counts under
each of its services with its persons; narrowing to a location or a mode changes the rows
as expected; a department administrator never sees another department's rows."""

from __future__ import annotations

import re
from datetime import date, time

import pytest

from visits.admin import places
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import Location, Mode, Status

from ..days import berlin
from ..factories import ANMELDUNG, PERSONALAUSWEIS, Factories

STATUSES = list(Status)
CONFIRMED = STATUSES.index(Status.CONFIRMED)


def rows_of(body: str) -> dict[tuple[str, ...], dict[str, int]]:
    """The table's body rows: (service[, location or mode]) -> confirmed, total, persons."""
    tbody = re.search(r"<tbody>(.*?)</tbody>", body, re.S).group(1)
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", tbody, re.S):
        service = re.search(r'<th scope="row">([^<]+)</th>', row)
        if service is None:
            continue  # "No appointments in this range."
        cells = [cell.strip() for cell in re.findall(r"<td>([^<]*)</td>", row)]
        label = tuple(cells[: len(cells) - len(STATUSES) - 2])
        numbers = [int(n) for n in cells[len(label) :]]
        found[(service.group(1), *label)] = {
            "confirmed": numbers[CONFIRMED],
            "total": numbers[-2],
            "persons": numbers[-1],
        }
    return found


def report(client, monday: date, **query) -> dict[tuple[str, ...], dict[str, int]]:
    response = client.get(
        "/admin/reports", query_string={"date_from": monday, "date_until": monday, "lang": "en", **query}
    )
    assert response.status_code == 200
    return rows_of(response.get_data(as_text=True))


# -- composite appointments ------------------------------------------------------------------


def test_a_family_appointment_counts_under_each_of_its_services_with_its_persons(
    admin_client, factories, monday
):
    anmeldung, ausweis = factories.service(**ANMELDUNG), factories.service(**PERSONALAUSWEIS)
    factories.clerk([anmeldung, ausweis])
    booking.book_confirmed(
        [(anmeldung, 1), (ausweis, 2)],
        berlin(monday, 8, 10),
        factories.citizen(),
        now=clock.now(),
        via="phone",
    )
    booking.book_confirmed(ausweis, berlin(monday, 10, 10), factories.citizen(), now=clock.now(), via="phone")

    assert report(admin_client, monday) == {
        ("Anmeldung",): {"confirmed": 1, "total": 1, "persons": 1},
        ("Personalausweis",): {"confirmed": 2, "total": 2, "persons": 3},
    }


# -- locations and modes ---------------------------------------------------------------------


@pytest.fixture
def annex(factories) -> Location:
    town_hall = places.default_location()
    location = Location(
        slug="nebenstelle-nord",
        name_de="Nebenstelle Nord",
        name_en="North office",
        department_id=town_hall.department_id,
    )
    db.session.add(location)
    db.session.commit()
    return location


@pytest.fixture
def week_of_wohngeld(factories, annex, monday):
    """Wohngeld on Monday: on site in the town hall at 8, on site at the annex at 9, a video
    call at 10 (held nowhere)."""
    town_hall = places.default_location()
    wohngeld = factories.service(name_de="Wohngeld", modes=[Mode.ON_SITE, Mode.VIDEO])
    in_town = factories.clerk([wohngeld], hours=[(0, time(8), time(12))], location_id=town_hall.id)
    north = factories.clerk([wohngeld], hours=[(0, time(8), time(12))], location_id=annex.id)
    for hour, clerk, location, mode in (
        (8, in_town, town_hall.id, "on_site"),
        (9, north, annex.id, "on_site"),
        (10, in_town, None, "video"),
    ):
        booking.book_for_caller(
            wohngeld,
            berlin(monday, hour),
            factories.citizen(),
            clerk=clerk,
            now=clock.now(),
            location=location or "any",
            mode=mode,
        )
    return wohngeld


def test_narrowing_to_a_location_counts_only_what_is_held_there(
    admin_client, week_of_wohngeld, annex, monday
):
    assert report(admin_client, monday)[("Wohngeld",)]["total"] == 3
    assert report(admin_client, monday, location=annex.id) == {
        ("Wohngeld",): {"confirmed": 1, "total": 1, "persons": 1}
    }
    # The town hall's on-site appointment; the video call is held at no location.
    town_hall = places.default_location()
    assert report(admin_client, monday, location=town_hall.id)[("Wohngeld",)]["total"] == 1


def test_narrowing_to_a_mode_counts_only_appointments_in_that_mode(admin_client, week_of_wohngeld, monday):
    assert report(admin_client, monday, mode="video")[("Wohngeld",)]["total"] == 1
    assert report(admin_client, monday, mode="on_site")[("Wohngeld",)]["total"] == 2
    assert report(admin_client, monday, mode="phone") == {}


def test_rows_split_by_location_and_by_mode(admin_client, week_of_wohngeld, monday):
    one = {"confirmed": 1, "total": 1, "persons": 1}
    assert report(admin_client, monday, split="location") == {
        ("Wohngeld", "Bürgerservice"): one,
        ("Wohngeld", "Nebenstelle Nord"): one,
        ("Wohngeld", "No location (video, phone)"): one,
    }
    assert report(admin_client, monday, split="mode") == {
        ("Wohngeld", "On site"): {"confirmed": 2, "total": 2, "persons": 2},
        ("Wohngeld", "Video call"): one,
    }
    german = admin_client.get(
        "/admin/reports",
        query_string={"date_from": monday, "date_until": monday, "split": "mode", "lang": "de"},
    ).get_data(as_text=True)
    assert "Vor Ort" in german and "Personen" in german and "Standort" in german


# -- department administrators ---------------------------------------------------------------


def test_a_department_admin_never_sees_another_departments_rows(client, factories, monday):
    home = places.default_location()
    other = factories.department(
        "verkehrsamt", "Straßenverkehrsamt", "Road traffic office", location="haus-b"
    )
    haus_b = other.locations[0]
    own = factories.service(name_de="Wohngeld", modes=[Mode.ON_SITE])
    theirs = factories.service(
        name_de="Fahrerlaubnis", modes=[Mode.ON_SITE], department_id=other.id, location_id=haus_b.id
    )
    for service, department, location in ((own, home.department, home), (theirs, other, haus_b)):
        clerk = factories.clerk([service], department=department, location_id=location.id)
        booking.book_for_caller(
            service,
            berlin(monday, 9),
            factories.citizen(),
            clerk=clerk,
            now=clock.now(),
            location=location.id,
        )
    admin_a = Factories.login(client, factories.department_admin(home.department))

    assert report(admin_a, monday, split="location") == {
        ("Wohngeld", "Bürgerservice"): {"confirmed": 1, "total": 1, "persons": 1}
    }
    # B's location is no choice of theirs: asking for it narrows nothing to B's rows.
    body = admin_a.get(
        "/admin/reports",
        query_string={"date_from": monday, "date_until": monday, "location": haus_b.id, "split": "location"},
    ).get_data(as_text=True)
    assert "Fahrerlaubnis" not in body and "Haus-B" not in body
    assert rows_of(body) == {("Wohngeld", "Bürgerservice"): {"confirmed": 1, "total": 1, "persons": 1}}
