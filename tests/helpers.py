"""Helpers shared by unit and end-to-end tests (imported as `helpers`, like `backing_services`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from workshop.live.publisher import publisher


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


def settle(app) -> None:
    """Wait until no flush of figures is waiting: a late one would arrive after a check, or read
    the database while a test migrates it."""
    with app.app_context():
        live = publisher()
    wait_for(lambda: not live._scheduled)
    with live.bus._flush_lock:
        pass


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


#: A child process that eventlet monkey-patches (as run.py does): `setup` runs, then a green
#: thread notes a tick every 5 ms while `work` runs; it prints the ticks seen meanwhile, whether
#: eventlet is patched and `result`.
HUB_CHILD = """
import eventlet
eventlet.monkey_patch()
import json, time
from workshop.engines import offhub
{setup}
ticks = []

def ticker():
    while True:
        ticks.append(time.perf_counter())
        eventlet.sleep(0.005)

eventlet.spawn(ticker)
eventlet.sleep(0.05)
start = time.perf_counter()
{work}
end = time.perf_counter()
during = [t for t in ticks if start < t < end]
print(json.dumps({{"seconds": end - start, "ticks": len(during), "patched": offhub.patched(),
                  "result": {result}}}))
"""


def hub_ticks(setup: str, work: str, result: str = "None") -> dict:
    """How often the hub of an eventlet child process ran while `work` did (see HUB_CHILD): a
    call that blocks the hub in C lets no tick through, one off the hub lets them run all along."""
    child = HUB_CHILD.format(setup=setup, work=work, result=result)
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def as_shown(text: str) -> re.Pattern:
    """`text` exactly as a page shows it: the board may put soft hyphens into long words."""
    return re.compile("^" + "\u00ad?".join(re.escape(char) for char in text) + "$")


def containing(text: str) -> re.Pattern:
    """`text` somewhere in what a page shows, soft hyphens (board, display only) allowed."""
    return re.compile("\u00ad?".join(re.escape(char) for char in text))
