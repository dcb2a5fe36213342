"""The catalogue and the slot picker, in German and English."""

from __future__ import annotations

import re
from datetime import timedelta

from .conftest import MONDAY, NOW, page, slot


def test_catalogue_lists_active_services_with_duration_mode_and_documents(client, factories, service):
    factories.service(slug="ausweis", name_de="Personalausweis beantragen", video=False,
                      address="Rathausplatz 1", duration_minutes=20, documents_de="Passfoto")
    factories.service(slug="alt", name_de="Abgeschaffte Leistung", active=False)
    html = page(client.get("/?lang=de"))
    assert "Wohngeldberatung" in html and "Personalausweis beantragen" in html
    assert "Abgeschaffte Leistung" not in html
    assert "30 Minuten" in html and "20 Minuten" in html
    assert "Videotermin" in html or "Videoanruf" in html
    assert "Vor Ort" in html and "Rathausplatz 1" in html
    assert "Mietvertrag" in html and "Passfoto" in html
    assert 'href="/dienstleistungen/wohngeld"' in html


def test_catalogue_in_english(client, service):
    html = page(client.get("/?lang=en"))
    assert "Housing benefit advice" in html and "Tenancy agreement" in html
    assert "30 minutes" in html and "Please have at hand" in html


def test_search_finds_services_by_name_in_either_language(client, factories, service):
    factories.service(slug="parken", name_de="Bewohnerparkausweis", name_en="Resident parking permit")
    html = page(client.get("/?q=parK&lang=de"))
    assert "Bewohnerparkausweis" in html and "Wohngeldberatung" not in html
    assert "1 Dienstleistung passt" in html
    html = page(client.get("/?q=housing&lang=en"))
    assert "Housing benefit advice" in html and "Resident parking permit" not in html
    html = page(client.get("/?q=zzz&lang=de"))
    assert "Keine Dienstleistung passt" in html


def test_slot_picker_groups_free_slots_by_day_each_a_labelled_radio(client, traveller, service):
    html = page(client.get(f"/dienstleistungen/wohngeld?week={MONDAY.isoformat()}&lang=de"))
    # one fieldset per day, its legend the full date
    assert html.count('<fieldset class="slot-day">') == 5
    monday_label = f"Montag, {MONDAY.day}. "
    assert f"<legend>{monday_label}" in html
    # every slot is a radio with a label naming weekday, date and time
    value = slot(MONDAY, 8)
    radio = re.search(rf'<label for="([^"]+)"><input type="radio" id="\1" name="start" value="{value}"', html)
    assert radio, "the 08:00 slot is a labelled radio button"
    assert re.search(rf'{value}" required><span class="visually-hidden">Montag, {MONDAY.day}\. [^<]+, 08:00 Uhr</span>', html)
    assert html.count('type="radio"') == 5 * 8
    # the form leads to the details page by GET
    assert 'method="get" action="/dienstleistungen/wohngeld/buchen"' in html


def test_slot_picker_in_english_and_paged_by_week(client, traveller, service):
    html = page(client.get(f"/dienstleistungen/wohngeld?week={MONDAY.isoformat()}&lang=en"))
    assert "Monday, " in html and "08:00</span>" in html
    previous = (MONDAY - timedelta(days=7)).isoformat()
    following = (MONDAY + timedelta(days=7)).isoformat()
    assert f"week={previous}" in html and f"week={following}" in html
    assert "Previous week" in html and "Next week" in html


def test_this_week_shows_only_slots_after_now_and_no_previous_week(client, traveller, service):
    html = page(client.get("/dienstleistungen/wohngeld?lang=de"))
    this_monday = MONDAY - timedelta(days=7)
    assert slot(this_monday, 8) not in html  # 08:00 has passed (it is 09:00)
    assert slot(this_monday, 9, 30) in html
    assert "Vorherige Woche" not in html


def test_an_empty_week_names_the_next_free_slot(client, traveller, factories, service):
    (clerk,) = service.clerks
    factories.absence(clerk, NOW, NOW + timedelta(days=14), "Urlaub")
    week_after = MONDAY + timedelta(days=7)
    html = page(client.get(f"/dienstleistungen/wohngeld?week={MONDAY.isoformat()}&lang=de"))
    assert 'type="radio"' not in html
    assert "In dieser Woche sind keine Termine frei." in html
    assert f"Der nächste freie Termin ist am Montag, {week_after.day}." in html
    assert f"week={week_after.isoformat()}" in html


def test_an_unknown_or_inactive_service_is_not_found(client, factories):
    factories.service(slug="alt", active=False)
    assert client.get("/dienstleistungen/alt").status_code == 404
    assert client.get("/dienstleistungen/gibt-es-nicht").status_code == 404
