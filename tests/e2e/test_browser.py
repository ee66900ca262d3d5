"""The attendee page and the board in headless Chromium against a real `python run.py` server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from helpers import as_shown, containing
from playwright.sync_api import Locator, Page, expect

from .conftest import add_card

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

HOSTILE_TITLE = '<script>alert("title")</script>'
HOSTILE_BODY = '<img src=x onerror=alert("body")> & "quotes"'
LONG_TITLE = "Willkommenspatenschaften für neu zugezogene Familien in allen Stadtteilen"


@contextmanager
def open_board(browser, server, width: int = 1920, height: int = 1080) -> Iterator[Page]:
    context = browser.new_context(locale="de-DE", viewport={"width": width, "height": height})
    board = context.new_page()
    board.goto(f"{server.url}/board/{server.demo_code}")
    expect(board.locator("#columns")).to_have_attribute("aria-busy", "false")
    try:
        yield board
    finally:
        context.close()


def open_attendee(page: Page, server) -> None:
    page.goto(f"{server.url}/j/{server.demo_code}")
    expect(page.locator("#cards")).to_have_attribute("aria-busy", "false")


def card_titled(scope: Page | Locator, title: str) -> Locator:
    """The cards within `scope` whose title contains `title` (the board's soft hyphens aside)."""
    page = scope if isinstance(scope, Page) else scope.page
    return scope.locator(".card", has=page.locator(".card-title", has_text=containing(title)))


def no_area(page: Page) -> None:
    """Choose "I don't know / no area": a new card's area is always chosen (issue 17)."""
    page.check('#new-area input[value="none"]')


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_filed_card_is_marked_mine_and_reaches_board_live(server, page, browser, areas, artifacts):
    with open_board(browser, server) as board:
        expect(board.locator(".column")).to_have_count(8)
        expect(board.locator(".column.no-area")).to_have_count(0)
        open_attendee(page, server)

        page.fill("#new-title", "Mehr Sprachcafés")
        expect(page.locator("#new-title-count")).to_have_text("16 / 140")
        page.fill("#new-body", "Zweimal pro Woche, auch abends.")
        page.check(f'#new-area input[value="{areas[2]["id"]}"]')
        page.click("#submit-button")

        mine = card_titled(page, "Mehr Sprachcafés")
        expect(mine).to_have_class(re.compile(r"\bmine\b"))
        expect(mine.locator(".badge-mine")).to_be_visible()
        expect(mine.locator(".card-area")).to_have_text(areas[2]["name"])
        expect(page.locator("#new-title")).to_have_value("")
        assert no_horizontal_scroll(page)
        page.screenshot(path=artifacts / "attendee-collect-412.png", full_page=True)
        page.set_viewport_size({"width": 320, "height": 640})
        assert no_horizontal_scroll(page)

        column = board.locator(f'#columns > [data-key="{areas[2]["id"]}"]')
        expect(card_titled(column, "Mehr Sprachcafés")).to_be_visible(timeout=2000)
        # The figures follow too (re-read a few seconds after a change).
        expect(board.locator("#figure-suggestions")).to_have_text("1", timeout=10_000)
        expect(board.locator("#figure-participants")).to_have_text("1")
        board.screenshot(path=artifacts / "board-live-1920.png")


def test_author_edits_and_withdraws_while_collecting(server, page, browser, areas):
    with open_board(browser, server) as board:
        open_attendee(page, server)
        page.fill("#new-title", "Erster Entwurf")
        no_area(page)
        page.click("#submit-button")
        card = card_titled(page, "Erster Entwurf")
        card.get_by_role("button", name=re.compile("Edit|Bearbeiten")).click()

        page.locator(".edit-form input[name=title]").fill("Verbesserte Fassung")
        page.locator(".edit-form select[name=area_id]").select_option(str(areas[0]["id"]))
        page.locator(".edit-form button[type=submit]").click()
        edited = card_titled(page, "Verbesserte Fassung")
        expect(edited.locator(".badge-mine")).to_be_visible()
        column = board.locator(f'#columns > [data-key="{areas[0]["id"]}"]')
        expect(card_titled(column, "Verbesserte Fassung")).to_be_visible(timeout=2000)

        edited.locator('[data-focus="withdraw"]').click()
        edited.locator('[data-focus="withdraw-yes"]').click()
        expect(card_titled(page, "Verbesserte Fassung")).to_have_count(0)
        expect(card_titled(board, "Verbesserte Fassung")).to_have_count(0, timeout=2000)


def test_dots_are_spent_taken_back_and_survive_reload(server, page, staff, artifacts):
    first = add_card(staff, "Sprachkurse mit Kinderbetreuung")
    add_card(staff, "Mehr Beratung in den Stadtteilen")
    open_attendee(page, server)
    expect(page.locator(".dot-control")).to_have_count(0)

    staff("PATCH", json={"phase": "vote"}, status=200)
    expect(page.locator("body")).to_have_class(re.compile("phase-vote"))
    expect(page.locator(".dot-control")).to_have_count(2)
    expect(page.locator("#submit-section")).to_be_hidden()
    dots_left = page.locator("#dots-left")
    expect(dots_left).to_have_attribute("data-dots-left", "5")

    card = page.locator(f"#card-{first['id']}")
    plus, minus = card.locator('[data-focus="plus"]'), card.locator('[data-focus="minus"]')
    plus.click()
    expect(card.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
    plus.click()
    expect(card.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "2")
    expect(dots_left).to_have_attribute("data-dots-left", "3")
    expect(plus).to_be_focused()  # a rebuilt card gives focus back to the same button

    # At the per-card cap "+" is inactive and says why (it keeps its focus); a tap sends nothing.
    expect(plus).to_have_attribute("aria-disabled", "true")
    expect(card.locator(".cap-reached")).to_have_text(
        "Mehr Punkte kannst du diesem Vorschlag nicht geben."
    )
    assert "cap-reached" in plus.get_attribute("aria-describedby")
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/dots" in request.url else 0)
    plus.click(force=True)  # a tap all the same (Playwright waits for an enabled button)
    expect(card.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "2")
    expect(card.locator(".field-error")).to_have_count(0)
    assert sent == []
    page.screenshot(path=artifacts / "attendee-vote-cap-412.png")

    page.reload()
    expect(dots_left).to_have_attribute("data-dots-left", "3")
    expect(dots_left).to_contain_text("3")
    expect(dots_left).to_contain_text("5")
    expect(card.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "2")
    me = page.request.get(f"{server.url}/api/v1/events/{server.demo_code}/me").json()
    assert me["dots_left"] == 3
    assert me["dots"] == {str(first["id"]): 2}
    page.screenshot(path=artifacts / "attendee-vote-412.png")

    minus.click()
    expect(card.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
    expect(dots_left).to_have_attribute("data-dots-left", "4")

    server.stop()
    expect(page.locator("#connection")).to_be_visible()


def test_merge_moves_my_dots_and_results_show_totals(server, page, browser, staff, artifacts):
    source = add_card(staff, "Sprachcafé am Abend")
    target = add_card(staff, "Sprachcafés ausbauen")
    staff("PATCH", json={"phase": "vote"}, status=200)
    open_attendee(page, server)
    for card in (source, target):
        page.locator(f'#card-{card["id"]} [data-focus="plus"]').click()
        expect(page.locator(f"#card-{card['id']} [data-my-dots]")).to_have_attribute(
            "data-my-dots", "1"
        )
    with open_board(browser, server) as board:
        expect(board.locator(".badge-dots")).to_have_count(0)  # hidden while voting

        staff("POST", f"/suggestions/{source['id']}/merge", json={"into": target["id"]}, status=200)
        expect(page.locator(f"#card-{source['id']}")).to_have_count(0)
        merged = page.locator(f"#card-{target['id']}")
        expect(merged.locator(".badge-merged")).to_contain_text("1")
        # Both dots now sit on the target (the cap is 2), which the page learns from /me.
        expect(merged.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "2")
        expect(page.locator("#dots-left")).to_have_attribute("data-dots-left", "3")
        on_board = board.locator(f"#card-{target['id']}")
        expect(on_board.locator(".badge-merged")).to_be_visible()
        expect(board.locator(f"#card-{source['id']}")).to_have_count(0)

        staff("PATCH", json={"phase": "results"}, status=200)
        expect(on_board.locator(".badge-dots")).to_have_attribute("data-dots", "2")
        # The phone reloads into the results page (issue 18): the merged card ranks with both dots.
        ranked = page.locator(f'#per-area li[data-id="{target["id"]}"]')
        expect(ranked).to_contain_text("2")
        expect(page.locator(f'#per-area li[data-id="{source["id"]}"]')).to_have_count(0)
        expect(page.locator(".dot-control")).to_have_count(0)
        board.screenshot(path=artifacts / "board-results-1920.png")
        page.screenshot(path=artifacts / "attendee-results-412.png")


def test_hostile_text_is_shown_literally(server, page, browser, staff):
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    add_card(staff, HOSTILE_TITLE, body=HOSTILE_BODY)
    page.on("dialog", on_dialog)
    open_attendee(page, server)
    page.fill("#new-title", '"><svg onload=alert("form")>')
    no_area(page)
    page.click("#submit-button")
    expect(card_titled(page, "<svg onload")).to_be_visible()

    with open_board(browser, server) as board:
        board.on("dialog", on_dialog)
        for view in (page, board):
            card = card_titled(view, HOSTILE_TITLE)
            expect(card.locator(".card-title")).to_have_text(as_shown(HOSTILE_TITLE))
            expect(card.locator(".card-body")).to_have_text(as_shown(HOSTILE_BODY))
            expect(card_titled(view, '"><svg onload=alert("form")>')).to_be_visible()
            assert view.locator(".card img, .card script, .card svg").count() == 0
    assert dialogs == []


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_board_fits_projector_with_eight_areas(
    server, browser, staff, areas, artifacts, width, height
):
    for index, area in enumerate(areas):
        add_card(staff, f"{LONG_TITLE} {index}", body="Begründung " * 40, area_id=area["id"])
    with open_board(browser, server, width, height) as board:
        columns = board.locator("#columns > .column")
        expect(columns).to_have_count(8)
        expect(board.locator("#columns .card")).to_have_count(8)
        assert_fits(board)
        board.screenshot(path=artifacts / f"board-{width}x{height}.png")

        # A card without an area brings the "No area" column, which must fit as well.
        add_card(staff, "Ohne Bereich")
        expect(board.locator(".column.no-area")).to_have_count(1)
        expect(columns).to_have_count(9)
        assert_fits(board)
        board.screenshot(path=artifacts / f"board-{width}x{height}-no-area.png")


def assert_fits(board: Page) -> None:
    assert no_horizontal_scroll(board)
    width = board.evaluate("window.innerWidth")
    for box in (c.bounding_box() for c in board.locator("#columns > .column").all()):
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    for box in (c.bounding_box() for c in board.locator("#columns .card").all()):
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box


def test_pending_own_card_waits_for_approval(server, page, browser, staff, artifacts):
    staff("PATCH", json={"settings": {"moderation": "pre"}}, status=200)
    with open_board(browser, server) as board:
        open_attendee(page, server)
        page.fill("#new-title", "Bitte erst prüfen")
        no_area(page)
        page.click("#submit-button")
        card = card_titled(page, "Bitte erst prüfen")
        expect(card.locator(".badge-pending")).to_be_visible()
        expect(card.locator(".badge-mine")).to_be_visible()

        page.reload()  # the public snapshot leaves pending cards out; the page still knows
        expect(card.locator(".badge-pending")).to_be_visible()
        card.scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "attendee-pending-412.png")
        expect(card_titled(board, "Bitte erst prüfen")).to_have_count(0)

        card_id = card.get_attribute("id").removeprefix("card-")
        staff("PATCH", f"/suggestions/{card_id}", json={"status": "visible"}, status=200)
        expect(card.locator(".badge-pending")).to_have_count(0)
        expect(card.locator(".badge-mine")).to_be_visible()
        expect(card_titled(board, "Bitte erst prüfen")).to_be_visible(timeout=2000)


def test_api_errors_are_shown(server, page, staff):
    staff("PATCH", json={"settings": {"max_suggestions_per_participant": 1}}, status=200)
    open_attendee(page, server)
    page.click("#submit-button")  # empty title: the page asks before sending
    expect(page.locator("#new-title")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#new-title-error")).to_be_visible()

    page.fill("#new-title", "Der erste")
    no_area(page)
    page.click("#submit-button")
    expect(card_titled(page, "Der erste")).to_be_visible()
    page.fill("#new-title", "Einer zu viel")
    no_area(page)
    page.click("#submit-button")
    expect(page.locator("#submit-error")).to_be_visible()
    expect(page.locator("#submit-error")).to_contain_text("höchstens 1")  # limit_reached, in German
    expect(page.locator("#new-title")).to_have_value("Einer zu viel")


LIVE_PROTOCOL_SCRIPT = """
async () => {
  const { follow } = await import("/static/js/live.js");
  const handlers = {};
  const emitted = [];
  const socket = { on: (name, fn) => (handlers[name] = fn), emit: (name) => emitted.push(name),
                   active: true, close() {} };
  const updates = [];
  const live = follow({
    code: "X", role: "board", connect: () => socket,
    onUpdate: (state, update) => updates.push([update.type, state.cards.size]),
  });
  const card = (id) => ({ id, title: `t${id}`, merged_from: [] });
  handlers.change({ seq: 3, type: "suggestion", data: card(3) });  // before any snapshot: kept
  handlers.snapshot({ seq: 2, event: {}, suggestions: [card(1)] });  // then seq 3 applies
  handlers.change({ seq: 3, type: "suggestion", data: card(3) });  // already seen: ignored
  handlers.change({ seq: 5, type: "removed", data: { id: 1 } });  // seq 4 lost: resync
  handlers.change({ seq: 6, type: "suggestion", data: card(6) });  // kept while waiting
  handlers.snapshot({ seq: 5, event: {}, suggestions: [card(3)] });  // includes 5; 6 applies
  handlers.change({ seq: 7, type: "dots", data: { totals: { 6: 4 } } });
  const counts = { participants: 3, suggestions: 2, dots: 4 };
  handlers.change({ seq: 8, type: "dots", data: { counts } });  // figures only
  const ids = [...live.state.cards.keys()];
  return { updates, emitted, ids, dots: live.state.cards.get(6).dots,
           counts: live.state.event.counts };
}
"""


def test_live_protocol_buffers_and_resyncs(server, page):
    """live.js with a fake socket: buffering, duplicates and gaps, as docs/api.md describes."""
    page.goto(f"{server.url}/login")
    result = page.evaluate(LIVE_PROTOCOL_SCRIPT)
    assert result["updates"] == [
        ["snapshot", 1],
        ["suggestion", 2],
        ["snapshot", 1],
        ["suggestion", 2],
        ["dots", 2],
        ["dots", 2],
    ]
    assert result["emitted"] == ["resync"]
    assert result["ids"] == [3, 6]
    assert result["dots"] == 4
    assert result["counts"] == {"participants": 3, "suggestions": 2, "dots": 4}


def test_new_cards_are_announced_together_to_screen_readers(server, page, staff):
    open_attendee(page, server)
    region = page.locator("#new-cards")
    expect(region).to_have_attribute("aria-live", "polite")
    for title in ("Sprachcafé", "Dolmetscher im Bürgeramt", "Mehr Kitaplätze"):
        add_card(staff, title)
    expect(card_titled(page, "Mehr Kitaplätze")).to_be_visible()
    # One calm summary a few seconds later, not three interruptions.
    expect(region).to_have_text("3 neue Vorschläge", timeout=10_000)
