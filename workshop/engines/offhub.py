"""Run a call that blocks in C (a model) without freezing eventlet's hub.

Under eventlet every connection is a green thread on one OS thread: a C call that takes 50 ms
stops all of them for 50 ms. `run` hands such a call to eventlet's pool of real threads and
waits for it cooperatively; in threading mode (tests, `WORKSHOP_ASYNC_MODE=threading`) the
caller is already a real thread and calls directly.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
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
