"""The load generator (benchmarks/loadgen.py and loadgen.mjs) at a tiny point against the real
server: everything acknowledged is stored and every change reaches every screen. No timings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import ADMIN_PASSWORD, ROOT

pytestmark = pytest.mark.e2e

BENCHMARKS = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def generator_installed() -> None:
    """Node.js and the generator's npm packages (`npm ci` from the lock file when missing)."""
    if not (shutil.which("node") and shutil.which("npm")):
        if os.environ.get("CI"):
            pytest.fail("CI must have Node.js and npm for the load generator")
        pytest.skip("no Node.js: the load generator needs it")
    packages = BENCHMARKS / "node_modules"
    # socket.io-client for the generator, socket.io for the peer (peer_server.mjs).
    if not all((packages / name).exists() for name in ("socket.io-client", "socket.io")):
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(BENCHMARKS)],
            check=True,
            capture_output=True,
            timeout=300,
        )


def tiny_point(server, output, *extra: str) -> subprocess.CompletedProcess:
    """loadgen.py at 20 screens, 5 cards then 15 votes, against the running server."""
    return subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "loadgen.py"),
            "--url",
            server.url,
            "--admin-password",
            ADMIN_PASSWORD,
            "--server-pid",
            str(server.process.pid),
            "--viewers",
            "20",
            "--rate",
            "5",
            "--collect-seconds",
            "1",
            "--vote-seconds",
            "3",
            "--repeat",
            "1",
            "--no-pin",
            "--json",
            str(output),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_tiny_point_loses_nothing(server, generator_installed, tmp_path):
    output = tmp_path / "loadgen.json"
    completed = tiny_point(server, output)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [report] = json.loads(output.read_text())

    assert report["connect"]["connected"] == 20
    assert report["suggestions"]["acked"] == report["suggestions"]["stored"] == 5
    assert report["votes"]["acked"] == report["votes"]["stored"] == 15
    assert report["votes"]["mismatchedCards"] == 0
    # Every (suggestion or vote, screen) pair arrived, in order, with no resync needed.
    assert report["suggestions"]["undelivered"] == 0
    assert report["votes"]["undelivered"] == 0
    assert report["suggestions"]["screen"]["count"] == 5 * 20
    assert report["votes"]["screen"]["count"] == 15 * 20
    counters = report["counters"]
    assert (counters["gaps"], counters["resyncs"], counters["disconnects"]) == (0, 0, 0)
    assert counters["unknownVotes"] == counters["regressions"] == 0
    # The client offered permessage-deflate; the server refused it.
    assert counters["deflateNegotiated"] == 0
    assert report["http"]["networkErrors"] == {}
    assert all(int(status) < 400 for status in report["http"]["statuses"])
    # The server's figures came from /proc.
    assert report["server"]["rss_connected_mib"] > 0
    # The printed Markdown row is there for the README.
    assert "| (custom) 20 viewers @ 5/s |" in completed.stdout


def test_the_peers_speak_the_same_protocol(server, generator_installed, tmp_path):
    """--peer runs the point against peer_server.mjs (Node) and peer_server.py (workshop's stack
    without workshop) too: the generator finds there everything it finds at workshop, and each
    stage's figures are printed with their ratios (issue 19)."""
    output = tmp_path / "loadgen.json"
    completed = tiny_point(server, output, "--peer", "--peer", "python")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [report] = json.loads(output.read_text())
    assert sorted(report["peers"]) == ["node", "python"]
    for kind, peer in report["peers"].items():
        assert peer["server_root"] == f"peer {kind}"
        assert peer["connect"]["connected"] == 20
        assert peer["suggestions"]["acked"] == peer["suggestions"]["stored"] == 5
        assert peer["votes"]["acked"] == peer["votes"]["stored"] == 15
        assert peer["suggestions"]["undelivered"] == peer["votes"]["undelivered"] == 0
        assert peer["counters"]["gaps"] == peer["counters"]["disconnects"] == 0
        assert peer["counters"]["deflateNegotiated"] == 0
        assert peer["votes"]["screen"]["count"] == 15 * 20
    for heading in ("workshop / node peer", "workshop / python peer", "python peer / node peer"):
        assert f"{heading} (ratio):" in completed.stdout
    assert "vote→screen p95 ms" in completed.stdout
