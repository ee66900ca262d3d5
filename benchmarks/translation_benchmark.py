"""What translating cards costs workshop, and how long a room waits for translations.

    python benchmarks/translation_benchmark.py [--cards 100] [--latency 0.3]

A real `python run.py` (eventlet, SQLite) with the stand-in LibreTranslate of the tests
(tests/standin_libretranslate.py) as its engine:

1. The pipeline's own cost per card: the server's CPU time to file N cards and translate each
   into five languages with a stand-in that answers at once, minus its CPU time to file N cards
   with translation off (same run, side by side).
2. How long N cards filed at once take to be translated into five languages when every request
   to the engine takes `--latency` seconds (a real engine on a laptop CPU).

Prints figures; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.realserver import Server  # noqa: E402
from tests.standin_libretranslate import StandIn  # noqa: E402

TITLES = [
    "Deutschkurse mit Kinderbetreuung",
    "Anerkennung ausländischer Berufsabschlüsse beschleunigen",
    "Mehr Sportangebote für Mädchen",
    "Bezahlbare Wohnungen für große Familien",
    "Beratung in der eigenen Sprache",
]


def file_cards(server: Server, count: int) -> None:
    """File `count` cards at once (10 at a time), as a hall does."""

    def one(i: int) -> None:
        body = {"client_id": str(uuid.uuid4()), "title": f"{TITLES[i % len(TITLES)]} {i}"}
        server.api("POST", "/suggestions", json=body).raise_for_status()

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(one, range(count)))


def run(cards: int, translate_url: str | None) -> tuple[float, float]:
    """(server CPU seconds, wall seconds) to file `cards` cards and have them translated."""
    with tempfile.TemporaryDirectory() as directory:
        server = Server(
            Path(directory), WORKSHOP_EMBEDDINGS="off", WORKSHOP_TRANSLATE_URL=translate_url or ""
        )
        try:
            cpu, start = server.cpu_seconds(), time.perf_counter()
            file_cards(server, cards)
            while translate_url and server.api("GET", "/translations").json()["pending"]:
                time.sleep(0.05)
            wall = time.perf_counter() - start
            return server.cpu_seconds() - cpu, wall
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.3)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load: {os.getloadavg()[0]:.2f}, {args.cards} cards")
    standin = StandIn()
    try:
        off_cpu, off_wall = run(args.cards, None)
        on_cpu, on_wall = run(args.cards, standin.url)
        per_card = (on_cpu - off_cpu) / args.cards * 1000
        print("## The pipeline's own cost (engine answers at once)")
        print(f"translation off: {off_cpu:.2f} s CPU ({off_wall:.2f} s wall) to file them")
        print(
            f"translation on:  {on_cpu:.2f} s CPU ({on_wall:.2f} s wall) to file and translate "
            f"into 5 languages: {per_card:.1f} ms CPU per card for translating "
            f"({standin.translations_asked()} requests to the engine)"
        )
        standin.mode, standin.delay = "slow", args.latency
        asked = standin.translations_asked()
        _, wall = run(args.cards, standin.url)
        print(f"## An engine that answers in {args.latency * 1000:.0f} ms")
        print(
            f"{args.cards} cards filed at once are translated into 5 languages after {wall:.1f} s"
            f" ({standin.translations_asked() - asked} requests)"
        )
    finally:
        standin.close()


if __name__ == "__main__":
    main()
