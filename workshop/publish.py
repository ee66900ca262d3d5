"""The one path that publishes changes to the live screens.

Each event has two rooms: `staff` (moderators: every card with its status) and `public` (board
and participants: visible cards only). Every message to a room carries the room's next `seq`, so a
client that sees a gap knows it lost one and asks to `resync`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from flask import Flask, current_app

from . import tallies
from .extensions import db, socketio
from .models import Event

EXTENSION = "workshop.publisher"
AUDIENCES = ("staff", "public")


def room(event_id: int, audience: str) -> str:
    return f"event-{event_id}-{audience}"


class Publisher:
    """Per-app state: the rooms' sequence numbers and the tallies waiting to go out."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        #: This app's Socket.IO server (`socketio.init_app` has just made it): a flush that runs
        #: late must not reach the clients of another app in the same process.
        self.server = socketio.server
        self.interval = app.config["WORKSHOP_DOTS_INTERVAL"]
        self._lock = threading.Lock()
        #: One flush at a time, so totals read later are never sent before totals read earlier.
        self._flush_lock = threading.Lock()
        self._seq: dict[str, int] = {}
        #: Per event: the cards whose totals changed, and whether the figures changed.
        self._pending: dict[int, set[int]] = {}
        self._counts_due: set[int] = set()
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
            self.server.emit("change", {"seq": seq, "type": kind, "data": data}, to=name)

    def publish(self, event_id: int, messages: list[tuple[str, str, dict]]) -> None:
        for audience, kind, data in messages:
            self.emit(room(event_id, audience), kind, data)

    def touch(self, event_id: int, card_ids: Iterable[int] = (), counts: bool = True) -> None:
        """Note changed tallies and figures: sent at once when the event is quiet, else at most
        once per interval, read from the database when they go out."""
        with self._lock:
            self._pending.setdefault(event_id, set()).update(card_ids)
            if counts:
                self._counts_due.add(event_id)
            if event_id in self._scheduled:
                return
            wait = self._last_flush.get(event_id, 0.0) + self.interval - time.monotonic()
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
        # One flush at a time: figures read later are never sent before figures read earlier.
        with self._flush_lock:
            with self._lock:
                self._scheduled.discard(event_id)
                card_ids = self._pending.pop(event_id, set())
                counts_due = event_id in self._counts_due
                self._counts_due.discard(event_id)
                self._last_flush[event_id] = time.monotonic()
            # Read when sent, not when voted: a merge or a phase change committed meanwhile
            # moves dots or hides totals.
            with self.app.app_context():
                event = db.session.get(Event, event_id)
                if event is None:
                    return
                public_visible = tallies.counts_visible(event, staff=False)
                rows = tallies.totals(card_ids) if card_ids else []
                figures = (
                    {
                        audience: tallies.counts(event_id, audience == "staff")
                        for audience in AUDIENCES
                    }
                    if counts_due
                    else None
                )
            staff_totals = {str(card_id): dots for card_id, dots, _ in rows}
            public_totals = {
                str(card_id): dots for card_id, dots, public in rows if public and public_visible
            }
            for audience, totals in (("staff", staff_totals), ("public", public_totals)):
                if totals:
                    self.emit(room(event_id, audience), "dots", {"totals": totals})
                if figures is not None:
                    self.emit(room(event_id, audience), "counts", figures[audience])


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Publisher(app)


def publisher() -> Publisher:
    return current_app.extensions[EXTENSION]


def publish(event_id: int, messages: list[tuple[str, str, dict]]) -> None:
    """Send (audience, type, data) messages to the event's rooms. Call only after commit."""
    publisher().publish(event_id, messages)


def tallies_changed(event_id: int, card_ids: Iterable[int] = ()) -> None:
    """These cards' totals, or the event's figures (people, cards, dots), changed."""
    publisher().touch(event_id, card_ids)


def suggestion_messages(staff_card: dict, public_card: dict, public: bool) -> list:
    """One card changed: staff see it as it is, the public see it or are told to drop it."""
    if public:
        return [("staff", "suggestion", staff_card), ("public", "suggestion", public_card)]
    return [("staff", "suggestion", staff_card), ("public", "removed", {"id": public_card["id"]})]
