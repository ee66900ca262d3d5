"""The PDF report on the real eventlet server: made in a child process; live screens go on."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from .conftest import ADMIN_PASSWORD, add_card, wait_for

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


def insert_rows(server, rows: list[tuple]) -> None:
    """Add cards (area id, title, body, status, dots, voters) to the demo event straight into the
    server's database (the API would take minutes for thousands)."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(server.directory / "e2e.sqlite3", timeout=30) as database:
        (event_id,) = database.execute(
            "SELECT id FROM events WHERE code = ?", (server.demo_code,)
        ).fetchone()
        database.executemany(
            "INSERT INTO suggestions (event_id, area_id, title, body, status, dots, voters,"
            " version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            [(event_id, *row, now, now) for row in rows],
        )


def insert_cards(server, count: int, area_ids: list[int]) -> None:
    """Add `count` visible cards with dots to the demo event."""
    body = "Mehr Begegnung im Sprachcafé, in der Bibliothek und im Verein " * 3
    rows = [
        (
            area_ids[number % len(area_ids)],
            f"Vorschlag {number} für den Stadtteil",
            body,
            "visible",
            number % 7,
            number % 5,
        )
        for number in range(count)
    ]
    insert_rows(server, rows)


def render_lock_free(folder: Path) -> bool:
    """Whether no render holds the server's render lock (it is held from before the child
    starts until its result is kept or discarded)."""
    handle = os.open(folder / "render.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(handle)


def test_deleting_an_event_while_its_pdf_is_made_leaves_nothing(start_server, tmp_path):
    server = start_server(extra_env={"WORKSHOP_PREPARE_REPORTS": "1"})
    token = server.staff_token()
    headers = {"Authorization": f"Bearer {token}"}
    event_url = f"{server.url}/api/v1/events/{server.demo_code}"
    areas = requests.get(event_url, headers=headers, timeout=10).json()["areas"]
    insert_cards(server, 600, [area["id"] for area in areas])
    # Opening the report page starts its PDF in the background.
    page = requests.get(
        f"{server.url}/events/{server.demo_code}/report", headers=headers, timeout=60
    )
    assert page.status_code == 200
    wait_for(lambda: pdf_children(server.process.pid), timeout=60)
    assert requests.delete(event_url, headers=headers, timeout=30).status_code == 204
    assert pdf_children(server.process.pid), "the PDF was done before the event was deleted"
    folder = tmp_path / "reports"
    wait_for(lambda: not pdf_children(server.process.pid) and render_lock_free(folder), timeout=120)
    left = sorted(path.name for path in folder.iterdir())
    assert not [name for name in left if name.endswith((".pdf", ".partial"))], left
    assert all(name in ("render.lock",) or name.startswith("deleted-") for name in left), left


def test_the_pdf_opens_with_the_top_ten_and_leaves_withdrawn_cards_out(
    server, areas, artifacts, tmp_path
):
    """Issue 17: page one gives the overall top ten (it gave the figures only, two thirds empty);
    a withdrawn card is nowhere, however many dots it had. Page one is kept as a picture."""
    if not (shutil.which("pdftotext") and shutil.which("pdftoppm")):
        pytest.skip("poppler-utils (pdftotext, pdftoppm) is not installed")
    titles = [
        "Sprachcafé im Stadtteilzentrum, jeden Abend geöffnet",
        "Mehr Kita-Plätze mit mehrsprachigen Erzieherinnen",
        "Beratung zur Anerkennung ausländischer Berufsabschlüsse",
        "Patenschaften zwischen Alteingesessenen und Neuangekommenen",
        "Dolmetscherpool für Arztbesuche und Behördengänge",
        "Interkultureller Kalender der Vereine und Gemeinden",
        "Sportangebote für Mädchen und Frauen",
        "Wohnungsbörse gegen Diskriminierung auf dem Wohnungsmarkt",
        "Elterncafés an allen Grundschulen",
        "Mehrsprachige Informationen der Stadtverwaltung",
        "Begegnungsfest im Sommer",
        "Fahrradkurse für Erwachsene",
    ]
    rows = [
        (areas[number % len(areas)]["id"], title, "", "visible", 30 - number, 5)
        for number, title in enumerate(titles)
    ]
    rows.append((areas[0]["id"], "Zurückgezogene Idee mit vielen Punkten", "", "withdrawn", 99, 9))
    insert_rows(server, rows)
    response = requests.get(
        f"{server.url}/api/v1/events/{server.demo_code}/export",
        params={"format": "pdf"},
        headers={"Authorization": f"Bearer {server.staff_token()}"},
        timeout=120,
    )
    assert response.status_code == 200
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(first.split())
    assert "Plätze 1 bis 10 über alle Themenbereiche" in flat
    places = [flat.index(" ".join(title.split()[:2])) for title in titles[:10]]
    assert places == sorted(places)
    every_page = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Zurückgezogene Idee" not in every_page
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(path),
            str(artifacts / "issue17-report-first-page"),
        ],
        check=True,
    )
    assert (artifacts / "issue17-report-first-page.png").stat().st_size > 10_000


def test_the_html_report_gives_the_top_ten_first_and_mirrors_it_in_arabic(
    browser, server, areas, artifacts
):
    """Issue 17: the top ten comes before the areas on the report page too; in Arabic its
    columns run right to left (rank at the right)."""
    insert_cards(server, 12, [area["id"] for area in areas])
    context = browser.new_context(locale="ar", viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "workshop_lang", "value": "ar", "url": server.url}])
    page = context.new_page()
    try:
        page.goto(f"{server.url}/login?next=/events/{server.demo_code}/report")
        page.fill("#username", "admin")
        page.fill("#password", ADMIN_PASSWORD)
        page.locator("form.stack button[type=submit]").click()
        page.wait_for_url(f"**/events/{server.demo_code}/report")
        top = page.locator("table.top")
        rows = top.locator("tbody tr")
        assert rows.count() >= 10
        first_area = page.locator("section.area").first
        assert top.bounding_box()["y"] < first_area.bounding_box()["y"]
        rank = rows.first.locator("td").nth(0).bounding_box()
        title = rows.first.locator("td").nth(1).bounding_box()
        assert rank["x"] > title["x"]  # right to left
        page.screenshot(path=artifacts / "issue17-report-html-ar.png")
    finally:
        context.close()
