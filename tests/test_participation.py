"""Who counts as a participant (queries.COUNTED): a device that filed a card or gave a dot, never
one that merely opened the page, never a staff test device; and the dots not spent yet."""

from __future__ import annotations

import re

import pytest
from conftest import Api
from flask_migrate import downgrade, upgrade
from helpers import settle, wait_for

from workshop.extensions import db


def figures(sio) -> list[dict]:
    """The live figures a socket client got, in order (they travel in `dots` messages)."""
    return [
        message["args"][0]["data"]["counts"]
        for message in list(sio.queue)
        if message["name"] == "change"
        and message["args"][0]["type"] == "dots"
        and "counts" in message["args"][0]["data"]
    ]


def counts(staff: Api, code: str) -> dict:
    return staff.get(f"/events/{code}").json["counts"]


def vote(api: Api, code: str, card_id: int, dots: int) -> None:
    response = api.put(f"/events/{code}/suggestions/{card_id}/dots", json={"dots": dots})
    assert response.status_code == 200, response.json


@pytest.fixture
def voting(make_event, staff):
    """An event in `vote` with one staff card to give dots to; its code and the card's id."""
    code = make_event(areas=1, vote_budget=5)["code"]
    card = staff.post(f"/events/{code}/suggestions", json={"client_id": "c1", "title": "Idea"})
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    return code, card.json["id"]


def test_opening_the_page_makes_nobody_a_participant(make_event, staff, join, client):
    code = make_event()["code"]
    join(code)
    assert client.get(f"/j/{code}").status_code == 200
    assert counts(staff, code) == {
        "participants": 0,
        "suggestions": 0,
        "dots": 0,
        "voted": 0,
        "not_voted": 0,
        "dots_unspent": 0,
    }


def test_filing_a_card_counts_and_not_voted_is_who_filed_but_gave_no_dot(
    make_event, staff, join, submit
):
    code = make_event(vote_budget=5)["code"]
    filer, voter, _looker = join(code), join(code), join(code)
    card = submit(filer, code)
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    vote(voter, code, card["id"], 2)
    figures = counts(staff, code)
    assert (figures["participants"], figures["voted"], figures["not_voted"]) == (2, 1, 1)
    # The filer's whole budget and the voter's three dots left; the looker's budget is no one's.
    assert (figures["dots"], figures["dots_unspent"]) == (2, 5 + 3)


def test_a_voter_who_takes_every_dot_back_still_counts(voting, staff, join):
    code, card_id = voting
    me = join(code)
    vote(me, code, card_id, 1)
    vote(me, code, card_id, 0)
    figures = counts(staff, code)
    assert (figures["participants"], figures["voted"], figures["not_voted"]) == (1, 0, 1)
    assert figures["dots_unspent"] == 5


def staff_test_phone(app, make_staff, code: str) -> Api:
    """A moderator's test phone: a browser logged in as staff opens the attendee page."""
    make_staff("moderator", username="tester")
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    form = {"username": "tester", "password": "password-123", "csrf_token": csrf}
    assert browser.post("/login", data=form).status_code == 302
    assert browser.get(f"/j/{code}").status_code == 200
    return Api(app.test_client(), browser.get_cookie(f"workshop_{code}").value)


def test_a_staff_test_phone_never_counts_but_its_cards_and_dots_do(
    make_event, staff, app, make_staff
):
    code = make_event()["code"]
    phone = staff_test_phone(app, make_staff, code)
    body = {"client_id": "t1", "title": "A test card"}
    card = phone.post(f"/events/{code}/suggestions", json=body).json
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    vote(phone, code, card["id"], 2)
    figures = counts(staff, code)
    assert (figures["participants"], figures["voted"], figures["dots_unspent"]) == (0, 0, 0)
    # `dots` stays the sum of the cards' totals.
    assert (figures["suggestions"], figures["dots"]) == (1, 2)


def test_a_staff_token_joining_through_the_api_is_a_participant(voting, staff, app):
    """Scripts (a rehearsal, a load test) join with whatever token they hold: only a browser's
    staff session marks a test phone."""
    code, card_id = voting
    token = staff.post(f"/events/{code}/participants").json["token"]
    vote(Api(app.test_client(), token), code, card_id, 1)
    assert counts(staff, code)["participants"] == 1


def test_the_figures_list_unspent_dots_for_staff_only(voting, staff, join):
    code, card_id = voting
    vote(join(code), code, card_id, 1)
    event = staff.get(f"/events/{code}").json
    assert event["figures"]["dots_unspent"] == event["counts"]["dots_unspent"] == 4
    public = Api(staff.client).get(f"/events/{code}")
    assert "dots_unspent" not in public.json["counts"]


def test_the_board_figure_stays_when_someone_opens_the_page_in_results(
    app, make_event, staff, join, submit, listen
):
    code = make_event()["code"]
    submit(join(code), code)
    staff.patch(f"/events/{code}", json={"phase": "results"})
    settle(app)
    board = listen(code)
    assert board.get_received() and figures(board) == []
    for _ in range(3):
        join(code)
    settle(app)
    assert figures(board) == []
    assert counts(staff, code)["participants"] == 1


def test_a_first_card_or_dot_sends_the_new_figures(app, make_event, staff, join, submit, listen):
    code = make_event()["code"]
    board = listen(code)
    phone = join(code)
    settle(app)
    assert figures(board) == []
    card = submit(phone, code)
    wait_for(lambda: figures(board)[-1:] == [{"participants": 1, "suggestions": 1, "dots": 0}])
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    vote(join(code), code, card["id"], 1)
    wait_for(lambda: figures(board)[-1:] == [{"participants": 2, "suggestions": 1, "dots": 1}])


def test_the_migration_keeps_counting_who_filed_or_voted(app, voting, staff, join, submit):
    """Events running when the server is upgraded: lookers stop counting, the others do not,
    and every vote and authorship survives (a rebuilt SQLite table would cascade them away)."""
    code, card_id = voting
    voter = join(code)
    vote(voter, code, card_id, 1)
    join(code)
    staff.patch(f"/events/{code}", json={"phase": "collect"})
    filer = join(code)
    card = submit(filer, code)
    settle(app)  # no flush of figures may read the tables while they change
    with app.app_context():
        downgrade(revision="3b7e51c0d9a2")
        upgrade()
        db.session.remove()
    figures = counts(staff, code)
    assert (figures["participants"], figures["voted"], figures["not_voted"]) == (2, 1, 1)
    assert voter.get(f"/events/{code}/me").json["dots"] == {str(card_id): 1}
    assert filer.get(f"/events/{code}/me").json["suggestions"] == [card["id"]]
