"""A change to a room, written to each of its websockets directly (eventlet only).

python-engineio gives every connection a queue and a writer greenlet, so one packet to 2,000
screens is 2,000 queue puts, hub timers and greenlet switches before any frame goes out: 30 to
40 µs a socket, about 70 ms until the last screen of a flush has it (benchmarks/README.md). A
broadcast frame is the same bytes for every websocket (the server refuses compression), so for
a websocket with nothing queued and no frame half-written this writes the frame to the socket
at once. Every other connection (long polling, an upgrade under way, packets waiting, TLS in
this process, a full send buffer) gets the packet from engineio as before, which keeps each
connection's messages in order.

Each room has one sender task. A change is numbered and handed to it (the caller does not wait
for 2,000 sockets), and what was handed over while it wrote the last batch goes out as one
write per websocket: when cards come in faster than one broadcast takes, the screens get them
in fewer, larger writes instead of falling further behind (benchmarks/README.md, issue 19).
"""

from __future__ import annotations

import logging
import struct
import time
from typing import NamedTuple

from engineio import packet as eio_packet
from socketio import packet as sio_packet

log = logging.getLogger(__name__)

NAMESPACE = "/"
#: Seconds a room's sender writes before it lets the other green threads run (a vote waiting for
#: its answer, say). Every chance it gives them lets every ready request run before it goes on:
#: with a chance every 100 sockets, a hall filing cards kept one card from 2,000 screens for a
#: second. A batch to 2,000 screens takes about 15 ms of writing.
YIELD_AFTER = 0.005
#: Connections written to between two looks at the clock.
CHECK_EVERY = 100


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked websocket text frame (server to client)."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


class Broadcaster:
    """Knows the websocket of each engine.io connection of one server, and broadcasts."""

    def __init__(self, server) -> None:
        from eventlet.greenio import GreenSocket

        self.server = server
        #: Per room, while its sender task runs: the changes it has yet to write, in order.
        self._outbox: dict[str, list[_Item]] = {}
        #: engine.io sid -> (engineio socket, eventlet websocket), while the websocket is open.
        self.websockets: dict[str, tuple] = {}
        registry = self.websockets
        eio = server.eio
        base = eio._async["websocket"]

        class RecordingWebSocket(base):
            """engineio's websocket adapter, noting which websocket serves which connection."""

            def __init__(self, handler, engine):
                connection = getattr(handler, "__self__", None)

                def handle(ws):
                    # Only websockets built as this module expects (eventlet's RFC 6455 class).
                    if connection is None or not _writable(ws, GreenSocket):
                        return handler(ws)
                    registry[connection.sid] = (connection, ws)
                    try:
                        return handler(ws)
                    finally:
                        if registry.get(connection.sid, (None, None))[1] is ws:
                            del registry[connection.sid]

                super().__init__(handle, engine)

        # This server's own copy of the driver table: other servers in the process keep theirs.
        eio._async = {**eio._async, "websocket": RecordingWebSocket}

    def emit(self, event: str, data: dict, room: str) -> None:
        """Hand `event` with `data` to the sender of `room` (every connection of it in this
        process); changes go out in the order they were handed over."""
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=NAMESPACE, data=[event, data]
        ).encode()
        if isinstance(encoded, str):
            item = _Item(text_frame(("4" + encoded).encode()), encoded)
        else:
            # Binary attachments: not ours to send, engineio knows how.
            item = _Item(None, None, (event, data))
        waiting = self._outbox.get(room)
        if waiting is not None:
            waiting.append(item)  # the room's sender takes it with its next batch
            return
        self._outbox[room] = [item]
        self.server.start_background_task(self._send_room, room)

    def sending(self, room: str) -> bool:
        """Whether the room's sender is at work (tests and diagnostics)."""
        return room in self._outbox

    def _send_room(self, room: str) -> None:
        """The room's sender: writes what waits, batch by batch, until nothing does."""
        try:
            while batch := self._outbox[room]:
                self._outbox[room] = []
                self._send(room, batch)
        except Exception:
            log.exception("changes to %s could not be sent; its screens resync", room)
        finally:
            # Nothing runs between the last look at the outbox and this (no green switch): a
            # change handed over later finds no sender and starts one.
            del self._outbox[room]

    def _send(self, room: str, batch: list[_Item]) -> None:
        if any(item.frame is None for item in batch):
            for item in batch:  # one by one: binary packets go through engineio
                if item.frame is None:
                    event, data = item.raw
                    self.server.emit(event, data, to=room, ignore_queue=True)
                else:
                    self._send(room, [item])
            return
        frame = batch[0].frame if len(batch) == 1 else b"".join(item.frame for item in batch)
        packets = [eio_packet.Packet(eio_packet.MESSAGE, item.encoded) for item in batch]
        websockets = self.websockets
        send_packet = self.server.eio.send_packet
        # A list: the room may change while other green threads run.
        members = [
            eio_sid for _sid, eio_sid in self.server.manager.get_participants(NAMESPACE, room)
        ]
        clock = time.monotonic
        until = clock() + YIELD_AFTER
        for index, eio_sid in enumerate(members, 1):
            entry = websockets.get(eio_sid)
            if entry is None or not self._write(entry, frame):
                for packet in packets:
                    send_packet(eio_sid, packet)
            if index % CHECK_EVERY == 0 and clock() >= until:
                self.server.sleep(0)
                until = clock() + YIELD_AFTER

    def _write(self, entry: tuple, frame: bytes) -> bool:
        """Write the frame to this websocket now, if that keeps its order."""
        connection, ws = entry
        if (
            connection.closed
            or connection.closing
            or connection.upgrading
            or not connection.upgraded
            or not connection.queue.empty()
        ):
            return False
        lock = ws._sendlock
        # Taken while engineio's writer sends a frame (or waits to): then this one queues behind.
        # Nothing switches green threads from here to the send, so a free lock stays free.
        if lock.balance <= 0:
            return False
        try:
            sent = ws.socket.fd.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError:
            return False  # engineio's writer finds the connection broken and closes it
        if sent < len(frame):
            # The send buffer is full: the rest goes out when it drains, the lock held till
            # then so that no other frame cuts in.
            lock.acquire(blocking=False)
            self.server.start_background_task(_finish, ws.socket, lock, frame[sent:])
        return True


class _Item(NamedTuple):
    """One change handed to a room's sender: its websocket frame and engine.io packet text, or
    for a packet with binary attachments the event and data for engineio."""

    frame: bytes | None
    encoded: str | None
    raw: tuple | None = None


def _writable(ws, green_socket: type) -> bool:
    """eventlet's RFC 6455 websocket on a plain green socket, without compression (which the
    server refuses; a frame compressed for one connection is not the frame for another)."""
    return (
        hasattr(ws, "_sendlock")
        and type(getattr(ws, "socket", None)) is green_socket
        and not getattr(ws, "extensions", None)
    )


def _finish(sock, lock, rest: bytes) -> None:
    try:
        sock.sendall(rest)
    except OSError:
        pass  # the reader notices the broken connection
    finally:
        lock.release()
