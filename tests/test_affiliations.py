"""Who supports what (issue 18): the event's list of affiliations, a participant's one answer,
the small-cell rule and the tables in every export."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from helpers import settle

from workshop.domain.affiliations import MIN_CELL_PEOPLE, SMALL_CELL, shown
from workshop.extensions import db

GROUPS = ["Verwaltung", "Verein oder Initiative", "Bildung"]


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


def test_the_migration_goes_down_and_up_keeping_the_answers(app, join, listed):
    me = join(listed)
    answer(me, listed, "Bildung")
    settle(app)  # no flush of figures may read the tables while they change
    with app.app_context():
        downgrade(revision="a4c2e7d91f05")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("participants")}
        assert "affiliation" not in columns
        upgrade()
        db.session.remove()
    assert me.get(f"/events/{listed}/me").json["affiliation_answered"] is False
