"""The tokens "join" mints, checked against the ``token-*`` rules of docs/checklist.md the
way a Jitsi server with token authentication checks them."""

from __future__ import annotations

import email
import email.policy
import logging
import re
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from config import InvalidJitsiSetting, jitsi_subject
from visits import create_app
from visits.booking import links
from visits.booking import operations as booking
from visits.extensions import db
from visits.mail import outbox
from visits.models import JoinEvent, OutboxMessage, Status
from visits.video import jitsi

from .conftest import (
    APP_ID,
    CLOSES,
    DOMAIN,
    OPENS,
    SECRET,
    START,
    JitsiServer,
    at,
    book,
    join_path,
    token_from,
)

SERVER = JitsiServer()


def press_join(client, appointment, when):
    with at(when):
        return client.post(join_path(appointment))


def test_join_redirects_to_the_room_with_a_token_the_server_admits(client, appointment):
    response = press_join(client, appointment, START)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(f"https://{DOMAIN}/{appointment.room}#jwt=")
    assert "?" not in location  # nothing of the token reaches the Jitsi host's access log
    claims = SERVER.admits(token_from(location), appointment.room, START)
    assert claims is not None
    assert claims["room"] == appointment.room  # token-room: exactly this room, never "*"


def test_token_header_and_issuer_audience_subject(client, appointment):
    token = token_from(press_join(client, appointment, START).headers["Location"])
    assert jwt.get_unverified_header(token)["alg"] == "HS256"  # token-alg
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == APP_ID  # token-issuer-audience
    assert claims["aud"] == APP_ID
    assert claims["sub"] == DOMAIN  # token-subject


def test_citizen_token_names_the_citizen_and_is_not_moderator(client, appointment):
    token = token_from(press_join(client, appointment, START).headers["Location"])
    user = jwt.decode(token, options={"verify_signature": False})["context"]["user"]
    assert user["name"] == "Erika Mustermann"
    assert "email" not in user  # unless JITSI_TOKEN_EMAIL: jitsi-meet would ask Gravatar
    assert user["moderator"] is False  # token-user
    assert user["lobby"] is True  # token-lobby: waits in the lobby where the deployment supports it
    assert "erika" not in user["id"] and "@" not in user["id"]  # stable id, not the email
    for value in user.values():
        assert isinstance(value, (str, int, bool)) or value is None


def test_citizen_id_is_stable_across_joins(client, appointment):
    first = token_from(press_join(client, appointment, START).headers["Location"])
    second = token_from(press_join(client, appointment, START + timedelta(minutes=5)).headers["Location"])
    assert first != second  # a fresh token for every press
    ids = [jwt.decode(t, options={"verify_signature": False})["context"]["user"]["id"] for t in (first, second)]
    assert ids[0] == ids[1]


def test_times_are_integers_inside_the_rooms_window(client, appointment):
    token = token_from(press_join(client, appointment, START).headers["Location"])
    claims = jwt.decode(token, options={"verify_signature": False})
    assert isinstance(claims["nbf"], int) and isinstance(claims["exp"], int)  # token-window
    assert claims["nbf"] >= int((OPENS - jitsi.CLOCK_SKEW).timestamp())
    assert claims["exp"] <= int(CLOSES.timestamp())
    assert claims["exp"] > int(START.timestamp())


def test_a_token_is_short_lived_and_never_outlives_the_room(client, appointment):
    early = jwt.decode(
        token_from(press_join(client, appointment, START).headers["Location"]),
        options={"verify_signature": False},
    )
    assert early["exp"] == int((START + timedelta(minutes=10)).timestamp())  # JITSI_TOKEN_MINUTES
    late_press = CLOSES - timedelta(minutes=3)
    late = jwt.decode(
        token_from(press_join(client, appointment, late_press).headers["Location"]),
        options={"verify_signature": False},
    )
    assert late["exp"] == int(CLOSES.timestamp())


@pytest.mark.parametrize(
    "when, opens",
    [
        (OPENS - timedelta(seconds=1), False),
        (OPENS, True),
        (CLOSES - timedelta(seconds=1), True),
        (CLOSES, False),
    ],
    ids=["a second before opening", "at opening", "a second before closing", "at closing"],
)
def test_token_is_minted_only_inside_the_window(client, appointment, when, opens):
    response = press_join(client, appointment, when)
    if opens:
        assert response.status_code == 303
        assert SERVER.admits(token_from(response.headers["Location"]), appointment.room, when)
    else:
        assert response.status_code == 200
        assert "Location" not in response.headers
        assert "jwt" not in response.get_data(as_text=True)


def test_token_minted_at_opening_is_refused_once_its_lifetime_is_over(client, appointment):
    token = token_from(press_join(client, appointment, OPENS).headers["Location"])
    assert SERVER.admits(token, appointment.room, OPENS + timedelta(minutes=9))
    assert SERVER.admits(token, appointment.room, OPENS + timedelta(minutes=10, seconds=1)) is None


def test_token_minted_near_closing_is_refused_after_the_grace_period(client, appointment):
    token = token_from(press_join(client, appointment, CLOSES - timedelta(minutes=2)).headers["Location"])
    assert SERVER.admits(token, appointment.room, CLOSES - timedelta(seconds=1))
    assert SERVER.admits(token, appointment.room, CLOSES + timedelta(seconds=1)) is None


def test_token_is_not_valid_before_the_room_opens(appointment):
    # mint() refuses outside the window; a token built from the claims at opening time
    # still carries an nbf that a server checks: not before opening minus the skew.
    with at(OPENS):
        token = jitsi.mint(appointment, now=OPENS, user_id="x", name="x", email=None, moderator=False)
    before = OPENS - jitsi.CLOCK_SKEW - timedelta(seconds=2)
    assert SERVER.admits(token, appointment.room, before) is None
    with pytest.raises(ValueError):
        jitsi.mint(appointment, now=OPENS - timedelta(seconds=1), user_id="x", name="x", email=None, moderator=False)


def test_token_for_one_room_never_opens_another(client, factories, service, clerk, appointment):
    other = book(factories, service, START + timedelta(minutes=30), name="Max Muster")
    token = token_from(press_join(client, appointment, START).headers["Location"])
    assert appointment.room != other.room
    assert SERVER.admits(token, appointment.room, START)
    assert SERVER.admits(token, other.room, START) is None
    assert SERVER.admits(token, "*", START) is None


def test_each_citizen_gets_a_token_for_their_own_room_and_name(client, factories, service, clerk, appointment):
    other = book(factories, service, START + timedelta(minutes=30), name="Max Muster")
    mine = SERVER.admits(token_from(press_join(client, appointment, START).headers["Location"]), appointment.room, START)
    theirs_location = press_join(client, other, START + timedelta(minutes=30)).headers["Location"]
    assert theirs_location.startswith(f"https://{DOMAIN}/{other.room}#jwt=")
    theirs = SERVER.admits(token_from(theirs_location), other.room, START + timedelta(minutes=30))
    assert mine["context"]["user"]["name"] == "Erika Mustermann"
    assert theirs["context"]["user"]["name"] == "Max Muster"
    assert mine["context"]["user"]["id"] != theirs["context"]["user"]["id"]


def test_token_signed_with_another_secret_is_refused(client, appointment):
    genuine = jwt.decode(
        token_from(press_join(client, appointment, START).headers["Location"]),
        options={"verify_signature": False},
    )
    forged = jwt.encode(genuine, "some-other-secret-of-32-bytes-length", algorithm="HS256")
    assert SERVER.admits(forged, appointment.room, START) is None


def test_unsigned_token_is_refused(client, appointment):
    genuine = jwt.decode(
        token_from(press_join(client, appointment, START).headers["Location"]),
        options={"verify_signature": False},
    )
    unsigned = jwt.encode(genuine, None, algorithm="none")
    assert jwt.get_unverified_header(unsigned)["alg"] == "none"
    assert SERVER.admits(unsigned, appointment.room, START) is None


def test_token_for_another_audience_is_refused(client, appointment):
    token = token_from(press_join(client, appointment, START).headers["Location"])
    other_deployment = JitsiServer(audience="jitsi")
    assert other_deployment.admits(token, appointment.room, START) is None


def test_room_names_are_lower_case_random_and_url_safe(factories, service, clerk):
    rooms = {book(factories, service, START + timedelta(minutes=30 * i)).room for i in range(4)}
    assert len(rooms) == 4
    for room in rooms:
        assert re.fullmatch(r"[a-z0-9-]+", room)
        random_part = room.rsplit("-", 1)[-1]
        assert len(random_part) * 5.17 >= 100  # 36 symbols: log2(36) bits each


def test_rs256_token_carries_the_key_id_and_verifies_with_the_public_key(app_config, tmp_path, request):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "jitsi.pem"
    key_file.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    app_config.update(
        JITSI_PRIVATE_KEY_FILE=str(key_file),
        JITSI_KEY_ID="vpaas-magic-cookie-1234/abcdef",
        JITSI_AUDIENCE="jitsi",
        JITSI_APP_SECRET="",
    )
    client = request.getfixturevalue("client")  # the app, built with these settings
    factories = request.getfixturevalue("factories")
    service = factories.service(duration_minutes=30)
    factories.clerk([service])
    appointment = book(factories, service)

    token = token_from(press_join(client, appointment, START).headers["Location"])
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["kid"] == "vpaas-magic-cookie-1234/abcdef"
    server = JitsiServer(key=private_key.public_key(), algorithm="RS256", audience="jitsi")
    assert server.admits(token, appointment.room, START)
    # The public key cannot be used as an HMAC secret to forge one (algorithm confusion).
    assert JitsiServer(key=SECRET, algorithm="HS256", audience="jitsi").admits(token, appointment.room, START) is None
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}), other_key, algorithm="RS256", headers=header
    )
    assert server.admits(forged, appointment.room, START) is None


def test_rs256_without_key_id_mints_nothing_and_says_so(app_config, tmp_path, request):
    key_file = tmp_path / "jitsi.pem"
    key_file.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    app_config.update(JITSI_PRIVATE_KEY_FILE=str(key_file), JITSI_KEY_ID="")
    request.getfixturevalue("app")
    info = jitsi.status()
    assert info["mode"] == "RS256"
    assert info["tokens"] is False
    assert info["problem_code"] == "no_key_id"


def test_token_is_never_stored_logged_or_mailed(client, appointment, caplog):
    caplog.set_level(logging.DEBUG)
    token = token_from(press_join(client, appointment, START).headers["Location"])
    assert token not in caplog.text
    signature = token.rsplit(".", 1)[-1]
    for message in db.session.scalars(select(OutboxMessage)):
        assert signature not in message.body and "jwt=" not in message.body
    dump = "\n".join(
        str(row) for table in db.metadata.sorted_tables for row in db.session.execute(table.select())
    )
    assert signature not in dump


def test_join_is_recorded_with_who_and_when(client, appointment):
    press_join(client, appointment, START + timedelta(minutes=2))
    press_join(client, appointment, START + timedelta(minutes=7))
    events = db.session.scalars(select(JoinEvent).order_by(JoinEvent.at)).all()
    assert [(e.role, e.at) for e in events] == [
        ("citizen", START + timedelta(minutes=2)),
        ("citizen", START + timedelta(minutes=7)),
    ]
    db.session.refresh(appointment)
    assert appointment.citizen_joined_at == START + timedelta(minutes=2)
    assert appointment.clerk_joined_at is None


def test_a_call_marked_attended_can_be_rejoined_after_a_dropout(client, appointment, clerk):
    booking.mark(appointment, Status.ATTENDED, by=clerk, now=START + timedelta(minutes=5))
    response = press_join(client, appointment, START + timedelta(minutes=10))
    assert response.status_code == 303


def test_status_for_the_admin_page_reports_signed_rooms(app):
    info = jitsi.status()
    assert info["mode"] == "HS256" and info["tokens"] is True and info["problem"] is None
    assert info["domain"] == DOMAIN
    assert info["opens_minutes_before"] == 10 and info["grace_minutes_after"] == 30
    assert SECRET not in str(info)


def test_confirmation_mail_links_to_our_join_page_not_to_jitsi(appointment):
    confirmations = [m for m in db.session.scalars(select(OutboxMessage)) if m.kind == "confirmation"]
    assert confirmations, "confirming queues a confirmation mail"
    message = email.message_from_string(outbox.as_sent(confirmations[0]), policy=email.policy.default)
    texts = "\n".join(
        part.get_content() for part in message.walk() if part.get_content_maintype() == "text"
    )
    assert f"https://visits.test/video/{links.join_token(appointment)}" in texts
    assert appointment.room not in texts and DOMAIN not in texts and "jwt" not in texts


# -- the subject (sub) and the email, as a Jitsi deployment reads them ------------------------


@pytest.mark.parametrize(
    ("domain", "subject"),
    [
        ("meet.stadt.example", "meet.stadt.example"),
        ("https://meet.stadt.example/", "meet.stadt.example"),
        ("meet.stadt.example:8443", "meet.stadt.example"),
        ("meet.stadt.example/tenant1", "tenant1"),
        ("https://meet.stadt.example/tenant1/", "tenant1"),
        ("8x8.vc/vpaas-magic-cookie-0123abcd", "vpaas-magic-cookie-0123abcd"),
    ],
)
def test_the_subject_is_the_bare_domain_or_the_tenant(app_config, domain, subject):
    """Jitsi's domain verification (on by default) refuses a token whose sub carries a
    scheme, a slash or the tenant's path: "Room and token mismatched"."""
    app_config["JITSI_DOMAIN"] = domain
    app_config["JITSI_SUBJECT"] = ""
    app = create_app(app_config)
    assert app.config["JITSI_SUBJECT"] == subject


@pytest.mark.parametrize("subject", ["https://meet.stadt.example", "meet.stadt.example/", "meet stadt"])
def test_an_explicit_subject_that_jitsi_would_refuse_stops_the_start(app_config, subject):
    app_config["JITSI_SUBJECT"] = subject
    with pytest.raises(InvalidJitsiSetting, match="JITSI_SUBJECT"):
        create_app(app_config)


def test_a_tenant_room_url_keeps_the_tenant_and_signs_with_it(reconfigure, client, appointment):
    domain = "https://meet.stadt.example/tenant1/"
    reconfigure(JITSI_DOMAIN=domain, JITSI_SUBJECT=jitsi_subject(domain))
    location = press_join(client, appointment, START).headers["Location"]
    assert location.startswith(f"https://meet.stadt.example/tenant1/{appointment.room}#jwt=")
    assert jwt.decode(token_from(location), options={"verify_signature": False})["sub"] == "tenant1"


def test_the_email_goes_into_tokens_only_when_asked_for(reconfigure, client, appointment):
    reconfigure(JITSI_TOKEN_EMAIL=True)
    token = token_from(press_join(client, appointment, START).headers["Location"])
    assert jwt.decode(token, options={"verify_signature": False})["context"]["user"]["email"] == "erika@example.org"
