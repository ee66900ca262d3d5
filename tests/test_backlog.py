"""Each live connection's unsent data is bounded (live/backlog.py): a screen that stops reading
is closed rather than fed until memory runs out; `resync` sends no new snapshot while one waits."""

from __future__ import annotations

import queue

from engineio import packet as eio_packet
from engineio.socket import Socket
from helpers import wait_for

from workshop.live.backlog import counting_queue
from workshop.live.publisher import publisher


def message(text: str) -> eio_packet.Packet:
    return eio_packet.Packet(eio_packet.MESSAGE, data=text)


def test_a_counting_queue_knows_the_characters_waiting():
    waiting = counting_queue(queue.Queue)()
    waiting.put(message("abc"))
    waiting.put(message("de"))
    waiting.put(None)  # engineio's "stop the writer"
    assert waiting.unsent == 5
    assert waiting.get().data == "abc"
    assert waiting.unsent == 2


def connection(app, sid: str = "sid-1") -> Socket:
    """An engine.io connection nobody reads from, in the app's own server."""
    eio = publisher().server.eio
    socket = Socket(eio, sid)
    eio.sockets[sid] = socket
    return socket


def test_a_connection_that_falls_behind_is_closed(app):
    with app.app_context():
        app.config["WORKSHOP_SOCKET_BACKLOG"] = 1000
        backlog = publisher().backlog
        backlog.limit = 1000
        stuck = connection(app)
        eio = publisher().server.eio
        # A packet bigger than the bound still goes to a connection with nothing waiting.
        eio.send_packet("sid-1", message("x" * 1500))
        assert backlog.unsent("sid-1") == 1500 and backlog.waiting("sid-1")
        # Anything more is too far behind: dropped, and the connection closed.
        eio.send_packet("sid-1", message("y"))
        assert backlog.unsent("sid-1") == 1500
        assert backlog.closed == 1
        wait_for(lambda: stuck.closed)


def test_small_messages_pile_up_only_to_the_bound(app):
    with app.app_context():
        backlog = publisher().backlog
        backlog.limit = 100
        connection(app, "sid-2")
        eio = publisher().server.eio
        for _ in range(30):
            eio.send_packet("sid-2", message("0123456789"))
        assert backlog.unsent("sid-2") <= 100
        assert backlog.closed == 1


def test_unknown_connections_are_left_to_engineio(app):
    with app.app_context():
        backlog = publisher().backlog
        assert backlog.admits("nobody", 10**9)
        assert not backlog.waiting("nobody")


def test_resync_sends_no_new_snapshot_while_one_waits(app, make_event, listen, monkeypatch):
    board = listen(make_event()["code"])
    assert [m["name"] for m in board.get_received()] == ["snapshot"]
    with app.app_context():
        backlog = publisher().backlog
    monkeypatch.setattr(backlog, "waiting", lambda _sid: True)
    assert board.emit("resync", callback=True) == {"pending": True}
    # Asking again changes nothing: one snapshot is owed.
    assert board.emit("resync", callback=True) == {"pending": True}
    assert board.get_received() == []
    # Once what was on its way has left, the owed snapshot follows by itself, once.
    monkeypatch.setattr(backlog, "waiting", lambda _sid: False)
    wait_for(lambda: board.queue)
    assert [m["name"] for m in board.get_received()] == ["snapshot"]
    board.emit("resync")
    assert [m["name"] for m in board.get_received()] == ["snapshot"]
