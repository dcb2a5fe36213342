"""The headers every answer carries: what the browser may load, send and keep.

- Content-Security-Policy: every asset is the app's own; forms post to us, and the "join"
  buttons' 303 to the city's Jitsi (browsers apply form-action to that redirect too).
- Referrer-Policy ``same-origin``: our own requests carry a Referer, others (Jitsi) none;
  Flask-WTF refuses a POST over https without a same-origin Referer, so "no-referrer"
  would break every form behind TLS.
- Permissions-Policy: the pages use no camera, microphone, location or payment; the video
  call runs on the Jitsi host, which asks for camera and microphone itself.
- Strict-Transport-Security when the site is https (PUBLIC_BASE_URL), from the app itself,
  so that it holds whatever proxy is in front.
- Cache-Control ``no-store`` on every answer but the static files and the public catalogue
  (service list, slot pages, privacy notice, the API's services and slots and its
  description): staff pages, the feed address, "check your inbox", the manage and join
  pages and API answers with links must not stay in a browser's or a proxy's cache."""

from __future__ import annotations

from flask import Flask, Response, request

PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
    "bluetooth=(), display-capture=(), interest-cohort=()"
)
HSTS = "max-age=63072000; includeSubDomains"

# Pages that show only what anyone may see and hold nothing of one person.
PUBLIC_CATALOGUE = frozenset(
    {
        "static",
        "public.index",
        "public.service",
        "about.imprint",
        "about.privacy",
        "about.accessibility",
        "about.contact",
        "about.favicon",
        "api.services",
        "api.slots",
        "api-docs.openapi_json",
    }
)


def jitsi_origin(jitsi_domain: str) -> str:
    """``https://host`` of the configured Jitsi (JITSI_DOMAIN may carry a scheme or a tenant
    path), or "" when none is set."""
    host = jitsi_domain.strip().removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    return f"https://{host}" if host else ""


def register(app: Flask, *, jitsi_domain: str, https: bool) -> None:
    jitsi = jitsi_origin(jitsi_domain)
    form_action = "'self'" + (f" {jitsi}" if jitsi else "")
    policy = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"frame-ancestors 'none'; form-action {form_action}; base-uri 'none'"
    )

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS)
        if "Cache-Control" not in headers and request.endpoint not in PUBLIC_CATALOGUE:
            headers["Cache-Control"] = "no-store"
        return response
