"""Hostile load at the issue's sizes against a real eventlet server; prints what `/healthz` (from
127.0.0.1) and the server's memory did meanwhile.

    python benchmarks/hostile_benchmark.py [--root OTHER_CHECKOUT] [--only slow|deaf]

- slow: 4,000 half-open connections (a header begun, never finished) from 127.0.0.2, held 10 s,
  then released;
- deaf: 20 board websockets (127.0.0.2 to .21) on an event of 3,900 cards, each asking `resync`
  every 2 s and never reading, for 90 s (`--deaf-seconds`).

`--root` runs another checkout (e.g. `git worktree add /tmp/before <commit>`), for figures
before a change. Request limits stay on, as in production.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from attacks import (
    Watcher,
    close_all,
    closed_by_server,
    deaf_boards,
    fill_cards,
    half_open,
    raise_open_files,
    rss_mib,
)
from realserver import ROOT, Server

SETTINGS = {"WORKSHOP_RATELIMIT_ENABLED": "1", "WORKSHOP_EMBEDDINGS": "off"}


def slow(root: Path, count: int, hold: float) -> None:
    raise_open_files(count + 1000)
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder), root=root, **SETTINGS)
        try:
            with Watcher(server.url, timeout=10) as watcher:
                time.sleep(2)
                started = watcher.mark()
                sockets = half_open(server.url, count)
                opened = watcher.mark()
                time.sleep(hold)
                held = watcher.mark()
                refused = sum(closed_by_server(sock) for sock in sockets)
                close_all(sockets)
                released = watcher.mark()
                time.sleep(5)
            print(
                f"slow: {len(sockets)} half-open from 127.0.0.2 in {opened - started:.1f} s, "
                f"{refused} closed by the server within {hold:.0f} s"
            )
            print(
                f"  /healthz worst while held: {watcher.worst(started, held):.3f} s "
                f"({watcher.count(started, held)} answers); "
                f"after release: {watcher.worst(released):.3f} s "
                f"({watcher.count(released)} answers)"
            )
            slowest = [
                (round(at - started, 1), round(took, 2))
                for at, took in watcher.samples
                if took > 0.5
            ]
            print(f"  slow answers (start offset s, took s): {slowest[:20]}")
        finally:
            server.stop()


def deaf(root: Path, boards: int, cards: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder), root=root, **SETTINGS)
        try:
            fill_cards(str(server.database), server.code, cards)
            time.sleep(1.5)
            before = rss_mib(server.process.pid)
            with Watcher(server.url, timeout=10) as watcher:
                started = watcher.mark()
                peak = before
                with deaf_boards(server.url, server.code, boards) as attackers:
                    deadline = time.monotonic() + seconds
                    while time.monotonic() < deadline:
                        time.sleep(1)
                        peak = max(peak, rss_mib(server.process.pid))
                ended = watcher.mark()
                cut = sum(board.cut for board in attackers)
                time.sleep(5)
                after = rss_mib(server.process.pid)
            print(
                f"deaf: {boards} boards x resync/2 s for {seconds:.0f} s on {cards} cards: "
                f"memory {before:.0f} -> peak {peak:.0f} MiB (+{peak - before:.0f}), "
                f"{after:.0f} MiB 5 s after; {cut} cut by the server"
            )
            print(
                f"  /healthz worst meanwhile: {watcher.worst(started, ended):.3f} s "
                f"({watcher.count(started, ended)} answers)"
            )
            slow_answers(watcher, started)
        finally:
            server.stop()


def slow_answers(watcher: Watcher, started: float) -> None:
    """When the answers over half a second came (seconds after the attack began)."""
    slowest = [(round(at - started, 1), round(took, 2)) for at, took in watcher.samples]
    print(f"  answers over 0.5 s (at, took): {[s for s in slowest if s[1] > 0.5][:20]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--only", choices=["slow", "deaf"])
    parser.add_argument("--connections", type=int, default=4000)
    parser.add_argument("--hold", type=float, default=10)
    parser.add_argument("--boards", type=int, default=20)
    parser.add_argument("--cards", type=int, default=3900)
    parser.add_argument("--deaf-seconds", type=float, default=90)
    args = parser.parse_args()
    print(f"checkout: {args.root}")
    if args.only in (None, "slow"):
        slow(args.root, args.connections, args.hold)
    if args.only in (None, "deaf"):
        deaf(args.root, args.boards, args.cards, args.deaf_seconds)


if __name__ == "__main__":
    main()
