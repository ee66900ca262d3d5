"""Changes written straight to each websocket (workshop/fanout.py) against the real eventlet
server: every kind of connection gets the same changes in the same order."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

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
            screen.wait(lambda c: ids <= set(c.cards), timeout=30)
            assert screen.gaps == 0 and screen.resyncs == 0
        logs = [[(m["seq"], m["type"], m["data"]) for m in screen.log] for screen in screens]
        assert logs[0] == logs[1] == logs[2]
        seqs = [seq for seq, _, _ in logs[0]]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert sum(kind == "suggestion" for _, kind, _ in logs[0]) == 60
    finally:
        for screen in screens:
            screen.close()
