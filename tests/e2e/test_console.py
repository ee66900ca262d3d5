"""The live moderator console in headless Chromium against a real `python run.py` server."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, expect

from .conftest import ADMIN_PASSWORD, add_card, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def card_of(staff, card_id: int) -> dict:
    cards = staff("GET", "/suggestions", status=200).json()["suggestions"]
    return next(card for card in cards if card["id"] == card_id)


@contextmanager
def open_console(
    browser: Browser, server, width: int = 1280, height: int = 800, language: str = "de"
) -> Iterator[Page]:
    """A browser context logged in as the admin, showing the demo event's console in `language`."""
    locale = {"de": "de-DE", "ar": "ar"}[language]
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    context.add_cookies([{"name": "workshop_lang", "value": language, "url": server.url}])
    page = context.new_page()
    page.goto(f"{server.url}/login?next=/moderate/{server.demo_code}")
    page.fill("#username", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    expect(page.locator("#mcolumns")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#connection")).to_be_hidden()
    try:
        yield page
    finally:
        context.close()


@contextmanager
def open_board(browser: Browser, server) -> Iterator[Page]:
    context = browser.new_context(locale="de-DE", viewport={"width": 1920, "height": 1080})
    board = context.new_page()
    board.goto(f"{server.url}/board/{server.demo_code}")
    expect(board.locator("#columns")).to_have_attribute("aria-busy", "false")
    try:
        yield board
    finally:
        context.close()


def column(page: Page, area_id: int | None) -> Locator:
    return page.locator(f'#mcolumns > [data-area="{area_id or "none"}"]')


def board_card(scope: Page | Locator, title: str) -> Locator:
    """The board's cards within `scope` whose title contains `title`."""
    page = scope if isinstance(scope, Page) else scope.page
    return scope.locator(".card", has=page.locator(".card-title", has_text=title))


def open_menu(page: Page, card_id: int) -> Locator:
    page.locator(f"#mcard-{card_id} .menu-button").click()
    menu = page.locator("#card-menu")
    expect(menu).to_be_visible()
    return menu


def test_drag_to_another_column_moves_the_card(server, browser, staff, areas, artifacts):
    card = add_card(staff, "Sprachcafés am Abend", area_id=areas[0]["id"])
    add_card(staff, "Patenschaften", body="Für neu zugezogene Familien", area_id=areas[1]["id"])
    add_card(staff, "Ohne Bereich eingereicht")
    with open_board(browser, server) as board, open_console(browser, server) as page:
        expect(column(page, areas[0]["id"]).locator(f"#mcard-{card['id']}")).to_be_visible()
        expect(column(page, None).locator(".mcard")).to_have_count(1)
        page.screenshot(path=artifacts / "console-1280x800.png")

        page.locator(f"#mcard-{card['id']}").drag_to(column(page, areas[2]["id"]))
        expect(column(page, areas[2]["id"]).locator(f"#mcard-{card['id']}")).to_be_visible()
        wait_for(lambda: card_of(staff, card["id"])["area_id"] == areas[2]["id"], timeout=5)
        target = board.locator(f'#columns > [data-key="{areas[2]["id"]}"]')
        expect(board_card(target, "Sprachcafés am Abend")).to_be_visible(timeout=2000)

        page.set_viewport_size({"width": 1024, "height": 768})
        expect(page.locator("#mcolumns .mcard")).to_have_count(3)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=artifacts / "console-1024x768.png")


def test_drag_onto_a_card_merges_and_undo_restores(server, browser, staff, areas):
    source = add_card(staff, "Mehr Sprachkurse", area_id=areas[0]["id"])
    target = add_card(staff, "Sprachkurse für Eltern", area_id=areas[1]["id"])
    with open_board(browser, server) as board, open_console(browser, server) as page:
        page.locator(f"#mcard-{source['id']}").drag_to(page.locator(f"#mcard-{target['id']}"))

        merged = page.locator(f"#mcard-{target['id']}")
        expect(page.locator(f"#mcard-{source['id']}")).to_have_count(0)
        expect(merged.locator(".merged-item")).to_contain_text("Mehr Sprachkurse")
        assert card_of(staff, source["id"])["merged_into"] == target["id"]
        expect(board_card(board, "Mehr Sprachkurse")).to_have_count(0, timeout=2000)
        expect(board_card(board, "Sprachkurse für Eltern").locator(".badge-merged")).to_be_visible()
        expect(board.locator("#columns .card")).to_have_count(1)

        toast = page.locator("#toast")
        expect(toast).to_be_visible()
        toast.locator("#toast-undo").click()
        expect(page.locator(f"#mcard-{source['id']}")).to_be_visible()
        expect(merged.locator(".merged-item")).to_have_count(0)
        expect(board.locator("#columns .card")).to_have_count(2, timeout=2000)
        assert card_of(staff, source["id"])["status"] == "visible"


def test_move_by_keyboard_and_through_the_menu(server, browser, staff, areas, artifacts):
    first = add_card(staff, "Erster Vorschlag", area_id=areas[0]["id"])
    second = add_card(staff, "Zweiter Vorschlag", area_id=areas[0]["id"])
    with open_console(browser, server) as page:
        card = page.locator(f"#mcard-{first['id']}")
        card.focus()
        page.keyboard.press("ArrowDown")
        expect(page.locator(f"#mcard-{second['id']}")).to_be_focused()
        page.keyboard.press("ArrowUp")
        expect(card).to_be_focused()

        page.keyboard.press("m")
        expect(page.locator("#announcer")).to_contain_text("Erster Vorschlag")
        page.keyboard.press("ArrowRight")
        expect(column(page, areas[1]["id"])).to_have_class(re.compile(r"\bdrop-target\b"))
        expect(page.locator("#announcer")).to_contain_text(areas[1]["name"])
        page.keyboard.press("Enter")
        expect(column(page, areas[1]["id"]).locator(f"#mcard-{first['id']}")).to_be_visible()
        expect(page.locator(f"#mcard-{first['id']}")).to_be_focused()
        assert card_of(staff, first["id"])["area_id"] == areas[1]["id"]

        # Enter opens the card's menu; "Move to" lists the areas and "No area".
        page.keyboard.press("Enter")
        menu = page.locator("#card-menu")
        expect(menu).to_be_visible()
        menu.screenshot(path=artifacts / "console-card-menu.png")
        menu.locator(f'#card-menu-areas [data-area="{areas[3]["id"]}"]').click()
        expect(menu).to_be_hidden()
        expect(column(page, areas[3]["id"]).locator(f"#mcard-{first['id']}")).to_be_visible()
        assert card_of(staff, first["id"])["area_id"] == areas[3]["id"]

        open_menu(page, first["id"]).locator('#card-menu-areas [data-area="none"]').click()
        expect(column(page, None).locator(f"#mcard-{first['id']}")).to_be_visible()
        assert card_of(staff, first["id"])["area_id"] is None

        # Merge through the menu: search, pick the target.
        menu = open_menu(page, first["id"])
        menu.locator("#card-menu-search").fill("Zweiter")
        expect(menu.locator("#card-menu-targets button")).to_have_count(1)
        menu.locator(f'#card-menu-targets [data-into="{second["id"]}"]').click()
        expect(page.locator(f"#mcard-{second['id']} .merged-item")).to_contain_text("Erster")
        assert card_of(staff, first["id"])["merged_into"] == second["id"]


def test_queue_hide_and_restore(server, browser, staff, areas, artifacts):
    staff("PATCH", json={"settings": {"moderation": "pre"}}, status=200)
    merged = add_card(staff, "Sprachcafés", area_id=areas[0]["id"])
    into = add_card(staff, "Sprachcafés am Wochenende", area_id=areas[0]["id"])
    staff("POST", f"/suggestions/{merged['id']}/merge", json={"into": into["id"]}, status=200)
    events = f"{server.url}/api/v1/events/{server.demo_code}"
    token = requests.post(f"{events}/participants", timeout=10).json()["token"]

    def submit(title: str) -> int:
        response = requests.post(
            f"{events}/suggestions",
            json={"client_id": str(uuid.uuid4()), "title": title},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        return response.json()["id"]

    with open_console(browser, server) as page:
        card_id = submit("Bitte prüfen")
        queued = page.locator(f"#queue-cards #mcard-{card_id}")
        expect(queued).to_be_visible(timeout=2000)
        expect(page.locator("#queue-count")).to_have_text("1")
        expect(page.locator("#figure-participants")).to_have_text("1", timeout=10_000)

        queued.locator('[data-focus="approve"]').click()
        expect(column(page, None).locator(f"#mcard-{card_id}")).to_be_visible()
        expect(page.locator("#queue-count")).to_have_text("0")

        open_menu(page, card_id).locator('[data-action="hide"]').click()
        hidden = column(page, None).locator(f"#mcard-{card_id}")
        expect(hidden).to_have_class(re.compile(r"\bstatus-hidden\b"))
        submit("Noch ein Vorschlag zum Prüfen")
        expect(page.locator("#queue-count")).to_have_text("1")
        expect(page.locator(f"#mcard-{into['id']} .merged-item")).to_contain_text("Sprachcafés")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=artifacts / "console-states-1280x800.png")

        page.locator("#show-hidden").uncheck()
        expect(hidden).to_have_count(0)
        page.locator("#show-hidden").check()
        hidden.locator('[data-focus="restore"]').click()
        expect(hidden).to_have_class(re.compile(r"\bstatus-visible\b"))
        assert card_of(staff, card_id)["status"] == "visible"


def test_phase_change_asks_first(server, browser, staff, artifacts):
    before = staff("GET", status=200).json()["phase"]
    with open_console(browser, server) as page:
        page.locator('[data-phase="vote"]').click()
        dialog = page.locator("#phase-dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Abstimmen")
        expect(page.locator("#phase-dialog-effect")).not_to_be_empty()
        page.screenshot(path=artifacts / "console-phase-dialog.png")
        dialog.locator('button[value="cancel"]').click()
        expect(dialog).to_be_hidden()
        assert staff("GET", status=200).json()["phase"] == before

        page.locator('[data-phase="vote"]').click()
        page.locator("#phase-confirm").click()
        expect(page.locator('[data-phase="vote"]')).to_have_attribute("aria-pressed", "true")
        assert staff("GET", status=200).json()["phase"] == "vote"


def test_spotlight_timer_and_screen(server, browser, staff, areas):
    card = add_card(staff, "Ins Rampenlicht", area_id=areas[0]["id"])
    with open_console(browser, server) as page:
        open_menu(page, card["id"]).locator('[data-action="spotlight"]').click()
        expect(page.locator("#spotlight-line")).to_be_visible()
        expect(page.locator("#spotlight-title")).to_have_text("Ins Rampenlicht")
        assert staff("GET", status=200).json()["display"]["spotlight"] == card["id"]
        page.locator("#stop-spotlight").click()
        expect(page.locator("#spotlight-line")).to_be_hidden()
        assert staff("GET", status=200).json()["display"]["spotlight"] is None

        page.locator('[data-timer="180"]').click()
        expect(page.locator("#timer-display")).to_have_text(re.compile(r"^(3:00|2:5\d)$"))
        assert 170 <= staff("GET", status=200).json()["display"]["timer"]["seconds_left"] <= 180
        page.locator("#timer-stop").click()
        expect(page.locator("#timer-display")).not_to_have_text(re.compile(r"\d:\d\d"))
        assert staff("GET", status=200).json()["display"]["timer"] is None

        join = page.locator('[data-display="screen"][data-value="join"]')
        join.click()
        expect(join).to_have_attribute("aria-pressed", "true")
        assert staff("GET", status=200).json()["display"]["screen"] == "join"
        page.locator('[data-display="theme"][data-value="dark"]').click()
        expect(page.locator('[data-display="theme"][data-value="dark"]')).to_have_attribute(
            "aria-pressed", "true"
        )


def test_two_moderators_see_each_other(server, browser, staff, areas):
    card = add_card(staff, "Gemeinsam sortieren", area_id=areas[0]["id"])
    with open_console(browser, server) as first, open_console(browser, server) as second:
        # Playwright's native drag works in the page opened last: drag there, watch the first.
        # Onto the next column: in the one scrolling row the fifth area starts out of view.
        second.locator(f"#mcard-{card['id']}").drag_to(column(second, areas[1]["id"]))
        expect(column(second, areas[1]["id"]).locator(f"#mcard-{card['id']}")).to_be_visible()
        moved = column(first, areas[1]["id"]).locator(f"#mcard-{card['id']}")
        expect(moved).to_be_visible(timeout=2000)

        open_menu(first, card["id"]).locator('[data-action="hide"]').click()
        expect(second.locator(f"#mcard-{card['id']}")).to_have_class(
            re.compile(r"\bstatus-hidden\b"), timeout=2000
        )


def test_edit_conflict_shows_the_current_text(server, browser, staff, areas, artifacts):
    card = add_card(staff, "Alter Titel", area_id=areas[0]["id"])
    with open_console(browser, server) as page:
        open_menu(page, card["id"]).locator('[data-action="edit"]').click()
        dialog = page.locator("#edit-dialog")
        expect(dialog).to_be_visible()
        expect(page.locator("#edit-title")).to_be_focused()
        # Someone else saves first.
        staff("PATCH", f"/suggestions/{card['id']}", json={"title": "Fremde Änderung"}, status=200)
        page.fill("#edit-title", "Meine Änderung")
        page.locator("#edit-save").click()
        expect(page.locator("#edit-error")).to_contain_text("inzwischen")
        expect(page.locator("#edit-current-title")).to_have_text("Fremde Änderung")
        expect(page.locator("#edit-title")).to_have_value("Meine Änderung")
        dialog.screenshot(path=artifacts / "console-edit-conflict.png")

        page.locator("#edit-save").click()  # now on top of the current version
        expect(dialog).to_be_hidden()
        expect(page.locator(f"#mcard-{card['id']} .card-title")).to_have_text("Meine Änderung")
        assert card_of(staff, card["id"])["title"] == "Meine Änderung"


def test_activity_log_panel(server, browser, staff, areas):
    card = add_card(staff, "Protokolliert", area_id=areas[0]["id"])
    answer = staff("GET", "/audit")
    with open_console(browser, server) as page:
        if answer.status_code == 404:
            expect(page.locator("#audit")).to_be_hidden()
            return
        expect(page.locator("#audit")).to_be_visible()
        before = page.locator("#audit-entries > li").count()
        staff("PATCH", f"/suggestions/{card['id']}", json={"status": "hidden"}, status=200)
        expect(page.locator("#audit-entries > li")).not_to_have_count(before, timeout=2000)
