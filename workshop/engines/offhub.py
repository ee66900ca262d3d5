"""Run a call that blocks in C (a model) without freezing eventlet's hub.

Under eventlet every connection is a green thread on one OS thread: a C call that takes 50 ms
stops all of them for 50 ms. `run` hands such a call to eventlet's pool of real threads and
waits for it cooperatively; in threading mode (tests, `WORKSHOP_ASYNC_MODE=threading`) the
caller is already a real thread and calls directly.

`run_low_priority` is for work that may wait (a model embedding new cards): one real thread at
the lowest CPU priority runs it, so that when the server's core is busy the live traffic (votes,
screens) goes first.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import TypeVar

T = TypeVar("T")


def patched() -> bool:
    """Whether eventlet has monkey-patched this process (run.py does, and only run.py)."""
    eventlet = sys.modules.get("eventlet")
    return eventlet is not None and eventlet.patcher.is_monkey_patched("thread")


def run(function: Callable[..., T], *args) -> T:
    """`function(*args)` in a real OS thread when eventlet runs the process, else directly."""
    if patched():
        from eventlet import tpool  # only ever imported where eventlet is already loaded

        return tpool.execute(function, *args)
    return function(*args)


def run_low_priority(function: Callable[..., T], *args) -> T:
    """`function(*args)` in the one low-priority thread; waits for it without blocking the hub."""
    worker = _low_priority_worker()
    if patched():
        from eventlet import tpool

        return tpool.execute(worker.call, function, *args)
    return worker.call(function, *args)


#: The nice value of the low-priority thread: the lowest priority there is.
LOW_PRIORITY = 19

_worker_lock = threading.Lock()
_worker: _LowPriorityWorker | None = None


def _low_priority_worker() -> _LowPriorityWorker:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = _LowPriorityWorker()
        return _worker


class _LowPriorityWorker:
    """A real thread (eventlet's originals where it has patched the process) that lowers its own
    priority once (Linux keeps the nice value per thread) and runs calls one at a time."""

    def __init__(self) -> None:
        if patched():
            from eventlet import patcher

            self._threading = patcher.original("threading")
            queue = patcher.original("queue")
        else:
            import queue

            self._threading = threading
        self._jobs = queue.SimpleQueue()
        self.native_id: int | None = None
        started = self._threading.Event()
        self._thread = self._threading.Thread(
            target=self._serve, args=(started,), name="workshop-low-priority", daemon=True
        )
        self._thread.start()
        started.wait()

    def call(self, function: Callable[..., T], *args) -> T:
        done = self._threading.Event()
        outcome: dict = {}
        self._jobs.put((function, args, outcome, done))
        done.wait()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    def _serve(self, started) -> None:
        self.native_id = self._threading.get_native_id()
        # Raising one's own nice value needs no privilege; where there is no such call (not
        # POSIX) the work simply runs at the usual priority.
        with suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, self.native_id, LOW_PRIORITY)
        started.set()
        while True:
            function, args, outcome, done = self._jobs.get()
            try:
                outcome["result"] = function(*args)
            except BaseException as error:  # the caller's to handle
                outcome["error"] = error
            finally:
                done.set()
