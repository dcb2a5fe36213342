"""A service's slug: the part of its address (/dienstleistungen/<slug>) and its name in the API.

Lower-case letters and digits in groups joined by single hyphens ("id-card", not "-id",
"id--card" or "id-"), at most SLUG_MAX characters (the column's width). Administrators
choose slugs by this rule and the API refuses any other before looking one up."""

from __future__ import annotations

import re

SLUG_MAX = 80
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_SLUG_RE = re.compile(SLUG_PATTERN)


def is_slug(value: str | None) -> bool:
    return bool(value) and len(value) <= SLUG_MAX and _SLUG_RE.fullmatch(value) is not None
