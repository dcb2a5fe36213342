"""Guessing manage and join links: every look-up counts against one
RATELIMIT_LINKS budget per address (manage and join pages together), and a wrong link, a
malformed one, a link of the other kind and the link of an anonymised appointment are the
same answer: same status, same body. Nothing tells a guesser that a link once existed."""

from __future__ import annotations

import re

import pytest
import time_machine

from visits.booking import links
from visits.extensions import db

from ..conftest import berlin

WRONG = "x" * 43
MALFORMED = [
    "A" * 43,
    "a" * 101,
    "%C3%A4" * 10,
    "%00",
    "..%2F..%2Fstaff",
    "'%20OR%20'1'%3D'1",
    "%E2%80%8B" * 43,
]


def body(response, token: str) -> str:
    """The page without the path it was asked for (the language switch repeats the path)."""
    text = response.get_data(as_text=True).replace(token, "TOKEN")
    return re.sub(r'href="[^"]*\?lang=', 'href="SWITCH?lang=', text)


def test_wrong_malformed_crossed_and_anonymised_links_all_look_the_same(client, world):
    manage, join = world.manage_token, world.join_token
    assert client.get(f"/termin/{manage}").status_code == 200  # the real ones work
    assert client.get(f"/video/{join}").status_code == 200

    for prefix, other_kind in (("/termin/", join), ("/video/", manage)):
        reference = client.get(prefix + WRONG)
        assert reference.status_code == 404
        expected = body(reference, WRONG)
        for token in [*MALFORMED, other_kind]:  # a manage link does not open the video page
            answer = client.get(prefix + token)
            assert answer.status_code == 404, (prefix, token)
            assert body(answer, token) == expected, (prefix, token)
            assert answer.get_data(as_text=True).count("<h1") == 1
    world.appointment.anonymised_at = world.appointment.start_at
    db.session.commit()
    for prefix, token in (("/termin/", manage), ("/video/", join)):
        gone = client.get(prefix + token)
        wrong = client.get(prefix + WRONG)
        assert gone.status_code == wrong.status_code == 404
        assert body(gone, token) == body(wrong, WRONG)
        assert gone.headers.get("Content-Type") == wrong.headers.get("Content-Type")
    # The buttons and the download answer alike.
    for method, path in (
        ("POST", f"/video/{join}"),
        ("POST", f"/termin/{manage}/absagen"),
        ("GET", f"/termin/{manage}/termin.ics"),
        ("GET", f"/termin/{manage}/verschieben"),
    ):
        assert client.open(path, method=method).status_code == 404, path


@pytest.fixture
def limited(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    app_config["RATELIMIT_LINKS"] = "5 per minute"
    return app_config


def test_guessing_join_links_is_rate_limited_and_then_the_real_link_says_the_same(limited, client, world):
    for _ in range(5):
        assert client.get(f"/video/{WRONG}").status_code == 404
    refused = client.get(f"/video/{world.join_token}?lang=de")
    assert refused.status_code == 429  # no oracle: after the budget, right and wrong look alike
    assert "Von Ihrer Verbindung kamen in kurzer Zeit zu viele Anfragen." in refused.get_data(as_text=True)
    assert client.post(f"/video/{WRONG}").status_code == 429
    # Another address has its own budget.
    other = client.get(f"/video/{world.join_token}", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200


def test_manage_and_join_links_share_one_budget(limited, client, world):
    for _ in range(3):
        assert client.get(f"/termin/{WRONG}").status_code == 404
    for _ in range(2):
        assert client.get(f"/video/{WRONG}").status_code == 404
    assert client.get(f"/termin/{world.manage_token}").status_code == 429
    assert client.get(f"/video/{world.join_token}").status_code == 429


def test_pressing_join_counts_too(limited, client, world):
    with time_machine.travel(berlin(world.monday, 9), tick=False):
        for _ in range(5):
            assert client.post(f"/video/{WRONG}").status_code == 404
        assert client.post(f"/video/{world.join_token}").status_code == 429
    assert links.by_join_token(world.join_token) is not None
