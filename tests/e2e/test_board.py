"""The projector board in headless Chromium: fit, QR code, live cards, screens and resync."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

#: Plausible suggestions for the demo event's eight areas (the screenshots in the README).
SUGGESTIONS = [
    [
        ("Willkommensmappe in mehreren Sprachen", "Für alle, die neu in die Stadt ziehen."),
        ("Dolmetscher im Bürgeramt", "Feste Sprechzeiten mit Dolmetschenden, ohne Termin."),
        ("Interkulturelle Schulung für die Verwaltung", ""),
        ("مركز استقبال للقادمين الجدد", "مكان واحد للمعلومات والمساعدة في الأسبوع الأول"),
    ],
    [
        ("Mehr Plätze in Kitas", "Besonders in den Stadtteilen im Norden."),
        ("Hausaufgabenhilfe nach der Schule", ""),
        ("Anerkennung ausländischer Abschlüsse beschleunigen", "Beratung an einem Ort."),
    ],
    [
        ("Mehr Sprachkurse am Abend", "Viele arbeiten tagsüber und schaffen es nicht."),
        ("Sprachcafés in den Stadtteilbibliotheken", "Einmal pro Woche, offen für alle."),
        ("Sprachkurse mit Kinderbetreuung", ""),
        ("Deutsch lernen im Betrieb", "Kurse direkt am Arbeitsplatz."),
    ],
    [
        ("Jobmesse für Geflüchtete", ""),
        ("Mentoring mit Unternehmen vor Ort", "Ehrenamtliche Patenschaften für den Einstieg."),
        ("Praktika für Frauen mit Kindern", ""),
    ],
    [
        ("Gesundheitslotsen in vielen Sprachen", "Begleitung zu Arztterminen."),
        ("Psychosoziale Beratung ausbauen", ""),
        ("Mehrsprachige Infos zur Pflege", ""),
    ],
    [
        ("Integrationsrat stärker beteiligen", "Bei allen Beschlüssen, die Migration betreffen."),
        ("Wahlinfos in einfacher Sprache", ""),
    ],
    [
        ("Runder Tisch der Religionen", "Zweimal im Jahr, mit offenem Teil."),
        ("Gemeinsame Feste im Stadtpark", ""),
    ],
    [
        ("Nachbarschaftstreff im Quartier", "Ein Raum für Vereine und Initiativen."),
        ("Stadtteilspaziergänge für Neue", ""),
        ("Mehr Spielplätze und Grünflächen", ""),
    ],
]


class Api:
    """The JSON API as staff (the admin) or as a participant."""

    def __init__(self, server):
        self.url = f"{server.url}/api/v1"
        self.token = server.staff_token()

    def call(self, method: str, path: str, json=None, status: int | None = None, token=None):
        response = requests.request(
            method,
            f"{self.url}{path}",
            json=json,
            headers={"Authorization": f"Bearer {token or self.token}"},
            timeout=10,
        )
        if status is not None:
            assert response.status_code == status, response.text
        return response.json()

    def event(self, code: str) -> dict:
        return self.call("GET", f"/events/{code}", status=200)

    def patch(self, code: str, **changes) -> dict:
        return self.call("PATCH", f"/events/{code}", json=changes, status=200)

    def card(self, code: str, title: str, token: str | None = None, **fields) -> dict:
        """File a card as staff, or as the participant holding `token`."""
        body = {"client_id": str(uuid.uuid4()), "title": title, **fields}
        return self.call("POST", f"/events/{code}/suggestions", json=body, status=201, token=token)

    def vote(self, code: str, dots: dict[int, int]) -> None:
        """One new participant puts `dots` (card id -> n) on cards."""
        token = self.call("POST", f"/events/{code}/participants", status=201)["token"]
        for card_id, n in dots.items():
            path = f"/events/{code}/suggestions/{card_id}/dots"
            self.call("PUT", path, json={"dots": n}, status=200, token=token)


@pytest.fixture
def api(server) -> Api:
    return Api(server)


@contextmanager
def open_board(
    browser, server, code: str, width: int = 1920, height: int = 1080, **options
) -> Iterator[Page]:
    context = browser.new_context(
        locale="de-DE", viewport={"width": width, "height": height}, **options
    )
    board = context.new_page()
    board.goto(f"{server.url}/board/{code}")
    expect(board.locator("#columns")).to_have_attribute("aria-busy", "false")
    try:
        yield board
    finally:
        context.close()


def fill(api: Api, code: str, per_area: int) -> list[dict]:
    """`per_area` cards in every area, with realistic titles and a detail on every other card."""
    cards = []
    for index, area in enumerate(api.event(code)["areas"]):
        ideas = SUGGESTIONS[index % len(SUGGESTIONS)]
        for n in range(per_area):
            title, body = ideas[n % len(ideas)]
            title = title if n < len(ideas) else f"{title} ({n + 1})"
            body = body or ("Begründung: " + "mehr Zeit und Raum dafür. " * 4 if n % 2 else "")
            cards.append(api.card(code, title, body=body, area_id=area["id"]))
    return cards


def assert_fits(board: Page) -> None:
    assert board.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    width = board.evaluate("window.innerWidth")
    for column in board.locator("#columns > .column").all():
        box = column.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box


def assert_code_on_one_line(board: Page, screen: str, code: str) -> None:
    """The join link under the QR code may wrap, but never inside "/j/<code>"."""
    path = board.locator(f"{screen} .join-path")
    expect(path).to_have_text(f"/j/{code}")
    assert path.evaluate("node => node.getClientRects().length") == 1
    link = board.locator(f"{screen} .join-url")
    assert link.evaluate("node => node.textContent") == f"{board.url.split('/board/')[0]}/j/{code}"


def decode_qr(board: Page, selector: str, path: Path) -> str:
    zxingcpp = pytest.importorskip("zxingcpp")
    image = pytest.importorskip("PIL.Image")
    board.locator(selector).screenshot(path=path)
    found = zxingcpp.read_barcodes(image.open(path))
    assert found, f"no QR code found in {path}"
    return found[0].text


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_eight_full_areas_fit_and_the_qr_code_scans(server, browser, api, artifacts, width, height):
    code = server.demo_code
    fill(api, code, per_area=15)
    with open_board(browser, server, code, width, height) as board:
        expect(board.locator("#columns > .column")).to_have_count(8)
        expect(board.locator("#columns .card")).to_have_count(120)
        assert_fits(board)
        title_size = board.locator(".card-title").first.evaluate(
            "node => parseFloat(getComputedStyle(node).fontSize)"
        )
        instruction_size = board.locator("#board-instruction").evaluate(
            "node => parseFloat(getComputedStyle(node).fontSize)"
        )
        expect(board.locator("#board-instruction")).to_have_text(
            "Scanne den Code und schreib deinen Vorschlag."
        )
        qr = board.locator("#screen-board .qr").bounding_box()
        if width == 1920:
            assert title_size >= 24 and instruction_size >= 40
            assert qr["width"] >= 220 and qr["height"] >= 220, qr
        join_url = f"{server.url}/j/{code}"
        assert decode_qr(board, "#screen-board .qr", artifacts / f"qr-{width}.png") == join_url
        assert_code_on_one_line(board, "#screen-board", code)
        # Long columns scroll by themselves.
        overflowing = board.locator(".column-cards").first
        wait_scrolled = "node => node.scrollTop > 0"
        board.wait_for_function(f"() => ({wait_scrolled})(document.querySelector('.column-cards'))")
        assert overflowing.evaluate("node => node.scrollHeight > node.clientHeight")
        board.screenshot(path=artifacts / f"board-full-{width}x{height}.png")


def test_twelve_areas_fit_at_720p(server, browser, api, artifacts):
    areas = [f"Themenbereich {n}" for n in range(1, 13)]
    code = api.call(
        "POST", "/events", json={"title": "Zwölf Bereiche", "areas": areas}, status=201
    )["code"]
    fill(api, code, per_area=4)
    with open_board(browser, server, code, 1280, 720) as board:
        expect(board.locator("#columns > .column")).to_have_count(12)
        assert_fits(board)
        board.screenshot(path=artifacts / "board-12-areas-1280x720.png")


def test_condensed_layout_and_reduced_motion_show_everything(server, browser, api, artifacts):
    code = server.demo_code
    fill(api, code, per_area=6)
    api.patch(code, display={"layout": "condense"})
    with open_board(browser, server, code, 1280, 720) as board:
        expect(board.locator("body")).to_have_class(re.compile(r"\blayout-condense\b"))
        # Everything on one screen: no card below its column's end (issue 17).
        assert board.evaluate("document.documentElement.scrollHeight <= innerHeight")
        assert board.locator(".column-more:visible").count() == 0
        for cards in board.locator(".column-cards").all():
            assert cards.evaluate("node => node.scrollHeight <= node.clientHeight + 1")
        assert_fits(board)
        board.screenshot(path=artifacts / "board-condense-1280x720.png", full_page=True)
    api.patch(code, display={"layout": "scroll"})
    with open_board(browser, server, code, 1280, 720, reduced_motion="reduce") as board:
        # No movement under reduced motion: the board condenses instead of scrolling.
        expect(board.locator("body")).to_have_class(re.compile(r"\blayout-condense\b"))
        assert board.locator(".column-cards").first.evaluate("node => node.scrollTop") == 0


def test_cards_arrive_merge_and_move_live(server, browser, api, artifacts):
    code = server.demo_code
    areas = api.event(code)["areas"]
    target = api.card(code, "Mehr Sprachkurse am Abend", area_id=areas[2]["id"])
    with open_board(browser, server, code) as board:
        column = board.locator(f'#columns > [data-key="{areas[2]["id"]}"]')
        source = api.card(code, "Abendkurse Deutsch", area_id=areas[2]["id"])
        expect(column.locator(f"#card-{source['id']}")).to_be_visible(timeout=2000)
        # Newest first while collecting.
        expect(column.locator(".card").first).to_have_id(f"card-{source['id']}")
        expect(board.locator("#figure-suggestions")).to_have_text("2")

        api.call(
            "POST", f"/events/{code}/suggestions/{source['id']}/merge", json={"into": target["id"]}
        )
        expect(board.locator(f"#card-{source['id']}")).to_have_count(0)
        expect(board.locator(f"#card-{target['id']} .badge-merged")).to_contain_text("1")
        expect(board.locator("#figure-suggestions")).to_have_text("1")

        path = f"/events/{code}/suggestions/{target['id']}"
        api.call("PATCH", path, json={"area_id": areas[0]["id"]}, status=200)
        moved = board.locator(f'#columns > [data-key="{areas[0]["id"]}"] #card-{target["id"]}')
        expect(moved).to_be_visible()
        expect(column.locator(".card")).to_have_count(0)
        expect(board.locator(".ghost")).to_have_count(0)  # the flight has landed
        board.screenshot(path=artifacts / "board-after-move-1920.png")


SPOTLIGHT_BODY = "Viele arbeiten tagsüber. " * 30


def check_spotlight(
    board: Page, api: Api, code: str, card: dict, other: dict, area: str, artifacts: Path
) -> None:
    """A card in the spotlight shows in full, and leaves it when switched off or hidden."""
    spotlight = board.locator("#spotlight")
    expect(spotlight).to_be_hidden()
    api.patch(code, display={"spotlight": card["id"]})
    expect(spotlight).to_be_visible()
    expect(spotlight.locator(".spotlight-title")).to_have_text("Mehr Sprachkurse am Abend")
    expect(spotlight.locator(".spotlight-body")).to_have_text(SPOTLIGHT_BODY.strip())
    expect(spotlight.locator(".spotlight-area")).to_have_text(area)
    board.screenshot(path=artifacts / "board-spotlight-1920.png")
    api.patch(code, display={"spotlight": None})
    expect(spotlight).to_be_hidden()
    # A spotlit card that leaves the public view takes the spotlight with it.
    api.patch(code, display={"spotlight": other["id"]})
    expect(spotlight).to_be_visible()
    path = f"/events/{code}/suggestions/{other['id']}"
    api.call("PATCH", path, json={"status": "hidden"}, status=200)
    expect(spotlight).to_be_hidden()


def check_timer(board: Page, api: Api, code: str) -> None:
    """The timer counts down, says when the time is up, and goes when set to zero."""
    timer = board.locator("#timer-value")
    api.patch(code, display={"timer_seconds": 90})
    expect(board.locator("#timer")).to_be_visible()
    expect(timer).to_have_text(re.compile(r"^1:(30|29|28)$"))
    first = timer.text_content()
    expect(timer).not_to_have_text(first, timeout=3000)  # it counts down
    api.patch(code, display={"timer_seconds": 1})
    expect(timer).to_have_text("0:00", timeout=4000)
    expect(board.locator("#timer-done")).to_have_text("Die Zeit ist um.")
    api.patch(code, display={"timer_seconds": 0})
    expect(board.locator("#timer")).to_be_hidden()


def check_screens(board: Page, api: Api, code: str, artifacts: Path) -> None:
    """The join screen with a large QR code, the results screen, and back to the board."""
    api.patch(code, display={"screen": "join"})
    expect(board.locator("#screen-join")).to_be_visible()
    expect(board.locator("#screen-board")).to_be_hidden()
    qr = board.locator("#screen-join .qr").bounding_box()
    assert qr["width"] >= 400, qr
    assert_code_on_one_line(board, "#screen-join", code)
    board.screenshot(path=artifacts / "board-join-1920.png")

    api.patch(code, display={"screen": "results"})
    expect(board.locator("#screen-results")).to_be_visible()
    expect(board.locator("#results-message")).to_have_text(
        "Die Ergebnisse erscheinen nach der Abstimmung."
    )
    api.patch(code, display={"screen": "board"})
    expect(board.locator("#screen-board")).to_be_visible()


def check_theme_and_full_screen(board: Page, api: Api, code: str, artifacts: Path) -> None:
    """The dark theme changes the background; "f" switches full screen on and off."""
    body = board.locator("body")
    light = body.evaluate("node => getComputedStyle(node).backgroundColor")
    api.patch(code, display={"theme": "dark"})
    expect(body).to_have_class(re.compile(r"\btheme-dark\b"))
    assert body.evaluate("node => getComputedStyle(node).backgroundColor") != light
    board.screenshot(path=artifacts / "board-dark-1920.png")

    board.keyboard.press("f")
    board.wait_for_function("document.fullscreenElement !== null")
    expect(body).to_have_attribute("data-fullscreen", "on")
    expect(board.locator("#fullscreen-button")).to_have_attribute("aria-pressed", "true")
    board.keyboard.press("f")
    board.wait_for_function("document.fullscreenElement === null")
    expect(body).to_have_attribute("data-fullscreen", "off")
    expect(board.get_by_role("button", name="Vollbild")).to_be_attached()


def test_spotlight_timer_screens_theme_and_full_screen(server, browser, api, artifacts):
    code = server.demo_code
    areas = api.event(code)["areas"]
    card = api.card(code, "Mehr Sprachkurse am Abend", body=SPOTLIGHT_BODY, area_id=areas[2]["id"])
    other = api.card(code, "Dolmetscher im Bürgeramt", area_id=areas[0]["id"])
    with open_board(browser, server, code) as board:
        check_spotlight(board, api, code, card, other, areas[2]["name"], artifacts)
        check_timer(board, api, code)
        check_screens(board, api, code, artifacts)
        check_theme_and_full_screen(board, api, code, artifacts)


def test_results_screen_ranks_and_follows_the_votes(server, browser, api, artifacts):
    code = server.demo_code
    areas = api.event(code)["areas"]
    first = api.card(code, "Mehr Sprachkurse am Abend", area_id=areas[2]["id"])
    second = api.card(code, "Dolmetscher im Bürgeramt", area_id=areas[0]["id"])
    api.patch(code, phase="vote")
    api.vote(code, {first["id"]: 2, second["id"]: 1})
    api.patch(code, phase="results", display={"screen": "results"})
    with open_board(browser, server, code) as board:
        top = board.locator("#results-top .rank-row")
        expect(top).to_have_count(2)
        expect(top.first).to_have_attribute("data-id", str(first["id"]))
        expect(top.first.locator(".rank")).to_contain_text("1")
        expect(top.first.locator(".rank-dots")).to_have_text("2 Punkte")
        area = board.locator(f'#results-areas [data-area="{areas[0]["id"]}"] .rank-row')
        expect(area).to_have_count(1)
        expect(area.locator(".rank-title")).to_have_text("Dolmetscher im Bürgeramt")

        # Totals change while the screen is up (staff reopen the vote): it fetches again.
        api.patch(code, phase="vote")
        expect(board.locator("#results-message")).to_be_visible()
        api.vote(code, {second["id"]: 2})
        api.patch(code, phase="results")
        expect(top.first).to_have_attribute("data-id", str(second["id"]))
        expect(top.first.locator(".rank-dots")).to_have_text("3 Punkte")


def test_board_catches_up_after_losing_its_connection(server, browser, api):
    code = server.demo_code
    areas = api.event(code)["areas"]
    kept = api.card(code, "Bleibt stehen", area_id=areas[1]["id"])
    gone = api.card(code, "Wird ausgeblendet", area_id=areas[1]["id"])
    with open_board(browser, server, code) as board:
        expect(board.locator(f"#card-{gone['id']}")).to_be_visible()
        board.context.set_offline(True)
        # Offline emulation does not cut an open websocket; close it as a network loss would.
        board.evaluate("window.__board.live.socket.io.engine.close()")
        expect(board.locator("#connection")).to_be_visible()

        api.card(code, "Kam während der Pause", area_id=areas[1]["id"])
        api.call("PATCH", f"/events/{code}/suggestions/{gone['id']}", json={"status": "hidden"})
        api.patch(code, phase="cluster")

        board.context.set_offline(False)
        expect(board.locator("#connection")).to_be_hidden(timeout=15_000)
        expect(board.get_by_text("Kam während der Pause")).to_be_visible()
        expect(board.locator(f"#card-{gone['id']}")).to_have_count(0)
        expect(board.locator(f"#card-{kept['id']}")).to_be_visible()
        expect(board.locator("#figure-suggestions")).to_have_text("2")
        expect(board.locator("body")).to_have_class(re.compile(r"\bphase-cluster\b"))


def test_screenshots_for_the_readme(server, browser, api, artifacts):
    """Realistic German demo data on the board (1920) and the results screen (1280)."""
    code = server.demo_code
    areas = api.event(code)["areas"]
    # Twelve phones file the cards (only people who file or vote count as participants).
    phones = [
        api.call("POST", f"/events/{code}/participants", status=201)["token"] for _ in range(12)
    ]
    cards = []
    for area, ideas in zip(areas, SUGGESTIONS, strict=True):
        for title, body in ideas:
            phone = phones[len(cards) % len(phones)]
            cards.append(api.card(code, title, token=phone, body=body, area_id=area["id"]))
    with open_board(browser, server, code) as board:
        expect(board.locator("#columns .card")).to_have_count(len(cards))
        expect(board.locator("#figure-participants")).to_have_text("12", timeout=10_000)
        board.screenshot(path=artifacts / "board-1920.png")
    api.patch(code, phase="vote")
    favourites = [cards[i]["id"] for i in (7, 1, 4, 3, 18)]
    for n in range(16):
        picks = {favourites[n % 2]: 2, favourites[2 + n % 3]: 1}
        for k in (n * 7 % len(cards), (n * 11 + 3) % len(cards)):
            picks.setdefault(cards[k]["id"], 1)
        while sum(picks.values()) > 5:
            picks.popitem()
        api.vote(code, picks)
    api.patch(code, phase="results", display={"screen": "results"})
    with open_board(browser, server, code, 1280, 720) as board:
        expect(board.locator("#results-top .rank-row").first).to_be_visible()
        board.screenshot(path=artifacts / "board-results-1280.png")
    # The README's copies change only on request, so a test run leaves the work tree clean.
    if os.environ.get("WORKSHOP_UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        for name in ("board-1920.png", "board-results-1280.png"):
            shutil.copyfile(artifacts / name, DOCS / name)
