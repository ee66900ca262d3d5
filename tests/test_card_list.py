"""The shared card list (live/lists.py, domain/schemas.py `card_list`), the card limit per event
and the read budget per address."""

from __future__ import annotations

import gzip
import json

import brotli
import pytest
from conftest import Api
from test_rate_limits import assert_rate_limited

from workshop.db.models import CardTranslation, Event
from workshop.domain import schemas
from workshop.extensions import db
from workshop.live.lists import CardList, encoded_lists
from workshop.live.messages import PUBLIC, STAFF

#: Tallies go out with the write that changed them, not 100 ms later: a list read after a write
#: stays the same until the next write.
pytestmark = pytest.mark.app_config(WORKSHOP_DOTS_INTERVAL=0)


@pytest.fixture
def board(make_event, staff, join, submit):
    """An event with a phone's card, staff cards, a hidden, a merged and a translated card."""
    event = make_event()
    code = event["code"]
    phone = join(code)
    cards = [submit(phone, code, "Mine")] + [submit(staff, code, f"Card {i}") for i in range(4)]
    staff.patch(f"/events/{code}/suggestions/{cards[1]['id']}", json={"status": "hidden"})
    staff.post(f"/events/{code}/suggestions/{cards[2]['id']}/merge", json={"into": cards[3]["id"]})
    return code, phone, [card["id"] for card in cards]


def cards_of(api, code: str, headers: dict | None = None) -> list[dict]:
    """The list as `api` (an Api, or a bare test client: nobody) reads it."""
    api = api if isinstance(api, Api) else Api(api)
    response = api.get(f"/events/{code}/suggestions", headers=headers)
    assert response.status_code == 200
    assert "Accept-Encoding" in response.vary
    unpack = {"gzip": gzip.decompress, "br": brotli.decompress}.get(
        response.headers.get("Content-Encoding"), bytes
    )
    return json.loads(unpack(response.get_data()))["suggestions"]


def test_the_shared_list_is_the_json_of_list_json(app, client, board, staff):
    code = board[0]
    with app.app_context():
        event_id = db.session.scalar(db.select(Event.id).filter_by(code=code))
        db.session.add(
            CardTranslation(suggestion_id=board[2][3], language="en", title="T", source_hash="x")
        )
        db.session.commit()
    staff.patch(f"/events/{code}", json={"settings": {"hide_counts_while_voting": True}})
    for phase in ("collect", "vote"):  # totals public, then hidden from the public
        assert staff.patch(f"/events/{code}", json={"phase": phase}).status_code == 200
        with app.test_request_context():
            event = db.session.get(Event, event_id)
            for staff_view in (True, False):
                assert cards_of(staff if staff_view else client, code) == schemas.list_json(
                    event, staff=staff_view
                )


def public_list(app, code: str) -> CardList:
    with app.test_request_context():
        event = db.session.scalar(db.select(Event).filter_by(code=code))
        return schemas.card_list(event, PUBLIC)


def test_every_reader_gets_the_same_bytes_until_a_change(app, client, board, staff, submit):
    code = board[0]
    lists = encoded_lists(app)
    first = cards_of(client, code)
    builds, encoded = lists.builds, lists.encoded
    for encoding in ("identity", "gzip", "br", "identity"):
        assert cards_of(client, code, {"Accept-Encoding": encoding}) == first
    assert lists.builds == builds
    submit(staff, code, "New")
    assert [card["title"] for card in cards_of(client, code)][-1] == "New"
    # A new list, and only the new card encoded: the others' JSON is kept.
    assert lists.builds > builds and lists.encoded == encoded + 1


def test_a_change_that_leaves_the_cards_keeps_the_list(app, board, staff):
    code = board[0]
    before = public_list(app, code)
    assert staff.patch(f"/events/{code}", json={"title": "Renamed"}).status_code == 200
    after = public_list(app, code)
    assert after.seq > before.seq
    assert after.body is before.body and after.tag == before.tag


def test_a_reader_that_has_the_list_gets_304(app, client, board, staff, submit):
    code = board[0]
    path = f"/api/v1/events/{code}/suggestions"
    etag = client.get(path).headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    # Each coding is its own representation, with its own tag.
    assert client.get(path, headers={"Accept-Encoding": "gzip"}).headers["ETag"] != etag
    submit(staff, code, "New")
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_hidden_cards_never_reach_the_public_list(client, board, staff):
    code, _, ids = board
    public = {card["id"] for card in cards_of(client, code)}
    assert ids[1] not in public and ids[2] not in public
    staff.patch(f"/events/{code}/suggestions/{ids[0]}", json={"status": "hidden"})
    assert ids[0] not in {card["id"] for card in cards_of(client, code)}
    assert {ids[0], ids[1]} <= {card["id"] for card in cards_of(staff, code)}


def test_a_participant_sees_its_marks_on_the_shared_list(board, staff):
    code, phone, ids = board
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    assert (
        phone.put(f"/events/{code}/suggestions/{ids[4]}/dots", json={"dots": 2}).status_code == 200
    )
    marks = {card["id"]: (card["mine"], card["my_dots"]) for card in cards_of(phone, code)}
    assert marks == {ids[0]: (True, 0), ids[3]: (False, 0), ids[4]: (False, 2)}


def test_the_staff_list_follows_the_staff_room(app, board, staff):
    code, _, ids = board
    first = cards_of(staff, code)
    with app.test_request_context():
        event = db.session.scalar(db.select(Event).filter_by(code=code))
        assert schemas.card_list(event, STAFF).seq > 0
    staff.patch(f"/events/{code}/suggestions/{ids[1]}", json={"status": "visible"})
    again = {card["id"]: card["status"] for card in cards_of(staff, code)}
    assert len(again) == len(first) and again[ids[1]] == "visible"


# -- the card limit ------------------------------------------------------------------------------


@pytest.mark.app_config(WORKSHOP_MAX_CARDS_PER_EVENT=2)
def test_an_event_takes_a_limited_number_of_cards(make_event, join, submit, staff):
    code = make_event()["code"]
    phone = join(code)
    submit(phone, code, "One")
    submit(staff, code, "Two")
    body = {"client_id": "c-3", "title": "Three"}
    response = phone.post(f"/events/{code}/suggestions", json=body)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "event_full"
    assert "(2)" in response.json["error"]["message"]
    german = phone.client.post(
        f"/api/v1/events/{code}/suggestions",
        json=body,
        headers={**phone._headers(), "Accept-Language": "de"},
    )
    assert german.json["error"]["message"].startswith("Diese Veranstaltung")
    # Staff may still file (they type in paper cards, and are accountable in the audit log).
    submit(staff, code, "Three")


# -- the read budget -----------------------------------------------------------------------------


@pytest.mark.app_config(WORKSHOP_RATELIMIT_READS="2 per minute")
def test_expensive_reads_have_a_budget_per_address(client, make_event, staff):
    code = make_event()["code"]
    # Cheap reads do not count.
    for _ in range(3):
        assert client.get(f"/api/v1/events/{code}").status_code == 200
    for _ in range(2):
        assert client.get(f"/api/v1/events/{code}/suggestions").status_code == 200
    assert_rate_limited(client.get(f"/api/v1/events/{code}/suggestions"))
    # The budget is the address's, whoever asks.
    assert_rate_limited(staff.get(f"/events/{code}/audit"))
