"""The board on a projector (issue 17): German words hyphenated at syllables, large type, a mode
that turns through the areas, a footer and button that keep out of the way, a large countdown."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .test_board import Api, open_board

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SOFT_HYPHEN = "\u00ad"
#: Nine areas: the narrowest columns a plenum uses.
NINE_AREAS = [
    "Ankommen",
    "Bildung",
    "Sprache",
    "Arbeit",
    "Gesundheit",
    "Teilhabe",
    "Zusammenleben",
    "Wohnen",
    "Sonstiges",
]
LONG_TITLES = ["Arbeitserlaubnis schneller erteilen", "Menschen mit Migrationsgeschichte"]

#: For each line break inside a node's text: the character just before the new line.
LINE_BREAKS = """node => {
  const breaks = [];
  const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    let top = null;
    for (let i = 0; i < text.length; i += 1) {
      const range = document.createRange();
      range.setStart(text, i);
      range.setEnd(text, i + 1);
      const rect = [...range.getClientRects()].filter((r) => r.width > 0).pop();
      if (!rect) continue;
      if (top !== null && rect.top > top + 2) breaks.push(text.data[i - 1]);
      top = rect.top;
    }
  }
  return breaks;
}"""


@pytest.fixture
def api(server) -> Api:
    return Api(server)


def nine_areas(api: Api) -> tuple[str, dict[str, int]]:
    """An event with nine areas and long German words in two of them (card ids by title)."""
    event = api.call("POST", "/events", json={"title": "Plenum", "areas": NINE_AREAS}, status=201)
    code = event["code"]
    areas = api.event(code)["areas"]
    ids = {}
    for area, title in zip(areas, LONG_TITLES, strict=False):
        body = "Die Arbeitserlaubnis dauert zu lange."
        ids[title] = api.card(code, title, area_id=area["id"], body=body)["id"]
    for area in areas[2:]:
        api.card(code, "Mehr Sprachkurse", area_id=area["id"])
    return code, ids


def title_size(board: Page) -> float:
    return board.locator(".card-title").first.evaluate(
        "node => parseFloat(getComputedStyle(node).fontSize)"
    )


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_german_words_break_at_a_syllable_with_a_hyphen(
    server, browser, api, artifacts, width, height
):
    code, ids = nine_areas(api)
    with open_board(browser, server, code, width, height) as board:
        expect(board.locator("#columns > .column")).to_have_count(9)
        for title in LONG_TITLES:
            node = board.locator(f"#card-{ids[title]} .card-title")
            # The server's soft hyphens arrive after the first draw (its first answer loads the
            # German dictionary, a few seconds).
            expect(node).to_have_text(re.compile(SOFT_HYPHEN), timeout=20_000)
            assert node.evaluate("node => node.textContent").replace(SOFT_HYPHEN, "") == title
            board.screenshot(path=artifacts / f"issue17-board-hyphens-{width}x{height}.png")
            breaks = node.evaluate(LINE_BREAKS)
            assert breaks, f"{title!r} fits one line: the test needs a narrower column"
            # Every line ends at a space or at a soft hyphen (shown as "-"), never mid-syllable.
            assert set(breaks) <= {" ", SOFT_HYPHEN}, breaks
            assert SOFT_HYPHEN in breaks, breaks
            assert node.evaluate("node => node.scrollWidth <= node.clientWidth")
        # Larger type than before (25 px at 1080p, 17 px at 720p), growing with the screen.
        assert title_size(board) > (28 if width == 1920 else 19)
        board.screenshot(path=artifacts / f"issue17-board-hyphens-{width}x{height}.png")


def overlaps(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_the_countdown_is_large_and_covers_no_card(server, browser, api, artifacts, width, height):
    code, _ = nine_areas(api)
    with open_board(browser, server, code, width, height) as board:
        columns_before = board.locator("#columns").bounding_box()
        api.patch(code, display={"timer_seconds": 300})
        timer = board.locator("#timer")
        expect(timer).to_be_visible()
        expect(board.locator("#timer-value")).to_have_text(re.compile(r"^[45]:\d\d$"))
        digits = board.locator("#timer-value").evaluate(
            "node => parseFloat(getComputedStyle(node).fontSize)"
        )
        # Readable from the back rows: about a tenth of the screen's height.
        assert digits >= height / 11, digits
        box = timer.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= columns_before["y"], box
        for column in board.locator("#columns > .column").all():
            assert not overlaps(box, column.bounding_box())
        # The header keeps its height: the columns do not move down.
        assert board.locator("#columns").bounding_box()["y"] == columns_before["y"]
        # The picture as the room sees it, once the long words have their soft hyphens.
        first_title = board.locator(".card-title").first
        expect(first_title).to_have_text(re.compile(SOFT_HYPHEN), timeout=20_000)
        board.screenshot(path=artifacts / f"issue17-board-countdown-{width}x{height}.png")


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_fewer_larger_columns_turn_through_the_areas(
    start_server, browser, artifacts, width, height
):
    server = start_server(extra_env={"WORKSHOP_BOARD_ROTATE_SECONDS": "5"})
    code, _ = nine_areas(Api(server))
    with open_board(browser, server, f"{code}?columns=4", width, height) as board:
        note = board.locator("#rotation")
        # Nine areas by four: three pages of three, named, larger type than nine columns.
        expect(note).to_have_text("Themenbereiche 1–3 von 9")
        expect(board.locator("#columns > .column:visible")).to_have_count(3)
        expect(board.locator("#columns > .column:visible h2").first).to_have_text("Ankommen")
        assert title_size(board) > (40 if width == 1920 else 26)
        faded_in = "() => document.getElementById('columns').getAnimations().length === 0"
        board.wait_for_function(faded_in)
        board.screenshot(path=artifacts / f"issue17-board-rotate-{width}x{height}.png")
        # "P" holds the page (WCAG 2.2.2) and says so; again, and it turns on.
        board.keyboard.press("p")
        expect(board.locator("#rotation-paused")).to_have_text("Angehalten (Taste P)")
        expect(note).to_have_class(re.compile(r"\bpaused\b"))
        board.keyboard.press("p")
        expect(board.locator("#rotation-paused")).to_have_text("")
        expect(note).to_have_text("Themenbereiche 4–6 von 9", timeout=10_000)
        expect(board.locator("#columns > .column:visible h2").first).to_have_text("Arbeit")
        expect(note).to_have_text("Themenbereiche 7–9 von 9", timeout=10_000)
        expect(note).to_have_text("Themenbereiche 1–3 von 9", timeout=10_000)
    # Under reduced motion the pages still turn, without the fade and the running bar.
    with open_board(
        browser, server, f"{code}?columns=4", width, height, reduced_motion="reduce"
    ) as board:
        note = board.locator("#rotation")
        expect(note).to_have_text("Themenbereiche 1–3 von 9")
        expect(note).to_have_text("Themenbereiche 4–6 von 9", timeout=10_000)
        assert "turning" not in (note.get_attribute("class") or "")
    # Without the option every area is shown at once.
    with open_board(browser, server, code, width, height) as board:
        expect(board.locator("#columns > .column:visible")).to_have_count(9)
        expect(board.locator("#rotation")).to_be_hidden()
