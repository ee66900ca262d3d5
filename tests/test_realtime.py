"""Live updates over Socket.IO: who may listen, snapshots, numbered changes and dot totals."""

from __future__ import annotations

import threading
import time

import pytest
from flask_socketio import ConnectionRefusedError
from helpers import wait_for

from workshop.domain import events, participants, schemas
from workshop.live.messages import PUBLIC
from workshop.live.publisher import EXTENSION, publisher, room
from workshop.live.snapshots import PublicStates
from workshop.web import sockets


def received(sio, name):
    """Everything of one kind the client got so far (the queue is read, not emptied)."""
    return [message["args"][0] for message in list(sio.queue) if message["name"] == name]


def settle(app) -> None:
    """Wait until no flush of tallies is waiting or running (on a busy machine it may come after
    a snapshot a test is about to compare)."""
    with app.app_context():
        live = publisher()
    wait_for(lambda: not live._scheduled)
    with live.bus._flush_lock:
        pass


def changes(sio, kind=None):
    """The changes of one kind, or all but the audit log (tested on its own, in test_audit.py).
    The live figures are left out of `dots` messages (see `figures`), and a `dots` message that
    carried nothing else is left out."""
    found = []
    for change in received(sio, "change"):
        if change["type"] == "dots":
            data = {key: value for key, value in change["data"].items() if key != "counts"}
            if not data:
                continue
            change = {**change, "data": data}
        if change["type"] == kind or (kind is None and change["type"] != "audit"):
            found.append(change)
    return found


def figures(sio):
    """The live figures, in the order they came (they travel in `dots` messages)."""
    return [
        c["data"]["counts"]
        for c in received(sio, "change")
        if c["type"] == "dots" and "counts" in c["data"]
    ]


def seqs(sio):
    """The numbers of all changes (figures included), counted from the first snapshot's."""
    start = received(sio, "snapshot")[0]["seq"]
    return [change["seq"] - start for change in received(sio, "change")]


def numbered_without_gaps(sio) -> bool:
    return seqs(sio) == list(range(1, len(seqs(sio)) + 1))


def totals_seen(sio):
    """The dot totals a client knows after applying snapshot, cards and dots messages in order."""
    totals = {card["id"]: card["dots"] for card in received(sio, "snapshot")[0]["suggestions"]}
    for change in changes(sio):
        if change["type"] == "suggestion":
            totals[change["data"]["id"]] = change["data"]["dots"]
        elif change["type"] == "dots":
            totals.update({int(key): value for key, value in change["data"]["totals"].items()})
    return totals


@pytest.fixture
def cards(make_event, staff, join, submit):
    """A pre-moderated event with a pending, a visible, a hidden and a merged card."""
    code = make_event(moderation="pre")["code"]
    me = join(code)
    ids = {
        name: submit(me, code, name)["id"] for name in ("pending", "visible", "hidden", "merged")
    }
    for name in ("visible", "merged"):
        staff.patch(f"/events/{code}/suggestions/{ids[name]}", json={"status": "visible"})
    staff.patch(f"/events/{code}/suggestions/{ids['hidden']}", json={"status": "hidden"})
    staff.post(f"/events/{code}/suggestions/{ids['merged']}/merge", json={"into": ids["visible"]})
    return code, ids, me


def test_board_snapshot_has_visible_cards_only(cards, listen):
    code, ids, _ = cards
    snapshot = received(listen(code), "snapshot")[0]
    assert [card["id"] for card in snapshot["suggestions"]] == [ids["visible"]]
    assert snapshot["suggestions"][0]["merged_from"] == [ids["merged"]]
    assert (snapshot["event"]["code"], "me" in snapshot) == (code, False)


def test_moderator_snapshot_has_every_card(cards, listen, staff):
    code, ids, _ = cards
    snapshot = received(listen(code, "moderator", staff.token), "snapshot")[0]
    statuses = {card["id"]: card["status"] for card in snapshot["suggestions"]}
    assert statuses == {ids[name]: name for name in ("pending", "visible", "hidden", "merged")}


def test_participant_snapshot_has_their_own_state(cards, listen):
    code, ids, me = cards
    snapshot = received(listen(code, "participant", me.token), "snapshot")[0]
    assert snapshot["me"]["suggestions"] == sorted(ids.values())
    assert snapshot["me"]["dots_left"] == 5


@pytest.mark.parametrize(
    "auth",
    [
        {"role": "moderator", "token": "<other moderator>"},
        {"role": "moderator", "token": "<participant>"},
        {"role": "moderator"},
        {"role": "participant", "token": 42},
        {"role": "participant"},
        {"role": "participant", "token": "not-joined"},
        {"role": "participant", "token": "\ud800"},
        {"role": "judge"},
        {"role": "board", "event": "NOCODE"},
        {"role": "board", "event": "\ud800"},
        {"role": "board", "event": None},
        {"role": "board", "event": "<code in a list>"},
    ],
)
def test_connection_refused(make_event, join, make_staff, listen, auth):
    code = make_event()["code"]
    fill = {
        "<other moderator>": make_staff().token,
        "<participant>": join(code).token,
        "<code in a list>": [code],
    }
    auth = {key: fill.get(value, value) for key, value in {"event": code, **auth}.items()}
    sio = listen(None, auth=auth)
    assert not sio.is_connected()
    assert received(sio, "snapshot") == []


@pytest.mark.parametrize(
    ("auth", "code"),
    [
        ({"event": "NOCODE"}, "event_not_found"),
        ({"role": "moderator"}, "forbidden"),
        ({}, "bad_request"),
    ],
)
def test_refusal_says_why(app, make_event, auth, code):
    auth = {"event": make_event()["code"], **auth} if auth else auth
    with app.test_request_context("/socket.io/"), pytest.raises(ConnectionRefusedError) as refused:
        sockets._identify(auth)
    assert refused.value.error_args["data"]["code"] == code
    assert refused.value.error_args["message"] == refused.value.error_args["data"]["message"]


def test_admin_may_listen_as_moderator(make_event, make_staff, listen):
    code = make_event()["code"]
    assert listen(code, "moderator", make_staff("admin").token).is_connected()


def test_changes_are_numbered_without_gaps(make_event, staff, join, submit, listen):
    code = make_event()["code"]
    board, moderator = listen(code), listen(code, "moderator", staff.token)
    card = submit(join(code), code)
    staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"title": "Edited"})
    staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": "hidden"})
    staff.patch(f"/events/{code}", json={"phase": "cluster"})
    for sio in (board, moderator):
        assert numbered_without_gaps(sio) and len(seqs(sio)) >= 4
    assert [change["type"] for change in changes(board)] == [
        "suggestion",
        "suggestion",
        "removed",
        "event",
    ]


def test_each_audience_sees_a_hidden_card_its_way(make_event, staff, join, submit, listen):
    code = make_event()["code"]
    card = submit(join(code), code)
    board, moderator = listen(code), listen(code, "moderator", staff.token)
    staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": "hidden"})
    assert [(c["type"], c["data"]) for c in changes(board)] == [("removed", {"id": card["id"]})]
    [change] = changes(moderator)
    assert (change["type"], change["data"]["id"], change["data"]["status"]) == (
        "suggestion",
        card["id"],
        "hidden",
    )


def test_pending_cards_reach_staff_only(make_event, staff, join, submit, listen):
    code = make_event(moderation="pre")["code"]
    board, moderator = listen(code), listen(code, "moderator", staff.token)
    card = submit(join(code), code, "<b>Pending</b>")
    assert changes(board, "suggestion") == []
    assert changes(moderator, "suggestion")[0]["data"]["status"] == "pending"
    staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": "visible"})
    assert changes(board, "suggestion")[0]["data"]["title"] == "<b>Pending</b>"


def test_merge_and_unmerge_messages(make_event, staff, submit, listen):
    code = make_event()["code"]
    a, b = submit(staff, code, "A")["id"], submit(staff, code, "B")["id"]
    board, moderator = listen(code), listen(code, "moderator", staff.token)

    def cards(client):
        # The figures' coalesced `dots` flush may come at any point in between.
        return [c for c in changes(client) if c["type"] != "dots"]

    staff.post(f"/events/{code}/suggestions/{a}/merge", json={"into": b})
    merged = cards(board)
    assert [(c["type"], c["data"]["id"]) for c in merged] == [("removed", a), ("suggestion", b)]
    assert merged[1]["data"]["merged_from"] == [a]
    assert [c["data"]["status"] for c in cards(moderator)] == ["merged", "visible"]
    staff.post(f"/events/{code}/suggestions/{a}/unmerge")
    assert [(c["type"], c["data"]["id"]) for c in cards(board)[2:]] == [
        ("suggestion", a),
        ("suggestion", b),
    ]


def test_phase_change_reaches_both_rooms(make_event, staff, listen):
    code = make_event()["code"]
    board, moderator = listen(code), listen(code, "moderator", staff.token)
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    [public], [private] = changes(board), changes(moderator)
    assert (public["type"], public["data"]["phase"], public["data"]["counts_visible"]) == (
        "event",
        "vote",
        False,
    )
    assert (private["type"], private["data"]["counts_visible"]) == ("event", True)


def test_resync_sends_a_snapshot_with_the_current_seq(app, make_event, staff, submit, listen):
    code = make_event()["code"]
    board = listen(code)
    cards = [submit(staff, code, f"Card {i}")["id"] for i in range(3)]
    settle(app)
    board.emit("resync")
    snapshots = received(board, "snapshot")
    assert [snapshot["seq"] for snapshot in snapshots] == [0, received(board, "change")[-1]["seq"]]
    assert [card["id"] for card in snapshots[1]["suggestions"]] == cards


def test_other_events_stay_quiet(make_event, staff, submit, listen):
    first, second = make_event()["code"], make_event()["code"]
    board = listen(first)
    submit(staff, second)
    staff.patch(f"/events/{second}", json={"phase": "cluster"})
    assert changes(board) == []


@pytest.fixture
def voting(make_event, staff, join, submit):
    """An event in `vote` (totals hidden from the public) with three cards and a voter."""
    code = make_event()["code"]
    ids = [submit(staff, code, f"Card {i}")["id"] for i in range(3)]
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    return code, ids, join(code)


def vote(api, code, card_id, dots):
    response = api.put(f"/events/{code}/suggestions/{card_id}/dots", json={"dots": dots})
    assert response.status_code == 200, response.json


def test_participant_snapshot_holds_what_the_api_says(voting, listen):
    """The snapshot reads the phone's own state in one statement (issue 19): the same as /me."""
    code, ids, me = voting
    vote(me, code, ids[0], 2)
    vote(me, code, ids[2], 1)
    snapshot = received(listen(code, "participant", me.token), "snapshot")[0]
    assert snapshot["me"] == me.get(f"/events/{code}/me").json
    assert snapshot["me"]["dots"] == {str(ids[0]): 2, str(ids[2]): 1}
    assert snapshot["me"]["dots_left"] == 2


def test_a_known_event_connects_in_one_transaction(app, voting, listen, monkeypatch):
    """Once an event's id is remembered, a phone's connection reads the room's seq first and
    everything else in one transaction: the snapshot carries that seq and the current state."""
    code, ids, me = voting
    settle(app)
    listen(code)  # the first connection to the event remembers its id
    with app.app_context():
        assert events.remembered_id(code) is not None
    vote(me, code, ids[0], 1)
    settle(app)
    rollbacks = []
    monkeypatch.setattr(schemas.db.session, "rollback", lambda: rollbacks.append(1))
    snapshot = received(listen(code, "participant", me.token), "snapshot")[0]
    monkeypatch.undo()
    with app.app_context():
        seq = publisher().current_seq(room(events.remembered_id(code), PUBLIC))
    assert snapshot["seq"] == seq
    assert snapshot["me"]["dots"] == {str(ids[0]): 1}
    assert rollbacks == []  # no second transaction for the snapshot


def test_a_change_before_the_room_is_joined_makes_the_snapshot_read_afresh(
    app, voting, staff, listen, monkeypatch
):
    """A change sent between the seq read ahead and the join of the room never reaches the new
    connection: its snapshot then reads the seq and the state again, so it misses nothing."""
    code, _ids, me = voting
    listen(code)  # remembers the event's id
    settle(app)
    found = participants.live_target

    def then_a_change(*args):
        target = found(*args)
        # Another request commits and publishes right after this connection's first read.
        staff.patch(f"/events/{code}", json={"question": "Changed meanwhile"})
        return target

    monkeypatch.setattr(participants, "live_target", then_a_change)
    snapshot = received(listen(code, "participant", me.token), "snapshot")[0]
    monkeypatch.undo()
    with app.app_context():
        seq = publisher().current_seq(room(events.remembered_id(code), PUBLIC))
    assert snapshot["seq"] == seq
    assert snapshot["event"]["question"] == "Changed meanwhile"


def test_hidden_totals_go_to_staff_only_until_results(voting, staff, listen):
    code, ids, me = voting
    board, moderator = listen(code), listen(code, "moderator", staff.token)
    assert received(board, "snapshot")[0]["suggestions"][1]["dots"] is None
    vote(me, code, ids[1], 2)
    wait_for(lambda: changes(moderator))
    assert [change["data"] for change in changes(moderator)] == [{"totals": {str(ids[1]): 2}}]
    wait_for(lambda: figures(board))  # flushed together with the staff totals
    assert changes(board) == []
    staff.patch(f"/events/{code}", json={"phase": "results"})
    assert [change["type"] for change in changes(board)] == ["event", "dots"]
    assert changes(board, "dots")[0]["data"]["totals"] == {
        str(ids[0]): 0,
        str(ids[1]): 2,
        str(ids[2]): 0,
    }


def test_public_totals_while_voting_when_not_hidden(make_event, staff, join, submit, listen):
    code = make_event(hide_counts_while_voting=False)["code"]
    card = submit(staff, code)["id"]
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    board = listen(code)
    vote(join(code), code, card, 1)
    wait_for(lambda: changes(board, "dots"))
    assert changes(board, "dots")[0]["data"]["totals"] == {str(card): 1}


def quiet(publisher) -> bool:
    """No flush is due or waiting: the next change of any event goes out at once."""
    bus = publisher.bus
    return not publisher._scheduled and all(
        bus.flush_wait(event_id) == 0 for event_id in list(bus._next_flush)
    )


def test_quick_votes_are_coalesced(app, voting, staff, listen):
    code, ids, me = voting
    publisher = app.extensions[EXTENSION]
    publisher.interval = 2.0  # wide enough that the quick votes below fall in it
    moderator = listen(code, "moderator", staff.token)
    wait_for(lambda: quiet(publisher))
    vote(me, code, ids[0], 1)
    # A quiet event's first change goes out at once (from a task of its own, so that the vote's
    # answer does not wait for it), not after an interval.
    wait_for(lambda: changes(moderator, "dots"), timeout=publisher.interval)
    assert len(changes(moderator, "dots")) == 1
    for card_id, dots in [(ids[0], 2), (ids[1], 1), (ids[1], 2), (ids[2], 1), (ids[1], 0)]:
        vote(me, code, card_id, dots)
    wait_for(lambda: totals_seen(moderator) == {ids[0]: 2, ids[1]: 0, ids[2]: 1})
    assert len(changes(moderator, "dots")) == 2
    assert numbered_without_gaps(moderator)


def test_coalesced_totals_are_not_older_than_a_merge(app, voting, staff, join, listen):
    code, ids, me = voting
    app.extensions[EXTENSION].interval = 0.5
    moderator = listen(code, "moderator", staff.token)
    vote(me, code, ids[0], 1)
    vote(me, code, ids[0], 2)  # waits for the next interval
    vote(join(code), code, ids[1], 2)
    staff.post(f"/events/{code}/suggestions/{ids[1]}/merge", json={"into": ids[0]})
    wait_for(lambda: quiet(app.extensions[EXTENSION]))  # every queued total has gone out
    assert totals_seen(moderator)[ids[0]] == 4


def test_totals_settle_on_the_committed_value_under_concurrent_votes(
    app, voting, staff, join, listen
):
    code, ids, _ = voting
    moderator = listen(code, "moderator", staff.token)
    voters = [join(code).token for _ in range(20)]
    barrier = threading.Barrier(len(voters))

    def vote_now(token):
        client = app.test_client()
        barrier.wait()
        headers = {"Authorization": f"Bearer {token}"}
        client.put(
            f"/api/v1/events/{code}/suggestions/{ids[0]}/dots", json={"dots": 1}, headers=headers
        )

    threads = [threading.Thread(target=vote_now, args=(token,)) for token in voters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert staff.get(f"/events/{code}/suggestions").json["suggestions"][0]["dots"] == 20
    wait_for(lambda: totals_seen(moderator)[ids[0]] == 20)


def test_screens_get_the_live_figures(make_event, join, submit, listen):
    code = make_event()["code"]
    board = listen(code)
    submit(join(code), code)
    expected = {"participants": 1, "suggestions": 1, "dots": 0}
    wait_for(lambda: figures(board)[-1:] == [expected])


def test_staff_figures_say_who_has_not_voted_yet(voting, staff, listen):
    code, ids, me = voting
    moderator, board = listen(code, "moderator", staff.token), listen(code)
    vote(me, code, ids[0], 1)
    wait_for(lambda: [c.get("voted") for c in figures(moderator)][-1:] == [1])
    assert figures(moderator)[-1]["not_voted"] == 0
    wait_for(lambda: figures(board))
    assert "not_voted" not in figures(board)[-1]


@pytest.fixture
def statements(app):
    """Counts the SQL statements sent to the database while the block runs."""
    from contextlib import contextmanager

    import sqlalchemy as sa

    from workshop.extensions import db

    @contextmanager
    def counting():
        sent = []

        def on_execute(_conn, _cursor, statement, *_args):
            sent.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", on_execute)
        try:
            yield sent
        finally:
            sa.event.remove(engine, "before_cursor_execute", on_execute)

    return counting


def test_boards_joining_together_share_one_reading_of_the_event(
    app, make_event, join, submit, listen, statements
):
    code = make_event()["code"]
    submit(join(code), code, "Sprachcafé")
    settle(app)
    first = received(listen(code), "snapshot")[0]
    with statements() as sent:
        second = received(listen(code), "snapshot")[0]
    assert second == first
    # Only the event's code is looked up; its cards and figures are not read again.
    assert not [s for s in sent if "FROM suggestions" in s or "FROM areas" in s], sent


def test_a_change_makes_the_next_snapshot_read_again(make_event, join, submit, listen):
    code = make_event()["code"]
    me = join(code)
    submit(me, code, "Sprachcafé")
    listen(code)
    submit(me, code, "Dolmetscher")
    later = received(listen(code), "snapshot")[0]
    assert [card["title"] for card in later["suggestions"]] == ["Sprachcafé", "Dolmetscher"]
    assert later["event"]["counts"]["suggestions"] == 2


def test_a_shared_reading_is_kept_only_briefly(app, make_event, listen, monkeypatch):
    """A write that published nothing (none should) shows after MAX_AGE at the latest."""
    import sqlalchemy as sa

    from workshop.db.models import Event
    from workshop.extensions import db

    code = make_event()["code"]
    listen(code)
    with app.app_context():
        db.session.execute(sa.update(Event).where(Event.code == code).values(title="Neu"))
        db.session.commit()
    assert received(listen(code), "snapshot")[0]["event"]["title"] == "Plenum"
    later = time.monotonic() + PublicStates.MAX_AGE + 0.1
    monkeypatch.setattr(sockets.time, "monotonic", lambda: later)
    assert received(listen(code), "snapshot")[0]["event"]["title"] == "Neu"


def test_a_shared_reading_counts_the_timer_down(make_event, staff, listen, monkeypatch):
    from datetime import timedelta

    from workshop.clock import utcnow
    from workshop.domain import schemas

    code = make_event()["code"]
    assert (
        staff.patch(f"/events/{code}", json={"display": {"timer_seconds": 300}}).status_code == 200
    )
    first = received(listen(code), "snapshot")[0]
    assert 298 <= first["event"]["display"]["timer"]["seconds_left"] <= 300
    now = utcnow() + timedelta(seconds=100)
    monkeypatch.setattr(schemas, "utcnow", lambda: now)
    second = received(listen(code), "snapshot")[0]
    assert second["seq"] == first["seq"]
    assert 198 <= second["event"]["display"]["timer"]["seconds_left"] <= 200
