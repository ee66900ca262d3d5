"""WCAG 2.1 AA with axe-core, right-to-left layout and keyboard-only use, in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from helpers import containing
from playwright.sync_api import Page, expect

from .conftest import ADMIN_PASSWORD, ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

#: axe-core from the npm registry, installed on first use into a folder git ignores.
AXE_DIR = ROOT / ".cache" / "axe"
AXE_FILE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = "axe-core@4"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_FILE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                "axe-core is needed: install node and npm (or put axe.min.js in .cache/axe)"
            )
        subprocess.run(
            [npm, "install", "--prefix", str(AXE_DIR), AXE_VERSION, "--no-audit", "--no-fund"],
            check=True,
            cwd=ROOT,
        )
    return AXE_FILE.read_text()


def axe_violations(page: Page, axe_source: str) -> list[dict]:
    """Run axe on the page as it is now; page.evaluate is not subject to the site's CSP."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    result = page.evaluate(
        """async (tags) => await axe.run(document, {runOnly: {type: "tag", values: tags}})""",
        WCAG_21_AA,
    )
    return [
        {
            "id": violation["id"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
    ]


def staff_call(server, method: str, path: str = "", json_body=None) -> dict:
    token = server.staff_token()
    response = requests.request(
        method,
        f"{server.url}/api/v1/events/{server.demo_code}{path}",
        json=json_body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def add_card(server, title: str, **fields) -> dict:
    body = {"client_id": str(uuid.uuid4()), "title": title, **fields}
    return staff_call(server, "POST", "/suggestions", body)


def new_context(browser, server, language: str, width: int = 412, height: int = 915):
    locale = {"de": "de-DE", "ar": "ar"}[language]
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    context.add_cookies([{"name": "workshop_lang", "value": language, "url": server.url}])
    return context


def log_in(page: Page, server) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#username", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/moderate/**")


@contextmanager
def settings_page(browser, server) -> Iterator[Page]:
    """The demo event's settings page, logged in, in German."""
    context = new_context(browser, server, "de", 1280, 900)
    try:
        page = context.new_page()
        log_in(page, server)
        page.goto(f"{server.url}/moderate/{server.demo_code}/settings")
        yield page
    finally:
        context.close()


@pytest.fixture
def filled(server):
    """The demo event with cards in two languages and one without an area."""
    areas = staff_call(server, "GET")["areas"]
    staff_call(server, "PATCH", json_body={"settings": {"board_languages": ["ar", "uk"]}})
    add_card(server, "Sprachkurse mit Kinderbetreuung", area_id=areas[0]["id"], body="Am Abend")
    add_card(server, "دورات لغة للأمهات", area_id=areas[1]["id"], language="ar")
    add_card(server, "Mehr Beratung in den Stadtteilen")
    return server


@pytest.mark.parametrize("language", ["de", "ar"])
def test_pages_have_no_wcag_21_aa_violations(browser, filled, axe_source, language, artifacts):
    server = filled
    code = server.demo_code
    found = {}
    context = new_context(browser, server, language)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/")
        found["enter"] = axe_violations(page, axe_source)
        page.goto(f"{server.url}/j/{code}")
        expect(page.locator("#cards")).to_have_attribute("aria-busy", "false")
        found["attendee"] = axe_violations(page, axe_source)
        page.goto(f"{server.url}/privacy")
        found["privacy"] = axe_violations(page, axe_source)
        page.goto(f"{server.url}/accessibility")
        found["accessibility"] = axe_violations(page, axe_source)
        page.goto(f"{server.url}/login")
        found["login"] = axe_violations(page, axe_source)
        log_in(page, server)
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(f"{server.url}/moderate/{code}")
        expect(page.locator("#connection")).to_be_hidden()
        found["console"] = axe_violations(page, axe_source)
        page.goto(f"{server.url}/moderate/{code}/plain")
        found["plain"] = axe_violations(page, axe_source)
        page.goto(f"{server.url}/events/{code}/report")
        found["report"] = axe_violations(page, axe_source)
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(f"{server.url}/board/{code}")
        expect(page.locator("#columns")).to_have_attribute("aria-busy", "false")
        found["board"] = axe_violations(page, axe_source)
        page.screenshot(path=artifacts / f"board-{language}.png")
    finally:
        context.close()
    found = {name: violations for name, violations in found.items() if violations}
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)


def test_arabic_mirrors_the_layout(browser, filled, artifacts):
    server = filled
    context = new_context(browser, server, "ar")
    page = context.new_page()
    try:
        page.goto(f"{server.url}/j/{server.demo_code}")
        expect(page.locator("#cards")).to_have_attribute("aria-busy", "false")
        html = page.locator("html")
        expect(html).to_have_attribute("dir", "rtl")
        expect(html).to_have_attribute("lang", "ar")
        width = page.viewport_size["width"]
        brand = page.locator(".site-header .brand").bounding_box()
        assert brand["x"] > width / 2, "the brand starts the header: on the right in Arabic"
        card = page.locator(".card", has=page.locator(".swatch")).first
        box, swatch = card.bounding_box(), card.locator(".swatch").bounding_box()
        assert swatch["x"] > box["x"] + box["width"] / 2, "the area marker sits on the right"
        assert card.evaluate("node => getComputedStyle(node).borderRightWidth") == "8px"
        # Arabic text in an Arabic page, German text in its own direction inside it.
        title = page.locator(".card-title", has_text="Sprachkurse")
        assert title.evaluate("node => getComputedStyle(node).direction") == "ltr"
        page.screenshot(path=artifacts / "attendee-ar-412.png")

        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(f"{server.url}/board/{server.demo_code}")
        expect(page.locator("#columns")).to_have_attribute("aria-busy", "false")
        columns = page.locator("#columns > section")
        first, last = columns.first.bounding_box(), columns.nth(1).bounding_box()
        assert first["x"] > last["x"], "the first area is the rightmost column"
    finally:
        context.close()


def test_the_board_tags_cards_in_other_languages_and_rotates_its_instruction(browser, filled):
    server = filled
    context = new_context(browser, server, "de", width=1920, height=1080)
    board = context.new_page()
    try:
        board.goto(f"{server.url}/board/{server.demo_code}")
        expect(board.locator("#columns")).to_have_attribute("aria-busy", "false")
        arabic = board.locator(".board-card", has_text="دورات")
        expect(arabic.locator(".badge-language")).to_have_text("AR")
        expect(arabic.locator(".card-title")).to_have_attribute("lang", "ar")
        german = board.locator(".board-card", has_text=containing("Sprachkurse"))
        expect(german.locator(".badge-language")).to_have_count(0)
        other = board.locator("#board-instruction-other")
        expect(other).to_be_visible()
        expect(other).to_have_attribute("lang", "ar")
        expect(other).to_have_attribute("dir", "rtl")
        expect(other).to_have_attribute("lang", "uk", timeout=12_000)
        expect(board.locator("#board-instruction")).to_have_text(
            "Scanne den Code und schreib deinen Vorschlag."
        )
    finally:
        context.close()


def tab_to(page: Page, condition: str, limit: int = 80) -> None:
    """Press Tab until `condition` (a function of the focused element) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(node => {condition})(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached: {condition}")


def test_an_attendee_takes_part_with_the_keyboard_alone(browser, server, artifacts):
    context = new_context(browser, server, "de")
    page = context.new_page()
    try:
        page.goto(f"{server.url}/")
        tab_to(page, "node.id === 'code'")
        page.keyboard.type(server.demo_code.lower())
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/j/{server.demo_code}")
        expect(page.locator("#cards")).to_have_attribute("aria-busy", "false")

        tab_to(page, "node.id === 'new-title'")
        page.keyboard.type("Patenschaften für neue Familien")
        tab_to(page, "node.name === 'area_id'")
        page.keyboard.press("Space")
        tab_to(page, "node.id === 'submit-button'")
        page.keyboard.press("Enter")
        card = page.locator(".card", has_text="Patenschaften für neue Familien")
        expect(card).to_have_count(1)
        expect(page.locator("#submit-done")).to_have_text(
            "Danke! Dein Vorschlag wurde hinzugefügt."
        )

        staff_call(server, "PATCH", json_body={"phase": "vote"})
        plus = card.locator('[data-focus="plus"]')
        expect(plus).to_be_visible()
        tab_to(
            page,
            "node.dataset.focus === 'plus'"
            " && node.closest('.card').textContent.includes('Patenschaften')",
        )
        page.keyboard.press("Enter")
        expect(card.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
        expect(plus).to_be_focused()
        page.keyboard.press("Space")
        expect(card.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "2")
        expect(page.locator("#dots-left")).to_have_attribute("data-dots-left", "3")
        page.screenshot(path=artifacts / "attendee-keyboard.png")
    finally:
        context.close()


def test_the_language_menu_works_without_a_mouse(browser, server):
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    try:
        page.goto(f"{server.url}/login")
        tab_to(page, "node.tagName === 'SUMMARY'")
        page.keyboard.press("Enter")
        tab_to(page, "node.textContent.trim() === 'Українська'")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server.url}/login")
        expect(page.locator("html")).to_have_attribute("lang", "uk")
        cookies = {cookie["name"]: cookie for cookie in context.cookies()}
        assert cookies["workshop_lang"]["value"] == "uk"
        assert cookies["workshop_lang"]["httpOnly"]
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_the_board_footer_and_button_keep_off_the_cards_and_pass_when_shown(
    browser, filled, axe_source, artifacts, width, height
):
    server = filled
    context = new_context(browser, server, "de", width=width, height=height)
    board = context.new_page()
    try:
        board.goto(f"{server.url}/board/{server.demo_code}")
        expect(board.locator("#columns")).to_have_attribute("aria-busy", "false")
        footer, button = board.locator(".site-footer"), board.locator("#fullscreen-button")
        # Shown (as after a mouse move): fully opaque, and axe finds no contrast problem.
        board.mouse.move(width / 2, height / 2)
        expect(button).to_be_visible()
        assert button.evaluate("node => getComputedStyle(node).opacity") == "1"
        assert axe_violations(board, axe_source) == []
        board.screenshot(path=artifacts / f"issue17-board-chrome-shown-{width}x{height}.png")
        # Idle for a few seconds: both go, and no card lies under anything.
        expect(footer).to_be_hidden(timeout=10_000)
        expect(button).to_be_hidden()
        board.screenshot(path=artifacts / f"issue17-board-chrome-idle-{width}x{height}.png")
        # Back with the mouse, and with the keyboard: Tab reaches the footer's links.
        board.mouse.move(10, 10)
        expect(footer).to_be_visible()
        expect(footer).to_be_hidden(timeout=10_000)
        board.keyboard.press("Tab")
        board.keyboard.press("Tab")
        expect(footer).to_be_visible()
    finally:
        context.close()
