"""The attendee page in plain German (Einfache Sprache, `de@simple`) on a small phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import add_card

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_attendee_page_speaks_plain_german_on_a_phone(server, browser, staff, artifacts):
    staff("PATCH", json={"phase": "collect"}, status=200)
    add_card(staff, "Mehr Sprachcafés", body="Zweimal pro Woche, auch abends.")
    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
    context.add_cookies([{"name": "workshop_lang", "value": "de@simple", "url": server.url}])
    page = context.new_page()
    try:
        page.goto(f"{server.url}/j/{server.demo_code}")
        expect(page.locator("#cards")).to_have_attribute("aria-busy", "false")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        # The detail field's label, once "Beschreibung (freiwillig)".
        expect(page.locator("label[for=new-body]")).to_have_text("Mehr dazu – wenn du willst")
        expect(page.locator("#submit-button")).to_have_text("Vorschlag abschicken")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=artifacts / "plain-german-attendee-390.png", full_page=True)

        staff("PATCH", json={"phase": "vote"}, status=200)
        expect(page.locator("#phase-instruction")).to_have_text(
            "Welche Vorschläge sind dir wichtig? Gib ihnen deine Punkte."
        )
        expect(page.locator("#submit-section")).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=artifacts / "plain-german-vote-390.png", full_page=True)
    finally:
        context.close()
