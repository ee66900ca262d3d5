"""Two real `run.py` processes serving one event: one PostgreSQL database, one Redis.

A screen connected to one process must see, numbered without gaps, what was written through the
other; a vote is stored once whichever process took it; the dot budget holds across processes.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from backing_services import POSTGRES, empty_redis, new_database, require
from helpers import wait_for

from .conftest import Server
from .live_client import LiveClient

pytestmark = pytest.mark.e2e


@dataclass
class Pair:
    """Process A and process B, and an event made through A, with an admin token for both."""

    a: Server
    b: Server
    token: str
    code: str

    def call(self, server: Server, method: str, path: str, token: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return requests.request(
            method,
            f"{server.url}/api/v1/events/{self.code}{path}",
            headers=headers,
            timeout=30,
            **kwargs,
        )

    def card(self, server: Server, title: str) -> dict:
        body = {"client_id": str(uuid.uuid4()), "title": title}
        response = self.call(server, "POST", "/suggestions", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def join(self, server: Server) -> str:
        response = self.call(server, "POST", "/participants")
        assert response.status_code == 201, response.text
        return response.json()["token"]

    def vote(self, server: Server, token: str, card_id: int, dots: int) -> requests.Response:
        return self.call(
            server, "PUT", f"/suggestions/{card_id}/dots", token=token, json={"dots": dots}
        )

    def results(self, server: Server) -> dict:
        response = self.call(server, "GET", "/results")
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def pair(start_server) -> Iterator[Pair]:
    require(POSTGRES)
    with new_database() as database:
        env = {"WORKSHOP_DATABASE_URL": database, "WORKSHOP_MESSAGE_QUEUE": empty_redis()}
        # A prepares the database (schema, admin, demo event); B finds it ready.
        a = start_server(extra_env=env)
        b = start_server(extra_env=env)
        token = a.staff_token()
        response = requests.post(
            f"{a.url}/api/v1/events",
            json={
                "title": "Two processes",
                "areas": ["One", "Two"],
                "settings": {"hide_counts_while_voting": False},
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        yield Pair(a, b, token, response.json()["code"])
        a.stop()
        b.stop()


def seqs_without_gaps(client: LiveClient) -> bool:
    with client._state:
        seqs = [message["seq"] for message in client.log]
        return client.gaps == 0 and seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def dots_counted(client: LiveClient) -> int | None:
    return client.event.get("counts", {}).get("dots")


def test_a_vote_through_one_process_reaches_a_board_on_the_other(pair):
    card = pair.card(pair.a, "Sprachkurse am Abend")
    assert pair.call(pair.a, "PATCH", "", json={"phase": "vote"}).status_code == 200
    with LiveClient(pair.b.url, pair.code) as board:
        assert board.event["phase"] == "vote"
        participant = pair.join(pair.a)
        assert pair.vote(pair.a, participant, card["id"], 2).status_code == 200
        board.wait(
            lambda c: c.totals.get(card["id"]) == 2 and c.event.get("counts", {}).get("dots") == 2
        )
        # A resent request changes nothing and is not counted twice.
        assert pair.vote(pair.b, participant, card["id"], 2).status_code == 200
        assert seqs_without_gaps(board)
        assert board.resyncs == 0
    results = pair.results(pair.a)
    assert results == pair.results(pair.b)
    assert results["totals"]["dots"] == results["totals"]["voters"] * 2 == 2
    stored = [
        s["dots"] for a in results["areas"] for s in a["suggestions"] if s["id"] == card["id"]
    ]
    assert stored == [2]


def test_cards_through_both_processes_reach_boards_on_both_in_order(pair):
    boards = [LiveClient(pair.a.url, pair.code).connect(), LiveClient(pair.b.url, pair.code)]
    boards[1].connect()
    try:
        titles = [f"Karte {n}" for n in range(30)]
        with ThreadPoolExecutor(max_workers=6) as pool:
            cards = list(
                pool.map(lambda n: pair.card((pair.a, pair.b)[n % 2], titles[n]), range(30))
            )
        ids = {card["id"] for card in cards}
        for board in boards:
            board.wait(lambda c: ids <= set(c.cards), timeout=30)
            assert seqs_without_gaps(board)
            assert board.resyncs == 0
        # The last figures may still be on their way to one of them.
        wait_for(lambda: boards[0].log[-1]["seq"] == boards[1].log[-1]["seq"], timeout=10)
        # Both processes numbered one sequence: the two boards got the same changes in one order.
        assert [m["seq"] for m in boards[0].log] == [m["seq"] for m in boards[1].log]
        assert [m["data"] for m in boards[0].log] == [m["data"] for m in boards[1].log]
    finally:
        for board in boards:
            board.close()


def test_the_budget_holds_across_processes(pair):
    cards = [pair.card(pair.a, f"Karte {n}") for n in range(20)]
    assert pair.call(pair.a, "PATCH", "", json={"phase": "vote"}).status_code == 200
    participant = pair.join(pair.b)
    barrier = threading.Barrier(len(cards))

    def vote(n: int) -> int:
        barrier.wait()
        return pair.vote((pair.a, pair.b)[n % 2], participant, cards[n]["id"], 1).status_code

    with ThreadPoolExecutor(max_workers=len(cards)) as pool:
        statuses = sorted(pool.map(vote, range(len(cards))))
    assert statuses == [200] * 5 + [409] * 15
    assert pair.results(pair.a)["totals"]["dots"] == pair.results(pair.b)["totals"]["dots"] == 5


def test_deleting_an_event_through_one_process_closes_its_screens_on_the_other(pair):
    board = LiveClient(pair.b.url, pair.code).connect()
    try:
        assert pair.call(pair.a, "DELETE", "").status_code == 204
        # Closed by B although A took the request.
        board.wait(lambda c: c.disconnects >= 1, timeout=15)
        assert not board.sio.connected
    finally:
        board.close()


def test_both_processes_together_send_at_most_one_dots_message_per_interval(pair):
    """Votes through A and B at once: the totals go out coalesced for the event, not once per
    process (WORKSHOP_DOTS_INTERVAL, 0.1 s)."""
    cards = [pair.card(pair.a, f"Karte {n}") for n in range(2)]
    assert pair.call(pair.a, "PATCH", "", json={"phase": "vote"}).status_code == 200
    servers = (pair.a, pair.b)
    people = [pair.join(servers[n % 2]) for n in range(60)]
    with LiveClient(pair.a.url, pair.code) as board:
        started = time.monotonic()

        def vote(n: int) -> int:
            person, card = people[n // 2], cards[n % 2]
            return pair.vote(servers[n % 2], person, card["id"], 1).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(vote, range(2 * len(people)))) == {200}
        board.wait(lambda c: all(c.totals.get(card["id"]) == len(people) for card in cards))
        elapsed = time.monotonic() - started
        with board._state:
            flushes = [m for m in board.log if m["type"] == "dots" and "totals" in m["data"]]
    # Two processes flushing on their own would send about twice as many.
    assert 1 <= len(flushes) <= elapsed / 0.1 + 2, (len(flushes), elapsed)
