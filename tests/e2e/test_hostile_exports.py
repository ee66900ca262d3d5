"""Exports on the real eventlet server: a large file is built off the hub, so the server goes on
answering everyone else while it is made."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from .test_report_pdf import insert_cards

pytestmark = pytest.mark.e2e

#: Large enough that building the workbook takes a while, small enough for a quick test.
CARDS = 3000
#: Answers /healthz must give while the export is built; with the export on the hub it gives
#: none (the hub is busy for the whole build).
ANSWERS = 3


def test_healthz_answers_while_an_export_is_built(server, areas):
    insert_cards(server, CARDS, [area["id"] for area in areas])
    headers = {"Authorization": f"Bearer {server.staff_token()}"}
    answered: list[tuple[float, float]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            started = time.monotonic()
            assert requests.get(f"{server.url}/healthz", timeout=60).status_code == 200
            answered.append((started, time.monotonic()))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.monotonic()
    response = requests.get(
        f"{server.url}/api/v1/events/{server.demo_code}/export",
        params={"format": "xlsx"},
        headers=headers,
        timeout=120,
    )
    finished = time.monotonic()
    done.set()
    watcher.join(timeout=60)
    assert response.status_code == 200
    assert response.content.startswith(b"PK")  # a zip: the workbook
    during = [pair for pair in answered if pair[0] >= started and pair[1] <= finished]
    assert len(during) >= ANSWERS, f"{len(during)} answers in {finished - started:.2f} s"
