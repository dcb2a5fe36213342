"""Free text a booker typed reaches mails only as text: never as a second recipient, never
as a link; the request to confirm, sent before the address has agreed, carries none of it."""

from __future__ import annotations

import re
from datetime import timedelta
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses

import pytest
from sqlalchemy import select

from visits.booking import operations as booking
from visits.core import citizen as citizen_input
from visits.extensions import db
from visits.mail import outbox
from visits.mail.compose import address_header
from visits.models import OutboxMessage

from .. import days
from ..conftest import berlin
from ..factories import HOUSING_BENEFIT

MONDAY = days.BOOKING_MONDAY
NOW = berlin(MONDAY - timedelta(days=7), 9)

# What linkifiers look for: a scheme with its slashes, "www." before a name, a dot between
# the parts of a domain.
LINK_LIKE = re.compile(r"https?://|www\.\w|\w\.\w{2,}", re.IGNORECASE)
ANCHOR = re.compile(r"<a\b[^>]*>.*?</a>", re.IGNORECASE | re.DOTALL)


@pytest.fixture
def service(factories):
    service = factories.service(**HOUSING_BENEFIT)
    factories.clerk([service])
    return service


def mails_by_kind(smtp_server, count: int) -> dict[str, EmailMessage]:
    outbox.deliver_due(now=NOW)
    received = {m["Message-ID"]: m for m in smtp_server.wait_for(count)}
    return {row.kind: received[row.message_id] for row in db.session.scalars(select(OutboxMessage))}


def body(message: EmailMessage, subtype: str) -> str:
    return next(p for p in message.walk() if p.get_content_type() == f"text/{subtype}").get_content()


def raw_to(message: EmailMessage) -> str:
    """The To: header as it came over the wire, unfolded."""
    (value,) = [v for k, v in message.raw_items() if k.lower() == "to"]
    return re.sub(r"\r?\n[ \t]", " ", str(value)) if "=?" in str(value) else re.sub(r"\r?\n", "", str(value))


HOSTILE_NAMES = pytest.mark.parametrize(
    "name",
    [
        ('Eve, "Mallory" <mallory@evil.example>, ' * 9)[:300],
        ("Müller, Ünal \"x\" " * 20)[:300],
        " ".join(["a,b"] * 75),
        " ".join(["Erika"] * 50),
    ],
    ids=["quotes-and-addresses", "non-ascii", "many-commas", "plain-long"],
)


def read_as_a_mail_program(header_value: str) -> tuple[str, str]:
    """(display name, address) of a To: value, as a mail program unfolds and decodes it
    (RFC 2047: the space between encoded words is not text); fails unless one recipient."""
    ((display, address),) = getaddresses([re.sub(r"\r?\n[ \t]", " ", header_value)])
    return " ".join(str(make_header(decode_header(display))).split()), address


@HOSTILE_NAMES
def test_a_300_character_name_is_folded_into_one_recipient(name):
    name = " ".join(name.split())
    value = address_header(Address(display_name=name, addr_spec="erika@example.org"))
    assert read_as_a_mail_program(value) == (name, "erika@example.org")
    first, *folded = value.split("\r\n")
    assert len("To: " + first) <= 78 and all(len(line) <= 78 for line in folded)


@HOSTILE_NAMES
def test_the_longest_name_a_booking_holds_stays_one_recipient_over_smtp(smtp_server, service, factories, name):
    name = " ".join(name.split())[: citizen_input.NAME_MAX].strip()
    citizen = factories.citizen(name=name)
    appointment = booking.hold(service, berlin(MONDAY, 8), citizen, now=NOW).appointment
    booking.confirm(appointment, now=NOW)
    confirmation = mails_by_kind(smtp_server, 2)["confirmation"]
    (to,) = confirmation["To"].addresses
    assert to.addr_spec == appointment.citizen_email
    assert read_as_a_mail_program(raw_to(confirmation)) == (name, appointment.citizen_email)
    assert all(len(line) <= 78 for line in confirmation.as_string().split("\n\n")[0].splitlines())


def test_the_request_to_confirm_carries_nothing_the_booker_typed(smtp_server, service, factories):
    name = "www.evil.example http://x Click"
    booking.hold(service, berlin(MONDAY, 8), factories.citizen(name=name, note="visit evil.example"), now=NOW)
    request = mails_by_kind(smtp_server, 1)["confirm_request"]
    (to,) = request["To"].addresses
    assert to.display_name == ""
    for text in (body(request, "plain"), body(request, "html")):
        assert "evil" not in text and "Click" not in text and "http://x" not in text
    assert "Guten Tag," in body(request, "plain")


def test_a_name_like_a_link_is_shown_as_text_never_as_a_link(smtp_server, service, factories):
    name = "www.evil.example http://x"
    appointment = booking.hold(service, berlin(MONDAY, 8), factories.citizen(name=name), now=NOW).appointment
    booking.confirm(appointment, now=NOW)
    confirmation = mails_by_kind(smtp_server, 2)["confirmation"]
    text, html = body(confirmation, "plain"), body(confirmation, "html")
    for shown in (text, html):
        # the name is there, as it reads ...
        assert "Guten Tag www.evil.example http://x," in shown.replace("\u200b", "")
        # ... but nothing in the greeting is a link a mail program would recognise
        greeting = next(line for line in shown.splitlines() if "Guten Tag" in line)
        assert not LINK_LIKE.search(greeting), greeting
    assert all("evil" not in anchor for anchor in ANCHOR.findall(html))
    assert (confirmation["To"].addresses[0].display_name or "").replace("\u200b", "") == name
