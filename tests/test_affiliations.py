"""Who supports what (issue 18): the event's list of affiliations, a participant's one answer,
the small-cell rule and the tables in every export."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from helpers import settle
from openpyxl import load_workbook
from test_report import pdf_text

from workshop.db.models import Participant
from workshop.domain.affiliations import MIN_CELL_PEOPLE, SMALL_CELL, WITHHELD, shown
from workshop.extensions import db
from workshop.results.affiliations import tables

GROUPS = ["Verwaltung", "Verein oder Initiative", "Bildung"]
EN = {"Accept-Language": "en"}


@pytest.fixture
def listed(make_event):
    """An event in collect with three affiliations; returns its code."""
    return make_event(affiliations=GROUPS)["code"]


def answer(api, code, value):
    return api.put(f"/events/{code}/participants/me/affiliation", json={"affiliation": value})


def test_the_feature_is_off_by_default(make_event, join):
    code = make_event()["code"]
    event = join(code).get(f"/events/{code}").json
    assert event["settings"]["affiliations"] == []
    response = answer(join(code), code, None)
    assert (response.status_code, response.json["error"]["code"]) == (409, "affiliations_off")


def test_staff_set_the_list_trimmed_and_in_order(staff, listed):
    body = {"settings": {"affiliations": ["  Privatperson ", "Bildung"]}}
    response = staff.patch(f"/events/{listed}", json=body)
    assert response.status_code == 200
    assert response.json["settings"]["affiliations"] == ["Privatperson", "Bildung"]
    assert staff.get(f"/events/{listed}").json["settings"]["affiliations"] == [
        "Privatperson",
        "Bildung",
    ]


@pytest.mark.parametrize(
    "value",
    [
        "Verwaltung",
        ["Verwaltung", "verwaltung"],
        ["x" * 61],
        [""],
        [3],
        [f"Group {i}" for i in range(13)],
    ],
)
def test_a_bad_list_is_refused_in_the_users_language(client, staff, listed, value):
    response = client.patch(
        f"/api/v1/events/{listed}",
        json={"settings": {"affiliations": value}},
        headers={**staff._headers(), "Accept-Language": "de"},
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["field"] == "affiliations"
    assert "must" not in response.json["error"]["message"]


def test_a_participant_answers_once(join, listed):
    me = join(listed)
    before = me.get(f"/events/{listed}/me").json
    assert (before["affiliation"], before["affiliation_answered"]) == (None, False)
    response = answer(me, listed, "Bildung")
    assert response.status_code == 200
    assert (response.json["affiliation"], response.json["affiliation_answered"]) == (
        "Bildung",
        True,
    )
    again = answer(me, listed, "Verwaltung")
    assert (again.status_code, again.json["error"]["code"]) == (409, "affiliation_answered")
    assert me.get(f"/events/{listed}/me").json["affiliation"] == "Bildung"


def test_skipping_is_an_answer_too(join, listed):
    me = join(listed)
    response = answer(me, listed, None)
    assert (response.json["affiliation"], response.json["affiliation_answered"]) == (None, True)
    assert answer(me, listed, "Bildung").status_code == 409


def test_only_a_listed_answer_is_taken(join, listed):
    me = join(listed)
    response = answer(me, listed, "Something else")
    assert (response.status_code, response.json["error"]["field"]) == (400, "affiliation")
    assert answer(me, listed, "Bildung").status_code == 200


def test_answering_needs_a_participant(client, listed):
    response = client.put(
        f"/api/v1/events/{listed}/participants/me/affiliation", json={"affiliation": None}
    )
    assert response.status_code == 401


def test_a_chosen_entry_cannot_be_removed(staff, join, listed):
    answer(join(listed), listed, "Bildung")
    response = staff.patch(f"/events/{listed}", json={"settings": {"affiliations": ["Verwaltung"]}})
    assert (response.status_code, response.json["error"]["code"]) == (409, "affiliation_in_use")
    # Entries nobody chose may go, and new ones may come.
    keep = {"settings": {"affiliations": ["Bildung", "Privatperson"]}}
    assert staff.patch(f"/events/{listed}", json=keep).status_code == 200


def test_a_copy_of_the_event_keeps_the_list(staff, listed):
    copy = staff.post(f"/events/{listed}/duplicate")
    assert copy.status_code == 201, copy.json
    assert copy.json["settings"]["affiliations"] == GROUPS


@pytest.mark.parametrize(
    ("value", "people", "expected"),
    [(7, 4, SMALL_CELL), (7, 5, 7), (0, 0, SMALL_CELL), (12, 12, 12)],
)
def test_the_small_cell_rule(value, people, expected):
    assert MIN_CELL_PEOPLE == 5
    assert shown(value, people) == expected


def test_the_migration_goes_down_and_up(app, join, listed):
    me = join(listed)
    answer(me, listed, "Bildung")
    settle(app)  # no flush of figures may read the tables while they change
    with app.app_context():
        downgrade(revision="7d3b9e1c4a62")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("participants")}
        assert "affiliation" not in columns
        upgrade()
        db.session.remove()
    assert me.get(f"/events/{listed}/me").json["affiliation_answered"] is False


# -- the tables in the report and every export -----------------------------------------------


@pytest.fixture
def supported(staff, make_event, join, submit):
    """Area 1 holds two staff cards, X and Y. Five people of "Verwaltung" file a card each in
    area 1 and give X a dot; four of "Bildung" file in area 1 and give X and Y a dot; one skips
    the question and files in area 2. Returns (code, X's id, Y's id)."""
    event = make_event(areas=2, affiliations=GROUPS)
    code = event["code"]
    first, second = (area["id"] for area in event["areas"])
    x = submit(staff, code, "Card X", area_id=first)["id"]
    y = submit(staff, code, "Card Y", area_id=first)["id"]
    people = []
    for group, count in (("Verwaltung", 5), ("Bildung", 4), (None, 1)):
        for number in range(count):
            me = join(code)
            assert answer(me, code, group).status_code == 200
            area = first if group else second
            submit(me, code, f"{group} {number}", area_id=area)
            people.append((me, group))
    assert staff.patch(f"/events/{code}", json={"phase": "vote"}).status_code == 200
    for me, group in people:
        for card in (x,) if group == "Verwaltung" else (x, y) if group else ():
            put = me.put(f"/events/{code}/suggestions/{card}/dots", json={"dots": 1})
            assert put.status_code == 200, put.json
    assert staff.patch(f"/events/{code}", json={"phase": "results"}).status_code == 200
    return code, x, y


SMALL = SMALL_CELL
#: Columns: Verwaltung, Verein oder Initiative, Bildung, no answer.
CARDS_AREA_1 = [5, SMALL, SMALL, SMALL]
DOTS_AREA_1 = [5, SMALL, SMALL, SMALL]


def test_the_json_export_holds_the_tables_and_the_answers(staff, supported):
    code, _x, _y = supported
    document = staff.get(f"/events/{code}/export?format=json").json
    assert document["event"]["affiliations"] == GROUPS
    answers = document["participant_affiliations"]
    assert sorted(answers, key=str) == sorted(
        ["Verwaltung"] * 5 + ["Bildung"] * 4 + [None], key=str
    )
    tables = document["affiliation_tables"]
    assert tables["columns"] == [*GROUPS, None]
    assert tables["min_people"] == 5
    assert tables["cards"][0] == {"area": 1, "cells": CARDS_AREA_1}
    # Area 2: one person without an answer filed there.
    assert tables["cards"][1] == {"area": 2, "cells": [SMALL] * 4}
    assert tables["dots"][0] == {"area": 1, "cells": DOTS_AREA_1}
    groups = {row["suggestion"]: row["groups"] for row in tables["supporting_groups"]}
    # X: nine voters of two groups; Y: four voters, too few to say.
    assert sorted(groups.values(), key=str) == [2, SMALL]


def test_an_event_without_the_list_exports_no_tables(staff, make_event):
    code = make_event()["code"]
    document = staff.get(f"/events/{code}/export?format=json").json
    assert document["affiliation_tables"] is None
    assert "Who supports what" not in staff.get(f"/events/{code}/export?format=csv").data.decode()


def test_the_csv_appends_the_tables_after_the_cards(staff, supported):
    code, _x, _y = supported
    text = staff.get(f"/events/{code}/export?format=csv", headers=EN).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    start = rows.index(["Suggestions filed per area and affiliation"])
    assert rows[start + 1] == ["Area", *GROUPS, "No answer"]
    assert rows[start + 2] == ["Area 1", *map(str, CARDS_AREA_1)]
    dots = rows.index(["Dots given per area and affiliation"])
    assert rows[dots + 2] == ["Area 1", *map(str, DOTS_AREA_1)]
    per_card = rows.index(["Different groups that gave each suggestion dots"])
    assert rows[per_card + 1] == ["Area", "Rank", "Title", "Groups"]
    assert rows[per_card + 2] == ["Area 1", "1", "Card X", "2"]
    assert rows[per_card + 3] == ["Area 1", "2", "Card Y", SMALL]
    assert "fewer than 5 different people" in rows[-1][0]


def test_the_workbook_has_a_sheet_of_who_supports_what(staff, supported):
    code, _x, _y = supported
    book = load_workbook(
        io.BytesIO(staff.get(f"/events/{code}/export?format=xlsx", headers=EN).data)
    )
    sheet = book["Who supports what"]
    cells = [
        [cell for cell in row if cell is not None] for row in sheet.iter_rows(values_only=True)
    ]
    assert cells[0] == ["Suggestions filed per area and affiliation"]
    assert cells[1] == ["Area", *GROUPS, "No answer"]
    assert cells[2] == ["Area 1", *CARDS_AREA_1]
    assert ["Area 1", 1, "Card X", 2] in cells
    assert ["Area 1", 2, "Card Y", SMALL] in cells
    assert any("fewer than 5 different people" in str(row) for row in cells)


def test_the_report_shows_the_tables_and_says_why_cells_read_small(staff, supported, tmp_path):
    code, _x, _y = supported
    html = staff.client.get(
        f"/events/{code}/report", headers={"Authorization": f"Bearer {staff.token}", **EN}
    ).get_data(as_text=True)
    assert "Who supports what" in html and "Dots given per area and affiliation" in html
    pdf = staff.get(f"/events/{code}/export?format=pdf", headers=EN).data
    text = pdf_text(pdf, tmp_path)
    # pdftotext closes up "< 5" to "<5".
    text = text.replace("<5", SMALL_CELL)
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    assert "Suggestions filed per area and affiliation" in lines
    assert any(line.startswith("Area 1 5 < 5 < 5 < 5") for line in lines)
    assert any("Card X 2" in line for line in lines)
    assert "fewer than 5 different people" in " ".join(lines)


def test_an_import_carries_the_list_and_the_answers_over(
    make_staff, staff, supported, runner, tmp_path
):
    code, _x, _y = supported
    document = staff.get(f"/events/{code}/export?format=json").json
    path = tmp_path / "event.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    copy = re.search(r"as event (\w+)", result.output).group(1)
    again = make_staff("admin").get(f"/events/{copy}/export?format=json").json
    assert again["event"]["affiliations"] == GROUPS
    assert again["participant_affiliations"] == document["participant_affiliations"]
    # Cards filed on phones are not linked to their authors in the file: only dots carry over.
    assert again["affiliation_tables"]["dots"] == document["affiliation_tables"]["dots"]
    assert (
        again["affiliation_tables"]["supporting_groups"]
        == (document["affiliation_tables"]["supporting_groups"])
    )


def answered(app) -> int:
    """How many stored answers the database holds, over all events."""
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Participant).where(Participant.affiliation != "")
        )


def test_the_answers_go_with_the_event(app, staff, join, listed):
    answer(join(listed), listed, "Bildung")
    assert answered(app) == 1
    assert staff.delete(f"/events/{listed}").status_code == 204
    assert answered(app) == 0


def test_a_lone_small_cell_cannot_be_worked_out_from_the_areas_total():
    # Area 1: A from 5 people, B from 6, no answer from 2 (one "< 5": A, the smaller, is withheld).
    # Area 2: two small cells already protect each other.
    authors = [(1, p, "A") for p in range(5)] + [(1, p, "B") for p in range(5, 11)]
    authors += [(1, 11, None), (1, 12, None), (2, 13, "A"), (2, 14, "B")]
    result = tables(["A", "B"], [1, 2], authors, [], [])
    assert result.cards[1] == [WITHHELD, 6, SMALL_CELL]
    assert result.cards[2] == [SMALL_CELL, SMALL_CELL, SMALL_CELL]
