"""Open redirects: the login's ``?next=``, the language switch, and any redirect
parameter on any page. Each target is read the way a browser reads it (tabs and line
breaks dropped, backslashes as slashes) and must stay on this site."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from ..factories import STAFF_PASSWORD
from .conftest import log_in, url_for_rule

SITE = "https://visits.test/some/page"
EVIL_TARGETS = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\t/evil.example/",
    "/\r\n/evil.example/",
    "/%5Cevil.example/",
    "/%2F/evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.example/",
    "http://localhost@evil.example/",
    "/staff/@evil.example",
]
PROBES = {"/healthz", "/readyz", "/metrics"}  # machine answers, no links (and /readyz waits for SMTP)
REDIRECT_PARAMS = ["next", "back", "return_to", "redirect", "redirect_to", "url", "target", "came_from"]


def browser_target(location: str) -> str:
    """Where a browser goes with this Location or href (WHATWG URL parsing, roughly)."""
    cleaned = re.sub(r"[\t\r\n]", "", location.strip()).replace("\\", "/")
    return urljoin(SITE, cleaned)


def stays_here(location: str) -> bool:
    target = urlsplit(browser_target(location))
    return target.scheme in ("http", "https") and target.hostname in ("visits.test", "localhost")


def test_the_checker_recognises_each_evil_target():
    assert not any(
        stays_here(t)
        for t in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "/\t/evil.example/",
            "javascript:alert(1)",
        ]
    )
    assert stays_here("/staff/") and stays_here("http://localhost/staff/")


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_login_next_goes_only_to_pages_of_this_site(client, world, target):
    response = client.post(
        "/staff/login",
        query_string={"next": target},
        data={"email": world.clerk.email, "password": STAFF_PASSWORD},
    )
    assert response.status_code == 302
    assert stays_here(response.headers["Location"]), response.headers["Location"]


def test_login_next_still_leads_back_to_a_local_page(client, world):
    response = client.post(
        "/staff/login?next=/staff/hours", data={"email": world.clerk.email, "password": STAFF_PASSWORD}
    )
    assert response.headers["Location"] == "/staff/hours"


@pytest.mark.parametrize(
    "path",
    [
        "/\\evil.example",
        "//evil.example",
        "/\t/evil.example",
        "/%5Cevil.example",
        "/dienstleistungen/\\evil.example",
    ],
)
def test_the_language_switch_stays_on_this_site_whatever_the_path(client, world, path):
    response = client.get("/", environ_overrides={"PATH_INFO": path})
    links = re.findall(r'href="([^"]*lang=[^"]*)"', response.get_data(as_text=True))
    assert links, "the page offers no language switch"
    assert all(stays_here(link.replace("&amp;", "&")) for link in links), links


def test_no_page_redirects_or_links_elsewhere_with_any_redirect_parameter(app, client, world):
    """Every GET page, anonymous and as admin, with each redirect parameter set to evil targets."""
    problems = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        if rule.rule in PROBES:
            continue
        url = url_for_rule(app, rule, world)
        for who in (None, world.admin):
            for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
                log_in(client, who)
                query = {name: target for name in REDIRECT_PARAMS} | {"lang": "en"}
                response = client.get(url, query_string=query)
                location = response.headers.get("Location")
                if location and not stays_here(location):
                    problems.append(f"{url} -> {location}")
                # Files (a citizen's PDF for the clerk) are not pages: no links to follow.
                text = response.get_data(as_text=True) if response.mimetype.startswith("text/") else ""
                for link in re.findall(r'(?:href|action)="([^"]*)"', text):
                    if not stays_here(link.replace("&amp;", "&")) and "evil" in link:
                        problems.append(f"{url} links to {link}")
    assert not problems, "\n".join(sorted(set(problems)))
