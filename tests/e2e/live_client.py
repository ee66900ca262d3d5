"""A live screen for end-to-end tests: a Socket.IO client that keeps cards and totals like a board.

It follows the client rules of the real-time contract: changes that arrive before the snapshot
are buffered, changes numbered at or below the snapshot's `seq` are dropped, and a gap in the
numbering makes it emit `resync` and wait for a fresh snapshot.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import engineio
import socketio


class InOrderEngineIO(engineio.Client):
    """python-engineio's client, handling each message on its reading thread as it arrives.

    The stock client hands every message to a new thread, and under load those threads can take
    the client's lock out of order: change 27 applied before 26 looks like a gap and makes the
    screen resync, though the wire carried them in order. A browser handles messages in order.
    """

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class InOrderClient(socketio.Client):
    def _engineio_client_class(self):
        return InOrderEngineIO


class Refused(Exception):
    """The server refused the Socket.IO connection; `data` is what its connect_error said."""

    def __init__(self, data: Any):
        super().__init__(f"connection refused: {data!r}")
        self.data = data


class LiveClient:
    """One Socket.IO connection (websocket transport unless told otherwise) and the state it has
    rebuilt so far."""

    def __init__(
        self,
        url: str,
        code: str,
        role: str = "board",
        token: str | None = None,
        transports: tuple[str, ...] = ("websocket",),
    ):
        self.url = url
        self.transports = list(transports)
        self.auth = {"event": code, "role": role}
        if token is not None:
            self.auth["token"] = token
        self._state = threading.Condition()
        #: Cards by id, as last sent (snapshot or `suggestion` change).
        self.cards: dict[int, dict] = {}
        #: Dots by card id, from the cards' `dots` (when not hidden) and from `dots` changes.
        self.totals: dict[int, int] = {}
        self.event: dict | None = None
        self.me: dict | None = None
        #: The seq of the last applied message; None until the first snapshot.
        self.seq: int | None = None
        self.snapshots = 0
        self.resyncs = 0
        self.gaps = 0
        self.connects = 0
        self.disconnects = 0
        self.connect_errors: list[Any] = []
        #: Every change that was applied, in order, for assertions on what arrived when.
        self.log: list[dict] = []
        #: Audit entries that reached a moderator client.
        self.audit: list[dict] = []
        self._waiting_for_snapshot = True
        self._buffer: list[dict] = []
        self._discard = 0
        # Cleared to hold automatic reconnection until the test allows it (see `hold_reconnect`).
        self._reconnect_gate = threading.Event()
        self._reconnect_gate.set()
        self._old_transports: list[Any] = []
        self.sio = InOrderClient(
            reconnection=True,
            reconnection_delay=0.1,
            reconnection_delay_max=0.5,
            randomization_factor=0,
            handle_sigint=False,
        )
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("connect_error", self._on_connect_error)
        self.sio.on("snapshot", self._on_snapshot)
        self.sio.on("change", self._on_change)

    # -- connection -----------------------------------------------------------------------

    def connect(self, timeout: float = 10.0) -> LiveClient:
        """Connect and wait for the first snapshot; raises `Refused` if the server says no."""
        try:
            self.sio.connect(
                self.url,
                auth=self._auth,
                transports=self.transports,
                wait_timeout=timeout,
            )
        except socketio.exceptions.ConnectionError as error:
            with self._state:
                errors = list(self.connect_errors)
            self.close()
            if errors:
                raise Refused(errors[-1]) from error
            raise
        self.wait(lambda c: c.seq is not None, timeout)
        return self

    def _auth(self) -> dict:
        # python-socketio calls this on every (re)connection, so holding it holds a reconnect.
        self._reconnect_gate.wait(30)
        return dict(self.auth)

    def hold_reconnect(self) -> None:
        """Keep the next automatic reconnection waiting until `release_reconnect`."""
        self._reconnect_gate.clear()

    def release_reconnect(self) -> None:
        self._reconnect_gate.set()

    def drop_transport(self) -> None:
        """Cut the websocket under the client, as a venue Wi-Fi would; it then reconnects."""
        ws = self.sio.eio.ws
        self._old_transports.append(ws)
        # Wakes the engine's reader with "connection lost", without a close handshake.
        ws.abort()

    def close(self) -> None:
        """Disconnect for good and release every socket (tests run with warnings as errors)."""
        self.sio.reconnection = False
        self._reconnect_gate.set()
        self.sio.disconnect()
        self.sio.shutdown()
        for ws in self._old_transports:
            ws.shutdown()
        self._old_transports.clear()

    def __enter__(self) -> LiveClient:
        return self.connect()

    def __exit__(self, *_exc) -> None:
        self.close()

    # -- messages -------------------------------------------------------------------------

    def _on_connect(self) -> None:
        # Nothing to reset here: the server emits the snapshot from its connect handler, so it
        # arrives before the namespace's CONNECT packet that triggers this event.
        with self._state:
            self.connects += 1
            self._state.notify_all()

    def _on_disconnect(self, *_reason) -> None:
        with self._state:
            self.disconnects += 1
            # The next connection starts from a fresh snapshot; changes until then wait for it.
            self._waiting_for_snapshot = True
            self._buffer = []
            self._state.notify_all()

    def _on_connect_error(self, data=None) -> None:
        with self._state:
            self.connect_errors.append(data)
            self._state.notify_all()

    def _on_snapshot(self, data: dict) -> None:
        with self._state:
            self.snapshots += 1
            self.seq = data["seq"]
            self.event = data["event"]
            self.me = data.get("me")
            self.cards = {card["id"]: card for card in data["suggestions"]}
            self.totals = {
                card["id"]: card["dots"] for card in data["suggestions"] if card["dots"] is not None
            }
            self._waiting_for_snapshot = False
            buffered, self._buffer = sorted(self._buffer, key=lambda m: m["seq"]), []
            for message in buffered:
                if not self._take(message):
                    break
            self._state.notify_all()

    def _on_change(self, message: dict) -> None:
        with self._state:
            if self._waiting_for_snapshot:
                self._buffer.append(message)
            elif self._discard:
                # A simulated loss: the message never reached this client.
                self._discard -= 1
            else:
                self._take(message)
            self._state.notify_all()

    def _take(self, message: dict) -> bool:
        """Apply one numbered change; on a gap ask for a snapshot. False once resyncing."""
        seq = message["seq"]
        if seq <= self.seq:
            return True
        if seq != self.seq + 1:
            self.gaps += 1
            self.resyncs += 1
            self._waiting_for_snapshot = True
            self._buffer = []
            self.sio.emit("resync")
            return False
        self.seq = seq
        self.log.append(message)
        self._apply(message["type"], message["data"])
        return True

    def _apply(self, kind: str, data: dict) -> None:
        if kind == "suggestion":
            self.cards[data["id"]] = data
            if data["dots"] is not None:
                self.totals[data["id"]] = data["dots"]
        elif kind == "removed":
            self.cards.pop(data["id"], None)
            self.totals.pop(data["id"], None)
        elif kind == "dots":
            for key, value in data.get("totals", {}).items():
                self.totals[int(key)] = value
                # The card shows its latest total, as a board would draw it.
                if int(key) in self.cards:
                    self.cards[int(key)]["dots"] = value
            if "counts" in data:
                self.event = {**self.event, "counts": data["counts"]}
        elif kind == "event":
            self.event = data
        elif kind == "audit":
            self.audit.append(data)
        else:
            raise AssertionError(f"unknown change type {kind!r}")

    # -- for tests ------------------------------------------------------------------------

    def discard_next_changes(self, count: int = 1) -> None:
        """Lose the next `count` changes on the floor, to provoke a gap."""
        with self._state:
            self._discard += count

    def state(self) -> dict:
        """A copy of what the screen shows: cards, totals of the cards shown, event, seq."""
        with self._state:
            return {
                "cards": copy.deepcopy(self.cards),
                "totals": {key: value for key, value in self.totals.items() if key in self.cards},
                "event": copy.deepcopy(self.event),
                "seq": self.seq,
            }

    def changes(self) -> list[tuple[int, str, dict]]:
        """A copy of the log: (seq, type, data) of every change applied so far, in order."""
        with self._state:
            return [(m["seq"], m["type"], copy.deepcopy(m["data"])) for m in self.log]

    def holds_within(self, condition: Callable[[LiveClient], object], timeout: float) -> bool:
        """Whether `condition(self)` holds within `timeout` s (checked at every message)."""
        with self._state:
            return bool(self._state.wait_for(lambda: condition(self), timeout))

    def wait(self, condition: Callable[[LiveClient], object], timeout: float = 10.0) -> None:
        """Wait until `condition(self)` holds; fail with a summary of the state after `timeout`."""
        if not self.holds_within(condition, timeout):
            with self._state:
                raise AssertionError(
                    f"{self.auth['role']} client: condition not met within {timeout} s "
                    f"(seq={self.seq}, cards={len(self.cards)}, totals={self.totals}, "
                    f"phase={(self.event or {}).get('phase')})"
                )
