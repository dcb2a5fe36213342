"""The same booking with the keyboard alone (Tab, Shift+Tab, Space, Enter, and typing): on
every page each control is reachable with Tab and shows where the focus is; a form sent
with mistakes says so (an alert with links that lead to the fields)."""

from __future__ import annotations

import re

import pytest

from visits.models import Appointment, Status

from .conftest import check

pytestmark = pytest.mark.browser

SERVICE = "Meldebescheinigung per Tastatur"

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return null;
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const shadow = !!s.boxShadow && s.boxShadow !== 'none';
  const r = e.getBoundingClientRect();
  return {
    key: e.type === 'radio' ? 'radio:' + e.name : (e.id || e.tagName + ':' + (e.getAttribute('href') || '') + ':' + (e.innerText || e.value || '').trim()),
    id: e.id, tag: e.tagName.toLowerCase(), type: e.type || '', checked: !!e.checked,
    text: (e.innerText || e.value || '').trim(),
    indicator: e.matches(':focus-visible') && (outline || shadow),
    onscreen: r.width > 0 && r.height > 0,
  };
}"""

CONTROLS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])')]
  .filter(e => !e.disabled && e.getClientRects().length)
  .map(e => e.type === 'radio' ? 'radio:' + e.name : (e.id || e.tagName + ':' + (e.getAttribute('href') || '') + ':' + (e.innerText || e.value || '').trim()))"""


def focused(page) -> dict | None:
    return page.evaluate(FOCUSED)


def walk(page, name: str) -> None:
    """Tab through the whole page from its top: every control is reached, each with a
    visible focus indicator, and Shift+Tab goes back the same way (ending on the first)."""
    page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    reached: list[dict] = []
    for _ in range(200):
        page.keyboard.press("Tab")
        now = focused(page)
        if now is None or (reached and now["key"] == reached[0]["key"]):
            break
        reached.append(now)
    else:
        raise AssertionError(f"{name}: Tab never left the page")
    keys = [r["key"] for r in reached]
    missing = set(page.evaluate(CONTROLS)) - set(keys)
    assert not missing, f"{name}: not reachable with Tab: {missing}"
    invisible = [r["key"] for r in reached if not (r["indicator"] and r["onscreen"])]
    assert not invisible, f"{name}: focus not visible on {invisible}"
    # Back with Shift+Tab (from past the end; the browser's own UI may take one stop):
    # the same controls, in reverse.
    back: list[str] = []
    for _ in range(len(reached) + 2):
        page.keyboard.press("Shift+Tab")
        now = focused(page)
        if now is not None:
            back.append(now["key"])
        if len(back) == len(reached):
            break
    assert back == keys[::-1], f"{name}: Shift+Tab does not retrace Tab"


def tab_to(page, test, *, limit: int = 120, backwards: bool = False) -> dict:
    """Press Tab (or Shift+Tab) until the focused control passes ``test``."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = focused(page)
        if now and test(now):
            assert now["indicator"], f"focus not visible on {now}"
            return now
    raise AssertionError("control not reached with the keyboard")


def test_booking_with_the_keyboard_alone(page, live):
    def setup(f):
        service = f.service(slug="tastatur", name_de=SERVICE, name_en="Registration by keyboard")
        f.clerk([service])
        return service.id

    service_id = live.run(setup)

    # The catalogue: the skip link comes first, then every control in turn.
    page.goto(f"{live.url}/?lang=de")
    check(page, "catalogue")
    walk(page, "catalogue")
    assert focused(page)["text"] == "Zum Inhalt springen"  # the first stop of all
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == SERVICE)
    page.keyboard.press("Enter")

    # The slot picker: Tab into the slots, Space picks one, on to the button and back.
    page.get_by_role("heading", level=1, name=SERVICE).wait_for()
    check(page, "slots")
    walk(page, "slots")
    slot = tab_to(page, lambda f: f["type"] == "radio")
    page.keyboard.press("Space")
    chosen = page.evaluate("document.activeElement.value")
    assert page.locator("input[type=radio]:checked").count() == 1
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Weiter mit der gewählten Uhrzeit")
    back = tab_to(page, lambda f: f["type"] == "radio", backwards=True)
    assert back["checked"] and back["key"] == slot["key"]  # Shift+Tab returns to the chosen time
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Weiter mit der gewählten Uhrzeit")
    page.keyboard.press("Enter")

    # The form, sent empty: an alert names each mistake and links to its field.
    page.get_by_role("heading", level=1, name="Ihre Angaben").wait_for()
    check(page, "details")
    walk(page, "details")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Diese Uhrzeit reservieren")
    page.keyboard.press("Enter")
    summary = page.get_by_role("alert").filter(has_text="Es gibt ein Problem")
    summary.wait_for()
    assert page.title().startswith("Fehler")  # the first thing a screen reader reads
    check(page, "details-with-errors")
    walk(page, "details-with-errors")
    links = summary.get_by_role("link")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == ["#name", "#email", "#consent"]
    for field in ("name", "email", "consent"):
        control = page.locator(f"#{field}")
        assert control.get_attribute("aria-invalid") == "true"
        described = control.get_attribute("aria-describedby").split()
        assert f"{field}-error" in described
        assert page.locator(f"#{field}-error").inner_text().strip()

    # Follow the summary's first link: the focus lands in the name field; fill in with keys.
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Geben Sie Ihren Namen ein.")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "name"
    page.keyboard.type("Erika Mustermann")
    tab_to(page, lambda f: f["id"] == "email")
    page.keyboard.type("erika.tastatur@example.org")
    tab_to(page, lambda f: f["id"] == "consent")
    page.keyboard.press("Space")
    assert page.locator("#consent").is_checked()
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Diese Uhrzeit reservieren")
    page.keyboard.press("Enter")
    page.get_by_role("heading", level=1, name="Bitte sehen Sie in Ihr E-Mail-Postfach").wait_for()
    check(page, "check-inbox")
    walk(page, "check-inbox")

    def stored(_f):
        from visits.extensions import db

        (appointment,) = db.session.query(Appointment).filter_by(service_id=service_id).all()
        return appointment.status, appointment.start_at.strftime("%Y-%m-%dT%H:%M:%SZ"), appointment.citizen_name

    status, start, name = live.run(stored)
    assert (status, name) == (Status.HELD, "Erika Mustermann")
    assert start == chosen

    # The link from the mail; confirm with the keyboard.
    (mail,) = live.mails_to("erika.tastatur@example.org", 1)
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_content()
    manage = re.search(re.escape(live.url) + r"/termin/[A-Za-z0-9_-]+", text).group(0)
    page.goto(manage)
    check(page, "manage-held")
    walk(page, "manage-held")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Termin bestätigen")
    page.keyboard.press("Enter")
    page.get_by_text("Ihr Termin ist bestätigt.", exact=True).wait_for()
    check(page, "manage-confirmed")
    walk(page, "manage-confirmed")
    assert live.run(stored)[0] == Status.CONFIRMED
