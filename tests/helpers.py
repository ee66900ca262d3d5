"""Helpers shared by unit and end-to-end tests (imported as `helpers`, like `backing_services`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.02):
    """Poll until `condition()` is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {condition}")
        time.sleep(interval)


def vote_at_once(app, code: str, token: str, cards: list[dict]) -> list[int]:
    """One participant puts a dot on every card in simultaneous requests; their status codes."""
    barrier, statuses = threading.Barrier(len(cards)), []

    def vote(card):
        client = app.test_client()
        barrier.wait()
        response = client.put(
            f"/api/v1/events/{code}/suggestions/{card['id']}/dots",
            json={"dots": 1},
            headers={"Authorization": f"Bearer {token}"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=vote, args=(card,)) for card in cards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses
