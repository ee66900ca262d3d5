"""How long anonymous reads of a large event's card list hold up everyone else.

    python benchmarks/read_benchmark.py [--cards 20000] [--seconds 8] [--changes 4]

Starts a real `python run.py` (eventlet, SQLite; benchmarks/realserver.py), puts `--cards` cards
into its demo event straight into the database, then, while 1 and then 10 anonymous clients read
`GET /api/v1/events/<code>/suggestions` in a loop, a watcher asks `/healthz` every 20 ms: its
latency is what every other phone and board waits while the lists are read. A last round files
`--changes` cards (a new public state each) with no reader, then while 10 clients read, so that
the list is made anew.
Prints figures; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from realserver import Server


def fill(database: Path, code: str, cards: int) -> None:
    """`cards` visible cards in the event, inserted in one transaction."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(database) as connection:
        (event_id,) = connection.execute("SELECT id FROM events WHERE code = ?", (code,)).fetchone()
        connection.executemany(
            "INSERT INTO suggestions (event_id, title, body, status, language, dots, voters,"
            " version, created_at, updated_at) VALUES (?, ?, ?, 'visible', 'de', ?, ?, 1, ?, ?)",
            (
                (event_id, f"Vorschlag {i}: Sprachcafé", "Text " * 20, i % 7, i % 5, now, now)
                for i in range(cards)
            ),
        )


class Watcher:
    """Asks /healthz every 20 ms and keeps the latencies (seconds)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            started = time.perf_counter()
            session.get(f"{self.url}/healthz", timeout=60)
            self.latencies.append(time.perf_counter() - started)
            self._stop.wait(0.02)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def readers(server: Server, clients: int, seconds: float, during=None) -> list[float]:
    """`clients` threads reading the list for `seconds` (while `during()` runs, if given), with
    the Accept-Encoding of a browser."""
    url = f"{server.url}/api/v1/events/{server.code}/suggestions"
    times: list[float] = []
    until = time.monotonic() + seconds

    def read() -> None:
        session = requests.Session()
        session.headers["Accept-Encoding"] = "gzip, deflate, br"
        while time.monotonic() < until:
            started = time.perf_counter()
            # Taken as sent (compressed, as phones accept it) and not unpacked: this process's
            # threads share one GIL with the watcher, whose figures should be the server's.
            response = session.get(url, timeout=120, stream=True)
            response.raise_for_status()
            response.raw.read(decode_content=False)
            times.append(time.perf_counter() - started)

    threads = [threading.Thread(target=read) for _ in range(clients)]
    for thread in threads:
        thread.start()
    if during is not None:
        during()
    for thread in threads:
        thread.join()
    return times


def ms(values: list[float], quantile: float | None = None) -> str:
    if not values:
        return "-"
    if quantile is None:
        return f"{max(values) * 1000:.0f}"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"{cuts[int(quantile * 100) - 1] * 1000:.0f}"


def report(name: str, reads: list[float], health: list[float], cpu: float) -> None:
    print(
        f"{name:<28} reads {len(reads):>5}  read p50 {ms(reads, 0.5):>5} ms  max {ms(reads):>5} ms"
        f"  | healthz p50 {ms(health, 0.5):>4} ms  p99 {ms(health, 0.99):>5} ms"
        f"  max {ms(health):>5} ms  | server CPU {cpu:.1f} s",
        flush=True,
    )


def round_of(server: Server, name: str, clients: int, seconds: float, during=None) -> None:
    cpu = server.cpu_seconds()
    with Watcher(server.url) as watcher:
        reads = readers(server, clients, seconds, during)
    report(name, reads, watcher.latencies, server.cpu_seconds() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--changes", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        # Similar cards off: the model would analyse each new card, which is not what is measured.
        server = Server(Path(folder), WORKSHOP_EMBEDDINGS="off")
        try:
            fill(Path(folder) / "bench.sqlite3", server.code, args.cards)
            url = f"{server.url}/api/v1/events/{server.code}/suggestions"
            size = len(requests.get(url, timeout=120).content)
            print(f"{args.cards} cards, list {size / 1e6:.1f} MB", flush=True)
            with Watcher(server.url) as idle:
                time.sleep(2)
            report("idle", [], idle.latencies, 0.0)
            round_of(server, "1 reader", 1, args.seconds)
            round_of(server, "10 readers", 10, args.seconds)

            def changes(first: int) -> None:
                for i in range(first, first + args.changes):
                    time.sleep(args.seconds / (args.changes + 1))
                    server.api("POST", "/suggestions", json={"client_id": f"b{i}", "title": "Neu"})

            # The writes alone (a commit, its messages, the figures), then with readers: each
            # change has the list made anew.
            name = f"{args.changes} changes"
            round_of(server, f"{name}, no reader", 0, args.seconds, lambda: changes(0))
            round_of(server, f"{name}, 10 readers", 10, args.seconds, lambda: changes(100))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
