"""Reading the forms of a page the way a browser would submit them (no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> value a browser would send
    kinds: dict[str, str] = field(default_factory=dict)  # name -> input type / textarea / select


class _Parser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action") or self.page_url, (a.get("method") or "get").upper())
            self.forms.append(self._form)
        if self._form is None or not a.get("name"):
            if tag == "option" and self._form is not None and self._select:
                self._form.fields.setdefault(self._select, a.get("value", ""))
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if kind == "checkbox" or name not in self._form.fields:
                    self._form.fields[name] = a.get("value", "on")
            else:
                self._form.fields[name] = a.get("value", "")
            self._form.kinds[name] = kind
        elif tag == "textarea":
            self._form.fields[name] = ""
            self._form.kinds[name] = "textarea"
        elif tag == "select":
            self._select = name
            self._form.kinds[name] = "select"
        elif tag == "button" and a.get("value"):
            self._form.fields.setdefault(name, a["value"])
            self._form.kinds.setdefault(name, "button")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_of(html: str, page_url: str) -> list[Form]:
    parser = _Parser(page_url)
    parser.feed(html)
    return parser.forms
