"""Follow-up events in a real browser (issue 18): tick cards of an event, name the working
group's event, follow the link to its console, where each card says where it came from."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import add_card
from .test_accessibility import axe_source, axe_violations, log_in  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_follow_up_event_from_ticked_cards(
    browser,
    server,
    staff,
    areas,
    axe_source,  # noqa: F811 (the fixture imported above)
    artifacts,
):
    chosen = [
        add_card(staff, "Sprachkurse mit Kinderbetreuung", area_id=areas[0]["id"], body="Abends"),
        add_card(staff, "دورات لغة للأمهات", area_id=areas[0]["id"], language="ar"),
    ]
    add_card(staff, "Mehr Beratung in den Stadtteilen", area_id=areas[1]["id"])
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        log_in(page, server)
        page.goto(f"{server.url}/moderate/{server.demo_code}")
        page.locator(".console-more summary").click()
        page.get_by_role("link", name="Folgeveranstaltung").click()
        page.wait_for_url(re.compile(r"/follow-up$"))
        for card in chosen:
            page.get_by_role("checkbox", name=card["title"]).check()
        page.get_by_label("Titel der Folgeveranstaltung").fill("AG Sprachförderung")
        page.get_by_role("button", name="Folgeveranstaltung erstellen").click()
        made = page.locator("#follow-up-made")
        expect(made).to_contain_text("„AG Sprachförderung“")
        # Each chosen card now says where it went on to, on this page too.
        expect(page.get_by_text(re.compile(r"Weitergeführt in [A-Z0-9]{6} #\d+"))).to_have_count(2)
        assert axe_violations(page, axe_source) == []
        page.screenshot(path=artifacts / "issue18-follow-up.png", full_page=True)

        made.get_by_role("link", name="Ihre Live-Moderation öffnen").click()
        page.wait_for_url(re.compile(r"/moderate/[A-Z0-9]{6}$"))
        assert not page.url.endswith(server.demo_code)
        for card in chosen:
            badge = page.locator(".mcard", has_text=card["title"]).locator(".badge-trail")
            expect(badge).to_have_text(f"Aus {server.demo_code} #{card['id']}")
        expect(page.locator(".mcard")).to_have_count(2)
        page.screenshot(path=artifacts / "issue18-follow-up-console.png", full_page=True)
    finally:
        context.close()


def test_both_reports_show_the_trail(browser, server, staff, areas, artifacts):
    """The source's report says where a card went on to; the follow-up's says on its first page
    which event it continues and, at the card, where it came from (issue 18)."""
    card = add_card(staff, "Sprachkurse mit Kinderbetreuung", area_id=areas[0]["id"])
    body = {"title": "AG Sprachförderung", "suggestions": [card["id"]]}
    new = staff("POST", "/follow-up", json=body, status=201).json()
    source = staff("GET", status=200).json()
    context = browser.new_context(locale="de-DE", viewport={"width": 1000, "height": 900})
    page = context.new_page()
    try:
        log_in(page, server)
        page.goto(f"{server.url}/events/{new['code']}/report")
        came = f"Aus der Veranstaltung {source['title']} ({server.demo_code}), Karte #{card['id']}"
        expect(page.locator(".unranked .trail")).to_have_text(came)
        expect(page.locator(".title-page .continues")).to_have_text(
            f"Diese Veranstaltung setzt {source['title']} ({server.demo_code}) fort."
        )
        page.screenshot(path=artifacts / "issue18-report-trail-follow-up.png", full_page=True)
        page.goto(f"{server.url}/events/{server.demo_code}/report")
        went = page.locator(".trail", has_text="Weitergeführt in")
        expect(went).to_have_text(f"Weitergeführt in AG Sprachförderung ({new['code']})")
        went.scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "issue18-report-trail-source.png")
    finally:
        context.close()
