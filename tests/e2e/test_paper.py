"""The paper lane on a tablet, in headless Chromium: an admin makes a helper account; the helper
enters three paper cards with number keys and Enter only, sees them marked in the console and the
export, and records dots for a person with a seat code; German and Arabic, axe-clean."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.test_photos import jpeg_with_gps

from .conftest import ADMIN_PASSWORD
from .test_accessibility import axe_source, axe_violations  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

HELPER_PASSWORD = "helfen-123"


@contextmanager
def logged_in(
    browser: Browser, server, username: str, password: str, locale: str, viewport: dict
) -> Iterator[Page]:
    context = browser.new_context(locale=locale, viewport=viewport)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()
    try:
        yield page
    finally:
        context.close()


def make_helper(browser: Browser, server, username: str) -> None:
    """The admin creates a helper account on the accounts page."""
    tablet = {"width": 1024, "height": 768}
    with logged_in(browser, server, "admin", ADMIN_PASSWORD, "de-DE", tablet) as admin:
        admin.goto(f"{server.url}/admin/users")
        admin.fill("#username", username)
        admin.fill("#password", HELPER_PASSWORD)
        admin.select_option("#role", "helper")
        admin.locator("form[action$='/admin/users'] button[type=submit]").click()
        expect(admin.locator("body")).to_contain_text(username)


def enter_card(page: Page, key: str, title: str, count: int) -> None:
    """Leave the text field, choose the area by its number key, type the title, press Enter."""
    page.keyboard.press("Escape")
    page.keyboard.press(key)
    expect(page.locator("#paper-title")).to_be_focused()
    page.keyboard.type(title)
    page.keyboard.press("Enter")
    expect(page.locator("#entered li")).to_have_count(count)
    expect(page.locator("#paper-title")).to_have_value("")
    expect(page.locator("#paper-title")).to_be_focused()


def test_paper_lane_on_a_tablet_in_german(browser, server, staff, areas, artifacts, axe_source):  # noqa: F811
    make_helper(browser, server, "helferin")
    tablet = {"width": 1024, "height": 768}
    with logged_in(browser, server, "helferin", HELPER_PASSWORD, "de-DE", tablet) as page:
        # After login a helper lands on the open events, which lead to the paper lane.
        expect(page).to_have_url(re.compile(r"/helper/$"))
        page.locator(f"a[href='/helper/{server.demo_code}']").click()
        expect(page.locator("h1")).to_contain_text("Papier-Eingabe")
        assert axe_violations(page, axe_source) == []
        enter_card(page, "2", "Mehr Deutschkurse am Abend", 1)
        enter_card(page, "1", "Kinderbetreuung während der Kurse", 2)
        enter_card(page, "0", "Beratung in mehreren Sprachen", 3)
        # Newest first, each with its area and the mark.
        items = page.locator("#entered li")
        expect(items.first).to_contain_text("Beratung in mehreren Sprachen")
        expect(items.nth(2)).to_contain_text(areas[1]["name"])
        expect(items.nth(1)).to_contain_text(areas[0]["name"])
        expect(page.locator("#entered .paper-mark")).to_have_count(3)
        page.screenshot(path=artifacts / "issue18-paper-entry-de.png", full_page=True)
        # A photo of the card goes with it, sent once the card is saved.
        page.locator("#paper-photo").set_input_files(
            {"name": "karte.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}
        )
        page.locator("#paper-title").focus()
        enter_card(page, "1", "Sprachcafé in der Bibliothek", 4)
        expect(page.locator("#entered-status")).to_have_text("Foto gespeichert.")
        expect(page.locator("#paper-photo")).to_have_value("")
        # The stored cards are marked, and belong to the chosen areas.
        cards = staff("GET", "/suggestions", status=200).json()["suggestions"]
        paper = {card["title"]: card for card in cards if card["from_paper"]}
        assert paper["Mehr Deutschkurse am Abend"]["area_id"] == areas[1]["id"]
        assert paper["Kinderbetreuung während der Kurse"]["area_id"] == areas[0]["id"]
        assert paper["Beratung in mehreren Sprachen"]["area_id"] is None
        assert paper["Sprachcafé in der Bibliothek"]["photo"]["width"] == 200
        assert paper["Mehr Deutschkurse am Abend"]["photo"] is None
        # A helper has no console.
        response = page.goto(f"{server.url}/moderate/{server.demo_code}")
        assert response.status == 403

        # The export marks them too.
        exported = requests.get(
            f"{server.url}/api/v1/events/{server.demo_code}/export?format=json",
            headers={"Authorization": f"Bearer {server.staff_token()}"},
            timeout=30,
        ).json()
        marked = {card["title"] for card in exported["suggestions"] if card["from_paper"]}
        assert marked == set(paper)

        # Dots at the desk: a seat code, in the voting phase.
        seat = staff("POST", "/seats", json={"count": 1}, status=201).json()["seats"][0]["code"]
        staff("PATCH", "", json={"phase": "vote"}, status=200)
        page.goto(f"{server.url}/helper/{server.demo_code}")
        page.locator("#mode-dots").click()
        expect(page.locator("#seat-code")).to_be_focused()
        page.keyboard.type("FALSCH-CODE")
        page.keyboard.press("Enter")
        expect(page.locator("#seat-error")).to_contain_text("ungültig")
        page.fill("#seat-code", seat.lower())
        page.keyboard.press("Enter")
        expect(page.locator("#seat-left")).to_contain_text("5 von 5")
        card = page.locator(".seat-card", has_text="Mehr Deutschkurse am Abend")
        card.get_by_role("button", name=re.compile("Ein Punkt mehr")).click()
        expect(card.locator("output")).to_have_text("1 Punkt")
        card.get_by_role("button", name=re.compile("Ein Punkt mehr")).click()
        expect(card.locator("output")).to_have_text("2 Punkte")
        expect(page.locator("#seat-left")).to_contain_text("3 von 5")
        assert axe_violations(page, axe_source) == []
        page.screenshot(path=artifacts / "issue18-paper-dots-de.png", full_page=True)
    audit = staff("GET", "/audit", status=200).json()["entries"]
    on_behalf = [entry for entry in audit if entry["action"] == "dots_on_behalf"]
    assert [entry["user"] for entry in on_behalf] == ["helferin", "helferin"]

    # The console marks the paper cards.
    with logged_in(browser, server, "admin", ADMIN_PASSWORD, "de-DE", tablet) as admin:
        admin.goto(f"{server.url}/moderate/{server.demo_code}")
        expect(admin.locator(".badge-paper")).to_have_count(4)
        expect(admin.locator(".badge-paper").first).to_have_text("auf Papier")
        admin.screenshot(path=artifacts / "issue18-paper-console-de.png")


def test_paper_lane_on_a_tablet_in_arabic(browser, server, staff, areas, artifacts, axe_source):  # noqa: F811
    make_helper(browser, server, "musaeid")
    portrait = {"width": 820, "height": 1180}
    with logged_in(browser, server, "musaeid", HELPER_PASSWORD, "ar", portrait) as page:
        page.goto(f"{server.url}/helper/{server.demo_code}")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        enter_card(page, "3", "دروس لغة للأمهات", 1)
        enter_card(page, "1", "مواعيد أطول للاستشارة", 2)
        enter_card(page, "0", "معلومات بلغات عدة", 3)
        expect(page.locator("#entered .paper-mark").first).to_have_text("من الورق")
        # Undo a mistake: the newest card is withdrawn.
        page.locator("#entered li").first.get_by_role("button").click()
        expect(page.locator("#entered li.withdrawn")).to_have_count(1)
        assert axe_violations(page, axe_source) == []
        page.screenshot(path=artifacts / "issue18-paper-entry-ar.png", full_page=True)
        cards = staff("GET", "/suggestions", status=200).json()["suggestions"]
        statuses = {card["title"]: card["status"] for card in cards if card["from_paper"]}
        assert statuses == {
            "دروس لغة للأمهات": "visible",
            "مواعيد أطول للاستشارة": "visible",
            "معلومات بلغات عدة": "withdrawn",
        }
        seat = staff("POST", "/seats", json={"count": 1}, status=201).json()["seats"][0]["code"]
        staff("PATCH", "", json={"phase": "vote"}, status=200)
        page.goto(f"{server.url}/helper/{server.demo_code}")
        page.locator("#mode-dots").click()
        page.fill("#seat-code", seat)
        page.keyboard.press("Enter")
        card = page.locator(".seat-card", has_text="دروس لغة للأمهات")
        card.locator(".dot-button").last.click()
        expect(page.locator("#seat-left")).to_contain_text("4")
        page.screenshot(path=artifacts / "issue18-paper-dots-ar.png", full_page=True)
