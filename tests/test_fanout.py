"""fanout.Broadcaster: when a frame may go straight to a websocket, what happens to a frame a
slow reader cannot take yet, and how a room's sender batches what is handed to it meanwhile.
Eventlet's green sockets over a real socket pair; engineio's objects are stand-ins with the
attributes the broadcaster reads."""

from __future__ import annotations

import json
import socket

import pytest

eventlet = pytest.importorskip("eventlet")

from eventlet.greenio import GreenSocket  # noqa: E402
from eventlet.semaphore import Semaphore  # noqa: E402
from socketio import packet as sio_packet  # noqa: E402

from workshop.live.fanout import Broadcaster, text_frame  # noqa: E402

ROOM = "event-1-public"


class Adapter:
    """Stands in for engineio's websocket adapter class, which the broadcaster subclasses."""

    def __init__(self, handler, engine):
        self.handler = handler


class Queue:
    def __init__(self):
        self.items = []

    def empty(self):
        return not self.items


class Connection:
    """An engineio socket, upgraded to a websocket, nothing queued."""

    def __init__(self, sid):
        self.sid = sid
        self.queue = Queue()
        self.closed = self.closing = self.upgrading = False
        self.upgraded = True


class WebSocket:
    def __init__(self, sock):
        self.socket = GreenSocket(sock)
        self._sendlock = Semaphore()
        self.extensions = None


class Engine:
    async_mode = "eventlet"

    def __init__(self):
        self._async = {"websocket": Adapter}
        self.queued = []

    def send_packet(self, sid, pkt):
        self.queued.append((sid, pkt.data))


class Manager:
    def __init__(self):
        self.rooms = {}

    def get_participants(self, _namespace, room):
        yield from self.rooms.get(room, {}).items()


class Server:
    packet_class = sio_packet.Packet

    def __init__(self):
        self.eio = Engine()
        self.manager = Manager()

    def start_background_task(self, target, *args):
        return eventlet.spawn(target, *args)

    def sleep(self, seconds):
        eventlet.sleep(seconds)


def delivered(broadcaster, room=ROOM):
    """Let the room's sender run until it has written everything handed to it."""
    for _ in range(1000):
        if not broadcaster.sending(room):
            return
        eventlet.sleep(0)
    raise AssertionError("the room's sender did not finish")


@pytest.fixture
def setup():
    """A broadcaster with one connection in the room, and the far end of its socket."""
    server = Server()
    broadcaster = Broadcaster(server)
    near, far = socket.socketpair()
    connection, ws = Connection("e1"), WebSocket(near)
    broadcaster.websockets["e1"] = (connection, ws)
    server.manager.rooms[ROOM] = {"s1": "e1"}
    yield server, broadcaster, connection, ws, GreenSocket(far)
    near.close()
    far.close()


def expected_frame(data: dict) -> bytes:
    text = "42" + json.dumps(["change", data], separators=(",", ":"))
    return text_frame(text.encode())


def read_exactly(sock, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 65536))
        assert chunk, "connection closed early"
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def test_a_frame_goes_straight_to_an_idle_websocket(setup):
    server, broadcaster, _connection, _ws, far = setup
    data = {"seq": 1, "type": "dots", "data": {"totals": {"3": 2}}}
    broadcaster.emit("change", data, ROOM)
    delivered(broadcaster)
    frame = expected_frame(data)
    assert read_exactly(far, len(frame)) == frame
    assert server.eio.queued == []


@pytest.mark.parametrize(
    "state",
    ["queued", "upgrading", "polling", "closing", "closed", "sending", "waited for"],
)
def test_anything_unusual_goes_through_engineio(setup, state):
    server, broadcaster, connection, ws, _far = setup
    if state == "queued":
        connection.queue.items.append("an earlier packet")
    elif state == "upgrading":
        connection.upgrading = True
    elif state == "polling":
        connection.upgraded = False
    elif state in ("closing", "closed"):
        setattr(connection, state, True)
    elif state == "sending":
        ws._sendlock.acquire()  # engineio's writer is in the middle of a frame
    else:
        # Released, and engineio's writer is about to take it: not ours to take first.
        ws._sendlock._waiters.append(object())
    broadcaster.emit("change", {"seq": 1}, ROOM)
    delivered(broadcaster)
    assert server.eio.queued == [("e1", '2["change",{"seq":1}]')]


def test_a_slow_reader_gets_the_rest_later_and_nothing_cuts_in(setup):
    server, broadcaster, _connection, ws, far = setup
    ws.socket.fd.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    big = {"seq": 1, "type": "suggestion", "data": {"body": "x" * 2_000_000}}
    broadcaster.emit("change", big, ROOM)
    delivered(broadcaster)
    # More than the buffers hold: the rest waits, the websocket's send lock held meanwhile.
    assert ws._sendlock.locked()
    broadcaster.emit("change", {"seq": 2}, ROOM)
    delivered(broadcaster)
    assert server.eio.queued == [("e1", '2["change",{"seq":2}]')]  # behind the first, in order
    frame = expected_frame(big)
    assert read_exactly(far, len(frame)) == frame
    eventlet.sleep(0)  # the sender releases the lock once the last byte is out
    assert not ws._sendlock.locked()
    broadcaster.emit("change", {"seq": 3}, ROOM)
    delivered(broadcaster)
    assert read_exactly(far, len(expected_frame({"seq": 3}))) == expected_frame({"seq": 3})


def test_the_adapter_records_which_websocket_serves_which_connection():
    server = Server()
    broadcaster = Broadcaster(server)
    seen = []

    class EngineSocket(Connection):
        def _websocket_handler(self, ws):
            seen.append(dict(broadcaster.websockets))
            return []

    connection = EngineSocket("e9")
    near, far = socket.socketpair()
    ws = WebSocket(near)
    # engineio hands its adapter the socket's bound handler; the websocket is known while it runs.
    adapter = server.eio._async["websocket"](connection._websocket_handler, server.eio)
    adapter.handler(ws)
    # A websocket of another make (no send lock, no raw socket) is left to engineio, and so is
    # a compressed one (its frames are its own).
    adapter.handler("a websocket of another kind")
    compressed = WebSocket(near)
    compressed.extensions = {"permessage-deflate": {}}
    adapter.handler(compressed)
    assert seen == [{"e9": (connection, ws)}, {}, {}]
    assert broadcaster.websockets == {}
    near.close()
    far.close()


def test_the_caller_does_not_wait_and_what_waits_goes_out_in_one_write_in_order(setup):
    _server, broadcaster, _connection, _ws, far = setup
    changes = [{"seq": n, "type": "suggestion", "data": {"id": n}} for n in (1, 2, 3)]
    for change in changes:
        broadcaster.emit("change", change, ROOM)
    # Handed over, not yet written: the callers (requests) went on at once.
    assert broadcaster.sending(ROOM)
    with pytest.raises(BlockingIOError):
        far.fd.recv(1)
    writes = []
    send = _connection_socket(broadcaster).fd.send

    class CountingSocket:
        def send(self, data):
            writes.append(data)
            return send(data)

    _connection_socket(broadcaster).fd = CountingSocket()
    delivered(broadcaster)
    frames = b"".join(expected_frame(change) for change in changes)
    assert writes == [frames]
    assert read_exactly(far, len(frames)) == frames
    # The sender is gone; the next change starts another.
    broadcaster.emit("change", {"seq": 4}, ROOM)
    assert broadcaster.sending(ROOM)
    delivered(broadcaster)
    assert read_exactly(far, len(expected_frame({"seq": 4}))) == expected_frame({"seq": 4})


def test_a_batch_reaches_a_queued_connection_packet_by_packet_in_order(setup):
    server, broadcaster, connection, _ws, _far = setup
    connection.queue.items.append("an earlier packet")
    for seq in (1, 2, 3):
        broadcaster.emit("change", {"seq": seq}, ROOM)
    delivered(broadcaster)
    assert server.eio.queued == [("e1", f'2["change",{{"seq":{seq}}}]') for seq in (1, 2, 3)]


def _connection_socket(broadcaster):
    return broadcaster.websockets["e1"][1].socket


def _many_in_the_room(server, count):
    """`count` connections that only engineio serves (cheap to send to), in the room."""
    server.manager.rooms[ROOM] = {f"s{n}": f"q{n}" for n in range(count)}


@pytest.mark.parametrize(("tick", "yields"), [(0.0, 0), (0.003, 5)])
def test_the_sender_lets_others_run_by_time_not_by_count(setup, monkeypatch, tick, yields):
    """A fast sender writes 1,000 connections without stopping; a slow one stops after each
    `YIELD_AFTER` of writing (each stop lets every ready request run first)."""
    from workshop.live import fanout

    server, broadcaster, *_rest = setup
    _many_in_the_room(server, 1000)
    now = [0.0]

    def clock():
        now[0] += tick
        return now[0]

    stops = []
    monkeypatch.setattr(fanout.time, "monotonic", clock)
    monkeypatch.setattr(server, "sleep", lambda seconds: stops.append(seconds), raising=False)
    broadcaster.emit("change", {"seq": 1}, ROOM)
    for _ in range(10):
        eventlet.sleep(0)
    assert not broadcaster.sending(ROOM)
    assert len(server.eio.queued) == 1000
    # 3 ms per look at the clock (one every CHECK_EVERY connections), 5 ms allowed: every
    # second look stops: 5 of the 10.
    assert len(stops) == yields
