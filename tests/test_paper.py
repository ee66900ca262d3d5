"""The paper lane (domain/paper.py): the helper role, paper cards, and dots on behalf at the desk
with the phone's rules, audited."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.conftest import new_client_id
from tests.helpers import settle
from workshop.db.models import AuditEntry, Participant, SeatCode, Suggestion
from workshop.domain import accounts
from workshop.extensions import db
from workshop.results import importer


def paper_card(api, code, title="Paper card", **fields):
    body = {"client_id": new_client_id(), "title": title, **fields}
    return api.post(f"/events/{code}/paper/suggestions", json=body)


def seat_codes(owner, code, count=2) -> list[str]:
    response = owner.post(f"/events/{code}/seats", json={"count": count})
    return [seat["code"] for seat in response.json["seats"]]


def test_a_helper_is_a_role_admins_can_give(app, make_staff):
    with app.app_context():
        user = accounts.create_user("hanna", "password-123", "helper")
        assert user.is_helper and not user.is_admin


def test_helpers_file_paper_cards_that_belong_to_no_phone(app, staff, make_staff, make_event):
    helper = make_staff("helper")
    event = make_event(max_suggestions_per_participant=1)
    code, area = event["code"], event["areas"][1]["id"]
    for title in ("Eins", "Zwei"):
        response = paper_card(helper, code, title, area_id=area)
        assert response.status_code == 201, response.json
        assert response.json["from_paper"] is True and response.json["area_id"] == area
    # Staff see the mark; the cards count towards no participant's cap and make nobody one.
    cards = staff.get(f"/events/{code}/suggestions").json["suggestions"]
    assert [card["from_paper"] for card in cards] == [True, True]
    assert staff.get(f"/events/{code}").json["figures"]["participants"] == 0
    with app.app_context():
        rows = db.session.execute(sa.select(Suggestion.participant_id, Suggestion.from_paper))
        assert set(rows) == {(None, True)}


def test_paper_cards_follow_the_staff_phase_rule(staff, make_staff, make_event):
    helper = make_staff("helper")
    code = make_event(phase="vote")["code"]
    assert paper_card(helper, code).status_code == 201
    staff.patch(f"/events/{code}", json={"phase": "results"})
    response = paper_card(helper, code)
    assert response.status_code == 409 and response.json["error"]["code"] == "wrong_phase"


def test_a_helper_undoes_only_own_paper_cards(staff, make_staff, make_event, submit):
    helper, other = make_staff("helper"), make_staff("helper")
    code = make_event()["code"]
    card = paper_card(helper, code).json
    assert other.post(f"/events/{code}/paper/suggestions/{card['id']}/withdraw").status_code == 403
    typed = submit(staff, code)
    assert (
        helper.post(f"/events/{code}/paper/suggestions/{typed['id']}/withdraw").status_code == 403
    )
    response = helper.post(f"/events/{code}/paper/suggestions/{card['id']}/withdraw")
    assert response.status_code == 200 and response.json["status"] == "withdrawn"


def test_helpers_may_not_moderate_or_use_drafts(staff, make_staff, make_event, submit):
    helper = make_staff("helper")
    code = make_event()["code"]
    card = submit(staff, code)
    refused = helper.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": "hidden"})
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "helper_only"
    draft = make_event(phase="draft")["code"]
    assert paper_card(helper, draft).status_code == 404


def test_dots_at_the_desk_follow_the_phones_rules_and_are_audited(
    app, staff, make_staff, make_event, submit
):
    helper = make_staff("helper", username="desk")
    event = make_event(vote_budget=3, max_dots_per_suggestion=2, max_dots_per_area=2)
    code = event["code"]
    first, second = event["areas"][0]["id"], event["areas"][1]["id"]
    a = submit(staff, code, "A", area_id=first)
    b = submit(staff, code, "B", area_id=first)
    c = submit(staff, code, "C", area_id=second)
    seat = seat_codes(staff, code)[0]
    # Not while collecting.
    dots = lambda card, n, code_=seat: helper.put(  # noqa: E731
        f"/events/{code}/desk/suggestions/{card['id']}/dots", json={"seat_code": code_, "dots": n}
    )
    assert dots(a, 1).json["error"]["code"] == "wrong_phase"
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    view = helper.post(f"/events/{code}/desk/seat", json={"seat_code": seat.lower()}).json
    assert (view["dots_left"], view["dots_budget"]) == (3, 3)
    assert [card["title"] for card in view["suggestions"]] == ["A", "B", "C"]
    assert dots(a, 2).json == {"suggestion_id": a["id"], "dots": 2, "dots_left": 1}
    assert dots(a, 3).json["error"]["code"] == "cap_exceeded"
    assert dots(b, 1).json["error"]["code"] == "area_cap_reached"
    assert dots(c, 1).json["dots_left"] == 0
    assert dots(c, 2).json["error"]["code"] == "budget_exceeded"
    assert dots(a, 1).json["dots_left"] == 1
    view = helper.post(f"/events/{code}/desk/seat", json={"seat_code": seat}).json
    assert [card["dots_mine"] for card in view["suggestions"]] == [1, 0, 1]
    with app.app_context():
        seat_row = db.session.scalar(sa.select(SeatCode).where(SeatCode.used_at.is_not(None)))
        person = db.session.get(Participant, seat_row.participant_id)
        assert person.dots_used == 2
    entries = [
        entry
        for entry in staff.get(f"/events/{code}/audit").json["entries"]
        if entry["action"] == "dots_on_behalf"
    ]
    assert [(e["suggestion_id"], e["details"]["change"]) for e in entries] == [
        (a["id"], -1),
        (c["id"], 1),
        (a["id"], 2),
    ]
    assert {e["user"] for e in entries} == {"desk"}
    assert {e["details"]["participant"] for e in entries} == {person.id}
    # The raw seat code is nowhere in the log.
    with app.app_context():
        details = " ".join(db.session.scalars(sa.select(AuditEntry.details)))
        assert seat.replace("-", "") not in details.replace("-", "").upper()


def test_a_phone_that_joined_with_the_code_is_the_same_person(
    app, staff, make_staff, make_event, submit
):
    helper = make_staff("helper")
    code = make_event(vote_budget=2, seat_codes_required=True)["code"]
    card = submit(staff, code)
    seat = seat_codes(staff, code)[0]
    phone = app.test_client()
    joined = phone.post(f"/api/v1/events/{code}/participants", json={"seat_code": seat})
    assert joined.status_code == 201
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    helper.put(
        f"/events/{code}/desk/suggestions/{card['id']}/dots", json={"seat_code": seat, "dots": 2}
    )
    headers = {"Authorization": f"Bearer {joined.json['token']}"}
    assert phone.get(f"/api/v1/events/{code}/me", headers=headers).json["dots_left"] == 0


def test_wrong_seat_codes_get_a_clear_error_in_the_users_language(make_staff, make_event):
    helper = make_staff("helper")
    code = make_event()["code"]
    for typed in ("ABCDE-FGHJK", "nonsense", 12):
        response = helper.client.post(
            f"/api/v1/events/{code}/desk/seat",
            json={"seat_code": typed},
            headers={**helper._headers(), "Accept-Language": "de"},
        )
        assert response.status_code in (400, 403)
        if typed != 12:
            assert response.json["error"]["code"] == "seat_code_invalid"
            assert "ungültig" in response.json["error"]["message"]


def test_wrong_seat_codes_are_rate_limited(app, make_staff, make_event):
    app.config["WORKSHOP_RATELIMIT_CODE_LOOKUP"] = "3 per minute"
    helper = make_staff("helper")
    code = make_event()["code"]
    statuses = [
        helper.post(f"/events/{code}/desk/seat", json={"seat_code": "ABCDE-FGHJK"}).status_code
        for _ in range(5)
    ]
    assert statuses[:3] == [403, 403, 403] and statuses[-1] == 429


def test_a_helper_lands_on_the_open_events(app, staff, make_staff, make_event):
    make_staff("helper", username="hanna")
    open_event = make_event()
    draft = make_event(phase="draft")
    browser = app.test_client()
    from tests.test_route_permissions import login

    login(browser, "hanna")
    page = browser.get("/helper/").get_data(as_text=True)
    assert f"/helper/{open_event['code']}" in page and draft["code"] not in page
    assert browser.get(f"/helper/{open_event['code']}").status_code == 200
    assert browser.get("/moderate/").status_code == 403


def test_exports_and_the_report_mark_cards_from_paper(app, staff, make_staff, make_event, submit):
    helper = make_staff("helper")
    code = make_event()["code"]
    paper = paper_card(helper, code, "Vom Papier").json
    submit(staff, code, "Vom Telefon")
    document = staff.get(f"/events/{code}/export?format=json").json
    marks = {card["title"]: card["from_paper"] for card in document["suggestions"]}
    assert marks == {"Vom Papier": True, "Vom Telefon": False}
    response = staff.get(f"/events/{code}/export?format=csv", headers={"Accept-Language": "en"})
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    column = rows[0].index("From paper")
    assert {row[2]: row[column] for row in rows[1:]} == {"Vom Papier": "yes", "Vom Telefon": ""}
    english = {**staff._headers(), "Accept-Language": "en"}
    xlsx = staff.client.get(f"/api/v1/events/{code}/export?format=xlsx", headers=english)
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    rows = [row for sheet in book for row in sheet.iter_rows(values_only=True)]
    header = next(row for row in rows if "From paper" in row)
    column = header.index("From paper")
    assert any("Vom Papier" in row and row[column : column + 1] == ("yes",) for row in rows)
    report = staff.client.get(
        f"/events/{code}/report", headers={**staff._headers(), "Accept-Language": "en"}
    ).get_data(as_text=True)
    assert report.count("(from paper)") == 1
    # The mark survives an export and import (the CLI's importer).
    with app.app_context():
        made = importer.import_event(importer.parse_bytes(json.dumps(document).encode()))
        flags = db.session.scalars(
            sa.select(Suggestion.from_paper).where(Suggestion.event_id == made.id)
        )
        assert sorted(flags) == [False, True]
    assert paper["from_paper"]


def test_the_migration_goes_down_and_up_keeping_owners_and_cards(
    app, staff, make_staff, make_event
):
    helper = make_staff("helper", username="hanna")
    code = make_event()["code"]
    assert paper_card(helper, code).status_code == 201
    settle(app)  # no flush of figures may read the tables while they change
    with app.app_context():
        downgrade(revision="5d8b3e1f7a26")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("suggestions")}
        assert "from_paper" not in columns
        # The users' CHECK was edited in place: events keep their owners, cards their authors.
        owners = db.session.execute(sa.text("SELECT owner_id FROM events")).scalars().all()
        assert None not in owners
        hanna = db.session.execute(
            sa.text("SELECT role, active FROM users WHERE username = 'hanna'")
        ).one()
        assert tuple(hanna) == ("moderator", 0)
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(sa.text("UPDATE users SET role = 'helper' WHERE username = 'hanna'"))
        db.session.rollback()
        upgrade()
        db.session.remove()
        accounts.create_user("henrik", "password-123", "helper")
        authors = db.session.execute(sa.select(Suggestion.created_by_id)).scalars().all()
        assert None not in authors


def test_a_helper_adds_a_photo_to_paper_cards_only(staff, make_staff, make_event, submit):
    from tests.test_photos import jpeg_with_gps, upload

    helper = make_staff("helper")
    code = make_event()["code"]
    paper = paper_card(helper, code).json
    response = upload(helper, code, paper["id"], jpeg_with_gps())
    assert response.status_code == 200, response.json
    assert staff.get(f"/events/{code}/suggestions/{paper['id']}/photo").status_code == 200
    # A card typed on a phone or in the console is not the helper's to photograph …
    typed = submit(staff, code)
    assert upload(helper, code, typed["id"], jpeg_with_gps()).status_code == 403
    # … and looking at or removing photos stays with the event's staff.
    path = f"/events/{code}/suggestions/{paper['id']}/photo"
    for response in (helper.get(path), helper.delete(path)):
        assert response.status_code == 403 and response.json["error"]["code"] == "helper_only"
