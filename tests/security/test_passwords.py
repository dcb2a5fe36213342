"""Passwords: long and not guessable; handed-out passwords (invitation, reset) expire and
must be replaced at the first login; the person is told by mail of every change."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from visits.clerks import accounts
from visits.core import clock
from visits.extensions import db
from visits.models import OutboxMessage, StaffUser

from ..factories import STAFF_PASSWORD, Factories

OWN_PASSWORD = "Kastanienbaum-Hafenkran-47"


@pytest.fixture
def browsers(factories, app):
    factories.staff_client()  # browsers forget the previous request's user, as servers do
    return app.test_client


@pytest.fixture
def clerk(factories):
    return factories.clerk(name="Anna Schmidt", email="anna.schmidt@stadt.example")


@pytest.fixture
def admin_client(factories, browsers):
    return Factories.login(browsers(), factories.admin(name="Ada Admin", email="ada@stadt.example"))


def _change(client, current: str, new: str):
    return client.post(
        "/staff/password", data={"current_password": current, "new_password": new, "confirm_password": new}
    )


def _shown_password(response) -> str:
    return re.search(
        r'<code class="secret" id="password">([^<]+)</code>', response.get_data(as_text=True)
    ).group(1)


@pytest.mark.parametrize(
    "weak",
    [
        "aaaaaaaaaaaa",
        "password1234",
        "passwort1234",
        "qwertzuiop12",
        "Schmidt12345",
        "kurz-1",
    ],
)
def test_short_common_and_personal_passwords_are_refused(browsers, clerk, weak):
    client = Factories.login(browsers(), clerk)
    response = _change(client, STAFF_PASSWORD, weak)
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    db.session.refresh(clerk)
    assert accounts.check_password(clerk, STAFF_PASSWORD)


def test_the_rule_holds_for_every_way_an_account_gets_a_password(app):
    for weak in ("password1234", "aaaaaaaaaaaa", "short-pw"):
        with pytest.raises(accounts.AccountError):
            accounts.create_user("neu@stadt.example", "Nina Neu", weak, now=clock.now())
    assert accounts.password_problem(OWN_PASSWORD) is None


def test_a_refused_password_is_explained_in_german(browsers, clerk):
    client = Factories.login(browsers(), clerk)
    page = _change(client, STAFF_PASSWORD, "password1234").get_data(as_text=True)
    assert "zu leicht zu erraten" in page


def test_a_password_change_is_told_by_mail_without_the_password(browsers, clerk):
    client = Factories.login(browsers(), clerk)
    assert _change(client, STAFF_PASSWORD, OWN_PASSWORD).status_code == 302
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "staff_password_changed"))
    assert mail is not None and mail.recipient == clerk.email and mail.appointment_id is None
    assert OWN_PASSWORD not in mail.body and STAFF_PASSWORD not in mail.body
    assert "Passwort" in mail.subject and "password" in mail.subject  # German first, English beside it


def test_an_invitation_password_leads_only_to_choosing_ones_own(browsers, admin_client):
    invited = admin_client.post(
        "/admin/staff/new", data={"email": "neu@stadt.example", "name": "Nina Neu", "role": "clerk"}
    )
    handed_out = _shown_password(invited)
    newcomer = browsers()
    assert (
        newcomer.post("/staff/login", data={"email": "neu@stadt.example", "password": handed_out}).status_code
        == 302
    )
    for page in ("/staff/", "/staff/hours", "/admin/staff"):
        response = newcomer.get(page)
        assert response.status_code == 302 and response.headers["Location"] == "/staff/password", page
    assert _change(newcomer, handed_out, OWN_PASSWORD).status_code == 302
    assert newcomer.get("/staff/").status_code == 200
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "neu@stadt.example"))
    assert user.password_expires_at is None


def test_an_invitation_password_expires(browsers, admin_client, reconfigure):
    reconfigure(STAFF_INITIAL_PASSWORD_HOURS=72)
    with time_machine.travel(clock.now(), tick=False) as traveller:
        invited = admin_client.post(
            "/admin/staff/new", data={"email": "neu@stadt.example", "name": "Nina Neu", "role": "clerk"}
        )
        handed_out = _shown_password(invited)
        traveller.shift(timedelta(hours=72, minutes=1))
        late = browsers().post("/staff/login", data={"email": "neu@stadt.example", "password": handed_out})
    assert late.status_code == 200  # refused like a wrong password


def test_a_reset_password_expires_and_the_reset_is_told_by_mail(browsers, admin_client, clerk, reconfigure):
    reconfigure(STAFF_INITIAL_PASSWORD_HOURS=72)
    with time_machine.travel(clock.now(), tick=False) as traveller:
        handed_out = _shown_password(admin_client.post(f"/admin/staff/{clerk.id}/password"))
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "staff_password_reset"))
        assert mail.recipient == clerk.email and handed_out not in mail.body
        traveller.shift(timedelta(hours=73))
        late = browsers().post("/staff/login", data={"email": clerk.email, "password": handed_out})
    assert late.status_code == 200


def test_a_reset_lets_the_owner_of_a_locked_account_in(browsers, admin_client, clerk, reconfigure):
    reconfigure(
        RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="100 per minute", RATELIMIT_LOGIN_ACCOUNT="3 per hour"
    )
    guesser = browsers()
    for _ in range(4):
        guesser.post("/staff/login", data={"email": clerk.email, "password": "guessing-on-and-on"})
    locked = browsers().post("/staff/login", data={"email": clerk.email, "password": STAFF_PASSWORD})
    assert locked.status_code == 429
    handed_out = _shown_password(admin_client.post(f"/admin/staff/{clerk.id}/password"))
    owner = browsers()
    assert owner.post("/staff/login", data={"email": clerk.email, "password": handed_out}).status_code == 302
