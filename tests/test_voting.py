"""Dot voting: absolute and idempotent dots, budget and cap, visibility of totals, results."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from helpers import vote_at_once
from sqlalchemy.exc import IntegrityError

from workshop.db.models import Event
from workshop.domain.queries import competition_ranks
from workshop.extensions import db


@pytest.fixture
def voting(make_event, staff, join, submit):
    """An event in `vote` with three visible cards and one participant: (code, cards, voter)."""
    event = make_event()
    cards = [submit(staff, event["code"], f"Card {i}") for i in range(3)]
    staff.patch(f"/events/{event['code']}", json={"phase": "vote"})
    return event["code"], cards, join(event["code"])


def put_dots(api, code, card, dots):
    return api.put(f"/events/{code}/suggestions/{card['id']}/dots", json={"dots": dots})


def test_dots_are_set_not_added(voting):
    code, cards, me = voting
    for _ in range(2):
        response = put_dots(me, code, cards[0], 2)
        assert response.json == {"suggestion_id": cards[0]["id"], "dots": 2, "dots_left": 3}
    assert me.get(f"/events/{code}/me").json["dots"] == {str(cards[0]["id"]): 2}


def test_taking_dots_back_returns_them(voting):
    code, cards, me = voting
    put_dots(me, code, cards[0], 2)
    assert put_dots(me, code, cards[0], 0).json["dots_left"] == 5
    assert me.get(f"/events/{code}/me").json["dots"] == {}


def test_cap_per_card(voting):
    code, cards, me = voting
    response = put_dots(me, code, cards[0], 3)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "cap_exceeded"
    assert me.get(f"/events/{code}/me").json["dots_left"] == 5


def test_budget(voting):
    code, cards, me = voting
    put_dots(me, code, cards[0], 2)
    put_dots(me, code, cards[1], 2)
    response = put_dots(me, code, cards[2], 2)
    assert (response.status_code, response.json["error"]["code"]) == (409, "budget_exceeded")
    assert me.get(f"/events/{code}/me").json["dots_left"] == 1


def test_moving_dots_within_the_budget(voting):
    code, cards, me = voting
    put_dots(me, code, cards[0], 2)
    put_dots(me, code, cards[1], 2)
    assert put_dots(me, code, cards[1], 1).json["dots_left"] == 2
    assert put_dots(me, code, cards[2], 2).json["dots_left"] == 0


# A draft is hidden from participants (test_drafts.py).
@pytest.mark.parametrize("phase", ["collect", "cluster", "results"])
def test_voting_only_in_vote_phase(make_event, staff, join, submit, phase):
    event = make_event()
    card = submit(staff, event["code"])
    staff.patch(f"/events/{event['code']}", json={"phase": phase})
    response = put_dots(join(event["code"]), event["code"], card, 1)
    assert (response.status_code, response.json["error"]["code"]) == (409, "wrong_phase")


@pytest.mark.parametrize(
    ("change", "status"),
    [(None, "pending"), ({"status": "hidden"}, "hidden"), ({"status": "withdrawn"}, "withdrawn")],
)
def test_no_new_dots_on_cards_the_public_cannot_see(
    make_event, staff, join, submit, change, status
):
    code = make_event(moderation="pre")["code"]
    author = join(code)
    card = submit(author, code)
    if change:
        (staff if status == "hidden" else author).patch(
            f"/events/{code}/suggestions/{card['id']}", json=change
        )
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    response = put_dots(join(code), code, card, 1)
    assert (response.status_code, response.json["error"]["code"]) == (409, "not_votable")
    assert staff.get(f"/events/{code}/suggestions").json["suggestions"][0]["status"] == status


def test_dots_can_be_taken_back_from_a_hidden_card(voting, staff):
    code, cards, me = voting
    put_dots(me, code, cards[0], 2)
    staff.patch(f"/events/{code}/suggestions/{cards[0]['id']}", json={"status": "hidden"})
    assert put_dots(me, code, cards[0], 3).json["error"]["code"] == "not_votable"
    assert put_dots(me, code, cards[0], 1).json["dots_left"] == 4


def test_raising_the_budget_reaches_people_who_joined(voting, staff):
    code, _, me = voting
    staff.patch(f"/events/{code}", json={"settings": {"vote_budget": 8}})
    assert me.get(f"/events/{code}/me").json["dots_left"] == 8


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"vote_budget": 1}, "budget_below_spent"),
        ({"max_dots_per_suggestion": 1}, "cap_below_spent"),
    ],
)
def test_rules_cannot_drop_below_what_was_spent(voting, staff, settings, error):
    code, cards, me = voting
    put_dots(me, code, cards[0], 2)
    response = staff.patch(f"/events/{code}", json={"settings": settings})
    assert (response.status_code, response.json["error"]["code"]) == (409, error)
    assert staff.get(f"/events/{code}").json["settings"]["vote_budget"] == 5


@pytest.mark.parametrize(
    ("phase", "hide", "public_sees"),
    [
        ("cluster", True, True),
        ("vote", True, False),
        ("vote", False, True),
        ("results", True, True),
    ],
)
def test_totals_hidden_from_the_public_while_voting(
    make_event, staff, join, submit, client, phase, hide, public_sees
):
    code = make_event(hide_counts_while_voting=hide)["code"]
    submit(staff, code)
    staff.patch(f"/events/{code}", json={"phase": phase})
    assert client.get(f"/api/v1/events/{code}").json["counts_visible"] is public_sees
    card = join(code).get(f"/events/{code}/suggestions").json["suggestions"][0]
    assert (card["dots"] is not None) is public_sees
    assert staff.get(f"/events/{code}").json["counts_visible"] is True
    assert staff.get(f"/events/{code}/suggestions").json["suggestions"][0]["dots"] == 0


def test_staff_see_totals_while_voting(voting, staff):
    code, cards, me = voting
    put_dots(me, code, cards[1], 2)
    totals = {
        c["id"]: c["dots"] for c in staff.get(f"/events/{code}/suggestions").json["suggestions"]
    }
    assert totals == {cards[0]["id"]: 0, cards[1]["id"]: 2, cards[2]["id"]: 0}
    assert me.get(f"/events/{code}/suggestions").json["suggestions"][1]["my_dots"] == 2


@pytest.mark.parametrize(
    ("values", "ranks"),
    [
        ([], []),
        ([3], [1]),
        ([5, 3, 3, 1], [1, 2, 2, 4]),
        ([2, 2, 2], [1, 1, 1]),
        ([4, 4, 0], [1, 1, None]),
        ([2, 0, 0], [1, None, None]),
        ([0], [None]),
    ],
)
def test_competition_ranks(values, ranks):
    assert competition_ranks(values) == ranks


def test_results_rank_within_areas_with_an_unsorted_group(make_event, staff, join, submit):
    event = make_event(areas=1, vote_budget=10)
    code, area = event["code"], event["areas"][0]["id"]
    cards = [submit(staff, code, f"Card {i}", area_id=area) for i in range(4)]
    loose = submit(staff, code, "No area")
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    for card, dots in zip([*cards, loose], [2, 1, 1, 0, 1], strict=True):
        for voter in [join(code) for _ in range(dots)]:
            put_dots(voter, code, card, 1)
    staff.patch(f"/events/{code}", json={"phase": "results"})
    groups = join(code).get(f"/events/{code}/results").json["areas"]
    assert [(g["id"], [s["rank"] for s in g["suggestions"]]) for g in groups] == [
        (area, [1, 2, 2, None]),
        (None, [1]),
    ]
    assert groups[0]["suggestions"][0] == {
        "id": cards[0]["id"],
        "title": "Card 0",
        "dots": 2,
        "voters": 2,
        "rank": 1,
        "followed_up": [],
    }


def test_results_leave_out_hidden_and_merged_cards(voting, staff):
    code, cards, _ = voting
    staff.patch(f"/events/{code}/suggestions/{cards[0]['id']}", json={"status": "hidden"})
    staff.post(f"/events/{code}/suggestions/{cards[1]['id']}/merge", json={"into": cards[2]["id"]})
    ranked = staff.get(f"/events/{code}/results").json["areas"]
    assert [s["id"] for group in ranked for s in group["suggestions"]] == [cards[2]["id"]]


def test_budget_holds_under_concurrent_votes(app, make_event, staff, join, submit):
    event = make_event(areas=0)
    code = event["code"]
    cards = [submit(staff, code, f"Card {i}") for i in range(50)]
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    token = join(code).token
    statuses = vote_at_once(app, code, token, cards)
    assert sorted(statuses) == [200] * 5 + [409] * 45
    with app.app_context():
        used, votes = db.session.execute(
            sa.text("SELECT dots_used, (SELECT SUM(dots) FROM votes) FROM participants")
        ).one()
    assert used == votes == 5


def test_database_refuses_overspending(app, voting):
    with app.app_context(), pytest.raises(IntegrityError):
        db.session.execute(sa.text("UPDATE participants SET dots_used = dots_budget + 1"))
        db.session.commit()


def test_results_list_the_top_ten_overall_with_ties(make_event, staff, join, submit):
    code = make_event(areas=2, vote_budget=30, max_dots_per_suggestion=2)["code"]
    ids = [submit(staff, code, f"Card {i}")["id"] for i in range(13)]
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    me = join(code)
    for index, card in enumerate(ids[:11]):
        dots = 2 if index < 9 else 1  # nine cards share place 1, two share place 10
        me.put(f"/events/{code}/suggestions/{card}/dots", json={"dots": dots})
    top = staff.get(f"/events/{code}/results").json["top"]
    assert [item["rank"] for item in top] == [1] * 9 + [10, 10]
    assert {item["id"] for item in top} == set(ids[:11])


def test_a_vote_finds_a_new_event_under_a_remembered_code(app, make_event, staff, join, submit):
    """Votes remember an event's id by its code; a code that names another event since (the
    first deleted) is read again."""
    old, new = make_event(phase="vote")["code"], make_event(areas=0)["code"]
    card = submit(staff, new, "Card")
    staff.patch(f"/events/{new}", json={"phase": "vote"})
    voter = join(old)
    first = submit(staff, old, "First")
    response = voter.put(f"/events/{old}/suggestions/{first['id']}/dots", json={"dots": 1})
    assert response.status_code == 200
    assert staff.delete(f"/events/{old}").status_code == 204
    with app.app_context():
        db.session.execute(sa.update(Event).where(Event.code == new).values(code=old))
        db.session.commit()
    voter = join(old)
    response = voter.put(f"/events/{old}/suggestions/{card['id']}/dots", json={"dots": 1})
    assert response.status_code == 200, response.json
