"""The one path that publishes changes to the live screens.

Each event has two rooms: `staff` (moderators: every card with its status) and `public` (board
and participants: visible cards only). Every message to a room carries the room's next `seq`, so a
client that sees a gap knows it lost one and asks to `resync`.
"""

from __future__ import annotations

import threading
import time

from flask import current_app

from .extensions import socketio

AUDIENCES = ("staff", "public")


def room(event_id: int, audience: str) -> str:
    return f"event-{event_id}-{audience}"


class Sequencer:
    """Numbers the messages of each room; emits under a lock so numbers arrive in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq: dict[str, int] = {}

    def current(self, name: str) -> int:
        with self._lock:
            return self._seq.get(name, 0)

    def emit(self, name: str, kind: str, data: dict) -> None:
        with self._lock:
            seq = self._seq.get(name, 0) + 1
            self._seq[name] = seq
            socketio.emit("change", {"seq": seq, "type": kind, "data": data}, to=name)


sequencer = Sequencer()


def publish(event_id: int, messages: list[tuple[str, str, dict]]) -> None:
    """Send (audience, type, data) messages to the event's rooms. Call only after commit."""
    for audience, kind, data in messages:
        sequencer.emit(room(event_id, audience), kind, data)


def suggestion_messages(staff_card: dict, public_card: dict, public: bool) -> list:
    """One card changed: staff see it as it is, the public see it or are told to drop it."""
    public_message = (
        ("suggestion", public_card) if public else ("removed", {"id": public_card["id"]})
    )
    return [("staff", "suggestion", staff_card), ("public", *public_message)]


class DotsCoalescer:
    """Sends changed tallies at once when quiet, and at most once per interval under load."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[dict, dict]] = {}
        self._last: dict[int, float] = {}
        self._scheduled: set[int] = set()

    def add(self, app, event_id: int, totals: dict[int, int], public: bool) -> None:
        interval = app.config["WORKSHOP_DOTS_INTERVAL"]
        with self._lock:
            staff_totals, public_totals = self._pending.setdefault(event_id, ({}, {}))
            staff_totals.update(totals)
            if public:
                public_totals.update(totals)
            if event_id in self._scheduled:
                return
            wait = self._last.get(event_id, 0.0) + interval - time.monotonic()
            if wait > 0:
                self._scheduled.add(event_id)
        if wait > 0:
            socketio.start_background_task(self._flush_later, event_id, wait)
        else:
            self.flush(event_id)

    def _flush_later(self, event_id: int, wait: float) -> None:
        socketio.sleep(wait)
        self.flush(event_id)

    def flush(self, event_id: int) -> None:
        with self._lock:
            self._scheduled.discard(event_id)
            staff_totals, public_totals = self._pending.pop(event_id, ({}, {}))
            self._last[event_id] = time.monotonic()
        if staff_totals:
            publish(event_id, [("staff", "dots", {"totals": _keys(staff_totals)})])
        if public_totals:
            publish(event_id, [("public", "dots", {"totals": _keys(public_totals)})])


def _keys(totals: dict) -> dict:
    return {str(key): value for key, value in totals.items()}


coalescer = DotsCoalescer()


def dots_changed(event_id: int, totals: dict[int, int], public: bool) -> None:
    coalescer.add(current_app._get_current_object(), event_id, totals, public)
