"""A change or an input the rules refuse, in the shape the pages and the API show it."""

from __future__ import annotations


class Refused(ValueError):
    """``code`` picks the message in the page's language, ``field`` the form field it
    belongs to (None: a message above the form)."""

    def __init__(self, code: str, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
