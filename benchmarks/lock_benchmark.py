"""Two events on one PostgreSQL database: do votes in one wait for a long write in the other?

Event A gets long write transactions back to back (each holds A's write lock for `--hold` ms, as
importing a big export or a slow merge would); meanwhile `--voters` threads change dots in event B
through the Flask test client (threading mode, the whole request). Prints B's vote latency and
rate with A idle, then with A busy. With one advisory lock for every event (before) B's votes
queue behind A; with one lock per event (now) they should not notice.

    python benchmarks/lock_benchmark.py                        # this checkout
    git archive <commit> | tar -x -C /tmp/before               # a checkout from before
    python benchmarks/lock_benchmark.py --root /tmp/before     # the same against that code

Needs a PostgreSQL URL whose user may create databases (`--postgres`, default
$WORKSHOP_TEST_POSTGRES_URL); a new database is made for the run and dropped afterwards.
Times are wall-clock on this machine: compare runs made one after the other, and say the load.
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose code to measure")
    parser.add_argument("--postgres", default=os.environ.get("WORKSHOP_TEST_POSTGRES_URL"))
    parser.add_argument("--voters", type=int, default=4, help="threads voting in event B")
    parser.add_argument("--seconds", type=float, default=5, help="per stage")
    parser.add_argument("--hold", type=float, default=50, help="ms each write in A holds its lock")
    return parser.parse_args()


@contextmanager
def new_database(url: str):
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    name = f"workshop_lockbench_{os.getpid()}_{int(time.time())}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def prepare(url: str, directory: Path):
    """The app, a staff token's headers, and two events in the vote phase with a card each."""
    from flask_migrate import upgrade

    from workshop import create_app
    from workshop.domain.accounts import create_user

    app = create_app(
        {
            "SECRET_KEY": "lock-benchmark",
            "SQLALCHEMY_DATABASE_URI": url,
            "WORKSHOP_ASYNC_MODE": "threading",
            "WORKSHOP_PUBLIC_URL": "http://workshop.test",
            "WORKSHOP_REPORT_CACHE": str(directory / "reports"),
            "WORKSHOP_PREPARE_REPORTS": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        create_user("moderator", "password-123", "moderator")
    client = app.test_client()
    login = {"username": "moderator", "password": "password-123"}
    staff = {
        "Authorization": f"Bearer {client.post('/api/v1/auth/token', json=login).json['token']}"
    }
    events = []
    for title in ("A", "B"):
        code = client.post("/api/v1/events", json={"title": title}, headers=staff).json["code"]
        card = {"client_id": str(uuid.uuid4()), "title": "Card"}
        card_id = client.post(f"/api/v1/events/{code}/suggestions", json=card, headers=staff).json[
            "id"
        ]
        client.patch(f"/api/v1/events/{code}", json={"phase": "vote"}, headers=staff)
        events.append((code, card_id))
    return app, events


def busy_writer(
    app, code: str, hold: float, stop: threading.Event
) -> tuple[threading.Thread, list[int]]:
    """Long write transactions in event A until `stop`: the thread, and a count of them."""
    import sqlalchemy as sa

    from workshop.db.engine import write_transaction
    from workshop.db.models import Event
    from workshop.extensions import db

    done = [0]
    # A checkout from before takes no event (one lock for all); this one takes A's.
    per_event = "event_id" in inspect.signature(write_transaction).parameters

    def run():
        with app.app_context():
            event_id = db.session.scalar(sa.select(Event.id).where(Event.code == code))
            db.session.rollback()
            while not stop.is_set():
                with write_transaction(event_id) if per_event else write_transaction():
                    db.session.execute(
                        sa.update(Event).where(Event.id == event_id).values(title="A")
                    )
                    time.sleep(hold / 1000)  # a long write: the lock is held meanwhile
                done[0] += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done


def voting(app, code: str, card_id: int, voters: int, seconds: float) -> list[float]:
    """`voters` threads set 1, 0, 1, … dots on B's card for `seconds`; every vote's latency."""
    latencies: list[float] = []
    tokens = [
        app.test_client().post(f"/api/v1/events/{code}/participants").json["token"]
        for _ in range(voters)
    ]
    deadline = time.perf_counter() + seconds

    def vote(token: str):
        client, dots = app.test_client(), 1
        headers = {"Authorization": f"Bearer {token}"}
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            response = client.put(
                f"/api/v1/events/{code}/suggestions/{card_id}/dots",
                json={"dots": dots},
                headers=headers,
            )
            if response.status_code != 200:
                raise RuntimeError(f"vote refused: {response.status_code} {response.json}")
            latencies.append(1000 * (time.perf_counter() - began))
            dots = 1 - dots

    threads = [threading.Thread(target=vote, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def line(label: str, latencies: list[float], seconds: float) -> str:
    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (
        f"{label}: {len(ordered) / seconds:,.0f} votes/s in B, latency p50"
        f" {statistics.median(ordered):.1f} p95 {p95:.1f} max {ordered[-1]:.1f} ms"
    )


def main() -> int:
    args = arguments()
    if not args.postgres:
        print("needs --postgres or $WORKSHOP_TEST_POSTGRES_URL", file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(args.root).resolve()))
    import workshop

    print(f"code: {Path(workshop.__file__).parent}; load average {os.getloadavg()[0]:.2f}")
    with new_database(args.postgres) as url, tempfile.TemporaryDirectory() as directory:
        app, ((a_code, _), (b_code, b_card)) = prepare(url, Path(directory))
        voting(app, b_code, b_card, args.voters, 1)  # warm-up
        print(line("A idle", voting(app, b_code, b_card, args.voters, args.seconds), args.seconds))
        stop = threading.Event()
        writer, writes = busy_writer(app, a_code, args.hold, stop)
        latencies = voting(app, b_code, b_card, args.voters, args.seconds)
        stop.set()
        writer.join()
        label = f"A busy ({writes[0]} writes of {args.hold:g} ms)"
        print(line(label, latencies, args.seconds))
        with app.app_context():
            from workshop.extensions import db

            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
