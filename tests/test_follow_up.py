"""Follow-up events (domain/followup.py): chosen cards of one event go on to a new one with their
texts, language and translations, no dots, and a trail both ways that exports keep."""

from __future__ import annotations

import json
import re

import pytest
from flask_migrate import downgrade, upgrade
from helpers import settle
from multilingual import multilingual_event
from test_import import comparable, export_json

from workshop.extensions import db


def import_file(runner, path) -> str:
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    return re.search(r"as event (\w+)", result.output).group(1)


def follow_up(api, code: str, ids: list, **fields):
    return api.post(
        f"/events/{code}/follow-up", json={"title": "Arbeitsgruppe", "suggestions": ids, **fields}
    )


def cards_of(api, code: str) -> dict[int, dict]:
    return {card["id"]: card for card in api.get(f"/events/{code}/suggestions").json["suggestions"]}


@pytest.fixture
def plenum(app, staff, join, submit):
    """The multilingual event of tests/multilingual.py, voted and in its results."""
    return multilingual_event(app, staff, join, submit)


def test_the_chosen_cards_go_on_with_texts_language_and_translations_but_no_dots(staff, plenum):
    chosen = [plenum.ids["cafe"], plenum.ids["kurs"]]
    response = follow_up(staff, plenum.code, chosen)
    assert response.status_code == 201, response.json
    event = response.json
    assert (event["phase"], event["title"]) == ("draft", "Arbeitsgruppe")
    # Only the area the chosen cards use comes along, with its name.
    assert [area["name"] for area in event["areas"]] == ["Sprache"]
    source = cards_of(staff, plenum.code)
    copies = list(cards_of(staff, event["code"]).values())
    assert [card["origin"] for card in copies] == [
        {"event": plenum.code, "suggestion": card_id} for card_id in chosen
    ]
    for made, card_id in zip(copies, chosen, strict=True):
        original = source[card_id]
        for field in ("title", "body", "language", "translations"):
            assert made[field] == original[field], field
        assert made["dots"] == 0 and made["status"] == "visible"
        assert made["area_id"] == event["areas"][0]["id"]
        # The source card knows where it went on to.
        assert original["followed_up"] == [{"event": event["code"], "suggestion": made["id"]}]
        assert original["origin"] is None and made["followed_up"] == []


def test_the_results_show_the_forward_trail(staff, plenum):
    new = follow_up(staff, plenum.code, [plenum.ids["cafe"]]).json
    results = staff.get(f"/events/{plenum.code}/results").json
    items = [card for area in results["areas"] for card in area["suggestions"]]
    trail = {card["id"]: card["followed_up"] for card in [*items, *results["top"]]}
    copy_id = next(iter(cards_of(staff, new["code"])))
    assert trail[plenum.ids["cafe"]] == [{"event": new["code"], "suggestion": copy_id}]
    assert trail[plenum.ids["kurs"]] == []


def test_cards_without_an_area_take_all_areas_along(staff, make_event, submit):
    code = make_event(areas=3)["code"]
    card = submit(staff, code, "Ohne Bereich")
    event = follow_up(staff, code, [card["id"]]).json
    assert [area["name"] for area in event["areas"]] == ["Area 1", "Area 2", "Area 3"]


def test_the_follow_up_belongs_to_the_caller_and_only_staff_of_the_source_may_make_one(
    staff, make_staff, make_event, join, submit
):
    code = make_event(areas=1)["code"]
    phone = join(code)
    card = submit(phone, code, "Idee")
    assert follow_up(phone, code, [card["id"]]).status_code == 401
    other = make_staff("moderator")
    refused = follow_up(other, code, [card["id"]])
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    admin = make_staff("admin")
    made = follow_up(admin, code, [card["id"]])
    assert made.status_code == 201
    # The admin owns the new event; the source's moderator does not manage it.
    assert staff.get(f"/events/{made.json['code']}").status_code == 404
    assert admin.get(f"/events/{made.json['code']}").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"title": "AG", "suggestions": []},
        {"title": "AG", "suggestions": ["1"]},
        {"title": "AG", "suggestions": [True]},
        {"title": "", "suggestions": [1]},
        {"suggestions": [1]},
        {"title": "AG", "suggestions": [1], "extra": 1},
    ],
)
def test_malformed_requests_are_refused_as_json(staff, make_event, body):
    code = make_event(areas=1)["code"]
    response = staff.post(f"/events/{code}/follow-up", json=body)
    assert response.status_code == 400
    assert response.json["error"]["code"]


def test_cards_of_another_event_or_withdrawn_ones_are_not_found(
    staff, make_event, join, submit, app
):
    code, other = make_event(areas=1)["code"], make_event(areas=1)["code"]
    foreign = submit(staff, other, "Fremd")
    phone = join(code)
    withdrawn = submit(phone, code, "Zurückgezogen")
    url = f"/events/{code}/suggestions/{withdrawn['id']}"
    assert phone.patch(url, json={"status": "withdrawn"}).status_code == 200
    for ids in ([foreign["id"]], [withdrawn["id"]], [999999]):
        response = follow_up(staff, code, ids)
        assert response.status_code == 404, response.json
        assert response.json["error"]["code"] == "suggestion_not_found"
    assert follow_up(staff, "NOCODE", [1]).status_code == 404


def test_the_trail_survives_deleting_the_source(staff, plenum):
    new = follow_up(staff, plenum.code, [plenum.ids["kita"]]).json
    assert staff.delete(f"/events/{plenum.code}").status_code == 204
    (copy,) = cards_of(staff, new["code"]).values()
    assert copy["origin"] == {"event": plenum.code, "suggestion": plenum.ids["kita"]}


def test_both_json_exports_show_the_trail_and_an_import_keeps_the_origin(
    staff, make_staff, plenum, runner, tmp_path
):
    new = follow_up(staff, plenum.code, [plenum.ids["cafe"]]).json
    copy_id = next(iter(cards_of(staff, new["code"])))
    source = export_json(staff, plenum.code)
    (went_on,) = [card for card in source["suggestions"] if card["followed_up"]]
    assert went_on["title"] == "مقهى لغوي للجيران"
    assert went_on["followed_up"] == [{"event": new["code"], "suggestion": copy_id}]
    document = export_json(staff, new["code"])
    (card,) = document["suggestions"]
    assert card["origin"] == {"event": plenum.code, "suggestion": plenum.ids["cafe"]}
    path = tmp_path / "follow-up.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    code = import_file(runner, path)
    admin = make_staff("admin")
    assert comparable(export_json(admin, code)) == comparable(document)
    (imported,) = cards_of(admin, code).values()
    assert imported["origin"] == card["origin"]
    # The source's export, with its forward trail, comes in too (the trail is read, not kept).
    path.write_text(json.dumps(source), encoding="utf-8")
    import_file(runner, path)


def test_csv_and_xlsx_show_the_trail_both_ways(staff, plenum):
    from io import BytesIO

    from openpyxl import load_workbook

    new = follow_up(staff, plenum.code, [plenum.ids["cafe"]]).json
    copy_id = next(iter(cards_of(staff, new["code"])))
    forward, back = f"{new['code']} #{copy_id}", f"{plenum.code} #{plenum.ids['cafe']}"
    source_csv = staff.get(f"/events/{plenum.code}/export?format=csv").data.decode("utf-8-sig")
    assert forward in source_csv
    assert back in staff.get(f"/events/{new['code']}/export?format=csv").data.decode("utf-8-sig")
    data = staff.get(f"/events/{new['code']}/export?format=xlsx").data
    book = load_workbook(BytesIO(data))
    cells = {cell.value for sheet in book for row in sheet.iter_rows() for cell in row}
    assert back in cells
    data = staff.get(f"/events/{plenum.code}/export?format=xlsx").data
    book = load_workbook(BytesIO(data))
    assert forward in {cell.value for sheet in book for row in sheet.iter_rows() for cell in row}


def test_the_migration_keeps_every_card_vote_and_translation(app, staff, plenum):
    """Upgraded over a running event: the columns come without rebuilding the table (a rebuild
    cascades votes and translations away on SQLite)."""
    before = export_json(staff, plenum.code)
    settle(app)  # no flush of figures may read the tables while they change
    with app.app_context():
        downgrade(revision="6f1d2a8c4b93")
        upgrade()
        db.session.remove()
    after = export_json(staff, plenum.code)
    assert comparable(after) == comparable(before)
    assert after["votes"] and any(card["translations"] for card in after["suggestions"])
    assert all(card["origin"] is None for card in cards_of(staff, plenum.code).values())


def test_the_staff_page_makes_a_follow_up_from_ticked_cards(app, make_staff, make_event, submit):
    from test_moderator_pages import csrf_token, login

    anna = make_staff(username="anna")
    code = make_event(owner=anna, areas=1)["code"]
    ids = [submit(anna, code, f"<b>Karte {i}</b>")["id"] for i in range(3)]
    browser = app.test_client()
    assert login(browser, "anna").status_code == 302
    page = browser.get(f"/moderate/{code}/follow-up").get_data(as_text=True)
    assert "&lt;b&gt;Karte 0&lt;/b&gt;" in page and "<b>Karte" not in page
    token = csrf_token(browser, f"/moderate/{code}/follow-up")
    form = {"csrf_token": token, "title": "AG Sprache", "suggestions": [str(ids[0]), str(ids[2])]}
    response = browser.post(f"/moderate/{code}/follow-up", data=form)
    assert response.status_code == 302
    made = response.headers["Location"].rsplit("made=", 1)[1]
    assert [card["origin"]["suggestion"] for card in cards_of(anna, made).values()] == [
        ids[0],
        ids[2],
    ]
    shown = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/moderate/{made}" in shown and "AG Sprache" in shown
    # Nothing ticked: the page says why and makes nothing.
    refused = browser.post(
        f"/moderate/{code}/follow-up", data={"csrf_token": token, "title": "Leer"}
    )
    assert "made=" not in refused.headers["Location"]
    assert "Leer" not in browser.get(refused.headers["Location"]).get_data(as_text=True)


def test_files_of_version_2_without_the_trail_still_come_in(staff, plenum, runner, tmp_path):
    document = export_json(staff, plenum.code)
    assert document["version"] == 4
    document["version"] = 2
    # Version 4's fields (who supports what) are not in a version 2 file either.
    del document["participant_affiliations"], document["affiliation_tables"]
    del document["event"]["affiliations"]
    for card in document["suggestions"]:
        del card["origin"], card["followed_up"]
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    import_file(runner, path)


def test_participants_learn_no_code_of_a_draft_follow_up(staff, join, client, plenum):
    """While the follow-up event is a draft, readers other than its staff learn only that a
    card went on (no code they could not join, no title that may change); once it is open, its
    code and title; staff always see the code."""
    new = follow_up(staff, plenum.code, [plenum.ids["cafe"]], title="AG Sprache").json
    copy_id = next(iter(cards_of(staff, new["code"])))
    phone = join(plenum.code)

    def public_steps() -> list[list[dict]]:
        """The cafe card's trail in each public view: the card list and the results."""
        listed = cards_of(phone, plenum.code)[plenum.ids["cafe"]]
        results = [phone.get(f"/events/{plenum.code}/results").json]
        results.append(client.get(f"/api/v1/events/{plenum.code}/results").json)
        ranked = [
            card
            for data in results
            for card in [*data["top"], *(c for area in data["areas"] for c in area["suggestions"])]
            if card["id"] == plenum.ids["cafe"]
        ]
        return [listed["followed_up"], *(card["followed_up"] for card in ranked)]

    hidden = {"event": None, "suggestion": None, "title": None}
    assert all(steps == [hidden] for steps in public_steps())
    assert new["code"] not in phone.get(f"/events/{plenum.code}/suggestions").get_data(True)
    shown = {"event": new["code"], "suggestion": copy_id}
    assert cards_of(staff, plenum.code)[plenum.ids["cafe"]]["followed_up"] == [shown]
    staff_results = staff.get(f"/events/{plenum.code}/results").json
    assert [shown] in [card["followed_up"] for card in staff_results["top"]]

    assert staff.patch(f"/events/{new['code']}", json={"phase": "collect"}).status_code == 200
    # Its source's cards are sent again: every public view names it now.
    opened = {**shown, "title": "AG Sprache"}
    assert public_steps() == [[opened]] * 5
    assert staff.patch(f"/events/{new['code']}", json={"phase": "draft"}).status_code == 200
    assert all(steps == [hidden] for steps in public_steps())


def test_both_reports_show_the_trail(staff, plenum, tmp_path):
    """The source's PDF says where a card went on to; the follow-up's says on its first page
    which event it continues and, at each card, where it came from; once the source is deleted,
    by its code alone."""
    from test_report import pdf_page, pdf_text

    new = follow_up(staff, plenum.code, [plenum.ids["cafe"]], title="AG Sprache").json

    def read(code: str, page: int | None = None) -> str:
        response = staff.get(f"/events/{code}/export?format=pdf", headers={"Accept-Language": "de"})
        assert response.status_code == 200
        text = (
            pdf_page(response.data, tmp_path, page) if page else pdf_text(response.data, tmp_path)
        )
        return " ".join(text.split())

    assert f"Weitergeführt in AG Sprache ({new['code']})" in read(plenum.code)
    # The copy is ranked in no area yet: it is listed without dots, with its trail.
    came_from = f"Aus der Veranstaltung Plenum ({plenum.code}), Karte #{plenum.ids['cafe']}"
    assert came_from in read(new["code"])
    assert f"Diese Veranstaltung setzt Plenum ({plenum.code}) fort." in read(new["code"], 1)
    assert staff.delete(f"/events/{plenum.code}").status_code == 204
    text = read(new["code"])
    assert f"Aus der Veranstaltung {plenum.code}, Karte #{plenum.ids['cafe']}" in text
    assert f"Diese Veranstaltung setzt {plenum.code} fort." in text
