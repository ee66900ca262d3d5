"""The one path that publishes changes to the live screens.

Each event has two rooms: `staff` (moderators: every card with its status) and `public` (board
and participants: visible cards only). Every message to a room carries the room's next `seq`, so a
client that sees a gap knows it lost one and asks to `resync`.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, current_app

from .extensions import socketio

EXTENSION = "workshop.publisher"


def room(event_id: int, audience: str) -> str:
    return f"event-{event_id}-{audience}"


class Publisher:
    """Per-app state: the rooms' sequence numbers and the tallies waiting to go out."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = app.config["WORKSHOP_DOTS_INTERVAL"]
        self._lock = threading.Lock()
        self._seq: dict[str, int] = {}
        self._pending: dict[int, tuple[dict, dict]] = {}
        self._last_flush: dict[int, float] = {}
        self._scheduled: set[int] = set()

    def current_seq(self, name: str) -> int:
        with self._lock:
            return self._seq.get(name, 0)

    def emit(self, name: str, kind: str, data: dict) -> None:
        # Numbered and sent under one lock, so that numbers reach every client in order.
        with self._lock:
            seq = self._seq.get(name, 0) + 1
            self._seq[name] = seq
            socketio.emit("change", {"seq": seq, "type": kind, "data": data}, to=name)

    def publish(self, event_id: int, messages: list[tuple[str, str, dict]]) -> None:
        for audience, kind, data in messages:
            self.emit(room(event_id, audience), kind, data)

    def add_dots(self, event_id: int, totals: dict[int, int], public: bool) -> None:
        """Queue changed tallies: sent at once when the event is quiet, else once per interval."""
        with self._lock:
            staff_totals, public_totals = self._pending.setdefault(event_id, ({}, {}))
            staff_totals.update(totals)
            if public:
                public_totals.update(totals)
            if event_id in self._scheduled:
                return
            wait = self._last_flush.get(event_id, 0.0) + self.interval - time.monotonic()
            if wait > 0:
                self._scheduled.add(event_id)
        if wait > 0:
            socketio.start_background_task(self._flush_later, event_id, wait)
        else:
            self.flush_dots(event_id)

    def _flush_later(self, event_id: int, wait: float) -> None:
        socketio.sleep(wait)
        self.flush_dots(event_id)

    def flush_dots(self, event_id: int) -> None:
        with self._lock:
            self._scheduled.discard(event_id)
            staff_totals, public_totals = self._pending.pop(event_id, ({}, {}))
            self._last_flush[event_id] = time.monotonic()
        for audience, totals in (("staff", staff_totals), ("public", public_totals)):
            if totals:
                totals = {str(key): value for key, value in totals.items()}
                self.emit(room(event_id, audience), "dots", {"totals": totals})


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Publisher(app)


def publisher() -> Publisher:
    return current_app.extensions[EXTENSION]


def publish(event_id: int, messages: list[tuple[str, str, dict]]) -> None:
    """Send (audience, type, data) messages to the event's rooms. Call only after commit."""
    publisher().publish(event_id, messages)


def dots_changed(event_id: int, totals: dict[int, int], public: bool) -> None:
    publisher().add_dots(event_id, totals, public)


def suggestion_messages(staff_card: dict, public_card: dict, public: bool) -> list:
    """One card changed: staff see it as it is, the public see it or are told to drop it."""
    if public:
        return [("staff", "suggestion", staff_card), ("public", "suggestion", public_card)]
    return [("staff", "suggestion", staff_card), ("public", "removed", {"id": public_card["id"]})]
