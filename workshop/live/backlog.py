"""Each connection's unsent data, bounded: a screen that stops reading is closed, not fed.

python-engineio gives every connection a queue of packets that a writer task sends; nothing bounds
it. A client that never reads (a board socket asking `resync` every two seconds, say) makes the
server hold every snapshot and change for it until memory runs out. Here each queue counts the
characters waiting in it; a packet for a connection that already has more than `limit` waiting
is dropped and the connection closed (the client reconnects and starts from a fresh snapshot).
A single packet larger than the bound (a big event's snapshot) still goes to a connection with
nothing waiting.
"""

from __future__ import annotations

import logging
import socket as stdlib_socket
import struct
from collections.abc import Callable, Mapping
from contextlib import suppress

try:  # POSIX: how much the system still holds for a socket
    import fcntl
    import termios
except ImportError:  # pragma: no cover (Windows)
    fcntl = termios = None

log = logging.getLogger(__name__)


def size(packet) -> int:
    """Characters (or bytes) a packet holds; small structures count as nothing."""
    data = getattr(packet, "data", None)
    return len(data) if isinstance(data, str | bytes) else 0


#: Bytes the system may still hold for a connection that counts as caught up: a few changes on
#: their way over slow Wi-Fi, not a snapshot.
KERNEL_SLACK = 64 * 1024


def kernel_unsent(sock) -> int:
    """Bytes the system has not yet sent on this socket (Linux; 0 where it cannot say)."""
    try:
        answer = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except (AttributeError, OSError, ValueError, TypeError):
        return 0
    return struct.unpack("i", answer)[0]


def counting_queue(base: type) -> type:
    """`base` (the async mode's queue class) keeping a count of the characters queued."""

    class CountingQueue(base):
        unsent = 0

        def put(self, item, *args, **kwargs):
            self.unsent += size(item)
            return super().put(item, *args, **kwargs)

        def get(self, *args, **kwargs):
            item = super().get(*args, **kwargs)
            self.unsent = max(0, self.unsent - size(item))
            return item

    return CountingQueue


class Backlog:
    """Bounds the unsent data of every connection of one Socket.IO server.

    `websockets` (eventlet: engine.io sid -> (connection, websocket), kept by fanout.py) lets a
    connection that fell behind be cut at once; without it engineio closes it, and the socket
    time-out ends a write that never finishes.
    """

    def __init__(self, server, limit: int, websockets: Mapping | None = None) -> None:
        self.eio = server.eio
        self.limit = limit
        self.websockets = websockets if websockets is not None else {}
        #: Connections closed for falling behind, since start.
        self.closed = 0
        self.eio._async = {
            **self.eio._async,
            "queue": counting_queue(self.eio._async["queue"]),
        }
        send_packet = self.eio.send_packet
        self.eio.send_packet = self._guarded(send_packet)

    def _guarded(self, send_packet: Callable) -> Callable:
        def guarded(sid, pkt):
            if not self.admits(sid, size(pkt)):
                return None
            return send_packet(sid, pkt)

        return guarded

    def unsent(self, eio_sid: str) -> int:
        """Characters waiting in this connection's queue."""
        connection = self.eio.sockets.get(eio_sid)
        return getattr(getattr(connection, "queue", None), "unsent", 0) if connection else 0

    def waiting(self, eio_sid: str) -> bool:
        """Whether anything for this connection is still queued or being written, or more than a
        little waits in the system's send buffer (which takes megabytes from a client that does
        not read)."""
        if self.unsent(eio_sid):
            return True
        entry = self.websockets.get(eio_sid)
        if entry is None:
            return False
        lock = getattr(entry[1], "_sendlock", None)
        locked = getattr(lock, "locked", None)
        return bool(locked and locked()) or kernel_unsent(entry[1].socket) > KERNEL_SLACK

    def admits(self, eio_sid: str, incoming: int) -> bool:
        """Whether a packet of `incoming` characters may join this connection's queue; a
        connection that has more than the bound waiting is closed instead."""
        connection = self.eio.sockets.get(eio_sid)
        if connection is None or getattr(connection, "behind", False):
            return connection is None
        unsent = getattr(connection.queue, "unsent", 0)
        if not unsent or unsent + incoming <= self.limit:
            return True
        connection.behind = True
        self.closed += 1
        if self.closed == 1 or self.closed % 100 == 0:
            log.warning("closed %d connection(s) that stopped reading", self.closed)
        # Not now: this may run inside a loop over a room's members.
        self.eio.start_background_task(self._cut, eio_sid, connection)
        return False

    def _cut(self, eio_sid: str, connection) -> None:
        entry = self.websockets.get(eio_sid)
        if entry is not None:
            # Both of engineio's tasks wake up: the reader sees the end, the writer an error.
            with suppress(OSError):
                entry[1].socket.shutdown(stdlib_socket.SHUT_RDWR)
        connection.close(wait=False, abort=True)
