"""The attendee page's weight budget and HTTP caching, over a real `python run.py` (eventlet).

The budget (issue 8): a new attendee's first load transfers at most 60 KB, the Socket.IO client
and its first messages included. A size, counted by the browser, not a timing.
"""

from __future__ import annotations

import gzip
import random
import re

import pytest
import requests

from .conftest import ROOT, add_card, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

BUDGET = 60_000  # bytes on the wire: headers and (compressed) bodies
YEAR = "max-age=31536000"
#: A busy room's wall: the live snapshot is part of the first load.
CARDS = 60


#: Words for the cards filed before the page is weighed: varied, as a room's cards are.
VOCABULARY = (
    "mehr Sprachcafés Beratung im Stadtteil für Familien Kita Schule Ausbildung Arbeit Wohnung "
    "Nachbarschaft Ehrenamt Patenschaften Dolmetscher Sport Vereine Frauen Jugendliche Senioren "
    "Gesundheit Ärzte Behörden Termine online Formulare einfache Sprache Begegnung Feste "
    "Bibliothek Abendkurse Kinderbetreuung Mentoring Praktika Anerkennung Abschlüsse Treffpunkt"
)


def card_text(rng: random.Random) -> tuple[str, str]:
    """A card's title and, for about every other one, its details."""
    words = VOCABULARY.split()
    title = " ".join(rng.choice(words) for _ in range(rng.randint(4, 11))).capitalize()
    details = rng.random() < 0.5
    body = " ".join(rng.choice(words) for _ in range(rng.randint(8, 25))) if details else ""
    return title, body


def first_load(browser, url: str) -> dict:
    """Open `url` in a fresh browser and count what reached it until the cards are shown."""
    context = browser.new_context(locale="de-DE", viewport={"width": 412, "height": 915})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    seen: dict[str, dict] = {}
    load = {"requests": seen, "frames": 0, "websockets": []}

    def on_response(event):
        headers = {k.lower(): v for k, v in event["response"]["headers"].items()}
        seen[event["requestId"]] = {
            "url": event["response"]["url"],
            "status": event["response"]["status"],
            "encoding": headers.get("content-encoding"),
            "bytes": 0,
        }

    def on_finished(event):
        if request := seen.get(event["requestId"]):
            request["bytes"] = int(event["encodedDataLength"])

    def on_frame(event):
        load["frames"] += len(event["response"]["payloadData"].encode())

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    cdp.on("Network.webSocketFrameReceived", on_frame)
    cdp.on("Network.webSocketCreated", lambda event: load["websockets"].append(event["url"]))
    page.goto(url)
    page.wait_for_selector("#cards[aria-busy='false']", state="attached", timeout=30_000)
    page.wait_for_load_state("networkidle")
    load["cards"] = page.locator("#cards .card").count()
    context.close()
    return load


def fill_event(staff, areas, cards: int = CARDS) -> None:
    """File `cards` cards, most of them in an area."""
    rng = random.Random(8)
    for number in range(cards):
        title, body = card_text(rng)
        area = areas[number % len(areas)]["id"] if number % 5 else None
        add_card(staff, title, body=body, area_id=area)


def test_first_load_of_the_attendee_page_stays_within_60_kb(server, browser, staff, areas):
    fill_event(staff, areas)
    load = first_load(browser, f"{server.url}/j/{server.demo_code}")
    requests_seen = list(load["requests"].values())
    total = sum(r["bytes"] for r in requests_seen) + load["frames"]
    table = "\n".join(f"{r['bytes']:>7} {r['encoding']} {r['url']}" for r in requests_seen)
    assert total <= BUDGET, f"first load: {total} bytes\n{table}"

    # It is the whole page that was counted: the document, its style, every module, the
    # Socket.IO client, and the live snapshot with every card.
    urls = [r["url"] for r in requests_seen]
    for name in ("css/app.css", "js/participant.js", "js/dom.js", "socket.io.esm.min.js"):
        assert any(url.endswith(name) for url in urls), (name, urls)
    assert any("/socket.io/" in url for url in urls)
    assert load["cards"] == CARDS
    assert all(r["status"] < 400 for r in requests_seen), table
    # Every static file came versioned and compressed; the socket still upgraded to a WebSocket.
    for request in requests_seen:
        if "/static/" in request["url"]:
            assert "/static/v/" in request["url"], request
            assert request["encoding"] == "br", request
    assert any("transport=websocket" in url for url in load["websockets"])


def test_a_second_visit_takes_every_static_file_from_the_browser_cache(server, browser):
    url = f"{server.url}/j/{server.demo_code}"
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    static_requests: list[str] = []
    page.on("request", lambda request: static_requests.append(request.url))
    try:
        page.goto(url)
        page.wait_for_selector("#cards[aria-busy='false']", state="attached", timeout=30_000)
        page.wait_for_load_state("networkidle")
        first = [u for u in static_requests if "/static/" in u]
        assert len(first) >= 6, first

        def served_static() -> list[str]:
            return [line for line in server.output if "GET /static/" in line]

        all_first = wait_for(lambda: len(served_static()) >= len(first) and served_static())
        served_before = len(all_first)
        page.goto("about:blank")
        page.goto(url)
        page.wait_for_selector("#cards[aria-busy='false']", state="attached", timeout=30_000)
        page.wait_for_load_state("networkidle")
        # The page asked for its files again, and the server was asked for none of them.
        assert len([u for u in static_requests if "/static/" in u]) == 2 * len(first)
        wait_for(lambda: sum(f"GET /j/{server.demo_code}" in line for line in server.output) == 2)
        assert len(served_static()) == served_before, served_static()
    finally:
        context.close()


def test_static_files_are_cached_long_and_compressed_for_gzip_clients(server):
    page = requests.get(f"{server.url}/j/{server.demo_code}", timeout=10)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assets = re.findall(r'(?:href|src)="(/static/v/[0-9a-f]+/[^"]+)"', page.text)
    script = next(a for a in assets if a.endswith("/js/participant.js"))
    # The modules it imports, resolved as the browser does: under the same version.
    source = requests.get(server.url + script, timeout=10).text
    folder = script.rsplit("/", 1)[0]
    assets += [f"{folder}/{name}" for name in re.findall(r'from "\./([\w.-]+)"', source)]
    assert len(assets) >= 5, assets

    for asset in assets:
        response = requests.get(
            server.url + asset, headers={"Accept-Encoding": "gzip"}, timeout=10, stream=True
        )
        assert response.status_code == 200, asset
        assert response.headers["Content-Encoding"] == "gzip", asset
        cache_control = response.headers["Cache-Control"]
        assert YEAR in cache_control and "immutable" in cache_control, (asset, cache_control)
        # A module obeys no document policy: it carries nosniff, and the page carries the CSP.
        assert response.headers["X-Content-Type-Options"] == "nosniff", asset
        assert "Content-Security-Policy" not in response.headers, asset
        raw = response.raw.read(decode_content=False)
        response.close()
        assert len(raw) == int(response.headers["Content-Length"])
        original = (ROOT / "static" / asset.split("/", 4)[4]).read_bytes()
        assert gzip.decompress(raw) == original
        assert len(raw) < len(original), asset


def test_pages_are_not_cached_long(server):
    for path in ("/", "/login", "/accessibility"):
        response = requests.get(server.url + path, headers={"Accept-Encoding": "gzip"}, timeout=10)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-cache", path
        assert response.headers["Content-Encoding"] == "gzip", path
