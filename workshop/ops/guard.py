"""The eventlet server's own defences: time-outs for slow clients, connections per address.

A request only reaches Flask (and its request limits) once its line and headers have arrived.
A client that opens connections and sends a header one byte at a time never gets there, and
eventlet by default waits for it for ever, one green thread and one socket each: 10,000 such
connections stopped every other answer. Here

- a kept-alive connection waits at most `idle` seconds for its next request,
- a request's line and headers must be complete `header` seconds after their first byte,
- one address holds at most `per_address` connections (more are closed as soon as accepted),
- and the access log never shows a seat code (`/j/<code>?seat=…` is how a seat sheet's QR
  code opens the event).
"""

from __future__ import annotations

import re
import sys
import warnings
from collections import Counter

with warnings.catch_warnings():
    # Imported also where the server runs in threading mode; eventlet's notice adds nothing.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet
    import eventlet.wsgi


class GuardedProtocol(eventlet.wsgi.HttpProtocol):
    """eventlet's HTTP protocol with an idle and a header time-out (seconds)."""

    idle_timeout: float = 30
    header_timeout: float = 10
    _deadline: eventlet.Timeout | None = None

    def _read_request_line(self):
        if not self._next_request_begins():
            self.close_connection = 1
            return ""
        self._deadline = eventlet.Timeout(self.header_timeout)
        return super()._read_request_line()

    def _next_request_begins(self) -> bool:
        """Wait (at most the idle time-out) for the first byte of the next request."""
        if self.rfile.closed:
            return False
        self.connection.settimeout(self.idle_timeout)
        try:
            return bool(self.rfile.peek(1))
        except OSError:
            return False

    def parse_request(self):
        headers = self.rfile
        self.rfile = _LastLine(headers)
        try:
            complete = super().parse_request()
        finally:
            ended_by, self.rfile = self.rfile.last, headers
            self._stop_deadline()
        if complete and not ended_by:
            # The client went away in the middle of its headers (a released slowloris
            # connection): serving what came would be work for nobody.
            self.close_connection = 1
            return False
        return complete

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except eventlet.Timeout as timeout:
            if timeout is not self._deadline:
                raise
            self.close_connection = 1
        finally:
            self._stop_deadline()

    def _stop_deadline(self) -> None:
        # Kept (cancelled) until the next request: handle_one_request must still recognise it
        # when it fired inside parse_request.
        if self._deadline is not None:
            self._deadline.cancel()


class _LastLine:
    """The header reader, remembering the last line it gave: the blank line that ends the
    headers, or nothing when the connection ended first."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.last = b"\n"

    def readline(self, *args):
        self.last = self._stream.readline(*args)
        return self.last

    def __getattr__(self, name):
        return getattr(self._stream, name)


def guarded_protocol(header: float, idle: float) -> type[GuardedProtocol]:
    """The protocol class for these time-outs (eventlet takes a class, not an instance)."""
    return type(
        "GuardedProtocol", (GuardedProtocol,), {"header_timeout": header, "idle_timeout": idle}
    )


class AddressPool(eventlet.GreenPool):
    """eventlet's pool of connection threads, holding at most `per_address` connections of one
    address (0: no cap); a connection over the cap is closed unserved."""

    def __init__(self, size: int, per_address: int) -> None:
        super().__init__(size)
        self.per_address = per_address
        self.open: Counter[str] = Counter()
        #: Connections closed unserved for their address's cap, since start.
        self.refused = 0

    def spawn(self, function, *args, **kwargs):
        connection = args[0] if args else None
        address = _address(connection)
        if self.per_address and address is not None:
            if self.open[address] >= self.per_address:
                self.refused += 1
                # No thread: the server's own clean-up, linked to this, closes the socket now.
                return _Refused(connection)
            self.open[address] += 1
            thread = super().spawn(function, *args, **kwargs)
            thread.link(self._closed, address)
            return thread
        return super().spawn(function, *args, **kwargs)

    def _closed(self, _thread, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]


def _address(connection) -> str | None:
    """The client address of eventlet's `[address, socket, state]` connection record."""
    try:
        peer = connection[0]
    except (TypeError, IndexError):
        return None
    return peer[0] if isinstance(peer, tuple) else None


class _Refused:
    """Stands in for the thread of a connection that is not served: eventlet links its
    clean-up (which closes the socket) to the thread, and here that runs at once."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def link(self, callback, *args, **kwargs) -> None:
        callback(self, *args, **kwargs)


SEAT = re.compile(r"([?&]seat=)[^&\s\"]*", re.IGNORECASE)


def without_seat_codes(text: str) -> str:
    """A log line with every `seat=` value blanked out."""
    return SEAT.sub(r"\1…", text)


class AccessLog:
    """eventlet's access log (to standard error), without seat codes."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr

    def write(self, message: str, *args) -> None:
        if args:
            message = message % args
        self.stream.write(without_seat_codes(message))
        self.stream.flush()

    def info(self, message: str, *args, **_kwargs) -> None:
        self.write(message + "\n", *args)

    error = info

    def debug(self, *_args, **_kwargs) -> None:
        pass
