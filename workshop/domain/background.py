"""Work that follows a change, done in the background: one task per app and kind of work, fed a
queue of events, retrying with back-off while an engine is down.

Similar cards (`similarity`) and translations (`translations`) each keep one `EventQueue`: a
change queues its event; the task runs `work(event_id)` (one small batch, True while more is left)
until the queue is empty, and ends. Nothing runs while nothing changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask

from workshop.extensions import db, socketio

log = logging.getLogger(__name__)

#: Seconds to wait after the engine failed again; after the last the queue rests until the next
#: change (or the next read that finds work left) starts it again.
BACKOFF = (1, 2, 5, 10, 30, 60)


class EngineDown(Exception):
    """`work` could not reach its engine: try again later."""


@dataclass
class EventQueue:
    """Events with work left, and the one task working through them."""

    app: Flask
    name: str
    work: Callable[[int], bool]
    queue: dict[int, None] = field(default_factory=dict)
    running: bool = False
    #: Engine failures in a row (0 once it worked again).
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, event_id: int) -> None:
        """Queue the event; start the task unless it runs."""
        with self.lock:
            self.queue[event_id] = None
            if self.running:
                return
            self.running = True
        socketio.start_background_task(self._run)

    def failed(self, error: Exception) -> None:
        """Note an engine failure; logged once per run of failures, not per card or request."""
        if self.failures == 0:
            log.warning("%s: the engine failed; trying again later: %s", self.name, error)
        self.failures += 1

    def worked(self) -> None:
        if self.failures:
            log.warning("%s: the engine works again", self.name)
        self.failures = 0

    def _next(self) -> int | None:
        with self.lock:
            if not self.queue:
                self.running = False
                return None
            event_id = next(iter(self.queue))
            del self.queue[event_id]
            return event_id

    def _run(self) -> None:
        with self.app.app_context():
            while (event_id := self._next()) is not None:
                more = self._step(event_id)
                if more:
                    with self.lock:
                        self.queue.setdefault(event_id, None)

    def _step(self, event_id: int) -> bool:
        """One batch of the event's work; whether to queue it again."""
        try:
            more = self.work(event_id)
            self.worked()
            return more
        except EngineDown as error:
            self.failed(error)
            if self.failures > len(BACKOFF):
                with self.lock:  # given up for now
                    self.queue.clear()
                return False
            socketio.sleep(BACKOFF[self.failures - 1])
            return True
        except Exception:  # the queue goes on; this event is tried again on its next change
            log.exception("%s: the work on event %s failed", self.name, event_id)
            return False
        finally:
            db.session.remove()
