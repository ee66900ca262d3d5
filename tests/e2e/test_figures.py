"""The participation figures against the real server (issue 17): only people who filed a card
or gave a dot count, never a phone that merely opened the page; the console shows unspent dots."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from .conftest import add_card
from .test_console import board_card, open_board, open_console

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


class Phone:
    """An attendee's phone over the API: joins at once, files and votes when asked."""

    def __init__(self, server):
        self.url = f"{server.url}/api/v1/events/{server.demo_code}"
        response = requests.post(f"{self.url}/participants", timeout=10)
        assert response.status_code == 201, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def file(self, title: str) -> dict:
        body = {"client_id": str(uuid.uuid4()), "title": title}
        response = requests.post(
            f"{self.url}/suggestions", json=body, headers=self.headers, timeout=10
        )
        assert response.status_code == 201, response.text
        return response.json()

    def vote(self, card_id: int, dots: int) -> None:
        path = f"{self.url}/suggestions/{card_id}/dots"
        response = requests.put(path, json={"dots": dots}, headers=self.headers, timeout=10)
        assert response.status_code == 200, response.text


@contextmanager
def attendee_page(browser: Browser, server, results: bool = False) -> Iterator[Page]:
    """A phone's browser that opens the attendee page and stays on it, doing nothing else (in
    `results`, the link's results page: issue 18)."""
    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{server.url}/j/{server.demo_code}")
    if results:
        expect(page.locator("#top-ten")).to_be_visible()
    else:
        expect(page.locator("#cards")).to_have_attribute("aria-busy", "false")
        expect(page.locator("#connection")).to_be_hidden()
    try:
        yield page
    finally:
        context.close()


def test_the_board_figure_rises_with_a_card_not_with_an_open_page(
    server, browser, staff, artifacts
):
    with open_board(browser, server) as board:
        participants = board.locator("#figure-participants")
        suggestions = board.locator("#figure-suggestions")
        expect(participants).to_have_text("0")
        with attendee_page(browser, server):
            # A staff card makes the server send the figures: they must still say 0 people.
            add_card(staff, "Eine Karte vom Team")
            expect(suggestions).to_have_text("1", timeout=10_000)
            expect(participants).to_have_text("0")
        Phone(server).file("Mehr Sprachcafés")
        expect(suggestions).to_have_text("2", timeout=10_000)
        expect(participants).to_have_text("1")

        staff("PATCH", "", json={"phase": "results"}, status=200)
        with attendee_page(browser, server, True), attendee_page(browser, server, True):
            team_card = next(
                card
                for card in staff("GET", "/suggestions", status=200).json()["suggestions"]
                if card["title"] == "Eine Karte vom Team"
            )
            # Hiding a card sends the figures again, read after both phones opened the page.
            path = f"/suggestions/{team_card['id']}"
            staff("PATCH", path, json={"status": "hidden"}, status=200)
            expect(suggestions).to_have_text("1", timeout=10_000)
            expect(participants).to_have_text("1")
            expect(board_card(board, "Eine Karte vom Team")).to_have_count(0)
            expect(board.locator(".ghost")).to_have_count(0)  # its leaving animation is over
            board.screenshot(path=artifacts / "issue17-figures-board-results.png")
    assert staff("GET", status=200).json()["counts"]["participants"] == 1


def test_the_console_shows_who_has_not_voted_and_the_dots_not_spent(
    server, browser, staff, artifacts
):
    budget = staff("GET", status=200).json()["settings"]["vote_budget"]
    filer, voter = Phone(server), Phone(server)
    Phone(server)  # only opened the page: no participant
    card = filer.file("Kostenlose Deutschkurse am Abend")
    staff("PATCH", "", json={"phase": "vote"}, status=200)
    with open_console(browser, server, width=1366, height=768) as page:
        panel = page.locator("section[aria-labelledby=figures-heading]")
        expect(page.locator("#figure-participants")).to_have_text("1")
        expect(page.locator("#figure-not-voted")).to_have_text("1")
        expect(page.locator("#figure-dots-unspent")).to_have_text(str(budget))
        voter.vote(card["id"], 2)
        # The first dot makes the voter a participant; the console hears it live.
        expect(page.locator("#figure-participants")).to_have_text("2", timeout=10_000)
        expect(page.locator("#figure-not-voted")).to_have_text("1")
        expect(page.locator("#figure-dots")).to_have_text("2")
        expect(page.locator("#figure-dots-unspent")).to_have_text(str(2 * budget - 2))
        panel.scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "issue17-figures-console.png")
        panel.screenshot(path=artifacts / "issue17-figures-console-panel.png")
