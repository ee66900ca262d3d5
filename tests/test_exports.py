"""Exports: CSV and XLSX agree with the results endpoint, are safe to open, and carry no personal
data; the download route is for the event's staff only."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
import zipfile
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from multilingual import CORRECTED, TEXTS, multilingual_event
from openpyxl import load_workbook

from workshop import config, create_app
from workshop.domain import events
from workshop.extensions import db
from workshop.results import exports
from workshop.web.views.api import OPENAPI_PATH

BOM = "\ufeff".encode()


@pytest.fixture
def voted(app, staff, make_event, join, submit):
    """An event in `results`: two areas, a card without area, one merge, one hidden, one zero."""
    event = make_event(areas=2)
    code = event["code"]
    first, second = (area["id"] for area in event["areas"])
    people = [join(code) for _ in range(3)]
    cards = {
        "cafe": submit(people[0], code, "Mehr Sprachcafés", area_id=first, body="Abends"),
        "dup": submit(people[1], code, "Sprachcafé am Abend", area_id=first),
        "zero": submit(people[0], code, "Niemand mag das", area_id=first),
        "hidden": submit(people[0], code, "Versteckt", area_id=first),
        "kita": submit(people[1], code, "Kita-Plätze", area_id=second),
        "arabic": submit(people[2], code, "مقهى لغوي 🙂", area_id=second),
        "loose": submit(people[2], code, "Ohne Bereich"),
    }
    ids = {name: card["id"] for name, card in cards.items()}
    assert staff.patch(f"/events/{code}", json={"phase": "vote"}).status_code == 200
    for person, votes in zip(
        people,
        [{"cafe": 2, "kita": 1, "dup": 1}, {"dup": 2, "arabic": 1}, {"kita": 2, "loose": 1}],
        strict=True,
    ):
        for name, dots in votes.items():
            response = person.put(
                f"/events/{code}/suggestions/{ids[name]}/dots", json={"dots": dots}
            )
            assert response.status_code == 200, response.json
    hide = staff.patch(f"/events/{code}/suggestions/{ids['hidden']}", json={"status": "hidden"})
    assert hide.status_code == 200
    merge = staff.post(f"/events/{code}/suggestions/{ids['dup']}/merge", json={"into": ids["cafe"]})
    assert merge.status_code == 200, merge.json
    assert staff.patch(f"/events/{code}", json={"phase": "results"}).status_code == 200
    return SimpleNamespace(code=code, ids=ids, staff=staff, people=people)


def download(api, code: str, fmt: str):
    """Fetch an export as staff with a German browser."""
    response = api.client.get(
        f"/api/v1/events/{code}/export?format={fmt}",
        headers={"Authorization": f"Bearer {api.token}", "Accept-Language": "de"},
    )
    assert response.status_code == 200, response.data[:300]
    return response


def german(app, texts):
    with app.test_request_context(), force_locale("de"):
        return [str(text) for text in texts()]


def ranked(results: dict) -> dict[str, tuple]:
    """title -> (area name, rank, dots, voters) for cards with dots, from the results endpoint."""
    return {
        card["title"]: (area["name"], card["rank"], card["dots"], card["voters"])
        for area in results["areas"]
        for card in area["suggestions"]
        if card["dots"]
    }


def test_xlsx_totals_match_the_results_endpoint(app, voted):
    results = voted.staff.get(f"/events/{voted.code}/results").json
    book = load_workbook(io.BytesIO(download(voted.staff, voted.code, "xlsx").data))
    summary, *area_sheets, merged, _activity = book.worksheets
    assert [sheet.title for sheet in area_sheets][:2] == ["Area 1", "Area 2"]
    assert len(area_sheets) == 3  # and the cards without an area
    found = {}
    for sheet in area_sheets:
        # The area's full name in the first row, the table under it.
        assert sheet["A1"].value in ("Area 1", "Area 2", "Ohne Themenbereich")
        assert sheet.freeze_panes == "A3"
        assert sheet.auto_filter.ref.startswith("A2:")
        assert not sheet.sheet_view.rightToLeft
        for rank, title, _detail, dots, voters, *_rest in sheet.iter_rows(3, values_only=True):
            if dots:
                found[title] = (rank, dots, voters)
            else:
                assert rank is None
    assert found == {title: row[1:] for title, row in ranked(results).items()}
    values = {row[0]: row[1] for row in summary.iter_rows(3, 14, values_only=True) if row[0]}
    labels = dict(
        zip(exports.FIGURE_LABELS, german(app, exports.FIGURE_LABELS.values), strict=True)
    )
    totals = results["totals"]
    for key, total in [
        ("participants", "participants"),
        ("voters", "voters"),
        ("dots", "dots"),
        ("ranked", "suggestions"),
    ]:
        assert values[labels[key]] == totals[total]
    assert (values[labels["filed"]], values[labels["merged"]]) == (7, 1)
    top = [row for row in summary.iter_rows(values_only=True) if isinstance(row[0], int)]
    assert [row[3] for row in top] == sorted(
        (row[2] for row in ranked(results).values()), reverse=True
    )
    originals = [row[3] for row in merged.iter_rows(2, values_only=True)]
    assert originals == ["Sprachcafé am Abend"]


def test_xlsx_marks_right_to_left_text_only(voted):
    book = load_workbook(io.BytesIO(download(voted.staff, voted.code, "xlsx").data))
    orders = {
        cell.value: cell.alignment.readingOrder
        for sheet in book.worksheets[1:-1]
        for cell in sheet["B"][1:]
    }
    assert orders["مقهى لغوي 🙂"] == 2
    assert orders["Kita-Plätze"] == 0


def test_csv_has_bom_german_headers_and_a_row_per_card(app, voted):
    response = download(voted.staff, voted.code, "csv")
    assert response.data.startswith(BOM)
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == german(app, lambda: exports.table_headers("de"))
    body = rows[1:]
    # Every card but the one merged away, which is listed with the card it went into.
    assert sorted(row[2] for row in body) == sorted(
        [
            "Mehr Sprachcafés",
            "Niemand mag das",
            "Versteckt",
            "Kita-Plätze",
            "مقهى لغوي 🙂",
            "Ohne Bereich",
        ]
    )
    by_title = {row[2]: row for row in body}
    assert by_title["Mehr Sprachcafés"][1:8:6] == ["1", "Sprachcafé am Abend"]
    assert by_title["Mehr Sprachcafés"][4:6] == ["4", "2"]  # 2 + 1 moved, capped at 2, + 2
    assert by_title["Niemand mag das"][1] == ""  # no dots, no rank


@pytest.mark.parametrize("title", ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1:A9)"])
def test_formulas_are_neutralised_in_csv_and_xlsx(staff, make_event, submit, title):
    event = make_event(areas=1)
    code = event["code"]
    submit(staff, code, title, body=title, area_id=event["areas"][0]["id"])
    rows = list(
        csv.reader(
            io.StringIO(download(staff, code, "csv").data.decode("utf-8-sig")), delimiter=";"
        )
    )
    assert rows[1][2:4] == ["'" + title, "'" + title]
    sheet = load_workbook(io.BytesIO(download(staff, code, "xlsx").data)).worksheets[1]
    assert [sheet["B3"].value, sheet["C3"].value] == ["'" + title, "'" + title]
    assert sheet["B3"].data_type == "s"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("\tTab", "'\tTab"),
        ("\rreturn", "'\rreturn"),
        ("=1+1", "'=1+1"),
        ("Sprachcafé", "Sprachcafé"),
        ("a=b", "a=b"),
        (-1, -1),
    ],
)
def test_neutralise(value, expected):
    assert exports.neutralise(value) == expected


def test_json_is_versioned_and_anonymous(voted):
    response = download(voted.staff, voted.code, "json")
    document = json.loads(response.data)
    assert (document["format"], document["version"]) == ("workshop-event", 4)
    assert document["participants"] == 3
    assert {vote["participant"] for vote in document["votes"]} == {1, 2, 3}
    assert document["merge_ledger"] == [
        {"suggestion": 2, "participant": 1, "moved": 1, "before": 2, "after": 2},
        {"suggestion": 2, "participant": 2, "moved": 2, "before": 0, "after": 2},
    ]
    merged = next(card for card in document["suggestions"] if card["merged_into"])
    assert (merged["title"], merged["merged_into"]) == ("Sprachcafé am Abend", 1)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_exports_hold_no_tokens(voted, fmt):
    content = download(voted.staff, voted.code, fmt).data
    if fmt == "xlsx":  # a zip archive: look inside every part
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            content = b"".join(archive.read(name) for name in archive.namelist())
    for person in voted.people:
        assert person.token.encode() not in content
    assert b"token" not in content.lower()


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("csv", "text/csv"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("json", "application/json"),
    ],
)
def test_download_is_an_attachment_named_after_the_event(staff, make_event, fmt, media_type):
    code = make_event()["code"]
    response = download(staff, code, fmt)
    assert response.mimetype == media_type
    today = date.today().isoformat()
    assert response.headers["Content-Disposition"] == f"attachment; filename=plenum-{today}.{fmt}"
    assert "no-store" in response.headers["Cache-Control"]


def test_unknown_format_is_a_json_error(staff, make_event):
    code = make_event()["code"]
    response = staff.get(f"/events/{code}/export?format=docx")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["field"] == "format"


@pytest.mark.parametrize(
    "path", ["/api/v1/events/{code}/export?format=csv", "/events/{code}/report"]
)
@pytest.mark.parametrize(
    ("caller", "status"), [("anonymous", 401), ("participant", 401), ("other", 403)]
)
def test_only_the_events_staff_may_export(app, make_staff, make_event, join, path, caller, status):
    code = make_event()["code"]
    headers = {}
    if caller == "participant":
        headers = {"Authorization": f"Bearer {join(code).token}"}
    elif caller == "other":
        headers = {"Authorization": f"Bearer {make_staff().token}"}
    response = app.test_client().get(path.format(code=code), headers=headers)
    assert response.status_code == status


def test_an_admin_may_export_any_event(make_staff, make_event):
    code = make_event()["code"]
    assert download(make_staff("admin"), code, "csv").status_code == 200


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("Bildung und Ausbildung", set(), "Bildung und Ausbildung"),
        # Shortened after a whole word, marked as shortened (issue 17: was cut mid-word,
        # "Willkommensstruktur und interku"); the sheet gives the full name in its first row.
        ("Willkommensstruktur und interkulturelle Öffnung", set(), "Willkommensstruktur und…"),
        (
            "Arbeit, Ausbildung, Qualifizierung und Anerkennung",
            set(),
            "Arbeit, Ausbildung…",
        ),
        (
            "Willkommensstruktur und Integration",
            {"willkommensstruktur und…"},
            "Willkommensstruktur und… (2)",
        ),
        ("Fragen: ja/nein?", set(), "Fragen- ja-nein-"),
        ("'Zitat'", set(), "Zitat"),
        ("Sprache", {"sprache"}, "Sprache (2)"),
        ("History", set(), "History (2)"),
        ("A" * 40, {"a" * 30 + "…"}, "A" * 26 + "… (2)"),
    ],
)
def test_sheet_names_are_valid_and_unique(name, taken, expected):
    result = exports.sheet_name(name, taken)
    assert result == expected
    assert len(result) <= 31
    assert result.casefold() in taken


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Plenum", "plenum"),
        ("Plenum Süd: Straße & Grün", "plenum-sued-strasse-gruen"),
        ("  Café  ", "cafe"),
        ("مقهى", ""),
        (
            "Plenum des Kommunalen Netzwerks für Integration und Migration",
            "plenum-des-kommunalen-netzwerks-fuer-integration",
        ),
    ],
)
def test_slug(title, expected):
    assert exports.slug(title) == expected


def test_export_queries_do_not_grow_with_the_cards(app, staff, make_event, submit):
    """Exports read the event in a fixed number of queries, never one per card."""
    code = make_event(areas=2)["code"]

    def queries(fmt: str) -> int:
        statements = []
        this_thread = threading.get_ident()

        def count(*_args):
            # Only this thread's statements: live tallies are flushed from background threads.
            if threading.get_ident() == this_thread:
                statements.append(1)

        with app.test_request_context():
            event = events.get_event(code)
            sa.event.listen(db.engine, "before_cursor_execute", count)
            try:
                exports.export(event, fmt)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    counts = []
    for batch in range(2):
        for number in range(5):
            submit(staff, code, f"Karte {batch}-{number}")
        counts.append([queries(fmt) for fmt in ("csv", "xlsx", "json")])
    assert counts[0] == counts[1]


def test_xlsx_and_json_carry_the_activity_log_without_staff_names(app, staff, make_event, submit):
    code = make_event(areas=1)["code"]
    card = submit(staff, code, "Sprachcafé")["id"]
    staff.patch(f"/events/{code}/suggestions/{card}", json={"status": "hidden"})
    workbook = load_workbook(io.BytesIO(staff.get(f"/events/{code}/export?format=xlsx").data))
    rows = list(workbook[workbook.sheetnames[-1]].iter_rows(values_only=True))
    document = staff.get(f"/events/{code}/export?format=json").json
    assert [entry["action"] for entry in document["audit"]][-2:] == ["card_created", "card_hidden"]
    assert {entry["by"] for entry in document["audit"]} == {1}
    assert rows[-1][1:4] == ("Moderation 1", "hat einen Vorschlag ausgeblendet", "Sprachcafé")
    assert "moderator" not in json.dumps(document) + repr(rows)  # the staff user names


# -- languages and translations ----------------------------------------------------------------


@pytest.fixture
def multilingual(app, staff, join, submit):
    return multilingual_event(app, staff, join, submit)


def csv_rows(api, code: str) -> list[list[str]]:
    content = download(api, code, "csv").data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content), delimiter=";"))


def test_csv_gives_each_cards_language_and_its_translation_into_the_default_language(
    staff, multilingual
):
    headers, *rows = csv_rows(staff, multilingual.code)
    assert headers[9:] == [
        "Sprache",
        "Titel (Deutsch)",
        "Beschreibung (Deutsch)",
        "Übersetzung",
        "Zusammengeführte Vorschläge (Deutsch)",
        "Herkunft",
        "Weitergeführt in",
        "Auf Papier",
    ]
    by_title = {row[2]: row for row in rows}
    assert by_title["مقهى لغوي للجيران"][9:] == [
        "Arabisch (ar)",
        "Sprachcafé für die Nachbarschaft",
        "Jeden Abend im Viertel",
        "Maschinelle Übersetzung",
        "",
        "",
        "",
        "",
    ]
    assert by_title["کلاس‌های زبان آلمانی برای سالمندان"][9:] == [
        "Persisch (fa)",
        CORRECTED["title"],
        CORRECTED["body"],
        "Von der Moderation korrigiert",
        "",
        "",
        "",
        "",
    ]
    # Written in the default language: no translation, its Arabic one stays in the JSON only;
    # its merged Arabic original is listed as written and in German.
    assert by_title["Mehr Kita-Plätze"][7] == "روضة أطفال أكثر"
    assert by_title["Mehr Kita-Plätze"][9:] == [
        "Deutsch (de)",
        "",
        "",
        "",
        "Mehr Kindergärten",
        "",
        "",
        "",
    ]
    # A card from before languages, and one whose translation was made from an older text.
    assert by_title["Alte Karte ohne Sprache"][9:] == [""] * 8
    assert by_title["More bike lanes"][9:] == ["Englisch (en)", *[""] * 7]


def test_csv_translation_headers_follow_the_callers_language(staff, multilingual):
    response = staff.get(
        f"/events/{multilingual.code}/export?format=csv", headers={"Accept-Language": "en"}
    )
    headers = next(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert headers[9:] == [
        "Language",
        "Title (German)",
        "Detail (German)",
        "Translation",
        "Merged originals (German)",
        "Came from",
        "Went on to",
        "From paper",
    ]


def values(row) -> list:
    """A spreadsheet row with empty cells as None, however they were written."""
    return [None if value == "" else value for value in row]


def test_xlsx_gives_languages_and_translations_on_area_and_merged_sheets(staff, multilingual):
    book = load_workbook(io.BytesIO(download(staff, multilingual.code, "xlsx").data))
    sheet = book["Sprache"]
    assert [cell.value for cell in sheet[2]][8:] == [
        "Sprache",
        "Titel (Deutsch)",
        "Beschreibung (Deutsch)",
        "Übersetzung",
        "Zusammengeführte Vorschläge (Deutsch)",
        "Herkunft",
        "Weitergeführt in",
        "Auf Papier",
    ]
    rows = {row[1]: values(row) for row in sheet.iter_rows(3, values_only=True)}
    assert rows["مقهى لغوي للجيران"][8:12] == [
        "Arabisch (ar)",
        "Sprachcafé für die Nachbarschaft",
        "Jeden Abend im Viertel",
        "Maschinelle Übersetzung",
    ]
    assert rows["کلاس‌های زبان آلمانی برای سالمندان"][11] == "Von der Moderation korrigiert"
    assert rows["Alte Karte ohne Sprache"][8:] == [None] * 8
    # The original reads right to left, its translation left to right.
    cells = {cell.value: cell for cell in sheet["B"][2:] + sheet["J"][2:]}
    assert cells["مقهى لغوي للجيران"].alignment.readingOrder == 2
    assert cells["Sprachcafé für die Nachbarschaft"].alignment.readingOrder == 0
    merged = book["Zusammengeführte Vorschläge"]
    assert [cell.value for cell in merged[1]][7:] == [
        "Sprache",
        "Ursprünglicher Titel (Deutsch)",
        "Ursprüngliche Beschreibung (Deutsch)",
        "Übersetzung",
    ]
    (row,) = merged.iter_rows(2, values_only=True)
    assert values(row)[2:4] == ["Mehr Kita-Plätze", "روضة أطفال أكثر"]
    assert values(row)[7:] == [
        "Arabisch (ar)",
        "Mehr Kindergärten",
        None,
        "Maschinelle Übersetzung",
    ]


def test_json_keeps_every_translation_and_whether_a_person_corrected_it(staff, multilingual):
    document = json.loads(download(staff, multilingual.code, "json").data)
    event = document["event"]
    assert event["default_language"] == "de"
    assert event["languages"] == ["de", "en", "ar", "fa", "uk", "ru"]
    assert event["board_languages"] == []
    assert event["translations"] == {
        code: {"question": question, "machine": False}
        for code, question in TEXTS["question"].items()
    }
    assert [area["translations"] for area in document["areas"]] == [
        {code: {"name": name, "machine": False} for code, name in TEXTS["area"].items()},
        {},
    ]
    cards = {card["title"]: card for card in document["suggestions"]}
    assert cards["مقهى لغوي للجيران"]["language"] == "ar"
    assert cards["مقهى لغوي للجيران"]["translations"] == {
        "de": {
            "title": "Sprachcafé für die Nachbarschaft",
            "body": "Jeden Abend im Viertel",
            "machine": True,
        },
        "en": {
            "title": "Language café for neighbours",
            "body": "Every evening in the neighbourhood",
            "machine": True,
        },
    }
    assert cards["کلاس‌های زبان آلمانی برای سالمندان"]["translations"] == {
        "de": {**CORRECTED, "machine": False}
    }
    assert cards["Mehr Kita-Plätze"]["translations"]["ar"]["machine"] is True
    assert cards["روضة أطفال أكثر"]["merged_into"] == cards["Mehr Kita-Plätze"]["id"]
    assert cards["روضة أطفال أكثر"]["translations"]["de"]["title"] == "Mehr Kindergärten"
    assert (
        cards["Alte Karte ohne Sprache"]["language"],
        cards["Alte Karte ohne Sprache"]["translations"],
    ) == (None, {})
    # A machine translation of an older text is left out: the engine makes a new one.
    assert cards["More bike lanes"]["translations"] == {}


def test_json_export_is_as_the_openapi_description_says(staff, multilingual):
    document = json.loads(download(staff, multilingual.code, "json").data)
    spec = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    schema = {"$ref": "#/components/schemas/EventFile", "components": spec["components"]}
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)


def test_files_are_built_in_another_thread_in_the_callers_context(voted, monkeypatch):
    # Under eventlet `offhub.run` hands the build to a real thread of its pool; here a thread
    # stands in for it: the file must come out in the caller's language all the same.
    threads: list[str] = []

    def in_a_thread(function, *args):
        result: list = []
        worker = threading.Thread(target=lambda: result.append(function(*args)))
        worker.start()
        worker.join(timeout=120)
        threads.append(worker.name)
        return result[0]

    monkeypatch.setattr(exports.offhub, "run", in_a_thread)
    for fmt in ("csv", "xlsx", "json"):
        assert download(voted.staff, voted.code, fmt).data
    text = download(voted.staff, voted.code, "csv").data.decode("utf-8-sig")
    assert text.startswith("Themenbereich;Platz;Titel")
    assert len(threads) == 4


# -- issue 17: withdrawn cards, the events' time zone, long area names --------------------------


@pytest.fixture
def withdrawn(app, staff, make_event, join, submit):
    """An event with one card its author withdrew after staff moved it (an activity log entry
    naming it) and one that stays."""
    event = make_event(areas=2)
    code, (first, second) = event["code"], [area["id"] for area in event["areas"]]
    person = join(code)
    kept = submit(person, code, "Mehr Sprachcafés", area_id=first)
    gone = submit(person, code, "Zurückgezogene Idee", area_id=first, body="Geheim")
    moved = staff.patch(f"/events/{code}/suggestions/{gone['id']}", json={"area_id": second})
    assert moved.status_code == 200, moved.json
    response = person.patch(
        f"/events/{code}/suggestions/{gone['id']}", json={"status": "withdrawn"}
    )
    assert response.status_code == 200, response.json
    return SimpleNamespace(code=code, kept=kept, gone=gone)


def test_withdrawn_cards_are_left_out_of_csv_and_xlsx(staff, withdrawn):
    csv_text = download(staff, withdrawn.code, "csv").data.decode("utf-8-sig")
    assert "Mehr Sprachcafés" in csv_text
    assert "Zurückgezogene Idee" not in csv_text and "Geheim" not in csv_text
    content = download(staff, withdrawn.code, "xlsx").data
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        every_part = b"".join(archive.read(name) for name in archive.namelist()).decode()
    assert "Mehr Sprachcafés" in every_part
    # Not on an area sheet, nor named by the activity log's entry about the move.
    assert "Zurückgezogene Idee" not in every_part and "Geheim" not in every_part
    book = load_workbook(io.BytesIO(content))
    summary = {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True)}
    assert summary["Abgegebene Vorschläge"] == 1


def test_the_json_backup_keeps_withdrawn_cards(staff, withdrawn):
    document = json.loads(download(staff, withdrawn.code, "json").data)
    statuses = {card["title"]: card["status"] for card in document["suggestions"]}
    assert statuses == {"Mehr Sprachcafés": "visible", "Zurückgezogene Idee": "withdrawn"}


def test_the_report_leaves_withdrawn_cards_out(staff, withdrawn):
    page = staff.client.get(
        f"/events/{withdrawn.code}/report",
        headers={"Authorization": f"Bearer {staff.token}", "Accept-Language": "de"},
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Mehr Sprachcafés" in text and "Zurückgezogene Idee" not in text


def set_created(app, code: str, moment: datetime) -> None:
    """Date the event and its cards back to `moment` (stored as naive UTC)."""
    with app.app_context():
        event_id = db.session.scalar(sa.text("SELECT id FROM events WHERE code = :c"), {"c": code})
        for table in ("events", "suggestions"):
            column = "id" if table == "events" else "event_id"
            db.session.execute(
                sa.text(f"UPDATE {table} SET created_at = :at WHERE {column} = :id"),
                {"at": moment, "id": event_id},
            )
        db.session.commit()


def test_times_are_in_the_events_time_zone_and_utc_in_the_json(app, staff, make_event, submit):
    event = make_event(areas=1)
    code = event["code"]
    submit(staff, code, "Sprachcafé", area_id=event["areas"][0]["id"])
    set_created(app, code, datetime(2026, 6, 7, 22, 30))  # 00:30 the next day in Berlin (CEST)
    headers, row = csv_rows(staff, code)
    assert headers[8] == "Erstellt (Europe/Berlin)"
    assert row[8] == "2026-06-08 00:30"
    book = load_workbook(io.BytesIO(download(staff, code, "xlsx").data))
    sheet = book.worksheets[1]
    assert sheet["H2"].value == "Erstellt (Europe/Berlin)"
    assert sheet["H3"].value == datetime(2026, 6, 8, 0, 30)
    summary = {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True)}
    assert summary["Datum"] == "8. Juni 2026"
    assert "Exportiert (Europe/Berlin)" in summary
    response = download(staff, code, "json")
    assert response.headers["Content-Disposition"].endswith("plenum-2026-06-08.json")
    card = json.loads(response.data)["suggestions"][0]
    assert card["created_at"] == "2026-06-07T22:30:00Z"  # the backup keeps UTC


@pytest.mark.app_config(WORKSHOP_TIME_ZONE="America/New_York")
def test_the_time_zone_is_a_setting(app, staff, make_event, submit):
    code = make_event(areas=1)["code"]
    submit(staff, code, "Sprachcafé")
    set_created(app, code, datetime(2026, 1, 10, 12, 0))
    headers, row = csv_rows(staff, code)
    assert (headers[8], row[8]) == ("Erstellt (America/New_York)", "2026-01-10 07:00")


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "Europe/Berlin ", "../etc/passwd", ""])
def test_an_unknown_time_zone_stops_the_start_with_a_clear_message(tmp_path, name):
    with pytest.raises(config.SettingError, match=r"WORKSHOP_TIME_ZONE: .* is not a time zone"):
        create_app({"WORKSHOP_TIME_ZONE": name, "SECRET_KEY": "x", "TESTING": True})


def test_area_sheets_give_the_full_area_name_in_their_first_row(staff, submit):
    name = "Willkommensstruktur und interkulturelle Öffnung"
    response = staff.post("/events", json={"title": "Plenum", "areas": [name, "Bildung"]})
    code, area = response.json["code"], response.json["areas"][0]
    submit(staff, code, "Sprachcafé", area_id=area["id"])
    book = load_workbook(io.BytesIO(download(staff, code, "xlsx").data))
    sheet = book["Willkommensstruktur und…"]
    assert sheet["A1"].value == name
    assert sheet["A1"].font.bold
    assert sheet["B3"].value == "Sprachcafé"


def test_the_server_refuses_to_start_with_an_unknown_time_zone(tmp_path):
    """One line that names the setting, exit status 2, no traceback."""
    env = {
        **os.environ,
        "WORKSHOP_TIME_ZONE": "Europe/Berln",
        "WORKSHOP_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "WORKSHOP_SECRET_KEY": "x",
    }
    done = subprocess.run(
        [sys.executable, "run.py"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "workshop: WORKSHOP_TIME_ZONE: 'Europe/Berln' is not a time zone; give an IANA name"
        " such as 'Europe/Berlin'"
    )
