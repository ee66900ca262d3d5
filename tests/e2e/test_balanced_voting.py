"""Balanced voting on a 390×844 phone (issue 18): the area cap is shown as a rule, and at the cap
every "+" of that area is inactive and says why, while other areas stay open."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import add_card
from .test_accessibility import axe_source, axe_violations, settings_page
from .test_phone import phone

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

__all__ = ["axe_source"]  # the fixture, shared with test_accessibility


def test_the_area_cap_shows_and_stops_the_plus(
    server, browser, staff, areas, artifacts, axe_source
):
    staff("PATCH", json={"settings": {"max_dots_per_area": 2}}, status=200)
    first, second = areas[0]["id"], areas[1]["id"]
    cards = [add_card(staff, f"Sprachcafé {n}", area_id=first) for n in range(3)]
    elsewhere = add_card(staff, "Treffpunkt im Stadtteil", area_id=second)
    staff("PATCH", json={"phase": "vote"}, status=200)
    with phone(browser, server, "de") as page:
        for summary in page.locator("#cards > .area-group summary").all()[:2]:
            if summary.locator("xpath=..").get_attribute("open") is None:
                summary.click()
        card = [page.locator(f"#card-{c['id']}") for c in cards]
        other = page.locator(f"#card-{elsewhere['id']}")
        expect(card[0].locator(".area-cap")).to_have_text("höchstens 2 pro Bereich")
        card[0].locator('[data-focus="plus"]').click()
        expect(card[0].locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
        card[1].locator('[data-focus="plus"]').click()
        expect(card[1].locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")

        # The area is full: every "+" in it is inactive and says why; another area is open.
        for item in card:
            expect(item.locator('[data-focus="plus"]')).to_have_attribute("aria-disabled", "true")
            expect(item.locator(".cap-reached")).to_have_text(
                "Dieser Bereich hat so viele deiner Punkte, wie er nehmen kann."
            )
        expect(other.locator('[data-focus="plus"]')).not_to_have_attribute("aria-disabled", "true")
        card[2].locator('[data-focus="plus"]').click(force=True)  # does nothing, asks nobody
        expect(card[2].locator("[data-my-dots]")).to_have_attribute("data-my-dots", "0")
        expect(page.locator("#dots-left")).to_have_attribute("data-dots-left", "3")
        card[2].scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "issue18-area-cap-phone.png")
        assert axe_violations(page, axe_source) == []

        # Taking a dot back frees the area again.
        card[1].locator('[data-focus="minus"]').click()
        expect(card[2].locator('[data-focus="plus"]')).not_to_have_attribute(
            "aria-disabled", "true"
        )
        card[2].locator('[data-focus="plus"]').click()
        expect(card[2].locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
        other.locator('[data-focus="plus"]').click()
        expect(other.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")


def test_the_moderator_sets_the_area_cap_on_the_settings_page(
    server, browser, staff, artifacts, axe_source
):
    with settings_page(browser, server) as page:
        field = page.get_by_label("Punkte, die eine Person auf die Vorschläge eines Bereichs")
        expect(field).to_have_value("")
        field.fill("3")
        page.locator("#rules-heading ~ form button[type=submit]").click()
        expect(page.locator("#max_dots_per_area")).to_have_value("3")
        assert staff("GET", status=200).json()["settings"]["max_dots_per_area"] == 3
        page.locator("#max_dots_per_area").scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "issue18-area-cap-settings.png")
        assert axe_violations(page, axe_source) == []
