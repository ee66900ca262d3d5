"""Photos of paper cards in the moderator console: a camera mark on the card, opening the photo."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from .conftest import add_card
from .test_accessibility import axe_source, axe_violations  # noqa: F401 (a fixture)
from .test_console import open_console

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def card_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), "khaki").save(out, "JPEG")
    return out.getvalue()


def test_the_console_marks_a_card_with_a_photo_and_opens_it(
    server,
    browser,
    staff,
    areas,
    artifacts,
    axe_source,  # noqa: F811
):
    card = add_card(staff, "Mehr Bänke im Park (vom Papier)", area_id=areas[0]["id"])
    with open_console(browser, server) as page:
        item = page.locator(f"#mcard-{card['id']}")
        expect(item).to_be_visible()
        expect(item.locator(".badge-photo")).to_have_count(0)
        # Uploaded while the console is open: the mark arrives live.
        response = requests.put(
            f"{server.url}/api/v1/events/{server.demo_code}/suggestions/{card['id']}/photo",
            files={"photo": ("card.jpg", card_photo(), "image/jpeg")},
            headers={"Authorization": f"Bearer {server.staff_token()}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        link = item.locator("a.badge-photo")
        expect(link).to_have_text("Foto der Papierkarte")
        item.scroll_into_view_if_needed()
        item.screenshot(path=artifacts / "issue18-photo-console-card.png")
        page.screenshot(path=artifacts / "issue18-photo-console.png")
        box = link.bounding_box()
        assert box["height"] >= 44
        assert axe_violations(page, axe_source) == []
        with page.context.expect_page() as opened:
            link.click()
        photo = opened.value
        photo.wait_for_load_state()
        size = photo.evaluate("[document.images[0].naturalWidth, document.images[0].naturalHeight]")
        assert size == [800, 600]
        photo.screenshot(path=artifacts / "issue18-photo-opened.png")


def test_a_moderator_adds_and_removes_a_photo_from_the_card_menu(server, browser, staff, areas):
    card = add_card(staff, "Sprachkurse am Abend (vom Papier)", area_id=areas[1]["id"])
    with open_console(browser, server) as page:
        item = page.locator(f"#mcard-{card['id']}")
        item.locator(".menu-button").click()
        with page.expect_file_chooser() as chooser:
            page.locator('#card-menu-actions [data-action="photo"]').click()
        chooser.value.set_files(
            files=[{"name": "karte.jpg", "mimeType": "image/jpeg", "buffer": card_photo()}]
        )
        expect(item.locator("a.badge-photo")).to_be_visible()
        expect(page.locator("#console-status")).to_have_text("Foto gespeichert.")
        item.locator(".menu-button").click()
        page.locator('#card-menu-actions [data-action="remove-photo"]').click()
        expect(item.locator("a.badge-photo")).to_have_count(0)
        # A file that is no photo: the server's message, in the page's language.
        item.locator(".menu-button").click()
        with page.expect_file_chooser() as chooser:
            page.locator('#card-menu-actions [data-action="photo"]').click()
        chooser.value.set_files(
            files=[{"name": "karte.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo"}]
        )
        expect(page.locator("#console-status")).to_have_text(
            "Bitte schick ein Foto als JPEG, PNG oder WebP."
        )
