"""The board's results screen with a full plenum: nine areas and an unsorted group fit the
projector at 1280×720 and 1920×1080 in both layouts; cards without dots have no rank; the
unsorted group's bars have their own colour."""

from __future__ import annotations

import re
from contextlib import suppress

import pytest
from helpers import wait_for
from playwright.sync_api import Page, expect

from .test_accessibility import axe_source  # noqa: F401 (a fixture)
from .test_board import Api, open_board

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

#: Long German titles, as a real room files them (three per area, the third gets no dots).
TITLES = [
    "Willkommensstruktur und interkulturelle Öffnung der Verwaltung",
    "Migrationsgeschichte im Stadtmuseum sichtbar machen",
    "Arbeitserlaubnis schneller bearbeiten und Beratung an einem Ort",
    "Mehrsprachige Elternabende",
]

#: The colour of the "no area" group: the columns' (light theme) and its dark-theme twin.
NO_AREA = {"light": "rgb(74, 83, 96)", "dark": "rgb(138, 150, 166)"}


@pytest.fixture
def api(server) -> Api:
    return Api(server)


def ballots(targets: dict[int, int], budget: int = 5, per_card: int = 2) -> list[dict[int, int]]:
    """Split dot totals (card id -> dots) into participants' ballots within the event's rules."""
    left = dict(targets)
    found = []
    while any(left.values()):
        ballot: dict[int, int] = {}
        for card_id in sorted(left, key=lambda c: -left[c]):
            room = budget - sum(ballot.values())
            give = min(per_card, left[card_id], room)
            if give > 0:
                ballot[card_id] = give
                left[card_id] -= give
        found.append(ballot)
    return found


def plenum(api: Api, code: str) -> dict:
    """A ninth area, four cards in every area and three without one; the last card of each
    group gets no dots, ten cards (one without an area) get 11 to 2 dots, the rest one each."""
    api.call("POST", f"/events/{code}/areas", json={"name": "Wohnen und Nachbarschaft"}, status=201)
    areas = api.event(code)["areas"]
    assert len(areas) == 9
    voted, unvoted = [], []
    for index, area in enumerate(areas):
        cards = [api.card(code, f"{title} ({index + 1})", area_id=area["id"]) for title in TITLES]
        voted += cards[:-1]
        unvoted.append(cards[-1])
    loose = [api.card(code, f"Ohne Bereich {n}: {TITLES[n]}") for n in range(3)]
    voted += loose[:-1]
    unvoted.append(loose[-1])
    targets = {card["id"]: 1 for card in voted}
    for dots, card in zip(range(11, 1, -1), [loose[0], *voted[::3]], strict=False):
        targets[card["id"]] = dots
    api.patch(code, phase="vote")
    for ballot in ballots(targets):
        api.vote(code, ballot)
    api.patch(code, phase="results", display={"screen": "results"})
    return {"areas": areas, "unvoted": unvoted, "loose": loose}


def assert_inside_viewport(board: Page, selector: str, width: int, height: int) -> int:
    """Every element matching `selector` lies wholly inside the viewport; returns how many."""
    boxes = board.locator(selector).evaluate_all(
        "nodes => nodes.map(n => { const r = n.getBoundingClientRect();"
        " return [n.dataset.area || n.id, r.left, r.top, r.right, r.bottom]; })"
    )
    for name, left, top, right, bottom in boxes:
        assert left >= 0 and top >= 0, (name, left, top)
        assert right <= width + 0.5 and bottom <= height + 0.5, (name, right, bottom, width, height)
    return len(boxes)


def check_fit(board: Page, width: int, height: int) -> None:
    """The top ten and all ten area groups are inside the screen, nothing scrolls."""
    expect(board.locator("#results-areas .results-area")).to_have_count(10)
    assert assert_inside_viewport(board, "#results-areas .results-area", width, height) == 10
    assert assert_inside_viewport(board, "#results-top .rank-row", width, height) == 10
    assert assert_inside_viewport(board, "#results-areas .rank-row", width, height) == 30
    scroll = board.evaluate("[document.documentElement.scrollHeight, innerHeight]")
    assert scroll[0] <= scroll[1], scroll


def check_unranked(board: Page, plenum: dict) -> None:
    """Cards without dots show "–" instead of a rank and come after the ranked ones."""
    for card in plenum["unvoted"]:
        row = board.locator(f'#results-areas .rank-row[data-id="{card["id"]}"]')
        if not row.count():
            continue  # below the first three of its area
        expect(row).not_to_have_attribute("data-rank", "0")
        expect(row.locator(".rank")).to_have_text("–")
    ranks = board.locator("#results-areas .results-area").evaluate_all(
        "areas => areas.map(a => [...a.querySelectorAll('.rank-row')]"
        ".map(r => r.dataset.rank ?? null))"
    )
    for listed in ranks:
        ranked = [rank for rank in listed if rank is not None]
        assert listed[: len(ranked)] == ranked, listed
    assert board.locator("#results-top .rank-row:not([data-rank])").count() == 0


def bar_colours(board: Page, selector: str) -> set[str]:
    """The bars' colours, with " striped" after those that have stripes."""
    return set(
        board.locator(f"{selector} .bar-fill").evaluate_all(
            "nodes => nodes.map(n => { const s = getComputedStyle(n); return s.backgroundColor"
            " + (s.backgroundImage.includes('gradient') ? ' striped' : ''); })"
        )
    )


def settled_bar_colours(board: Page, selector: str, expected: set[str]) -> set[str]:
    """The bars' colours once they show `expected`, or what they showed last after a while: the
    screen redraws its results when a change arrives, and bars read in the middle of a redraw
    are detached and have no style."""
    seen: list[set[str]] = []

    def shown() -> bool:
        seen.append(bar_colours(board, selector))
        return seen[-1] == expected

    with suppress(AssertionError):
        wait_for(shown, timeout=10)
    return seen[-1]


def check_axe(board: Page, script: str) -> None:
    """WCAG 2.1 AA on the results screen itself (the page's corner controls are tested apart)."""
    board.evaluate(script)
    result = board.evaluate(
        """async () => (await axe.run("#screen-results",
            {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}))
            .violations.map(v => [v.id, v.nodes.slice(0, 3).map(n => n.target)])"""
    )
    assert result == []


def hex_rgb(colour: str) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def check_no_area_colour(board: Page, plenum: dict, theme: str) -> None:
    """The unsorted group's bars, border and swatches take its own grey, in the top ten too."""
    group = board.locator('#results-areas .results-area[data-area="none"]')
    expect(group).to_be_visible()
    striped = f"{NO_AREA[theme]} striped"
    assert settled_bar_colours(board, '#results-areas [data-area="none"]', {striped}) == {striped}
    colour = group.evaluate("n => getComputedStyle(n).borderInlineStartColor")
    assert colour == NO_AREA[theme]
    loose_ids = {str(card["id"]) for card in plenum["loose"]}
    seen = 0
    for row in board.locator("#results-top .rank-row").all():
        if row.get_attribute("data-id") in loose_ids:
            row_id = row.get_attribute("data-id")
            found = settled_bar_colours(board, f'#results-top [data-id="{row_id}"]', {striped})
            assert found == {striped}
            seen += 1
    assert seen == 1  # the best card has no area
    # Every area's bars keep the area's colour, unstriped (the ninth's grey is close).
    for area in plenum["areas"]:
        expected = {hex_rgb(area["color"])}
        found = settled_bar_colours(board, f'#results-areas [data-area="{area["id"]}"]', expected)
        assert found == expected, (area["name"], found)


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080)])
def test_results_screen_fits_nine_areas_in_both_layouts(
    server, browser, api, artifacts, request, width, height
):
    axe = request.getfixturevalue("axe_source")
    code = server.demo_code
    data = plenum(api, code)
    with open_board(browser, server, code, width, height) as board:
        expect(board.locator("#results-body")).to_be_visible()
        check_fit(board, width, height)
        check_unranked(board, data)
        check_no_area_colour(board, data, "light")
        check_axe(board, axe)
        board.screenshot(path=artifacts / f"issue17-results-{width}.png")

        api.patch(code, display={"layout": "condense"})
        expect(board.locator("body")).to_have_class(re.compile(r"\blayout-condense\b"))
        check_fit(board, width, height)
        board.screenshot(path=artifacts / f"issue17-results-condense-{width}.png")

        api.patch(code, display={"theme": "dark"})
        expect(board.locator("body")).to_have_class(re.compile(r"\btheme-dark\b"))
        check_fit(board, width, height)
        check_no_area_colour(board, data, "dark")
        check_axe(board, axe)
        board.screenshot(path=artifacts / f"issue17-results-condense-dark-{width}.png")
