"""Changes written straight to each websocket (workshop/fanout.py) against the real eventlet
server: every kind of connection gets the same changes in the same order."""

from __future__ import annotations

import contextlib
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .conftest import wait_for
from .live_client import LiveClient

pytestmark = pytest.mark.e2e


def test_websocket_polling_and_upgraded_screens_get_the_same_changes(server):
    token = server.staff_token()
    headers = {"Authorization": f"Bearer {token}"}
    response = requests.post(
        f"{server.url}/api/v1/events",
        json={"title": "Fan-out", "areas": ["Eins"]},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    screens = [
        LiveClient(server.url, code, transports=transports)
        for transports in (("websocket",), ("polling",), ("polling", "websocket"))
    ]
    for screen in screens:
        screen.connect()
    try:

        def card(n: int) -> int:
            body = {"client_id": str(uuid.uuid4()), "title": f"Karte {n}", "body": "x" * 900}
            answer = requests.post(
                f"{server.url}/api/v1/events/{code}/suggestions",
                json=body,
                headers=headers,
                timeout=30,
            )
            assert answer.status_code == 201, answer.text
            return answer.json()["id"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = set(pool.map(card, range(60)))
        for screen in screens:
            # The figures follow the cards in `dots` changes, coalesced and flushed at most every
            # interval: the screen has every card and the figures of all of them.
            screen.wait(
                lambda c: ids <= set(c.cards) and c.event["counts"]["suggestions"] == 60,
                timeout=30,
            )
        # The screens may still be a flush apart: a websocket has it at once, a polling screen
        # with its next poll, and a flush may repeat figures that the one before already read.
        # So wait until they hold the same changes; one that a screen lacks, has twice or out of
        # order keeps them apart, and the comparison below shows how.
        with contextlib.suppress(AssertionError):
            wait_for(lambda: same_changes(screens), timeout=10)
        # Each screen kept its one connection and never had to resync: its log is all it got.
        assert [(s.connects, s.snapshots, s.gaps, s.resyncs) for s in screens] == [(1, 1, 0, 0)] * 3
        logs = [screen.changes() for screen in screens]
        assert logs[0] == logs[1]
        assert logs[0] == logs[2]
        seqs = [seq for seq, _, _ in logs[0]]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert sum(kind == "suggestion" for _, kind, _ in logs[0]) == 60
    finally:
        for screen in screens:
            screen.close()


def same_changes(screens: list[LiveClient]) -> bool:
    first, *others = (screen.changes() for screen in screens)
    return all(log == first for log in others)
