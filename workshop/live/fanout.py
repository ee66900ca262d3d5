"""A change to a room, written to each of its websockets directly (eventlet only).

python-engineio gives every connection a queue and a writer greenlet, so one packet to 2,000
screens is 2,000 queue puts, hub timers and greenlet switches before any frame goes out: 30 to
40 µs a socket, about 70 ms until the last screen of a flush has it (benchmarks/README.md). A
broadcast frame is the same bytes for every websocket (the server refuses compression), so for
a websocket with nothing queued and no frame half-written this writes the frame to the socket
at once. Every other connection (long polling, an upgrade under way, packets waiting, TLS in
this process, a full send buffer) gets the packet from engineio as before, which keeps each
connection's messages in order.
"""

from __future__ import annotations

import struct

from engineio import packet as eio_packet
from socketio import packet as sio_packet

NAMESPACE = "/"
#: Connections written to between two chances for the other green threads to run: a broadcast
#: to 2,000 screens takes about 50 ms, which requests (a vote and its answer) should not wait for.
#: The next message to the room still waits (LocalBus numbers and sends under one lock).
YIELD_EVERY = 100


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
        self._green_socket = GreenSocket
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
                    if connection is None or not _writable(ws):
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
        """Send `event` with `data` to every connection of `room` in this process."""
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=NAMESPACE, data=[event, data]
        ).encode()
        if not isinstance(encoded, str):
            # Binary attachments: not ours to send, engineio knows how.
            self.server.emit(event, data, to=room, ignore_queue=True)
            return
        frame = text_frame(("4" + encoded).encode())
        message = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        # A list: the room may change while other green threads run.
        members = [
            eio_sid for _sid, eio_sid in self.server.manager.get_participants(NAMESPACE, room)
        ]
        for index, eio_sid in enumerate(members, 1):
            if not self._write(eio_sid, frame):
                self.server.eio.send_packet(eio_sid, message)
            if index % YIELD_EVERY == 0:
                self.server.sleep(0)

    def _write(self, eio_sid: str, frame: bytes) -> bool:
        """Write the frame to this connection's websocket now, if that keeps its order."""
        entry = self.websockets.get(eio_sid)
        if entry is None:
            return False
        connection, ws = entry
        if (
            connection.closed
            or connection.closing
            or connection.upgrading
            or not connection.upgraded
            or not connection.queue.empty()
            or getattr(ws, "extensions", None)
            or type(ws.socket) is not self._green_socket
        ):
            return False
        lock = ws._sendlock
        # Held while engineio's writer sends a frame: then this one waits in the queue.
        if not lock.acquire(blocking=False):
            return False
        try:
            sent = ws.socket.fd.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError:
            lock.release()
            return False  # engineio's writer finds the connection broken and closes it
        if sent == len(frame):
            lock.release()
        else:
            # The send buffer is full: the rest goes out when it drains, the lock held till
            # then so that no other frame cuts in.
            self.server.start_background_task(_finish, ws.socket, lock, frame[sent:])
        return True


def _writable(ws) -> bool:
    return hasattr(ws, "_sendlock") and hasattr(getattr(ws, "socket", None), "fd")


def _finish(sock, lock, rest: bytes) -> None:
    try:
        sock.sendall(rest)
    except OSError:
        pass  # the reader notices the broken connection
    finally:
        lock.release()
