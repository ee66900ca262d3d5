"""Balanced voting (`max_dots_per_area`): a cap on one participant's dots per area, checked
under the dot's write lock; the setting through the API, the settings form, exports and imports."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from helpers import settle, vote_at_once

from workshop.extensions import db

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@pytest.fixture
def balanced(make_event, staff, join, submit):
    """Voting with a cap of 2 per area: two cards in area 1, one in area 2, one without an area.
    Returns (code, cards by name, voter, areas)."""
    event = make_event(areas=2, vote_budget=6, max_dots_per_suggestion=2, max_dots_per_area=2)
    code = event["code"]
    first, second = (area["id"] for area in event["areas"])
    cards = {
        "a1": submit(staff, code, "A1", area_id=first),
        "a2": submit(staff, code, "A2", area_id=first),
        "b": submit(staff, code, "B", area_id=second),
        "none1": submit(staff, code, "No area 1"),
        "none2": submit(staff, code, "No area 2"),
    }
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    return code, cards, join(code), (first, second)


def put_dots(api, code, card, dots):
    return api.put(f"/events/{code}/suggestions/{card['id']}/dots", json={"dots": dots})


def test_the_area_cap_refuses_one_dot_more(balanced):
    code, cards, me, _ = balanced
    assert put_dots(me, code, cards["a1"], 1).status_code == 200
    assert put_dots(me, code, cards["a2"], 1).status_code == 200
    response = put_dots(me, code, cards["a2"], 2)
    assert (response.status_code, response.json["error"]["code"]) == (409, "area_cap_reached")
    assert me.get(f"/events/{code}/me").json["dots_left"] == 4


def test_the_refusal_speaks_the_users_language(balanced):
    code, cards, me, _ = balanced
    put_dots(me, code, cards["a1"], 2)
    response = me.client.put(
        f"/api/v1/events/{code}/suggestions/{cards['a2']['id']}/dots",
        json={"dots": 1},
        headers={**me._headers(), "Accept-Language": "de"},
    )
    assert response.json["error"]["code"] == "area_cap_reached"
    assert response.json["error"]["message"].startswith("Höchstens 2 deiner Punkte")


def test_another_area_is_still_open(balanced):
    code, cards, me, _ = balanced
    put_dots(me, code, cards["a1"], 2)
    assert put_dots(me, code, cards["b"], 2).json["dots_left"] == 2


def test_taking_a_dot_back_frees_it_for_the_area(balanced):
    code, cards, me, _ = balanced
    put_dots(me, code, cards["a1"], 2)
    assert put_dots(me, code, cards["a2"], 1).status_code == 409
    assert put_dots(me, code, cards["a1"], 1).status_code == 200
    assert put_dots(me, code, cards["a2"], 1).status_code == 200


def test_cards_without_an_area_count_as_one_group(balanced):
    code, cards, me, _ = balanced
    put_dots(me, code, cards["none1"], 2)
    assert put_dots(me, code, cards["none2"], 1).json["error"]["code"] == "area_cap_reached"
    assert put_dots(me, code, cards["b"], 1).status_code == 200


def test_each_participant_has_their_own_cap(balanced, join):
    code, cards, me, _ = balanced
    put_dots(me, code, cards["a1"], 2)
    assert put_dots(join(code), code, cards["a2"], 2).status_code == 200


def test_dots_on_a_card_moved_into_a_full_area_stay(balanced, staff):
    code, cards, me, (first, _second) = balanced
    put_dots(me, code, cards["a1"], 2)
    put_dots(me, code, cards["b"], 2)
    moved = staff.patch(f"/events/{code}/suggestions/{cards['b']['id']}", json={"area_id": first})
    assert moved.status_code == 200
    assert me.get(f"/events/{code}/me").json["dots"][str(cards["b"]["id"])] == 2
    assert put_dots(me, code, cards["a2"], 1).json["error"]["code"] == "area_cap_reached"
    assert put_dots(me, code, cards["b"], 1).status_code == 200


def test_no_limit_by_default(make_event, staff, join, submit):
    event = make_event(areas=1, vote_budget=10)
    assert event["settings"]["max_dots_per_area"] is None
    code, area = event["code"], event["areas"][0]["id"]
    cards = [submit(staff, code, f"Card {i}", area_id=area) for i in range(4)]
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    me = join(code)
    assert [put_dots(me, code, card, 2).status_code for card in cards] == [200] * 4


def test_the_cap_holds_under_concurrent_votes(app, make_event, staff, join, submit):
    event = make_event(areas=1, vote_budget=20, max_dots_per_area=3)
    code, area = event["code"], event["areas"][0]["id"]
    cards = [submit(staff, code, f"Card {i}", area_id=area) for i in range(20)]
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    statuses = vote_at_once(app, code, join(code).token, cards)
    assert sorted(statuses) == [200] * 3 + [409] * 17
    with app.app_context():
        used, votes = db.session.execute(
            sa.text("SELECT dots_used, (SELECT SUM(dots) FROM votes) FROM participants")
        ).one()
    assert used == votes == 3


@pytest.mark.parametrize("value", [101, -1, 1.5, "2", True, [2]])
def test_invalid_caps_are_refused(make_event, staff, value):
    code = make_event()["code"]
    response = staff.patch(f"/events/{code}", json={"settings": {"max_dots_per_area": value}})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert "max_dots_per_area" in json.dumps(response.json["error"])
    response = staff.post("/events", json={"title": "X", "settings": {"max_dots_per_area": value}})
    assert response.status_code == 400


def test_the_setting_round_trips_and_zero_turns_it_off(make_event, staff):
    event = make_event(max_dots_per_area=4)
    code = event["code"]
    assert event["settings"]["max_dots_per_area"] == 4
    assert staff.get(f"/events/{code}").json["settings"]["max_dots_per_area"] == 4
    response = staff.patch(f"/events/{code}", json={"settings": {"max_dots_per_area": 0}})
    assert response.json["settings"]["max_dots_per_area"] is None
    staff.patch(f"/events/{code}", json={"settings": {"max_dots_per_area": 100}})
    response = staff.patch(f"/events/{code}", json={"settings": {"max_dots_per_area": None}})
    assert response.json["settings"]["max_dots_per_area"] is None


def test_the_cap_cannot_drop_below_what_was_spent(balanced, staff):
    code, cards, me, _ = balanced
    put_dots(me, code, cards["a1"], 2)
    response = staff.patch(f"/events/{code}", json={"settings": {"max_dots_per_area": 1}})
    assert (response.status_code, response.json["error"]["code"]) == (409, "area_cap_below_spent")
    assert staff.get(f"/events/{code}").json["settings"]["max_dots_per_area"] == 2


def test_json_export_and_import_keep_the_cap(runner, make_staff, staff, balanced, tmp_path):
    code, cards, me, _ = balanced
    put_dots(me, code, cards["a1"], 2)
    document = json.loads(staff.get(f"/events/{code}/export?format=json").data)
    assert document["event"]["settings"]["max_dots_per_area"] == 2
    path = tmp_path / "event.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    copy = re.search(r"as event (\w+)", result.output).group(1)
    admin = make_staff("admin")
    admin_view = json.loads(admin.get(f"/events/{copy}/export?format=json").data)
    assert admin_view["event"]["settings"]["max_dots_per_area"] == 2


def test_an_import_with_a_bad_cap_is_refused(runner, staff, balanced, tmp_path):
    code = balanced[0]
    document = json.loads(staff.get(f"/events/{code}/export?format=json").data)
    document["event"]["settings"]["max_dots_per_area"] = 500
    path = tmp_path / "event.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code != 0
    assert "event.settings.max_dots_per_area" in result.output


def test_the_settings_form_sets_and_clears_the_cap(app, make_staff, make_event):
    owner = make_staff(username="mira")
    code = make_event(owner=owner)["code"]
    browser = app.test_client()
    token = CSRF.search(browser.get("/login").get_data(as_text=True)).group(1)
    form = {"username": "mira", "password": "password-123", "csrf_token": token}
    assert browser.post("/login", data=form).status_code == 302
    path = f"/moderate/{code}/settings"
    rules = {"part": "event", "title": "Plenum", "vote_budget": "5", "moderation": "post"}
    rules |= {"max_dots_per_suggestion": "2", "max_suggestions_per_participant": "10"}
    for typed, stored in (("3", 3), ("", None)):
        page = browser.get(path).get_data(as_text=True)
        assert 'id="max_dots_per_area"' in page
        token = CSRF.search(page).group(1)
        fields = {**rules, "default_language": "de", "max_dots_per_area": typed}
        assert browser.post(path, data={"csrf_token": token, **fields}).status_code == 302
        assert owner.get(f"/events/{code}").json["settings"]["max_dots_per_area"] == stored


def test_the_migration_goes_down_and_up_keeping_the_votes(app, balanced):
    code, cards, me, _ = balanced
    put_dots(me, code, cards["a1"], 2)
    settle(app)  # no flush of figures may read the tables while they change
    with app.app_context():
        downgrade(revision="6f1d2a8c4b93")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("events")}
        assert "max_dots_per_area" not in columns
        upgrade()
        db.session.remove()
    assert me.get(f"/events/{code}/me").json["dots"] == {str(cards["a1"]["id"]): 2}
