"""Public results at the phone's link: the API's `mine` (what became of a phone's own cards) and
the server-rendered results page that /j/<code> shows in the results phase (issue 18)."""

from __future__ import annotations

import pytest


@pytest.fixture
def ended(make_event, staff, join, submit):
    """An event in `results`: phone `me` filed four cards (one ranked, one merged into another
    phone's card, one hidden, one without dots), phone `other` filed one."""
    event = make_event(areas=2, vote_budget=10, max_dots_per_suggestion=5)
    code, area = event["code"], event["areas"][0]["id"]
    staff.patch(f"/events/{code}", json={"phase": "collect"})
    me, other = join(code), join(code)
    ranked = submit(me, code, "Mine ranked", area_id=area)
    merged = submit(me, code, "Mine merged", area_id=area)
    hidden = submit(me, code, "Mine hidden", area_id=area)
    zero = submit(me, code, "Mine without dots", area_id=area)
    theirs = submit(other, code, "Theirs", area_id=area)
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    voter = join(code)
    for card, dots in ((ranked, 2), (merged, 1), (theirs, 3)):
        response = voter.put(f"/events/{code}/suggestions/{card['id']}/dots", json={"dots": dots})
        assert response.status_code == 200, response.json
    staff.post(f"/events/{code}/suggestions/{merged['id']}/merge", json={"into": theirs["id"]})
    staff.patch(f"/events/{code}/suggestions/{hidden['id']}", json={"status": "hidden"})
    staff.patch(f"/events/{code}", json={"phase": "results"})
    cards = {"ranked": ranked, "merged": merged, "hidden": hidden, "zero": zero, "theirs": theirs}
    return code, me, other, {name: card["id"] for name, card in cards.items()}


def test_mine_says_what_became_of_each_own_card(ended):
    code, me, _, ids = ended
    mine = me.get(f"/events/{code}/results").json["mine"]
    assert mine == [
        {"id": ids["ranked"], "status": "visible", "merged_into": None, "rank": 2, "dots": 2},
        # Merged: rank and dots of the card that carries it now (its dot moved there).
        {
            "id": ids["merged"],
            "status": "merged",
            "merged_into": ids["theirs"],
            "rank": 1,
            "dots": 4,
        },
        {"id": ids["hidden"], "status": "hidden", "merged_into": None, "rank": None, "dots": None},
        {"id": ids["zero"], "status": "visible", "merged_into": None, "rank": None, "dots": 0},
    ]


def test_another_phone_sees_only_its_own_cards(ended):
    code, _, other, ids = ended
    mine = other.get(f"/events/{code}/results").json["mine"]
    assert [(card["id"], card["rank"], card["dots"]) for card in mine] == [(ids["theirs"], 1, 4)]


def test_staff_and_anonymous_readers_get_no_mine(ended, staff, client):
    code = ended[0]
    assert "mine" not in staff.get(f"/events/{code}/results").json
    anonymous = client.get(f"/api/v1/events/{code}/results")
    assert anonymous.status_code == 200
    assert "mine" not in anonymous.json


def test_a_merge_of_a_merge_leads_to_the_last_card(make_event, staff, join, submit):
    code = make_event(areas=0, phase="collect")["code"]
    me = join(code)
    first, middle, last = (submit(me, code, title) for title in ("First", "Middle", "Last"))
    staff.patch(f"/events/{code}", json={"phase": "cluster"})
    staff.post(f"/events/{code}/suggestions/{first['id']}/merge", json={"into": middle["id"]})
    staff.post(f"/events/{code}/suggestions/{middle['id']}/merge", json={"into": last["id"]})
    staff.patch(f"/events/{code}", json={"phase": "results"})
    mine = me.get(f"/events/{code}/results").json["mine"]
    assert [card["merged_into"] for card in mine] == [last["id"], last["id"], None]
