"""The moderator console on a laptop (1366x768) and a tablet (1280x800), issue 17: every column in
one scrolling row with "no area yet" first, a search across all cards, moves with Undo next to the
card, the menu button clear of right-to-left titles, "+1 min" and the merge target in the log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import add_card, wait_for
from .test_console import card_of, column, open_console

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

LAPTOP = (1366, 768)
TABLET = (1280, 800)


@contextmanager
def console(browser: Browser, server, language: str = "de", size=LAPTOP) -> Iterator[Page]:
    """The demo event's console for the admin, in `language`, at `size`."""
    with open_console(browser, server, *size, language=language) as page:
        yield page


def column_boxes(page: Page) -> list[dict]:
    """Each column's key and box, in the row's order."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#mcolumns > .mcolumn')].map((c) => {
             const r = c.getBoundingClientRect();
             return {key: c.dataset.area, top: r.top, left: r.left, right: r.right,
                     height: r.height};
           })"""
    )


def button_covers_title(page: Page, card_id: int) -> bool:
    """Whether the card's menu button overlaps any line of its title's text."""
    return page.evaluate(
        """(id) => {
             const card = document.getElementById(`mcard-${id}`);
             const range = document.createRange();
             range.selectNodeContents(card.querySelector('.card-title'));
             const b = card.querySelector('.menu-button').getBoundingClientRect();
             return [...range.getClientRects()].some((r) =>
               r.right > b.left && r.left < b.right && r.bottom > b.top && r.top < b.bottom);
           }""",
        card_id,
    )


def fill_event(staff, areas) -> dict:
    """Cards in every area, three without one, two in right-to-left languages."""
    staff("PATCH", json={"settings": {"board_languages": ["ar", "fa"]}}, status=200)
    for index, area in enumerate(areas):
        for n in range(3):
            add_card(staff, f"Vorschlag {index + 1}.{n + 1} für {area['name']}", area_id=area["id"])
    return {
        "loose": add_card(staff, "Sprachcafé im Stadtteilzentrum", body="Jeden Dienstag am Abend"),
        "arabic": add_card(staff, "دورات لغة للأمهات مع رعاية الأطفال في المساء", language="ar"),
        "persian": add_card(
            staff, "کلاس‌های زبان برای مادران همراه با مراقبت از کودکان", language="fa"
        ),
    }


def test_one_row_no_area_first_and_search_at_1366x768(server, browser, staff, areas, artifacts):
    cards = fill_event(staff, areas)
    with console(browser, server) as page:
        boxes = column_boxes(page)
        assert [box["key"] for box in boxes] == ["none", *(str(area["id"]) for area in areas)]
        # One row: every column at the same height on the page, the row scrolls sideways.
        assert len({round(box["top"]) for box in boxes}) == 1
        row = page.locator("#mcolumns")
        assert row.evaluate("(row) => row.scrollWidth > row.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # Post-moderation: no approval box; the cards get most of the window's height, and the
        # row's scroll bar is in view without scrolling the page.
        expect(page.locator("#queue")).to_be_hidden()
        expect(page.locator("#drag-help")).to_be_hidden()
        assert boxes[0]["top"] < 768 * 0.4
        assert boxes[0]["top"] + boxes[0]["height"] <= 768
        for key in ("loose", "arabic", "persian"):
            expect(column(page, None).locator(f"#mcard-{cards[key]['id']}")).to_be_visible()
            assert not button_covers_title(page, cards[key]["id"])
        page.screenshot(path=artifacts / "issue17-console-row-1366x768-de.png")

        # The search narrows every column and marks the words; Enter goes to the first card.
        search = page.locator("#card-search")
        search.fill("dienstag")
        expect(page.locator("#mcolumns .mcard")).to_have_count(1)
        loose = page.locator(f"#mcard-{cards['loose']['id']}")
        expect(loose.locator(".card-body mark")).to_have_text("Dienstag")
        expect(page.locator("#card-search-result")).to_have_text("1 Vorschlag gefunden")
        search.fill(f"Vorschlag 5. {areas[4]['name'].split()[0]}")
        expect(column(page, areas[4]["id"]).locator(".mcard")).to_have_count(3)
        expect(page.locator("#mcolumns .mcard")).to_have_count(3)
        search.press("Enter")
        focused = column(page, areas[4]["id"]).locator(".mcard").first
        expect(focused).to_be_focused()
        assert focused.evaluate(
            """(card) => {
                 const r = card.getBoundingClientRect();
                 const row = card.closest('.mcolumns').getBoundingClientRect();
                 return r.left >= row.left - 1 && r.right <= row.right + 1;
               }"""
        ), "the focused card is scrolled into the row's view"
        page.screenshot(path=artifacts / "issue17-console-search-de.png")
        search.focus()
        search.press("Escape")
        expect(search).to_have_value("")
        expect(page.locator("#mcolumns .mcard")).to_have_count(3 * len(areas) + 3)
        expect(page.locator("#card-search-result")).to_be_hidden()


def test_drag_to_the_edge_scrolls_and_a_move_can_be_undone_by_the_card(
    server, browser, staff, areas, artifacts
):
    cards = fill_event(staff, areas)
    loose = cards["loose"]
    last = areas[-1]
    with console(browser, server) as page:
        row = page.locator("#mcolumns")
        expect(column(page, last["id"])).not_to_be_in_viewport()
        source = page.locator(f"#mcard-{loose['id']}").bounding_box()
        frame = row.bounding_box()
        y = source["y"] + source["height"] / 2
        page.mouse.move(source["x"] + 30, y)
        page.mouse.down()
        page.mouse.move(source["x"] + 60, y, steps=3)
        # Held near the row's right edge, with no further movement: the row scrolls to its end.
        page.mouse.move(frame["x"] + frame["width"] - 12, y, steps=8)
        page.wait_for_function(
            "() => { const r = document.getElementById('mcolumns');"
            " return r.scrollLeft >= r.scrollWidth - r.clientWidth - 2; }"
        )
        # Dropped on the column's head: dropped on one of its cards, it would merge into it.
        target = column(page, last["id"]).locator(".mcolumn-head").bounding_box()
        page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 10, steps=4)
        page.mouse.up()

        moved = column(page, last["id"]).locator(f"#mcard-{loose['id']}")
        expect(moved).to_be_visible()
        wait_for(lambda: card_of(staff, loose["id"])["area_id"] == last["id"], timeout=5)

        # The toast with Undo stands next to the moved card, not only at the top of the page.
        toast = page.locator("#toast")
        expect(toast).to_be_visible()
        expect(toast).to_have_class(re.compile(r"\bnear-card\b"))
        expect(page.locator("#toast-text")).to_contain_text(last["name"])
        card_box, toast_box = moved.bounding_box(), toast.bounding_box()
        below = toast_box["y"] - (card_box["y"] + card_box["height"])
        above = card_box["y"] - (toast_box["y"] + toast_box["height"])
        assert 0 <= below <= 24 or 0 <= above <= 24, (card_box, toast_box)
        assert toast_box["x"] < card_box["x"] + card_box["width"]
        assert toast_box["x"] + toast_box["width"] > card_box["x"]
        page.screenshot(path=artifacts / "issue17-console-move-undo-1366x768-de.png")

        page.locator("#toast-undo").click()
        expect(column(page, None).locator(f"#mcard-{loose['id']}")).to_be_visible()
        wait_for(lambda: card_of(staff, loose["id"])["area_id"] is None, timeout=5)
        expect(toast).to_be_hidden()

        # By keyboard the chosen column scrolls into view too.
        row.evaluate("(row) => row.scrollTo({left: 0, behavior: 'instant'})")
        page.locator(f"#mcard-{loose['id']}").focus()
        page.keyboard.press("m")
        for _area in areas:
            page.keyboard.press("ArrowRight")
        expect(column(page, last["id"])).to_have_class(re.compile(r"\bdrop-target\b"))
        expect(column(page, last["id"])).to_be_in_viewport()
        page.keyboard.press("Escape")


def test_arabic_console_at_1280x800(server, browser, staff, areas, artifacts):
    staff("PATCH", json={"settings": {"moderation": "pre"}}, status=200)
    cards = fill_event(staff, areas)
    with console(browser, server, "ar", TABLET) as page:
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        # Pre-moderation: the approval box is there.
        expect(page.locator("#queue")).to_be_visible()
        boxes = column_boxes(page)
        assert boxes[0]["key"] == "none"
        # Right to left: "no area yet" starts the row on the right, the next column to its left.
        assert boxes[0]["left"] > boxes[1]["left"]
        assert len({round(box["top"]) for box in boxes}) == 1
        for key in ("arabic", "persian", "loose"):
            card = page.locator(f"#mcard-{cards[key]['id']}")
            expect(card).to_be_visible()
            assert not button_covers_title(page, cards[key]["id"])
            # The button sits at the card's inline end: its left in right-to-left.
            button = card.locator(".menu-button").bounding_box()
            title = card.locator(".card-title").bounding_box()
            assert button["x"] + button["width"] <= title["x"] + 1
        page.locator(f"#mcard-{cards['arabic']['id']}").scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "issue17-console-row-1280x800-ar.png")

        page.locator("#card-search").fill("رعاية")
        expect(page.locator("#mcolumns .mcard")).to_have_count(1)
        expect(page.locator(f"#mcard-{cards['arabic']['id']} mark")).to_have_text("رعاية")


def test_plus_one_minute_and_the_merge_names_its_target(server, browser, staff, areas, artifacts):
    source = add_card(staff, "Mehr Sprachkurse", area_id=areas[0]["id"])
    target = add_card(staff, "Sprachkurse für Eltern", area_id=areas[1]["id"])
    with console(browser, server) as page:
        page.locator("#timer-add").click()
        expect(page.locator("#timer-display")).to_have_text(re.compile(r"^(1:00|0:5\d)$"))
        page.locator("#timer-add").click()
        expect(page.locator("#timer-display")).to_have_text(re.compile(r"^(2:00|1:5\d)$"))
        assert 110 <= staff("GET", status=200).json()["display"]["timer"]["seconds_left"] <= 120

        staff("POST", f"/suggestions/{source['id']}/merge", json={"into": target["id"]}, status=200)
        if staff("GET", "/audit").status_code == 404:
            return
        entry = page.locator("#audit-entries > li", has_text="Mehr Sprachkurse").first
        expect(entry).to_contain_text("→ „Sprachkurse für Eltern“")
        page.locator("#audit").screenshot(path=artifacts / "issue17-console-log-merge-de.png")
