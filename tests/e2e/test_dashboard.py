"""The staff dashboard's new-event form in a real browser (issue 17): a new event starts in
preparation, where attendees see nothing, unless the moderator ticks "open now"."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from .test_accessibility import axe_source, axe_violations, log_in  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def create_event(page: Page, server, title: str, open_now: bool) -> str:
    """Fill in the dashboard's form and send it; the new event's code."""
    page.goto(f"{server.url}/moderate/")
    page.get_by_label("Titel", exact=True).fill(title)
    page.select_option("#template", "empty")
    if open_now:
        page.get_by_role("checkbox", name="Jetzt öffnen").check()
    page.get_by_role("button", name="Veranstaltung erstellen").click()
    page.wait_for_url(re.compile(r"/moderate/[A-Z0-9]{6}$"))
    return page.url.rsplit("/", 1)[-1]


def phase(server, code: str) -> str:
    response = requests.get(
        f"{server.url}/api/v1/events/{code}",
        headers={"Authorization": f"Bearer {server.staff_token()}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["phase"]


def test_new_events_start_in_preparation_unless_opened_now(
    browser,
    server,
    axe_source,  # noqa: F811 (the fixture imported above)
    artifacts,
):
    context = browser.new_context(locale="de-DE", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        log_in(page, server)
        page.goto(f"{server.url}/moderate/")
        box = page.get_by_role("checkbox", name="Jetzt öffnen")
        expect(box).not_to_be_checked()
        # The sentence that says what a draft is belongs to the checkbox.
        hint = page.locator("#open-now-hint")
        expect(hint).to_contain_text("Entwurf")
        expect(box).to_have_attribute("aria-describedby", "open-now-hint")
        assert axe_violations(page, axe_source) == []
        box.scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "issue17-dashboard-new-event.png", full_page=True)

        draft = create_event(page, server, "Plenum in Vorbereitung", open_now=False)
        assert phase(server, draft) == "draft"
        # And the page it lands on says so.
        expect(page.get_by_text("als Entwurf angelegt")).to_be_visible()
        # Attendees see nothing of it yet.
        attendee = requests.get(f"{server.url}/api/v1/events/{draft}", timeout=10)
        assert attendee.status_code == 404

        opened = create_event(page, server, "Plenum sofort offen", open_now=True)
        assert phase(server, opened) == "collect"
        assert requests.get(f"{server.url}/api/v1/events/{opened}", timeout=10).status_code == 200
    finally:
        context.close()
