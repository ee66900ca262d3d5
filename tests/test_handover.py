"""The handover package: one ZIP with every export, the board protocol, the activity log, a
German README.txt and a manifest whose hashes match its files; for the event's staff only."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from PIL import Image

from tests.conftest import new_client_id
from workshop.db.models import AuditEntry
from workshop.domain import events
from workshop.extensions import db
from workshop.results import exports, handover

PACKAGE_FILES = set(handover.FILES) | {handover.README}
NO_SNAPSHOT = (
    "No picture of the board was kept for this phase change: it was made before the tool kept one."
)


@pytest.fixture
def voted(staff, make_event, join, submit):
    """An event taken from collect through vote to results, with dots on two cards."""
    event = make_event(areas=2)
    code = event["code"]
    first, second = (area["id"] for area in event["areas"])
    person = join(code)
    cafe = submit(person, code, "Mehr Sprachcafés", area_id=first)
    kita = submit(person, code, "=Kita-Plätze", area_id=second)
    submit(person, code, "Ohne Bereich")
    assert staff.patch(f"/events/{code}", json={"phase": "vote"}).status_code == 200
    for card, dots in ((cafe, 2), (kita, 1)):
        response = person.put(f"/events/{code}/suggestions/{card['id']}/dots", json={"dots": dots})
        assert response.status_code == 200, response.json
    assert staff.patch(f"/events/{code}", json={"phase": "results"}).status_code == 200
    return SimpleNamespace(code=code, staff=staff, person=person)


def package(api, code: str) -> zipfile.ZipFile:
    response = api.client.get(
        f"/api/v1/events/{code}/export?format=zip",
        headers={"Authorization": f"Bearer {api.token}", "Accept-Language": "de"},
    )
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert re.search(r"filename=plenum-[0-9-]+\.zip$", response.headers["Content-Disposition"])
    return zipfile.ZipFile(io.BytesIO(response.data))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_manifest_lists_every_file_with_its_hash(voted):
    archive = package(voted.staff, voted.code)
    names = set(archive.namelist())
    assert names == PACKAGE_FILES | {handover.MANIFEST, handover.CHECKSUMS}
    listed = json.loads(archive.read(handover.MANIFEST))
    assert listed["format"] == "workshop-handover" and listed["event"] == voted.code
    # Every listed file is present with its hash and size, and nothing else is in the ZIP.
    assert {entry["name"] for entry in listed["files"]} == PACKAGE_FILES
    for entry in listed["files"]:
        content = archive.read(entry["name"])
        assert entry["sha256"] == sha256(content), entry["name"]
        assert entry["bytes"] == len(content)
    # SHA256SUMS (the `sha256sum -c` form) covers every other file, the manifest included.
    sums = dict(
        reversed(line.split("  ", 1))
        for line in archive.read(handover.CHECKSUMS).decode().splitlines()
    )
    assert set(sums) == names - {handover.CHECKSUMS}
    assert all(sums[name] == sha256(archive.read(name)) for name in sums)


def test_the_package_holds_the_exports_and_a_german_readme(voted):
    archive = package(voted.staff, voted.code)
    assert archive.read("report.pdf").startswith(b"%PDF")
    assert archive.read("results.xlsx").startswith(b"PK")
    assert json.loads(archive.read("event.json"))["format"] == exports.JSON_FORMAT
    assert "Mehr Sprachcafés" in archive.read("results.csv").decode("utf-8-sig")
    readme = archive.read(handover.README).decode("utf-8")
    assert readme.startswith("Übergabepaket: Plenum")
    assert "Die Dateien in diesem Paket" in readme and "sha256sum -c SHA256SUMS" in readme
    for name in PACKAGE_FILES - {handover.README}:
        assert name in readme


def test_photos_of_paper_cards_are_in_the_package_and_its_manifest(voted):
    staff, code = voted.staff, voted.code
    card_id = staff.get(f"/events/{code}/suggestions").json["suggestions"][0]["id"]
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(image, "PNG")
    response = staff.client.put(
        f"/api/v1/events/{code}/suggestions/{card_id}/photo",
        data={"photo": (io.BytesIO(image.getvalue()), "card.png")},
        headers={"Authorization": f"Bearer {staff.token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    archive = package(staff, code)
    name = f"photos/card-{card_id}.jpg"
    stored = staff.get(f"/events/{code}/suggestions/{card_id}/photo").data
    assert archive.read(name) == stored
    files = json.loads(archive.read(handover.MANIFEST))["files"]
    listed = {entry["name"]: entry for entry in files}
    assert listed[name]["sha256"] == sha256(stored)
    assert "photos/" in archive.read(handover.README).decode("utf-8")


def test_the_activity_log_is_csv_without_staff_names_or_formulas(voted):
    archive = package(voted.staff, voted.code)
    text = archive.read("activity-log.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Zeit (Europe/Berlin)", "Wer", "Was", "Vorschlag", "Details"]
    actions = [row[2] for row in rows[1:]]
    assert actions.count("hat die Phase gewechselt") == 2
    assert all(row[1] in ("Moderation 1", "System") for row in rows[1:])
    # The board snapshots stay in the protocol; the log shows what changed.
    assert "board" not in text and "Sprachcafés" not in text


def protocol_pages(html: str) -> list[str]:
    return html.split('<section class="change">')[1:]


def test_the_protocol_has_a_page_per_phase_change_with_the_board_then(voted):
    html = package(voted.staff, voted.code).read("board-protocol.html").decode()
    pages = protocol_pages(html)
    assert len(pages) == 2
    with force_locale("de"):
        assert "Vorschläge sammeln → Abstimmen" in pages[0]
        assert "Abstimmen → Ergebnisse" in pages[1]
    # At the change to voting nobody had dots; at the change to results the dots were there.
    assert re.search(r"Mehr Sprachcafés</td><td>Sichtbar</td><td class=\"dots\">0<", pages[0])
    assert re.search(r"Mehr Sprachcafés</td><td>Sichtbar</td><td class=\"dots\">2<", pages[1])
    assert re.search(r"=Kita-Plätze</td><td>Sichtbar</td><td class=\"dots\">1<", pages[1])
    # The card without an area is listed under "Without area" (here in German).
    assert pages[1].index("Ohne Themenbereich") < pages[1].index("Ohne Bereich")


def test_the_protocol_says_when_a_phase_change_predates_snapshots(app, voted):
    with app.app_context():
        db.session.execute(
            sa.update(AuditEntry)
            .where(AuditEntry.action == "phase_changed")
            .values(details='{"from": "collect", "to": "vote"}')
        )
        db.session.commit()
    html = package(voted.staff, voted.code).read("board-protocol.html").decode()
    pages = protocol_pages(html)
    assert len(pages) == 2
    with app.test_request_context(), force_locale("de"):
        note = str(handover._(NO_SNAPSHOT))
    assert note != NO_SNAPSHOT
    assert all(note in page for page in pages)


def test_the_protocol_leaves_out_cards_withdrawn_since(app, staff, make_event, join, submit):
    code = make_event(areas=1)["code"]
    person = join(code)
    card = submit(person, code, "Doch nicht")
    submit(person, code, "Bleibt")
    assert staff.patch(f"/events/{code}", json={"phase": "cluster"}).status_code == 200
    assert staff.patch(f"/events/{code}", json={"phase": "collect"}).status_code == 200
    withdraw = person.patch(
        f"/events/{code}/suggestions/{card['id']}", json={"status": "withdrawn"}
    )
    assert withdraw.status_code == 200, withdraw.json
    with app.test_request_context(), force_locale("de"):
        event = events.get_event(code)
        snap = exports.snapshot(event, with_audit=True)
        html = handover.protocol_html(snap, handover.read_changes(event))
    assert len(protocol_pages(html)) == 2
    assert "Bleibt" in html and "Doch nicht" not in html


def test_a_protocol_without_phase_changes_says_so(app):
    snap = SimpleNamespace(
        event={"title": "Plenum"}, exported_at=datetime(2026, 12, 3, 9), time_zone="Europe/Berlin"
    )
    with app.test_request_context(), force_locale("de"):
        html = handover.protocol_html(snap, [])
    assert "Die Phase wurde noch nicht gewechselt." in html and 'class="change"' not in html


def test_the_board_snapshot_stays_out_of_the_live_log_and_the_json_export(voted):
    entries = voted.staff.get(f"/events/{voted.code}/audit").json["entries"]
    changes = [entry for entry in entries if entry["action"] == "phase_changed"]
    assert [entry["details"] for entry in changes] == [
        {"from": "vote", "to": "results"},
        {"from": "collect", "to": "vote"},
    ]
    document = json.loads(package(voted.staff, voted.code).read("event.json"))
    assert all("board" not in entry["details"] for entry in document["audit"])


@pytest.mark.parametrize(
    ("caller", "status"), [("anonymous", 401), ("participant", 401), ("other", 403)]
)
def test_only_the_events_staff_may_download_the_package(app, make_staff, voted, caller, status):
    headers = {}
    if caller == "participant":
        headers = {"Authorization": f"Bearer {voted.person.token}"}
    elif caller == "other":
        headers = {"Authorization": f"Bearer {make_staff().token}"}
    response = app.test_client().get(
        f"/api/v1/events/{voted.code}/export?format=zip", headers=headers
    )
    assert response.status_code == status
    assert response.mimetype == "application/json"


def test_an_unknown_format_names_the_package_among_the_choices(staff, make_event):
    code = make_event()["code"]
    response = staff.get(f"/events/{code}/export?format=rar")
    assert response.status_code == 400
    assert "zip" in response.json["error"]["message"]


def test_the_cli_writes_the_same_package(app, runner, voted, tmp_path):
    path = tmp_path / "handover.zip"
    result = runner.invoke(args=["export", voted.code, "--format", "zip", "--output", str(path)])
    assert result.exit_code == 0, result.output
    from_api = package(voted.staff, voted.code)
    with zipfile.ZipFile(path) as from_cli:
        check_same(from_cli, from_api)


def check_same(from_cli: zipfile.ZipFile, from_api: zipfile.ZipFile) -> None:
    """The same files with the same content, but for the export time written into some."""
    assert sorted(from_cli.namelist()) == sorted(from_api.namelist())
    for name in ("results.csv", "activity-log.csv"):
        assert from_cli.read(name) == from_api.read(name), name
    cli_pages = protocol_pages(from_cli.read("board-protocol.html").decode())
    api_pages = protocol_pages(from_api.read("board-protocol.html").decode())
    assert cli_pages == api_pages


def test_the_readme_explains_the_group_tables_and_paper_cards(staff, make_staff, make_event):
    code = make_event(affiliations=["Verwaltung", "Bildung"])["code"]
    plain = handover.README
    assert handover.SUPPORTERS_TEXT in package(staff, code).read(plain).decode("utf-8")
    assert handover.PAPER_TEXT not in package(staff, code).read(plain).decode("utf-8")
    helper = make_staff("helper")
    body = {"client_id": new_client_id(), "title": "Vom Papier"}
    assert helper.post(f"/events/{code}/paper/suggestions", json=body).status_code == 201
    assert handover.PAPER_TEXT in package(staff, code).read(plain).decode("utf-8")
    # An event that asks nobody's group says nothing about the tables.
    other = make_event()["code"]
    assert handover.SUPPORTERS_TEXT not in package(staff, other).read(plain).decode("utf-8")
