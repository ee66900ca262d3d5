"""What one dot change costs in the server process, without the network: the Flask test client
(threading mode) against a real SQLite file with the production settings (WAL, synchronous=FULL).

    python benchmarks/vote_benchmark.py                 # 2,000 votes, request limits off and on
    python benchmarks/vote_benchmark.py --votes 500 --profile   # and where the time goes

Prints milliseconds per vote (the whole request: routing, the limits, the vote's transaction,
its commit and the JSON answer). Times are wall-clock on this machine; run it on a quiet one.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARTICIPANTS = 50
CARDS = 40


def prepare(directory: Path, limits: bool):
    """An app on a new database with an event in the vote phase, its participants and cards."""
    from flask_migrate import upgrade

    from workshop import create_app
    from workshop.domain.accounts import create_user

    app = create_app(
        {
            "SECRET_KEY": "vote-benchmark",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'votes.sqlite3'}",
            "WORKSHOP_ASYNC_MODE": "threading",
            "WORKSHOP_ADMIN_PASSWORD": "vote-benchmark-admin",
            "WORKSHOP_PUBLIC_URL": "http://workshop.test",
            "WORKSHOP_REPORT_CACHE": str(directory / "reports"),
            "WORKSHOP_PREPARE_REPORTS": False,
            "RATELIMIT_ENABLED": limits,
        }
    )
    with app.app_context():
        upgrade()
        create_user("moderator", "password-123", "moderator")
    client = app.test_client()
    login = {"username": "moderator", "password": "password-123"}
    token = client.post("/api/v1/auth/token", json=login).json["token"]
    staff = {"Authorization": f"Bearer {token}"}
    settings = {"vote_budget": 100, "max_dots_per_suggestion": 100}
    body = {"title": "Benchmark", "areas": ["A", "B"], "settings": settings}
    event = client.post("/api/v1/events", json=body, headers=staff).json
    code = event["code"]
    people = []
    for _ in range(PARTICIPANTS):
        token = client.post(f"/api/v1/events/{code}/participants").json["token"]
        people.append({"Authorization": f"Bearer {token}"})
    cards = []
    for n in range(CARDS):
        card = {"client_id": str(uuid.uuid4()), "title": f"Card {n}"}
        response = client.post(f"/api/v1/events/{code}/suggestions", json=card, headers=staff)
        cards.append(response.json["id"])
    client.patch(f"/api/v1/events/{code}", json={"phase": "vote"}, headers=staff)
    return client, code, people, cards


def run(client, code: str, people: list, cards: list, votes: int, start: dict) -> float:
    """Raise one participant's dots on one card per request; returns seconds per vote."""
    began = time.perf_counter()
    for n in range(votes):
        person, card = n % len(people), cards[(n * 7) % len(cards)]
        dots = start[(person, card)] = start.get((person, card), 0) + 1
        response = client.put(
            f"/api/v1/events/{code}/suggestions/{card}/dots",
            json={"dots": dots},
            headers=people[person],
        )
        if response.status_code != 200:
            raise RuntimeError(f"vote refused: {response.status_code} {response.json}")
    return (time.perf_counter() - began) / votes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile")
    args = parser.parse_args()
    # Each participant has 100 dots; 50 participants take 5,000 votes at most.
    votes = min(args.votes, PARTICIPANTS * 100 // 2)
    for limits in (False, True):
        with tempfile.TemporaryDirectory(prefix="workshop-votes-") as directory:
            client, code, people, cards = prepare(Path(directory), limits)
            spent: dict = {}
            run(client, code, people, cards, 100, spent)  # warm-up
            seconds = run(client, code, people, cards, votes, spent)
            label = "on " if limits else "off"
            print(f"request limits {label}: {seconds * 1000:.2f} ms per vote ({votes} votes)")
            if args.profile and not limits:
                profile = cProfile.Profile()
                profile.enable()
                run(client, code, people, cards, min(votes, 500), spent)
                profile.disable()
                pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
