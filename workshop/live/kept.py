"""Read models made once per state of an event and shared by every reader until it changes.

An event's rooms' seqs name its state (every change is published to them, see lists.py), so what
was made from the event at those seqs serves every reader until the next change: 120 phones
reloading the public results at once cost one read of the event, not 120.

    value = kept_views(app).get(event_id, state(event_id, code, ...), "results-de", make)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import Flask

from workshop.live.messages import AUDIENCES
from workshop.live.publisher import publisher, room

EXTENSION = "workshop.kept_views"
#: Views kept at once (the least recently used goes first); each event keeps only its newest
#: state of each view.
SIZE = 64


def state(event_id: int, *extra: Hashable) -> tuple:
    """The event's state: the seq of each of its rooms, and `extra` (e.g. its code, which an
    event made after a deletion under the same id does not share)."""
    return (*(publisher().current_seq(room(event_id, audience)) for audience in AUDIENCES), *extra)


class KeptViews:
    """Per (event, view name): the view made at one state of the event."""

    def __init__(self, size: int = SIZE):
        self.size = size
        self._lock = threading.Lock()
        #: One make at a time: readers arriving during a make wait for it instead of repeating it
        #: (re-entrant: a view may be made from another kept view).
        self._making = threading.RLock()
        self._items: OrderedDict[tuple[int, str], tuple[tuple, Any]] = OrderedDict()

    def _found(self, key: tuple[int, str], at: tuple) -> tuple[bool, Any]:
        with self._lock:
            kept = self._items.get(key)
            if kept is None or kept[0] != at:
                return False, None
            self._items.move_to_end(key)
            return True, kept[1]

    def get(self, event_id: int, at: tuple, name: str, make: Callable[[], Any]) -> Any:
        """The view `name` of the event at state `at`, made by `make()` unless kept; the value
        is shared, so callers must not change it."""
        key = (event_id, name)
        found, value = self._found(key, at)
        if found:
            return value
        with self._making:
            found, value = self._found(key, at)
            if found:
                return value
            value = make()
            with self._lock:
                self._items[key] = (at, value)
                self._items.move_to_end(key)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value


def kept_views(app: Flask) -> KeptViews:
    """The app's kept views (made on first use)."""
    views = app.extensions.get(EXTENSION)
    if views is None:
        views = app.extensions.setdefault(EXTENSION, KeptViews())
    return views
