"""Public results at the phone's link: the API's `mine` (what became of a phone's own cards) and
the server-rendered results page that /j/<code> shows in the results phase (issue 18)."""

from __future__ import annotations

import re

import pytest
from helpers import settle


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


def page(app, code, api=None):
    """/j/<code> as a browser sees it, with the phone's cookie where `api` is a phone."""
    browser = app.test_client()
    if api is not None:
        browser.set_cookie(f"workshop_{code}", api.token)
    return browser.get(f"/j/{code}", headers={"Accept-Language": "de"})


def test_the_link_shows_the_results_and_the_phones_own_cards(app, ended):
    code, me, _, _ = ended
    response = page(app, code, me)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="top-ten"' in html and 'id="per-area"' in html
    assert 'id="own-results"' in html
    assert "Mine merged" in html and "Mine hidden" in html  # its own cards, to its owner
    assert "participant.js" not in html  # no phone app, no script
    # The area's name is isolated (not escaped), so it keeps its place in a right-to-left sentence.
    assert 'Platz 2 in „<span lang="de" dir="auto">Area 1</span>“' in html


def test_anonymous_readers_see_no_hidden_card_and_join_nothing(app, ended):
    code = ended[0]
    html = page(app, code).get_data(as_text=True)
    assert "Theirs" in html and "Mine ranked" in html
    assert "Mine hidden" not in html and "Mine merged" not in html
    assert 'id="own-results"' not in html


@pytest.mark.parametrize("phase", ["collect", "vote"])
def test_other_phases_show_the_phone_app(app, make_event, staff, phase):
    code = make_event(phase=phase)["code"]
    html = page(app, code).get_data(as_text=True)
    assert "participant.js" in html and 'id="top-ten"' not in html


def test_the_setting_off_keeps_the_phone_app(app, ended):
    app.config["WORKSHOP_PUBLIC_RESULTS"] = False
    html = page(app, ended[0]).get_data(as_text=True)
    assert "participant.js" in html and 'id="top-ten"' not in html


def test_a_card_carried_on_says_it_goes_on_in_a_working_group(app, ended, staff):
    """A card staff took into a follow-up event says so on the public page, without the
    follow-up's code (it may still be a draft)."""
    code, _, _, ids = ended
    response = staff.post(
        f"/events/{code}/follow-up", json={"title": "AG", "suggestions": [ids["theirs"]]}
    )
    assert response.status_code == 201, response.json
    html = page(app, code).get_data(as_text=True)
    carried = re.search(rf'<li data-id="{ids["theirs"]}">.*?</li>', html, flags=re.S)
    assert carried and "Geht weiter in einer Arbeitsgruppe" in carried.group(0)
    assert html.count("Geht weiter in einer Arbeitsgruppe") == 2  # top ten and its area
    assert response.json["code"] not in html


def test_a_working_group_is_named_once_it_is_open(app, ended, staff):
    code, _, _, ids = ended
    new = staff.post(
        f"/events/{code}/follow-up", json={"title": "AG Begegnung", "suggestions": [ids["theirs"]]}
    ).json
    assert "AG Begegnung" not in page(app, code).get_data(as_text=True)
    assert staff.patch(f"/events/{new['code']}", json={"phase": "collect"}).status_code == 200
    html = page(app, code).get_data(as_text=True)
    assert (
        html.count('Geht weiter in der Arbeitsgruppe „<span dir="auto">AG Begegnung</span>“') == 2
    )


def test_phones_share_one_reading_of_the_results_until_something_changes(
    app, ended, staff, join, monkeypatch
):
    """120 phones reloading at once cost one snapshot and one ranking, not 120; their own
    cards stay their own, and a change shows at once."""
    from workshop.domain import queries
    from workshop.results import exports

    code, me, other, ids = ended
    settle(app)  # the last figures sent are a change too
    made = {"snapshots": 0, "results": 0}
    snapshot, results = exports.snapshot, queries.results

    def counted(name, function):
        def wrapper(*args, **kwargs):
            made[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(exports, "snapshot", counted("snapshots", snapshot))
    monkeypatch.setattr(queries, "results", counted("results", results))
    for _ in range(3):
        mine = page(app, code, me).get_data(as_text=True)
        theirs = page(app, code, other).get_data(as_text=True)
        assert me.get(f"/events/{code}/results").json["mine"][0]["id"] == ids["ranked"]
        assert other.get(f"/events/{code}/results").json["mine"][0]["id"] == ids["theirs"]
    assert made == {"snapshots": 1, "results": 1}
    assert "Mine hidden" in mine and "Mine hidden" not in theirs
    edit = {"title": "Theirs, edited"}
    assert staff.patch(f"/events/{code}/suggestions/{ids['theirs']}", json=edit).status_code == 200
    settle(app)
    assert "Theirs, edited" in page(app, code).get_data(as_text=True)
    listed = [card["title"] for card in other.get(f"/events/{code}/results").json["top"]]
    assert "Theirs, edited" in listed
    assert made == {"snapshots": 2, "results": 2}
    # Each language is its own page, made from the same snapshot.
    english = app.test_client().get(f"/j/{code}", headers={"Accept-Language": "en"})
    assert "Top 10 overall" in english.get_data(as_text=True) and made["snapshots"] == 2
