"""Everyone reads every card (issue 15), in the browser: phones, the board, the console and the
settings page against the real server with the stand-in LibreTranslate."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import as_shown
from playwright.sync_api import Page, expect

from tests.e2e import test_accessibility
from tests.e2e.test_accessibility import (
    add_card,
    axe_violations,
    log_in,
    new_context,
    staff_call,
)
from tests.standin_libretranslate import translated

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

GERMAN = "Deutschkurse mit Kinderbetreuung am Abend"
ARABIC = "دورات لغة للأمهات في المساء"
LANGUAGES = ["de", "en", "ar", "fa", "uk", "ru"]  # the languages the demo event works in
WAIT = 30_000  # ms: translations arrive in the background

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SCREENSHOTS = ("phone-translation-ar.png", "board-translations-1280.png", "console-translation.png")

axe_source = test_accessibility.axe_source  # the same session fixture: axe-core once


@pytest.fixture
def server(start_server, standin):
    return start_server(extra_env={"WORKSHOP_TRANSLATE_URL": standin.url})


def strings(page: Page) -> dict:
    """The page's texts, as the server translated them for it."""
    return json.loads(page.locator("#page-data").text_content())["strings"]


def open_phone(browser, server, language: str = "ar"):
    context = new_context(browser, server, language)
    page = context.new_page()
    page.goto(f"{server.url}/j/{server.demo_code}")
    expect(page.locator("#cards")).to_have_attribute("aria-busy", "false")
    return context, page


def phone_card(page: Page, card_id: int):
    return page.locator(f"#card-{card_id}")


def test_an_arabic_phone_reads_a_german_card_in_arabic_and_its_original(browser, server):
    card = add_card(server, GERMAN)
    context, page = open_phone(browser, server)
    try:
        item = phone_card(page, card["id"])
        title = item.locator(".card-title")
        expect(title).to_have_text(translated(GERMAN, "de", "ar"), timeout=WAIT)
        expect(title).to_have_attribute("lang", "ar")
        expect(title).to_have_attribute("dir", "rtl")
        expect(item.locator(".badge-translation")).to_have_text(
            strings(page)["machine_translation"]
        )
        toggle = item.get_by_role("button", name=strings(page)["show_original"])
        expect(toggle).to_have_attribute("aria-pressed", "false")
        toggle.click()
        expect(title).to_have_text(GERMAN)
        expect(title).to_have_attribute("lang", "de")
        expect(title).to_have_attribute("dir", "ltr")
        expect(toggle).to_have_attribute("aria-pressed", "true")
        expect(toggle).to_be_focused()
    finally:
        context.close()


def test_the_board_shows_the_german_line_under_an_arabic_card(browser, server):
    card = add_card(server, ARABIC, language="ar")
    context = new_context(browser, server, "de", width=1920, height=1080)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/board/{server.demo_code}")
        item = page.locator(f"#card-{card['id']}")
        line = item.locator(".card-translation")
        expect(line).to_have_text(as_shown(translated(ARABIC, "ar", "de")), timeout=WAIT)
        expect(line).to_have_attribute("lang", "de")
        expect(item.locator(".card-title")).to_have_text(ARABIC)
        # A German card gets no German line, and the spotlight shows the translation too.
        german = add_card(server, GERMAN)
        expect(page.locator(f"#card-{german['id']}")).to_be_visible()
        expect(page.locator(f"#card-{german['id']} .card-translation")).to_have_count(0)
        staff_call(server, "PATCH", json_body={"display": {"spotlight": card["id"]}})
        expect(page.locator(".spotlight-translation")).to_contain_text(
            translated(ARABIC, "ar", "de")
        )
    finally:
        context.close()


def test_the_board_and_console_speak_the_question_and_area_names_of_their_language(browser, server):
    event = staff_call(server, "GET")
    area = event["areas"][0]
    texts = {"question": {"ar": "ما الذي يهمك؟"}, "areas": {str(area["id"]): {"ar": "اللغة"}}}
    staff_call(server, "PUT", "/texts", json_body=texts)
    context = new_context(browser, server, "ar", width=1440, height=900)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/board/{server.demo_code}")
        expect(page.locator("#board-question")).to_have_text("ما الذي يهمك؟")
        expect(page.locator("#board-question")).to_have_attribute("lang", "ar")
        log_in(page, server)
        page.goto(f"{server.url}/moderate/{server.demo_code}")
        # The first area's column ("no area yet" comes before it since issue 17).
        head = page.locator(f'.mcolumn[data-area="{area["id"]}"] .mcolumn-head h3')
        expect(head).to_have_text("اللغة")
    finally:
        context.close()


def test_a_corrected_translation_reaches_the_phone_as_checked(browser, server):
    card = add_card(server, GERMAN)
    context = new_context(browser, server, "de", width=1440, height=900)
    page = context.new_page()
    phone_context, phone = open_phone(browser, server)
    try:
        title = phone_card(phone, card["id"]).locator(".card-title")
        expect(title).to_have_text(translated(GERMAN, "de", "ar"), timeout=WAIT)
        log_in(page, server)
        page.goto(f"{server.url}/moderate/{server.demo_code}")
        mcard = page.locator(f"#mcard-{card['id']}")
        mcard.locator(".menu-button").click()
        page.locator('#card-menu [data-action="correct-translation"]').click()
        dialog = page.locator("#translation-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("#translation-language").select_option("ar")
        expect(dialog.locator("#translation-title")).to_have_value(translated(GERMAN, "de", "ar"))
        expect(dialog.locator("#translation-title")).to_have_attribute("dir", "rtl")
        dialog.locator("#translation-title").fill("دورات ألمانية مع رعاية الأطفال")
        dialog.locator("#translation-save").click()
        expect(dialog).to_be_hidden()
        expect(mcard.locator(".menu-button")).to_be_focused()
        expect(title).to_have_text("دورات ألمانية مع رعاية الأطفال")
        badge = phone_card(phone, card["id"]).locator(".badge-translation")
        expect(badge).to_have_text(strings(phone)["checked_translation"])
        expect(page.locator("#translation-status")).to_have_text(
            strings(page)["translation_on"].replace("{n}", "0")
        )
    finally:
        phone_context.close()
        context.close()


def test_the_moderator_changes_a_cards_language_and_the_log_says_so(browser, server):
    card = add_card(server, "Kurse am Abend", language="de")
    context = new_context(browser, server, "de", width=1440, height=900)
    page = context.new_page()
    try:
        log_in(page, server)
        page.goto(f"{server.url}/moderate/{server.demo_code}")
        mcard = page.locator(f"#mcard-{card['id']}")
        mcard.locator(".menu-button").click()
        page.locator('#card-menu [data-action="change-language"]').click()
        dialog = page.locator("#language-dialog")
        expect(dialog.locator("#language-select")).to_be_focused()
        expect(dialog.locator("#language-select")).to_have_value("de")
        dialog.locator("#language-select").select_option("ru")
        dialog.locator("#language-save").click()
        expect(dialog).to_be_hidden()
        expect(mcard.locator(".card-title")).to_have_attribute("lang", "ru")
        # Written in Russian now, it shows its German translation under the original.
        expect(mcard.locator(".translation-title")).to_have_text(
            translated("Kurse am Abend", "ru", "de"), timeout=WAIT
        )
        labels = json.loads(page.locator("#page-data").text_content())["audit_actions"]
        expect(page.locator("#audit-entries")).to_contain_text(labels["language_changed"])
        expect(page.locator("#audit-entries")).to_contain_text("→ Русский")
    finally:
        context.close()


def test_the_author_corrects_the_language_of_their_own_card(browser, server):
    context, page = open_phone(browser, server, "de")
    try:
        page.fill("#new-title", "Kurse")  # too short to tell: the phone's language, German
        page.check('#new-area input[value="none"]')
        page.locator("#submit-form button[type=submit]").click()
        card = page.locator("#cards .card.mine:not(.waiting)")  # not the copy still being sent
        expect(card).to_have_count(1)
        card.locator('[data-focus="edit"]').click()
        select = card.locator('select[name="language"]')
        expect(select.locator("option")).to_have_count(len(LANGUAGES))
        select.select_option("uk")
        card.locator("button[type=submit]").click()
        expect(card.locator(".card-title")).to_be_visible()
        # Now written in Ukrainian, the card reaches this German phone translated into German.
        expect(card.locator(".card-title")).to_have_text(
            translated("Kurse", "uk", "de"), timeout=WAIT
        )
    finally:
        context.close()
    cards = staff_call(server, "GET", "/suggestions")["suggestions"]
    assert [(c["title"], c["language"]) for c in cards] == [("Kurse", "uk")]


def test_the_settings_page_saves_an_area_name_the_arabic_phone_shows(browser, server):
    area = staff_call(server, "GET")["areas"][0]
    context = new_context(browser, server, "de", width=1440, height=900)
    page = context.new_page()
    try:
        log_in(page, server)
        page.goto(f"{server.url}/moderate/{server.demo_code}/settings")
        field = page.locator(f'input[name="area-{area["id"]}-ar"]')
        expect(field).to_have_attribute("dir", "rtl")
        page.locator("#texts-suggest").click()
        uk = page.locator(f'input[name="area-{area["id"]}-uk"]')
        expect(uk).to_have_value(translated(area["name"], "de", "uk"))
        field.fill("الدعم اللغوي")
        page.locator("#texts-form button[type=submit]").click()
        expect(page.locator(".flash-success")).to_be_visible()
        expect(page.locator(f'input[name="area-{area["id"]}-ar"]')).to_have_value("الدعم اللغوي")
        expect(page.locator(f'input[name="area-{area["id"]}-uk"]')).to_have_value(
            translated(area["name"], "de", "uk")
        )
    finally:
        context.close()
    phone_context, phone = open_phone(browser, server)
    try:
        expect(phone.locator("#area-filter option", has_text="الدعم اللغوي")).to_have_count(1)
        card = add_card(server, GERMAN, area_id=area["id"])
        name = phone_card(phone, card["id"]).locator(".card-area span").last
        expect(name).to_have_text("الدعم اللغوي")
        expect(name).to_have_attribute("lang", "ar")
    finally:
        phone_context.close()


def test_the_settings_page_saves_texts_without_javascript(browser, server):
    area = staff_call(server, "GET")["areas"][0]
    context = browser.new_context(locale="de-DE", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, server)
        page.goto(f"{server.url}/moderate/{server.demo_code}/settings")
        expect(page.locator("#texts-suggest")).to_be_hidden()
        page.locator(f'input[name="area-{area["id"]}-fa"]').fill("پشتیبانی زبان")
        page.locator("#texts-form button[type=submit]").click()
        expect(page.locator(".flash-success")).to_be_visible()
    finally:
        context.close()
    names = staff_call(server, "GET")["areas"][0]["translations"]
    assert names["fa"] == {"name": "پشتیبانی زبان", "machine": False}


@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_translated_pages_have_no_wcag_21_aa_violations(browser, server, axe_source, language):
    german = add_card(server, GERMAN, body="Zweimal in der Woche")
    arabic = add_card(server, ARABIC, language="ar")
    found = {}
    context = new_context(browser, server, language)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/j/{server.demo_code}")
        other = german if language == "ar" else arabic
        expect(page.locator(f"#card-{other['id']} .badge-translation")).to_be_visible(timeout=WAIT)
        found["attendee"] = axe_violations(page, axe_source)
        page.locator(f"#card-{other['id']} .translation-note button").click()
        found["attendee original"] = axe_violations(page, axe_source)
        log_in(page, server)
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(f"{server.url}/moderate/{server.demo_code}")
        expect(page.locator(f"#mcard-{other['id']} .card-translation")).to_be_visible()
        found["console"] = axe_violations(page, axe_source)
        page.locator(f"#mcard-{other['id']} .menu-button").click()
        page.locator('#card-menu [data-action="correct-translation"]').click()
        expect(page.locator("#translation-dialog")).to_be_visible()
        found["console dialog"] = axe_violations(page, axe_source)
        page.goto(f"{server.url}/moderate/{server.demo_code}/settings")
        found["settings"] = axe_violations(page, axe_source)
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(f"{server.url}/board/{server.demo_code}")
        expect(page.locator(f"#card-{arabic['id']} .card-translation")).to_be_visible()
        found["board"] = axe_violations(page, axe_source)
    finally:
        context.close()
    found = {name: violations for name, violations in found.items() if violations}
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)


def test_screenshots_of_translations(browser, server, artifacts):
    """An Arabic phone with a German card translated, the board with its translation lines, and
    the console's correction dialog; WORKSHOP_UPDATE_SCREENSHOTS=1 copies them into the docs."""
    areas = staff_call(server, "GET")["areas"]
    german = add_card(server, GERMAN, area_id=areas[0]["id"], body="Zweimal in der Woche, 18 Uhr")
    add_card(server, ARABIC, area_id=areas[0]["id"], language="ar")
    add_card(server, "Безкоштовні курси німецької для дорослих", area_id=areas[1]["id"])
    add_card(server, "Mehr Beratung in den Stadtteilen", area_id=areas[1]["id"])
    staff_call(server, "PUT", "/texts", {"areas": {str(areas[0]["id"]): {"ar": "دعم اللغة"}}})
    staff_call(server, "PATCH", json_body={"settings": {"board_translations": ["de", "en"]}})
    context, phone = open_phone(browser, server)
    try:
        item = phone_card(phone, german["id"])
        expect(item.locator(".badge-translation")).to_be_visible(timeout=WAIT)
        phone.screenshot(path=artifacts / SCREENSHOTS[0], full_page=True)
    finally:
        context.close()
    context = new_context(browser, server, "de", width=1280, height=720)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/board/{server.demo_code}")
        expect(page.locator(".card-translation").first).to_be_visible(timeout=WAIT)
        expect(page.locator(".card-translation")).to_have_count(6, timeout=WAIT)
        page.screenshot(path=artifacts / SCREENSHOTS[1])
        log_in(page, server)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{server.url}/moderate/{server.demo_code}")
        mcard = page.locator(f"#mcard-{german['id']}")
        mcard.locator(".menu-button").click()
        page.locator('#card-menu [data-action="correct-translation"]').click()
        page.locator("#translation-language").select_option("ar")
        expect(page.locator("#translation-title")).not_to_have_value("")
        page.screenshot(path=artifacts / SCREENSHOTS[2])
        page.keyboard.press("Escape")
        page.goto(f"{server.url}/moderate/{server.demo_code}/settings#texts")
        page.locator("#texts-suggest").click()
        expect(page.locator("#texts-status")).not_to_be_empty()
        page.locator("#texts").screenshot(path=artifacts / "settings-texts.png")
    finally:
        context.close()
    # The docs' copies change only on request, so a test run leaves the work tree clean.
    if os.environ.get("WORKSHOP_UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        for name in SCREENSHOTS:
            shutil.copyfile(artifacts / name, DOCS / name)
