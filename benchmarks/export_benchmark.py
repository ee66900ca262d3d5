"""Time every export format on a large event: 2,000 suggestions and 50,000 dots by default.

    python benchmarks/export_benchmark.py [--suggestions 2000] [--dots 50000] [--repeat 3]
    python benchmarks/export_benchmark.py --server --suggestions 20000 [--pdf] [--root CHECKOUT]

The event is built in a temporary SQLite file with bulk inserts (not through the API), then each
format is exported `--repeat` times; the best and the worst time and the file size are printed,
and the JSON file is imported once as a new event. With `--server` the event is built in the
database of a real eventlet server (benchmarks/realserver.py) and each export (and the report
page; the PDF with `--pdf`) is downloaded over HTTP while a watcher asks /healthz again and
again: it prints each download's time and the watcher's worst and median wait meanwhile, which
shows whether the export stalls the server; `--root` runs the server of another checkout (for
figures before a change, e.g. `git worktree add /tmp/before <commit>`). Prints figures; it never
asserts a timing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_babel import force_locale
from flask_migrate import upgrade

from workshop import create_app
from workshop.db.models import Area, Event, MergedVote, Participant, Suggestion, Vote
from workshop.extensions import db
from workshop.results import exports, importer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realserver import ROOT, Server

BUDGET, CAP, AREAS = 5, 2, 8
WORDS = (
    "Sprachcafé",
    "Nachbarschaft",
    "Ausbildung",
    "Beratung",
    "Kita",
    "Schule",
    "Wohnung",
    "Arbeit",
    "Sport",
    "Verein",
    "Dolmetscher",
    "Begegnung",
    "Gesundheit",
    "Ehrenamt",
    "Behörde",
    "Mentoring",
    "Stadtteil",
    "Fest",
    "Bibliothek",
)
ARABIC = "مقهى لغوي للجيران في الحي"


def build(suggestions: int, dots: int, seed: int = 1) -> int:
    """Insert one event with areas, cards, participants, votes and merges; return its id."""
    rng = random.Random(seed)
    event = _insert_event()
    card_ids, statuses = _insert_cards(event, suggestions, rng)
    # Every 20th visible card is merged into its neighbour; merged cards hold no dots.
    merged = {
        card_ids[i]: card_ids[i + 1]
        for i in range(0, len(card_ids) - 1, 20)
        if statuses[card_ids[i]] == statuses[card_ids[i + 1]] == "visible"
    }
    votable = [cid for cid in card_ids if statuses[cid] == "visible" and cid not in merged]
    # Popularity falls off steeply, as in a real plenum: many cards with few dots.
    weights = [1 / (rank + 5) for rank in range(len(votable))]
    rng.shuffle(votable)
    person_ids = list(
        db.session.scalars(
            sa.insert(Participant).returning(Participant.id, sort_by_parameter_order=True),
            [
                {"event_id": event.id, "token_hash": f"{n:064x}", "dots_budget": BUDGET}
                for n in range(-(-dots // BUDGET))
            ],
        )
    )
    votes = _cast_votes(person_ids, votable, weights, dots, rng)
    _insert_votes(votes, card_ids, person_ids, merged)
    _insert_ledger(votes, merged)
    db.session.commit()
    return event.id


def _insert_event() -> Event:
    """The event in its results phase, with its areas."""
    event = Event(
        code="BENCH3",
        title="Plenum Benchmark",
        question="Welche Themen sollen in die Fortschreibung aufgenommen werden?",
        phase="results",
        vote_budget=BUDGET,
        max_dots_per_suggestion=CAP,
        max_suggestions_per_participant=100,
    )
    event.areas = [Area(name=f"Bereich {i + 1}", color="#1f5fa8", position=i) for i in range(AREAS)]
    db.session.add(event)
    db.session.flush()
    return event


def _card_status(i: int) -> str:
    """A few cards of every hundred are hidden, pending or withdrawn; the rest are visible."""
    return {1: "hidden", 2: "pending", 3: "withdrawn"}.get(i % 100, "visible")


def _insert_cards(
    event: Event, suggestions: int, rng: random.Random
) -> tuple[list[int], dict[int, str]]:
    """The cards, some in Arabic and some without an area; their ids and statuses by id."""
    area_ids = [area.id for area in event.areas]
    cards = []
    for i in range(suggestions):
        title = " ".join(rng.choices(WORDS, k=rng.randint(2, 6)))
        if i % 50 == 0:
            title = ARABIC
        cards.append(
            {
                "event_id": event.id,
                "area_id": area_ids[i % AREAS] if i % 97 else None,
                "title": title[:140],
                "body": " ".join(rng.choices(WORDS, k=rng.randint(0, 30))),
                "status": _card_status(i),
            }
        )
    card_ids = list(
        db.session.scalars(
            sa.insert(Suggestion).returning(Suggestion.id, sort_by_parameter_order=True), cards
        )
    )
    return card_ids, dict(zip(card_ids, (card["status"] for card in cards), strict=True))


def _cast_votes(
    person_ids: list[int],
    votable: list[int],
    weights: list[float],
    dots: int,
    rng: random.Random,
) -> dict[tuple[int, int], int]:
    """Dots by (participant, card): each spends the whole budget until `dots` are given."""
    votes: dict[tuple[int, int], int] = {}
    left = dots
    for person in person_ids:
        spend = min(BUDGET, left)
        left -= spend
        while spend:
            card = rng.choices(votable, weights)[0]
            room = CAP - votes.get((person, card), 0)
            if room:
                step = min(room, spend, rng.randint(1, CAP))
                votes[(person, card)] = votes.get((person, card), 0) + step
                spend -= step
    return votes


def _insert_votes(
    votes: dict[tuple[int, int], int],
    card_ids: list[int],
    person_ids: list[int],
    merged: dict[int, int],
) -> None:
    """The vote rows, and the totals and merges they imply on cards and participants."""
    db.session.execute(
        sa.insert(Vote),
        [{"participant_id": p, "suggestion_id": s, "dots": n} for (p, s), n in votes.items()],
    )
    totals, voters, spent = Counter(), Counter(), Counter()
    for (person, card), n in votes.items():
        totals[card] += n
        voters[card] += 1
        spent[person] += n
    db.session.execute(
        sa.update(Suggestion),
        [
            {
                "id": cid,
                "dots": totals[cid],
                "voters": voters[cid],
                "merged_into_id": merged.get(cid),
            }
            for cid in card_ids
        ],
    )
    db.session.execute(
        sa.update(Participant),
        [{"id": pid, "dots_used": spent[pid]} for pid in person_ids if spent[pid]],
    )


def _insert_ledger(votes: dict[tuple[int, int], int], merged: dict[int, int]) -> None:
    """Ledger entries as a merge leaves them: a few of the target's voters, one dot moved."""
    by_card: dict[int, list[tuple[int, int]]] = {}
    for (person, card), n in votes.items():
        by_card.setdefault(card, []).append((person, n))
    ledger = [
        {"suggestion_id": source, "participant_id": person, "moved": 1, "before": n - 1, "after": n}
        for source, target in merged.items()
        for person, n in by_card.get(target, [])[:5]
    ]
    if ledger:
        db.session.execute(sa.insert(MergedVote), ledger)


class Watcher:
    """Ask /healthz again and again in a thread; `during(start, end)` gives the waits of the
    questions pending at some time in that interval (so one stuck for all of it counts)."""

    def __init__(self, url: str):
        self.url = url
        self.waits: list[tuple[float, float]] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.done.is_set():
            asked = time.perf_counter()
            requests.get(f"{self.url}/healthz", timeout=600)
            self.waits.append((asked, time.perf_counter() - asked))

    def during(self, start: float, end: float) -> list[float]:
        return [wait for asked, wait in self.waits if asked <= end and asked + wait >= start]

    def wait_past(self, moment: float) -> None:
        """Wait until a question asked after `moment` was answered: all before it are in."""
        while not any(asked > moment for asked, _wait in self.waits[-3:]):
            time.sleep(0.05)

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=600)


def _download(server: Server, code: str, what: str) -> tuple[float, int, int]:
    """Fetch one export (or the report page) as the admin: (seconds, status, bytes)."""
    if what == "report":
        url = f"{server.url}/events/{code}/report"
    else:
        url = f"{server.url}/api/v1/events/{code}/export?format={what}"
    started = time.perf_counter()
    response = requests.get(url, headers={**server.headers, "Accept-Language": "de"}, timeout=900)
    return time.perf_counter() - started, response.status_code, len(response.content)


def over_http(args: argparse.Namespace) -> None:
    """Build the event in a real server's database and download every export while /healthz
    is watched."""
    with tempfile.TemporaryDirectory() as folder:
        server = Server(
            Path(folder), root=args.root, WORKSHOP_PREPARE_REPORTS="0", WORKSHOP_EMBEDDINGS="off"
        )
        try:
            app = create_app(
                {
                    "SECRET_KEY": "benchmark",
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
                    "WORKSHOP_ASYNC_MODE": "threading",
                }
            )
            with app.app_context():
                code = db.session.get(Event, build(args.suggestions, args.dots)).code
                db.session.remove()
                db.engine.dispose()
            print(f"Built {args.suggestions:,} suggestions, {args.dots:,} dots in a real server")
            _watched_downloads(server, code, args)
        finally:
            server.stop()


def _watched_downloads(server: Server, code: str, args: argparse.Namespace) -> None:
    watcher = Watcher(server.url)
    columns = ("time s", "status", "size", "healthz", "worst s", "median s")
    print(
        f"{'export':<8}"
        + "".join(
            f"{name:>{width}}" for name, width in zip(columns, (9, 8, 14, 9, 9, 10), strict=True)
        )
    )
    for what in ("csv", "xlsx", "json", "report", *(("pdf",) if args.pdf else ())):
        for _ in range(args.repeat):
            started = time.perf_counter()
            seconds, status, size = _download(server, code, what)
            watcher.wait_past(started + seconds)
            waits = watcher.during(started, started + seconds)
            worst = max(waits, default=0.0)
            median = statistics.median(waits) if waits else 0.0
            print(
                f"{what:<8}{seconds:>9.2f}{status:>8}{size:>12,} B{len(waits):>9}"
                f"{worst:>9.2f}{median:>10.3f}"
            )
    watcher.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suggestions", type=int, default=2000)
    parser.add_argument("--dots", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server", action="store_true", help="over HTTP, /healthz watched")
    parser.add_argument("--pdf", action="store_true", help="with --server: also the PDF")
    parser.add_argument("--root", type=Path, default=ROOT, help="with --server: its checkout")
    args = parser.parse_args()
    if args.server:
        over_http(args)
        return
    in_process(args)


def in_process(args: argparse.Namespace) -> None:
    """Export every format in this process, from a temporary SQLite file."""

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "benchmark.sqlite3"
        app = create_app(
            {
                "SECRET_KEY": "benchmark",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                "WORKSHOP_ASYNC_MODE": "threading",
                "WORKSHOP_REPORT_CACHE": str(Path(folder) / "reports"),
            }
        )
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            event_id = build(args.suggestions, args.dots)
            votes = db.session.scalar(sa.select(sa.func.count()).select_from(Vote))
            print(
                f"Built {args.suggestions:,} suggestions, {args.dots:,} dots "
                f"({votes:,} vote rows) in {time.perf_counter() - started:.1f} s"
            )
            print(f"{'format':<8}{'best s':>9}{'worst s':>9}{'size':>14}")
            json_file = b""
            for fmt in exports.FORMATS:
                times = []
                for _ in range(args.repeat):
                    db.session.remove()  # each run reads from the database, not a warm session
                    event = db.session.get(Event, event_id)
                    started = time.perf_counter()
                    with force_locale("de"):
                        result = exports.export(event, fmt)
                    times.append(time.perf_counter() - started)
                if fmt == "json":
                    json_file = result.content
                size = f"{len(result.content):>14,} B"
                if fmt == "pdf":
                    # The first PDF is rendered; later ones are the kept file (workshop/pdf.py).
                    print(f"{'pdf new':<8}{times[0]:>9.2f}{times[0]:>9.2f}{size}")
                    fmt, times = "pdf kept", times[1:] or times
                print(f"{fmt:<8}{min(times):>9.2f}{max(times):>9.2f}{size}")
            db.session.remove()
            started = time.perf_counter()
            importer.import_event(importer.parse_bytes(json_file))
            print(f"{'import':<8}{time.perf_counter() - started:>9.2f}  (the JSON file, once)")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
