"""Who may do what: staff routes, other moderators' events, admins, authors, results, CSRF."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def setup(make_event, staff, join, submit):
    """An event in `cluster` with a participant's cards `a`, `b` and a merged card `m`."""
    code = make_event()["code"]
    author = join(code)
    cards = {name: submit(author, code, f"Card {name}")["id"] for name in "abm"}
    staff.post(f"/events/{code}/suggestions/{cards['m']}/merge", json={"into": cards["b"]})
    staff.patch(f"/events/{code}", json={"phase": "cluster"})
    return code, cards, author


#: (method, path, body) of routes for the event's staff only; {code}, {a}, {b}, {m} are filled in.
STAFF_ROUTES = [
    ("patch", "/events/{code}", {"phase": "vote"}),
    ("patch", "/events/{code}", {"settings": {"vote_budget": 9}}),
    ("post", "/events/{code}/suggestions/{a}/merge", {"into": "{b}"}),
    ("post", "/events/{code}/suggestions/{m}/unmerge", None),
    ("patch", "/events/{code}/suggestions/{a}", {"status": "hidden"}),
    ("patch", "/events/{code}/suggestions/{m}", {"status": "visible"}),
]


def call(api, route, code, cards):
    method, path, body = route
    ids = {name: str(card_id) for name, card_id in cards.items()}
    if body and body.get("into"):
        body = {"into": cards[body["into"].strip("{}")]}
    return getattr(api, method)(path.format(code=code, **ids), json=body)


def snapshot(staff, code):
    return staff.get(f"/events/{code}").json, staff.get(f"/events/{code}/suggestions").json


#: What each kind of caller may get: not logged in as staff (401) or not allowed (403).
REFUSALS = {"anonymous": {401}, "participant": {401, 403}, "author": {401, 403}, "moderator": {403}}


@pytest.mark.parametrize("caller", REFUSALS)
@pytest.mark.parametrize("route", STAFF_ROUTES)
def test_staff_routes_refuse_others(setup, staff, join, make_staff, caller, route):
    code, cards, author = setup
    api = author if caller == "author" else make_staff() if caller == "moderator" else join(code)
    if caller == "anonymous":
        api.token = None
    before = snapshot(staff, code)
    response = call(api, route, code, cards)
    assert response.status_code in REFUSALS[caller]
    assert set(response.json["error"]) == {"code", "message"}
    assert snapshot(staff, code) == before


@pytest.mark.parametrize("route", STAFF_ROUTES)
def test_admins_manage_every_event(setup, make_staff, route):
    code, cards, _ = setup
    response = call(make_staff("admin"), route, code, cards)
    assert response.status_code == 200, response.json


def test_only_staff_create_events(join, make_event, client):
    participant = join(make_event()["code"])
    for api_response in (
        client.post("/api/v1/events", json={"title": "x"}),
        participant.post("/events", json={"title": "x"}),
    ):
        assert (api_response.status_code, api_response.json["error"]["code"]) == (
            401,
            "login_required",
        )


def test_other_moderators_see_the_public_view(setup, make_staff):
    code, cards, _ = setup
    other = make_staff()
    assert other.get(f"/events/{code}").json["counts_visible"] is True
    listed = [card["id"] for card in other.get(f"/events/{code}/suggestions").json["suggestions"]]
    assert listed == [cards["a"], cards["b"]]
    assert other.get(f"/events/{code}/results").status_code == 403


# A draft is hidden from participants (test_drafts.py).
@pytest.mark.parametrize("phase", ["collect", "cluster", "vote"])
def test_results_are_for_staff_until_the_results_phase(make_event, staff, join, client, phase):
    code = make_event()["code"]
    staff.patch(f"/events/{code}", json={"phase": phase})
    for response in (
        join(code).get(f"/events/{code}/results"),
        client.get(f"/api/v1/events/{code}/results"),
    ):
        assert (response.status_code, response.json["error"]["code"]) == (403, "results_not_public")
    assert staff.get(f"/events/{code}/results").status_code == 200


def test_results_are_public_in_the_results_phase(make_event, client):
    code = make_event(phase="results")["code"]
    assert client.get(f"/api/v1/events/{code}/results").json["event"]["phase"] == "results"


@pytest.mark.parametrize("status", ["visible", "hidden"])
def test_authors_cannot_approve_or_hide(make_event, staff, join, submit, status):
    code = make_event(moderation="pre")["code"]
    me = join(code)
    card = submit(me, code)
    response = me.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": status})
    assert (response.status_code, response.json["error"]["code"]) == (403, "forbidden")
    assert staff.get(f"/events/{code}/suggestions").json["suggestions"][0]["status"] == "pending"


def test_staff_do_not_withdraw_cards(make_event, staff, join, submit):
    code = make_event()["code"]
    card = submit(join(code), code)
    response = staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": "withdrawn"})
    assert response.status_code == 403


def test_a_participant_token_is_tied_to_its_event(make_event, join, submit):
    first, second = make_event()["code"], make_event()["code"]
    me = join(first)
    response = me.post(
        f"/events/{second}/suggestions", json={"client_id": "x", "title": "Wrong room"}
    )
    assert (response.status_code, response.json["error"]["code"]) == (401, "not_joined")


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def test_cookie_writes_need_the_csrf_token(app, make_event):
    code = make_event()["code"]
    browser = app.test_client()
    page = browser.get(f"/j/{code}")
    assert page.status_code == 200 and browser.get_cookie(f"workshop_{code}") is not None
    body = {"client_id": "from-browser", "title": "Via cookie"}
    refused = browser.post(f"/api/v1/events/{code}/suggestions", json=body)
    assert (refused.status_code, refused.json["error"]["code"]) == (400, "csrf_failed")
    token = CSRF_META.search(page.get_data(as_text=True)).group(1)
    accepted = browser.post(
        f"/api/v1/events/{code}/suggestions", json=body, headers={"X-CSRFToken": token}
    )
    assert (accepted.status_code, accepted.json["mine"]) == (201, True)


def test_a_wrong_csrf_token_is_refused(app, make_event, staff):
    code = make_event()["code"]
    browser = app.test_client()
    browser.get(f"/j/{code}")
    body = {"client_id": "x", "title": "Forged"}
    response = browser.post(
        f"/api/v1/events/{code}/suggestions", json=body, headers={"X-CSRFToken": "forged"}
    )
    assert (response.status_code, response.json["error"]["code"]) == (400, "csrf_failed")
    assert staff.get(f"/events/{code}/suggestions").json["suggestions"] == []
