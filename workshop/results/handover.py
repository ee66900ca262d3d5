"""The handover package: one ZIP per event for the administration (docs/export-format.md).

It holds the existing exports (PDF report, XLSX, CSV, JSON), a protocol of the board as it stood
at each phase change (from the snapshots `audit.board_state` keeps in the phase changes' audit
entries), the activity log as CSV, a README.txt in German and a manifest with each file's SHA-256.
Every file is made from one read of the event, so they agree with each other. As with the
single exports, the rows are read on eventlet's hub and the files built off it (`off_hub`); the
PDF waits for its child process on the hub, as `exports.export` does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import render_template
from flask_babel import gettext as _

from workshop import validation
from workshop.clock import iso
from workshop.db.models import AuditEntry, CardPhoto, Event
from workshop.domain.audit import BOARD, action_label
from workshop.extensions import db
from workshop.i18n import phase_label, status_label
from workshop.results import exports, pdf

FORMAT = "zip"
MEDIA_TYPE = "application/zip"
#: Every download format: the single exports and the package.
FORMATS = (*exports.FORMATS, FORMAT)
#: The manifest's format name and version.
MANIFEST_FORMAT = "workshop-handover"
MANIFEST_VERSION = 1

#: The files of the package, in order, with what the German README.txt says about each.
#: The README is German whatever the caller's language: it is written for the city's
#: administration, which files the package (the files themselves follow the caller's language).
FILES = {
    "report.pdf": "Der Ergebnisbericht zum Drucken: Rangfolge je Themenbereich, die zehn "
    "meistgepunkteten Vorschläge, Teilnahmezahlen.",
    "results.xlsx": "Die Ergebnisse als Excel-Arbeitsmappe: Übersicht, ein Blatt je "
    "Themenbereich, zusammengeführte Vorschläge, Protokoll der Moderation.",
    "results.csv": "Die Ergebnisse als Tabelle (CSV, Trennzeichen Semikolon, UTF-8): eine "
    "Zeile je Vorschlag.",
    "event.json": "Die ganze Veranstaltung als JSON-Datei (Format „workshop-event“). Sie lässt "
    "sich mit „flask import“ wieder einlesen. Teilnehmende sind nur nummeriert.",
    "board-protocol.html": "Das Protokoll der Pinnwand: wie die Tafel bei jedem "
    "Phasenwechsel aussah, eine Seite je Wechsel (wie Fotos der Pinnwände). Im Browser "
    "öffnen oder drucken.",
    "activity-log.csv": "Das Protokoll der Moderation (CSV): wer wann was geändert hat. "
    "Moderierende erscheinen nur als Nummer.",
}
#: Photos of paper cards (domain/photos.py), one JPEG per card: `photos/card-<id>.jpg`.
PHOTOS = "photos/"
PHOTOS_TEXT = (
    "Fotos der Vorschläge, die auf Papier abgegeben wurden: eine Datei je Vorschlag, "
    "benannt nach seiner Nummer (wie in results.csv). Ohne Ortsangaben und andere Metadaten."
)
#: What the README adds where the event asked who people belong to, or took cards on paper.
SUPPORTERS_TEXT = (
    "Wer unterstützt was: Bericht, Excel-Datei und CSV enthalten Tabellen nach der Gruppe, "
    "die Teilnehmende freiwillig selbst angegeben haben. Jede Zahl, die auf weniger als fünf "
    "Personen beruht, steht dort als „< 5“, damit niemand erkennbar wird."
)
PAPER_TEXT = (
    "Vorschläge mit der Markierung „auf Papier“ wurden auf Papierkarten abgegeben und von "
    "Helferinnen und Helfern eingetragen."
)
README = "README.txt"
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"


@dataclass(frozen=True)
class Change:
    """One phase change with the board as it stood then (None: recorded before snapshots)."""

    at: datetime
    old: str | None
    new: str | None
    board: dict | None


def read_changes(event: Event) -> list[Change]:
    """The event's phase changes, oldest first, with their board snapshots (one query)."""
    rows = db.session.execute(
        sa.select(AuditEntry.created_at, AuditEntry.details)
        .where(AuditEntry.event_id == event.id, AuditEntry.action == "phase_changed")
        .order_by(AuditEntry.id)
    ).all()
    changes = []
    for at, raw in rows:
        details = json.loads(raw or "{}")
        board = details.get(BOARD)
        changes.append(
            Change(
                at,
                details.get("from"),
                details.get("to"),
                board if isinstance(board, dict) else None,
            )
        )
    return changes


# -- the board protocol ----------------------------------------------------------------------


def _protocol_areas(board: dict, shown: set[int]) -> list[dict]:
    """The snapshot's areas with their cards in `shown`, most dots first; cards without (a
    known) area last."""
    areas = {area["id"]: {**area, "cards": []} for area in board.get("areas", [])}
    loose = {"id": None, "name": _("Without area"), "color": exports.NO_AREA_COLOR, "cards": []}
    for card in board.get("cards", []):
        if card.get("id") not in shown:
            continue
        area = areas.get(card.get("area"), loose)
        area["cards"].append({**card, "status_label": status_label(card.get("status", ""))})
    listed = [*areas.values(), loose] if loose["cards"] else list(areas.values())
    for area in listed:
        area["cards"].sort(key=lambda card: (-(card.get("dots") or 0), card.get("id") or 0))
    return listed


def protocol_html(snap: exports.Snapshot, changes: list[Change]) -> str:
    """The board protocol: a page per phase change with each area's cards and dots then."""
    # A card its author withdrew since is left out of the older pictures too: withdrawing
    # takes a card out of every result.
    shown = {
        card.id for card in (snap.cards.values() if changes else ()) if card.status != "withdrawn"
    }
    pages = [
        {
            "number": number,
            "when": exports.local_format(snap, change.at),
            "old": phase_label(change.old or ""),
            "new": phase_label(change.new or ""),
            "areas": _protocol_areas(change.board, shown) if change.board is not None else None,
        }
        for number, change in enumerate(changes, 1)
    ]
    return render_template(
        "staff/board_protocol.html",
        event=snap.event,
        pages=pages,
        exported_at=exports.local_format(snap, snap.exported_at),
        time_zone=snap.time_zone,
    )


# -- the activity log ------------------------------------------------------------------------


def activity_csv(snap: exports.Snapshot) -> bytes:
    """The activity log as CSV, like the workbook's sheet (staff as numbers only)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=exports.CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(
        [
            _("Time (%(zone)s)", zone=snap.time_zone),
            _("Who"),
            _("What"),
            _("Suggestion"),
            _("Details"),
        ]
    )
    for at, who, action, card_id, details in snap.audit:
        card = snap.cards.get(card_id) if card_id is not None else None
        row = [
            f"{exports.local_time(snap, at):%Y-%m-%d %H:%M:%S}",
            exports.staff_label(who),
            action_label(action),
            card.title if card else "",
            json.dumps(details, ensure_ascii=False) if details else "",
        ]
        writer.writerow([exports.neutralise(value) for value in row])
    return (exports.BOM + out.getvalue()).encode("utf-8")


# -- the package -----------------------------------------------------------------------------


def read_photos(event: Event) -> dict[str, bytes]:
    """The photos of the event's paper cards, by their name in the package, by card id."""
    rows = db.session.execute(
        sa.select(CardPhoto.suggestion_id, CardPhoto.data)
        .where(CardPhoto.event_id == event.id)
        .order_by(CardPhoto.suggestion_id)
    )
    return {f"{PHOTOS}card-{card_id}.jpg": data for card_id, data in rows}


def readme(snap: exports.Snapshot, names: list[str]) -> bytes:
    """README.txt, in German: what the package is and what each file holds."""
    event = snap.event
    lines = [
        f"Übergabepaket: {event['title']}",
        "",
        f"Veranstaltung {event['code']}, angelegt am {event['created_at']:%d.%m.%Y}.",
        f"Zusammengestellt am {exports.local_time(snap, snap.exported_at):%d.%m.%Y um %H:%M} Uhr"
        f" ({snap.time_zone}).",
        "",
        "Die Dateien in diesem Paket:",
        "",
    ]
    for name in names:
        if name in FILES:
            lines += [name, f"    {FILES[name]}", ""]
    if any(name.startswith(PHOTOS) for name in names):
        lines += [PHOTOS, f"    {PHOTOS_TEXT}", ""]
    lines += notes(snap)
    lines += [
        f"{MANIFEST}",
        "    Das Verzeichnis aller Dateien mit Größe und Prüfsumme (SHA-256).",
        "",
        f"{CHECKSUMS}",
        "    Die Prüfsummen zum Nachprüfen, zum Beispiel mit dem Befehl: sha256sum -c SHA256SUMS",
        "",
        "Alle Dateien stammen aus demselben Stand der Veranstaltung.",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def notes(snap: exports.Snapshot) -> list[str]:
    """The README's notes on what some files hold: who supports what, cards from paper."""
    found = []
    if snap.supporters:
        found += [SUPPORTERS_TEXT, ""]
    if any(card.from_paper for card in snap.cards.values()):
        found += [PAPER_TEXT, ""]
    return found


def manifest(snap: exports.Snapshot, files: dict[str, bytes]) -> bytes:
    """manifest.json: every other file with its size and SHA-256 (SHA256SUMS aside)."""
    return json.dumps(
        {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "event": snap.event["code"],
            "exported_at": iso(snap.exported_at),
            "files": [
                {"name": name, "bytes": len(content), "sha256": sha256(content)}
                for name, content in files.items()
            ],
        },
        ensure_ascii=False,
        indent=1,
    ).encode("utf-8")


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def pack(snap: exports.Snapshot, files: dict[str, bytes]) -> bytes:
    """The ZIP: the files, README.txt, manifest.json, then SHA256SUMS over all of them."""
    files = {**files, README: readme(snap, list(files))}
    files[MANIFEST] = manifest(snap, files)
    files[CHECKSUMS] = "".join(
        f"{sha256(content)}  {name}\n" for name, content in files.items()
    ).encode()
    stamp = snap.exported_at.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            # A JPEG is compressed already: deflating it again costs time and saves nothing.
            jpeg = name.startswith(PHOTOS)
            info.compress_type = zipfile.ZIP_STORED if jpeg else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return out.getvalue()


def _prepare(rows: exports.Rows, changes: list[Change]) -> tuple[Any, dict[str, bytes], tuple]:
    """Off the hub: the snapshot, every file but the PDF, and the PDF's render job."""
    snap = exports.assemble(rows)
    files = {
        "results.xlsx": exports.to_xlsx(snap),
        "results.csv": exports.to_csv(snap),
        "event.json": exports.to_json(snap),
        "board-protocol.html": protocol_html(snap, changes).encode("utf-8"),
        "activity-log.csv": activity_csv(snap),
    }
    return snap, files, exports.pdf_job(snap)


def _pack(snap: exports.Snapshot, report: bytes, files: dict[str, bytes]) -> bytes:
    return pack(snap, {"report.pdf": report, **files})


def handover(event: Event) -> exports.Export:
    """The event's handover package as a ZIP download."""
    # Read on the hub (database sessions are not thread-safe under eventlet), build off it.
    rows = exports.read(event, with_votes=True, with_audit=True)
    changes = read_changes(event)
    photos = read_photos(event)
    snap, files, job = exports.off_hub(_prepare, rows, changes)
    files.update(photos)
    # The render itself waits for its child process on the hub, without blocking it.
    report = pdf.report(*job)
    content = exports.off_hub(_pack, snap, report, files)
    return exports.Export(content, MEDIA_TYPE, exports.filename(snap, FORMAT))


def export(event: Event, fmt: Any) -> exports.Export:
    """The event's results in one of FORMATS: a single file, or the package (`zip`)."""
    fmt = validation.choice(fmt, "format", FORMATS)
    return handover(event) if fmt == FORMAT else exports.export(event, fmt)
