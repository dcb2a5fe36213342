"""Every error of /api/ is problem+json (RFC 9457), in the caller's language; the OpenAPI
document is generated from the code; rate limits answer 429 as a problem too."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from visits.api import problems

from .conftest import API, bearer, berlin, request_body


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


def test_unknown_api_path_is_a_404_problem(client):
    body = _is_problem(client.get(f"{API}/nothing-here"), 404)
    assert body["type"] == "/api/v1/problems/not-found"


def test_wrong_method_is_a_405_problem_with_allow(client):
    response = client.put(f"{API}/services")
    assert _is_problem(response, 405)["type"] == "/api/v1/problems/method-not-allowed"
    assert "GET" in response.headers["Allow"]


def test_too_large_a_body_is_a_413_problem(app, client, service):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(f"{API}/bookings", json={"service": "wohngeld", "note": "n" * 5000})
    _is_problem(response, 413)


def test_a_crash_is_a_500_problem_without_details(app, client, service, monkeypatch):
    from visits.booking import availability

    def explode(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(availability, "free_slots", explode)
    app.testing = False  # answer like production instead of raising into the test
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get(f"{API}/services/wohngeld/slots")
    body = _is_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert body["type"] == "/api/v1/problems/server-error"


def test_problems_speak_german_by_default_and_english_on_request(client):
    german = client.get(f"{API}/bookings/T-0000-0000", headers={"X-Manage-Token": "x"}).get_json()
    english = client.get(
        f"{API}/bookings/T-0000-0000", headers={"X-Manage-Token": "x", "Accept-Language": "en"}
    ).get_json()
    assert german["title"] == "Nicht gefunden"
    assert english["title"] == "Not found"
    assert german["type"] == english["type"]


def test_every_problem_text_has_a_german_translation(app):
    texts = list(problems.TITLES.values()) + list(problems._DETAILS.values())
    with app.test_request_context():
        with force_locale("en"):
            english = [str(t) for t in texts]
        with force_locale("de"):
            german = [str(t) for t in texts]
    untranslated = [e for e, g in zip(english, german, strict=True) if e == g]
    assert untranslated == []


def test_html_pages_keep_their_html_error_page(client):
    response = client.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


def test_api_needs_no_csrf_token(csrf_on, client, service, clerk, monday):
    assert client.post("/staff/login", data={"email": "a@b.c", "password": "x"}).status_code == 400
    response = client.post(f"{API}/bookings", json=request_body(service, berlin(monday, 9)))
    assert response.status_code == 201


# -- rate limits -----------------------------------------------------------------------------


@pytest.fixture
def limited(app_config):
    app_config.update(
        RATELIMIT_ENABLED=True,
        RATELIMIT_BOOKING="2 per minute",
        RATELIMIT_LINKS="3 per minute",
        RATELIMIT_API_KEY="4 per minute",
        RATELIMIT_STORAGE_URI="memory://",
    )


def test_booking_is_rate_limited_with_a_429_problem(limited, client, service, clerk, monday):
    for hour in (8, 9):
        body = request_body(service, berlin(monday, hour), email=f"p{hour}@example.org")
        assert client.post(f"{API}/bookings", json=body).status_code == 201
    response = client.post(f"{API}/bookings", json=request_body(service, berlin(monday, 10)))
    body = _is_problem(response, 429)
    assert body["type"] == "/api/v1/problems/rate-limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_token_lookups_are_rate_limited(limited, client):
    statuses = [
        client.get(f"{API}/bookings/T-0000-0000", headers={"X-Manage-Token": f"guess{i}"}).status_code
        for i in range(4)
    ]
    assert statuses == [404, 404, 404, 429]


def test_a_portal_has_its_own_budget_per_key(limited, client, service, clerk, monday, portal_key):
    statuses = [
        client.post(
            f"{API}/bookings",
            json=request_body(service, berlin(monday, 8 + i), email=f"p{i}@example.org"),
            headers=bearer(portal_key),
        ).status_code
        for i in range(5)
    ]
    assert statuses == [201, 201, 201, 201, 429]  # more than anonymous callers, yet bounded


def test_guessing_keys_counts_against_the_anonymous_limit(limited, client, service, clerk, monday):
    statuses = [
        client.post(
            f"{API}/bookings", json=request_body(service, berlin(monday, 9)), headers=bearer(f"vk_{i}")
        ).status_code
        for i in range(3)
    ]
    assert statuses == [401, 401, 429]


# -- the OpenAPI document ------------------------------------------------------------------------


def test_openapi_document_is_generated_with_the_contract_paths(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert set(paths) >= {
        "/api/v1/services",
        "/api/v1/services/{slug}/slots",
        "/api/v1/bookings",
        "/api/v1/bookings/{reference}",
    }
    assert set(paths["/api/v1/bookings/{reference}"]) >= {"get", "delete"}
    request_schema = document["components"]["schemas"]["BookingRequest"]
    # The limits count once the text is trimmed (a note's CRLF as one LF): said in words,
    # since a maxLength of the raw text would refuse what the server books.
    assert "1 to 200 characters once trimmed" in request_schema["properties"]["name"]["description"]
    assert "At most 1000 characters" in request_schema["properties"]["note"]["description"]
    assert request_schema["properties"]["phone"]["pattern"] == r"^[0-9+()/ .\-]*$"
    conflict = paths["/api/v1/bookings"]["post"]["responses"]["409"]
    assert "application/problem+json" in conflict["content"]
    assert {"bearerAuth", "manageToken"} <= set(document["components"]["securitySchemes"])


def test_a_database_outage_is_a_503_problem_with_retry_after(client, service, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from visits.booking import availability

    def gone(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(availability, "free_slots", gone)
    response = client.get(f"{API}/services/wohngeld/slots")
    assert _is_problem(response, 503)["type"] == "/api/v1/problems/unavailable"
    assert response.headers["Retry-After"] == "30"
