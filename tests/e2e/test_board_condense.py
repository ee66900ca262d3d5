"""The condensed board (issue 17): the whole board on one screen, and "+N more" where a column
still cannot show all its cards, never a column cut off silently."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from . import test_accessibility
from .test_board import Api, open_board
from .test_board_projector import NINE_AREAS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

#: axe-core, as the accessibility tests load it.
axe_source = test_accessibility.axe_source

#: Short cards, as a plenum files them; the first area gets far more than the others.
SHORT_TITLES = [
    "Mehr Sprachkurse am Abend",
    "Kita-Plätze im Norden",
    "Dolmetscher im Bürgeramt",
    "Sprachcafé in der Bibliothek",
    "Jobmesse für Geflüchtete",
    "Feste im Stadtpark",
]
CARDS_PER_AREA = [20, 4, 4, 3, 3, 3, 3, 3, 3]

#: For each shown column: its cards inside the viewport or cut, and its "+N more" note.
COLUMNS = """() => {
  const inside = (node) => {
    const r = node.getBoundingClientRect();
    const fits = r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5;
    return r.top >= 0 && r.left >= 0 && fits;
  };
  const bottom = (node) => node.getBoundingClientRect().bottom;
  const size = (node) => parseFloat(getComputedStyle(node).fontSize);
  return [...document.querySelectorAll("#columns > .column:not([hidden])")].map((column) => {
    const cards = [...column.querySelectorAll(".board-card")];
    const shown = cards.filter((card) => card.getBoundingClientRect().height > 0);
    const list = column.querySelector(".column-cards").getBoundingClientRect();
    const note = column.querySelector(".column-more");
    return {
      name: column.querySelector("h2").textContent,
      cards: cards.length,
      shown: shown.length,
      outside: shown.filter((card) => !inside(card) || bottom(card) > list.bottom + 0.5).length,
      note: note.hidden ? null : note.textContent,
      noteInside: note.hidden || inside(note),
      titleSize: Math.min(...shown.map((card) => size(card.querySelector(".card-title")))),
    };
  });
}"""


def crowded(api: Api) -> str:
    """Nine areas and 46 short cards, twenty of them in the first area."""
    event = api.call("POST", "/events", json={"title": "Plenum", "areas": NINE_AREAS}, status=201)
    code = event["code"]
    for area, count in zip(api.event(code)["areas"], CARDS_PER_AREA, strict=True):
        for n in range(count):
            api.card(code, SHORT_TITLES[n % len(SHORT_TITLES)], area_id=area["id"])
    api.patch(code, display={"layout": "condense"})
    return code


def assert_condensed_fits(board: Page, height: int) -> list[dict]:
    """Every column's shown cards and note lie inside the screen; the rest is counted."""
    assert board.evaluate("document.documentElement.scrollHeight <= innerHeight")
    assert board.evaluate("document.documentElement.scrollWidth <= innerWidth")
    columns = board.evaluate(COLUMNS)
    assert len(columns) == 9, columns
    for column in columns:
        assert column["outside"] == 0, column
        assert column["noteInside"], column
        hidden = column["cards"] - column["shown"]
        if hidden:
            assert column["note"] == f"+{hidden} weitere Vorschläge" or (
                hidden == 1 and column["note"] == "+1 weiterer Vorschlag"
            ), column
        else:
            assert column["note"] is None, column
        # Smaller, but still readable from the room (16 px is 1em at 720p).
        assert column["titleSize"] >= height / 720 * 14, column
    return columns


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_the_condensed_board_fits_the_screen(server, browser, artifacts, axe_source, width, height):
    api = Api(server)
    code = crowded(api)
    with open_board(browser, server, code, width, height) as board:
        expect(board.locator("body")).to_have_class(re.compile(r"\blayout-condense\b"))
        expect(board.locator("#columns .board-card")).to_have_count(sum(CARDS_PER_AREA))
        # Hyphenated words take other room: wait until the server's soft hyphens are in.
        expect(board.locator(".column-head h2").nth(6)).to_have_text(
            re.compile("\u00ad"), timeout=20_000
        )
        board.wait_for_function("() => !document.querySelector('.ghost')")
        # The footer and the full-screen button leave once the projector is idle (no mouse).
        expect(board.locator("body")).to_have_attribute("data-idle", "on", timeout=10_000)
        # They fade out: measure once they are gone, not while half transparent.
        expect(board.locator(".site-footer")).to_be_hidden()
        expect(board.locator("#fullscreen-button")).to_be_hidden()
        columns = assert_condensed_fits(board, height)
        # The quiet columns show all their cards; nothing is lost, only counted.
        assert all(c["shown"] == c["cards"] for c in columns[1:]), columns
        # The crowded column takes the room the quiet ones leave: two tracks, cards in two columns.
        expect(board.locator("#columns > .column").first).to_have_class(re.compile(r"\bwide\b"))
        assert columns[0]["shown"] > 10, columns[0]
        board.screenshot(path=artifacts / f"issue17-board-condense-{width}x{height}.png")
        # The "+N more" note and the smaller cards keep AA.
        assert test_accessibility.axe_violations(board, axe_source) == []
        # A new card arrives: still all on the screen, the note counts one more where needed.
        first = api.event(code)["areas"][0]["id"]
        api.card(code, "Noch ein Vorschlag", area_id=first)
        expect(board.locator("#columns .board-card")).to_have_count(sum(CARDS_PER_AREA) + 1)
        assert_condensed_fits(board, height)
