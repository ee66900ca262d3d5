"""The console's joins by network in headless Chromium: counts, the rate warning, and requiring
seat codes in one step (domain/joins.py, static/js/console-joins.js)."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from .test_console import open_console

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def server(start_server):
    """A server that warns from the fourth join of one network within two minutes."""
    return start_server(extra_env={"WORKSHOP_JOIN_WARNING": "3"})


def join(server) -> requests.Response:
    return requests.post(f"{server.url}/api/v1/events/{server.demo_code}/participants", timeout=10)


def test_a_burst_from_one_network_is_shown_and_seat_codes_are_one_step_away(
    server, browser, staff, artifacts
):
    for _ in range(5):
        assert join(server).status_code == 201
    label = staff("GET", "/joins", status=200).json()["warning"]["label"]
    with open_console(browser, server) as page:
        panel = page.locator(".joins-panel")
        expect(panel.locator("#joins-list")).to_contain_text(f"Netz {label}: 5, 5 in den letzten")
        warning = page.locator("#joins-warning")
        expect(warning).to_have_attribute("aria-live", "polite")
        expect(warning).to_contain_text("Viele Beitritte aus einem Netz")
        expect(warning).to_contain_text("WLAN")  # a hall behind one network looks the same
        panel.scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "console-joins-warning.png")

        page.locator("#require-seats").click()
        dialog = page.locator("#seats-dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("behalten ihren Platz")
        expect(page.locator("#seats-dialog-stock")).to_contain_text("noch keine unbenutzten")
        page.locator("#seats-confirm").click()
        expect(page.locator("#console-status")).to_have_text(
            "Neue Handys brauchen jetzt einen Teilnahmecode."
        )
        expect(page.locator("#joins-seats")).to_contain_text("0 von 0")
        expect(page.locator("#require-seats")).to_be_hidden()
    assert staff("GET", "/joins", status=200).json()["seat_codes_required"] is True
    assert join(server).status_code == 403
    entries = staff("GET", "/audit", status=200).json()["entries"]
    assert entries[0]["details"]["new"] == {"seat_codes_required": True}
