"""The PDF report on the real eventlet server: made in a child process; live screens go on."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests

from .conftest import add_card, wait_for

pytestmark = pytest.mark.e2e


def pdf_children(server_pid: int) -> list[int]:
    """The server's child processes that are making a PDF report."""
    children = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue  # the process ended while we looked
        if int(fields.get("PPid", "0")) == server_pid and b"workshop.results.pdf" in cmdline:
            children.append(int(status.parent.name))
    return children


def test_the_server_answers_while_a_pdf_is_made(server, staff, areas):
    for number in range(30):
        add_card(staff, f"Vorschlag {number}", area_id=areas[number % len(areas)]["id"])
    token = server.staff_token()
    download: dict = {}

    def fetch_pdf() -> None:
        download["response"] = requests.get(
            f"{server.url}/api/v1/events/{server.demo_code}/export",
            params={"format": "pdf"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )

    worker = threading.Thread(target=fetch_pdf)
    worker.start()
    wait_for(lambda: pdf_children(server.process.pid), timeout=30)
    # While WeasyPrint works in its child, the server still answers others at once.
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    assert pdf_children(server.process.pid), "the PDF was done before the server was asked"
    worker.join(timeout=120)
    assert download["response"].status_code == 200
    assert download["response"].content.startswith(b"%PDF-")
