"""The attendee phone at 390×844 in German and Arabic (issue 17): area choices, the view after a
send, voting in groups with a search and "my dots", the countdown, and the language menu."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

from .conftest import add_card
from .test_accessibility import axe_source, axe_violations

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

__all__ = ["axe_source"]  # the fixture, shared with test_accessibility

PHONE = {"width": 390, "height": 844}
LANGUAGES = ["de", "ar"]


@contextmanager
def phone(browser, server, language: str) -> Iterator[Page]:
    """A 390×844 phone on the demo event's attendee page in `language`."""
    locale = {"de": "de-DE", "ar": "ar"}[language]
    context = browser.new_context(locale=locale, viewport=PHONE)
    context.add_cookies([{"name": "workshop_lang", "value": language, "url": server.url}])
    page = context.new_page()
    try:
        page.goto(f"{server.url}/j/{server.demo_code}")
        expect(page.locator("#cards")).to_have_attribute("aria-busy", "false")
        yield page
    finally:
        context.close()


IN_VIEW = (
    "node => { const box = node.getBoundingClientRect();"
    " return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0; }"
)


def in_view(page: Page, selector: str) -> bool:
    """Whether the element's box lies fully inside the viewport."""
    return page.locator(selector).evaluate(IN_VIEW)


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("language", LANGUAGES)
def test_area_is_chosen_afresh_for_every_card(
    server, browser, staff, areas, artifacts, axe_source, language
):
    with phone(browser, server, language) as page:
        choices = page.locator('#new-area input[name="area_id"]')
        expect(choices).to_have_count(len(areas) + 1)  # every area and "I don't know"
        expect(page.locator('#new-area input[name="area_id"]:checked')).to_have_count(0)

        page.fill("#new-title", "Erster Vorschlag")
        page.locator(f'#new-area input[value="{areas[1]["id"]}"]').check()
        page.click("#submit-button")
        expect(page.locator("#submit-done")).not_to_be_empty()
        expect(page.locator('#new-area input[name="area_id"]:checked')).to_have_count(0)

        # The next card without touching the area: the page asks, nothing is sent.
        page.fill("#new-title", "Zweiter Vorschlag")
        page.click("#submit-button")
        expect(page.locator("#new-area-error")).to_be_visible()
        expect(choices.first).to_be_focused()
        page.screenshot(path=artifacts / f"issue17-phone-area-asks-{language}.png")
        assert axe_violations(page, axe_source) == []
        titles = [card["title"] for card in staff("GET", "/suggestions").json()["suggestions"]]
        assert "Zweiter Vorschlag" not in titles

        page.locator('#new-area input[value="none"]').check()
        page.click("#submit-button")
        expect(page.locator("#new-area-error")).to_be_hidden()
        stored = {
            card["title"]: card for card in staff("GET", "/suggestions").json()["suggestions"]
        }
        assert stored["Erster Vorschlag"]["area_id"] == areas[1]["id"]
        assert stored["Zweiter Vorschlag"]["area_id"] is None
        assert no_horizontal_scroll(page)
        page.locator("#submit-section").screenshot(
            path=artifacts / f"issue17-phone-area-choices-{language}.png"
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_after_a_send_confirmation_and_card_are_in_view(
    server, browser, staff, areas, artifacts, language
):
    for number in range(8):
        add_card(staff, f"Karte von anderen {number}", area_id=areas[number % 3]["id"])
    with phone(browser, server, language) as page:
        expect(page.locator("#cards > .card")).to_have_count(8)
        page.fill("#new-title", "Mein neuer Vorschlag")
        page.locator(f'#new-area input[value="{areas[0]["id"]}"]').check()
        page.locator("#new-title").focus()
        page.click("#submit-button")

        mine = page.locator("#cards > .card.mine")
        expect(mine).to_have_count(1)
        expect(page.locator("#submit-done")).to_be_focused()  # not the title: no keyboard
        expect(page.locator("#submit-done")).to_have_attribute("role", "status")
        # The new card heads the list, right below the confirmation.
        expect(page.locator("#cards > .card").first).to_have_class(re.compile(r"\bmine\b"))
        page.wait_for_function(f"() => ({IN_VIEW})(document.querySelector('#cards > .card.mine'))")
        assert in_view(page, "#submit-done")
        page.screenshot(path=artifacts / f"issue17-phone-after-send-{language}.png")


def file_room(staff, areas, count: int = 60) -> list[dict]:
    """`count` cards in the first four areas and without one; every fifth is about "Sprach"."""
    cards = []
    for number in range(count):
        area = None if number % 5 == 4 else areas[number % 5]["id"]
        topic = "Sprachcafé" if number % 5 == 0 else "Treffpunkt"
        cards.append(add_card(staff, f"{topic} Nummer {number}", area_id=area))
    return cards


@pytest.mark.parametrize("language", LANGUAGES)
def test_voting_in_groups_with_search_and_my_dots(
    server, browser, staff, areas, artifacts, axe_source, language
):
    cards = file_room(staff, areas)
    staff("PATCH", json={"phase": "vote"}, status=200)
    with phone(browser, server, language) as page:
        groups = page.locator("#cards > .area-group")
        expect(groups).to_have_count(5)  # four areas and "no area"
        # 60 cards start in closed groups, each saying how many it holds.
        expect(page.locator("#cards details[open]")).to_have_count(0)
        first = groups.first
        expect(first.locator(".group-count")).to_contain_text("12")
        assert page.evaluate("document.documentElement.scrollHeight") < 3 * PHONE["height"]
        page.screenshot(path=artifacts / f"issue17-phone-vote-groups-{language}.png")

        # A group opens with one tap; one tap per dot stays.
        first.locator("summary").click()
        card = page.locator(f"#card-{cards[0]['id']}")
        card.locator('[data-focus="plus"]').click()
        expect(card.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
        card.locator('[data-focus="plus"]').click()
        expect(card.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "2")
        other = page.locator(f"#card-{cards[5]['id']}")
        other.locator('[data-focus="plus"]').click()
        expect(page.locator("#dots-left")).to_have_attribute("data-dots-left", "2")

        # "My dots" lists both; its "−" takes one dot back per tap.
        summary = page.locator("#my-dots-list > li")
        expect(summary).to_have_count(2)
        row = page.locator(
            "#my-dots-list > li", has=page.locator(f"#my-dot-title-{cards[0]['id']}")
        )
        expect(row.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "2")
        page.locator("#my-dots").evaluate("node => node.scrollIntoView({block: 'center'})")
        page.screenshot(path=artifacts / f"issue17-phone-my-dots-{language}.png")
        assert axe_violations(page, axe_source) == []
        row.locator('[data-focus="summary-minus"]').click()
        expect(row.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
        expect(row.locator('[data-focus="summary-minus"]')).to_be_focused()
        row.locator('[data-focus="summary-minus"]').click()
        expect(summary).to_have_count(1)
        expect(page.locator("#my-dots-heading")).to_be_focused()
        expect(page.locator("#dots-left")).to_have_attribute("data-dots-left", "4")

        # The search finds cards by their text, in every group, opened.
        page.fill("#card-search", "sprachcafé")
        expect(page.locator("#cards .card")).to_have_count(12)
        expect(page.locator("#cards details:not([open])")).to_have_count(0)
        assert no_horizontal_scroll(page)
        page.screenshot(path=artifacts / f"issue17-phone-vote-search-{language}.png")
        page.fill("#card-search", "gibt es nicht")
        expect(page.locator("#cards .card")).to_have_count(0)
        expect(page.locator("#cards-empty")).to_be_visible()
        page.fill("#card-search", "")
        expect(page.locator("#cards details[open]")).to_have_count(1)  # the one opened by hand

        # The server holds the same: after a reload one dot on one card is left.
        page.reload()
        expect(summary).to_have_count(1)
        expect(summary.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
        expect(page.locator(f"#my-dot-title-{cards[5]['id']}")).to_be_visible()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_countdown_shows_on_the_phone(
    server, browser, staff, areas, artifacts, axe_source, language
):
    file_room(staff, areas, count=10)
    with phone(browser, server, language) as page:
        expect(page.locator("#timer")).to_be_hidden()
        staff("PATCH", json={"display": {"timer_seconds": 300}}, status=200)
        # While collecting too, whenever the moderator sets one.
        expect(page.locator("#timer")).to_be_visible()
        expect(page.locator("#timer-value")).to_have_text(re.compile(r"^[45]:\d\d$"))

        staff("PATCH", json={"phase": "vote"}, status=200)
        expect(page.locator("#dots-left")).to_be_visible()
        expect(page.locator("#timer")).to_be_visible()
        value = page.locator("#timer-value")
        assert value.evaluate("node => parseFloat(getComputedStyle(node).fontSize)") >= 24
        # It stays in sight while scrolling the cards.
        page.mouse.wheel(0, 2000)
        page.wait_for_function("() => window.scrollY > 0")
        assert in_view(page, "#timer")
        page.screenshot(path=artifacts / f"issue17-phone-countdown-{language}.png")
        assert axe_violations(page, axe_source) == []

        staff("PATCH", json={"display": {"timer_seconds": 1}}, status=200)
        expect(page.locator("#timer-done")).not_to_be_empty(timeout=5000)
        staff("PATCH", json={"display": {"timer_seconds": 0}}, status=200)
        expect(page.locator("#timer")).to_be_hidden()


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_menu_has_a_globe_and_aligned_items(server, browser, artifacts, language):
    with phone(browser, server, language) as page:
        menu = page.locator("header .language-menu")
        summary = menu.locator("summary")
        expect(summary.locator("svg.globe")).to_be_visible()
        expect(summary.locator("svg.globe")).to_have_attribute("aria-hidden", "true")
        name = {"de": "Sprache: Deutsch", "ar": "اللغة: العربية"}[language]
        assert summary.evaluate("node => node.textContent.replace(/\\s+/g, ' ').trim()") == name
        summary.click()
        names = menu.locator("ul a > span")
        expect(names.first).to_be_visible()
        # Every name starts at the same edge: the right one in Arabic, the left one in German.
        edge = "right" if language == "ar" else "left"
        edges = names.evaluate_all(f"nodes => nodes.map(n => n.getBoundingClientRect().{edge})")
        assert len(edges) > 3 and max(edges) - min(edges) < 1, edges
        assert no_horizontal_scroll(page)
        page.screenshot(path=artifacts / f"issue17-phone-language-menu-{language}.png")
