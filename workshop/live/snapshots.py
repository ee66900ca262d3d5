"""The last public snapshot of each event, shared by every screen that connects while it holds."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import Flask

EXTENSION = "workshop.public_states"


@dataclass
class Kept:
    seq: int
    made: float
    state: Any


class PublicStates:
    """The last public state of each event, handed to every board and phone that connects while
    the public room's seq stands (at most `MAX_AGE` seconds): a thousand phones joining at once
    read the event once, not a thousand times.

    Every change the public may see is published to the public room, so an unchanged seq means an
    unchanged state; the age bounds what a write that publishes nothing (none should) could leave.
    """

    MAX_AGE = 1.0

    def __init__(self) -> None:
        self._states: dict[int, Kept] = {}

    def get(self, event_id: int, seq: int) -> Any | None:
        kept = self._states.get(event_id)
        if kept is None or kept.seq != seq or time.monotonic() - kept.made > self.MAX_AGE:
            return None
        return kept.state

    def put(self, event_id: int, seq: int, state: Any) -> None:
        self._states[event_id] = Kept(seq, time.monotonic(), state)

    def forget(self, event_id: int) -> None:
        self._states.pop(event_id, None)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = PublicStates()


def public_states(app: Flask) -> PublicStates:
    return app.extensions[EXTENSION]
