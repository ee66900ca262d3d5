"""The app on PostgreSQL: migrations, the write lock, and a driver that cooperates with eventlet.

Each test gets its own database, copied from one the real migrations built. The `app` fixture
here replaces conftest's SQLite one, so conftest's factories (staff, events, participants) work
unchanged on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from backing_services import new_database
from flask_migrate import downgrade, upgrade
from helpers import vote_at_once, wait_for
from sqlalchemy.engine import make_url

from workshop import create_app
from workshop.db.engine import EVENT_LOCK, GROUP_COMMIT, WRITE_LOCK, write_transaction
from workshop.db.models import Event, Participant
from workshop.domain import schemas
from workshop.extensions import db
from workshop.live.publisher import EXTENSION

ROOT = Path(__file__).resolve().parents[1]


def _config(url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "WORKSHOP_ASYNC_MODE": "threading",
        "WORKSHOP_ADMIN_PASSWORD": "admin-password-1",
        "WORKSHOP_PUBLIC_URL": "http://workshop.test",
        "WORKSHOP_REPORT_CACHE": str(instance / "reports"),
        "WORKSHOP_PREPARE_REPORTS": False,
    }


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory):
    """One database upgraded by the real migrations; each test gets a copy."""
    with new_database() as url:
        app = create_app(_config(url, tmp_path_factory.mktemp("template")))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield make_url(url).database


@pytest.fixture
def app(migrated_template, tmp_path):
    with new_database(template=migrated_template) as url:
        app = create_app(_config(url, tmp_path))
        yield app
        # A coalesced flush still waiting or under way would read the dropped database.
        publisher = app.extensions[EXTENSION]
        wait_for(lambda: not publisher._scheduled)
        with publisher.bus.flush_lock(0):
            pass
        with app.app_context():
            db.engine.dispose()


def test_migrations_build_the_models_tables_and_go_back_down(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context():
        with db.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert "votes" in sa.inspect(db.engine).get_table_names()


def test_the_engine_is_set_up_for_many_green_threads(app):
    with app.app_context():
        pool = db.engine.pool
        assert (pool.size(), pool._max_overflow, pool._pre_ping) == (10, 10, True)
        with db.engine.connect() as connection:
            level = connection.exec_driver_sql("SHOW transaction_isolation").scalar()
            timeout = connection.exec_driver_sql("SHOW lock_timeout").scalar()
        assert (level, timeout) == ("read committed", "10s")


def test_database_checks_hold(app, make_event, join):
    code = make_event()["code"]
    join(code)
    with app.app_context():
        # pg8000 reports a failed CHECK as ProgrammingError (only unique keys as IntegrityError).
        with pytest.raises(sa.exc.DBAPIError, match="ck_participants_budget"):
            db.session.execute(sa.text("UPDATE participants SET dots_used = dots_budget + 1"))
        db.session.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="ck_events_phase"):
            db.session.execute(sa.update(Event).where(Event.code == code).values(phase="party"))


def test_a_phones_own_state_reads_the_same_in_one_statement(app, make_event, staff, join, submit):
    """The snapshot's UNION of budget, dots, cards and answer (schemas._me_by_id) on PostgreSQL."""
    code = make_event(areas=0, affiliations=["Bildung"])["code"]
    me = join(code)
    mine = submit(me, code, "Mine")
    assert me.put(f"/events/{code}/participants/me/affiliation", json={"affiliation": "Bildung"})
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    assert (
        me.put(f"/events/{code}/suggestions/{mine['id']}/dots", json={"dots": 2}).status_code == 200
    )
    answer = me.get(f"/events/{code}/me").json
    assert answer["affiliation"] == "Bildung" and answer["dots"] == {str(mine["id"]): 2}
    with app.app_context():
        person = db.session.scalar(sa.select(Participant))
        assert schemas._me_by_id(person.id) == schemas.me_json(person) == answer


def test_budget_holds_under_concurrent_votes(app, make_event, staff, join, submit):
    event = make_event(areas=0)
    code = event["code"]
    cards = [submit(staff, code, f"Card {i}") for i in range(50)]
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    token = join(code).token
    statuses = vote_at_once(app, code, token, cards)
    assert sorted(statuses) == [200] * 5 + [409] * 45
    with app.app_context():
        used, votes, dots = db.session.execute(
            sa.text(
                "SELECT dots_used, (SELECT SUM(dots) FROM votes), "
                "(SELECT SUM(dots) FROM suggestions) FROM participants"
            )
        ).one()
    assert used == votes == dots == 5


def test_a_writer_waits_for_the_one_before_and_sees_its_commit(app, make_event):
    code = make_event()["code"]
    first_in, release, seen = threading.Event(), threading.Event(), []

    def first():
        with app.app_context(), write_transaction():
            db.session.execute(sa.update(Event).where(Event.code == code).values(title="First"))
            first_in.set()
            release.wait(30)

    def second():
        with app.app_context(), write_transaction():
            seen.append(db.session.scalar(sa.select(Event.title).where(Event.code == code)))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_in.wait(30)
    threads[1].start()
    with app.app_context():
        # The second writer is queued on the advisory lock, not running beside the first.
        waiting = sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND (classid::bigint << 32) | objid::bigint = :key"
        )
        wait_for(lambda: db.session.scalar(waiting, {"key": WRITE_LOCK}) == 1)
        db.session.rollback()
    assert seen == []
    release.set()
    for thread in threads:
        thread.join(30)
    assert seen == ["First"]


#: Writers queued (not granted) on one event's two-number advisory lock.
EVENT_WAITING = sa.text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    " AND objsubid = 2 AND classid = :class AND objid = :event"
)


def _event_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Event.id).where(Event.code == code))


def _hold_event_lock(app, event_id: int, release: threading.Event) -> threading.Thread:
    """A thread that holds one event's write lock until `release` is set."""
    holding = threading.Event()

    def hold():
        with app.app_context(), write_transaction(event_id):
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(30)
    return thread


def test_two_events_writes_do_not_wait_for_each_other(app, make_event, staff, join, submit):
    """While one event's lock is held, another event takes cards, dots and changes."""
    held, other = make_event()["code"], make_event(phase="vote")["code"]
    held_id = _event_id(app, held)
    release = threading.Event()
    holder = _hold_event_lock(app, held_id, release)
    try:
        card = submit(staff, other, "Elsewhere")
        voter = join(other)
        response = voter.put(f"/events/{other}/suggestions/{card['id']}/dots", json={"dots": 1})
        assert response.status_code == 200, response.get_json()
        assert staff.patch(f"/events/{other}", json={"title": "Other"}).status_code == 200
        # A write to the held event itself queues on that event's lock.
        blocked = threading.Thread(target=_retitle, args=(app, held, "Late"))
        blocked.start()
        with app.app_context():
            key = {"class": EVENT_LOCK, "event": held_id}
            wait_for(lambda: db.session.scalar(EVENT_WAITING, key) == 1)
            db.session.rollback()
    finally:
        release.set()
    holder.join(30)
    blocked.join(30)
    with app.app_context():
        titles = dict(db.session.execute(sa.select(Event.code, Event.title)).all())
    assert (titles[held], titles[other]) == ("Late", "Other")


def _retitle(app, code: str, title: str) -> None:
    with app.app_context(), write_transaction(_event_id(app, code)):
        db.session.execute(sa.update(Event).where(Event.code == code).values(title=title))


def test_votes_of_two_events_commit_in_their_own_batches(app, make_event, staff, join, submit):
    """A vote batch waiting on one event's lock does not hold back another event's votes."""
    held, other = make_event(areas=0)["code"], make_event(areas=0)["code"]
    cards = {code: submit(staff, code, "Card") for code in (held, other)}
    for code in (held, other):
        staff.patch(f"/events/{code}", json={"phase": "vote"})
    voters = {code: join(code) for code in (held, other)}
    held_id = _event_id(app, held)
    release, statuses = threading.Event(), {}

    def vote(code):
        path = f"/events/{code}/suggestions/{cards[code]['id']}/dots"
        statuses[code] = voters[code].put(path, json={"dots": 1}).status_code

    holder = _hold_event_lock(app, held_id, release)
    try:
        queued = threading.Thread(target=vote, args=(held,))
        queued.start()
        with app.app_context():
            key = {"class": EVENT_LOCK, "event": held_id}
            wait_for(lambda: db.session.scalar(EVENT_WAITING, key) == 1)
            db.session.rollback()
        vote(other)  # answered while the held event's batch still waits
        assert statuses == {other: 200}
        assert app.extensions[GROUP_COMMIT].waiting(held_id) == 0  # its batch is running
    finally:
        release.set()
    holder.join(30)
    queued.join(30)
    assert statuses == {other: 200, held: 200}


GREEN_SCRIPT = textwrap.dedent(
    """
    import json, sys, time, warnings
    warnings.filterwarnings("ignore", message=r"\\s*Eventlet is deprecated")
    import eventlet
    eventlet.monkey_patch()
    import sqlalchemy as sa
    from workshop import create_app
    from workshop.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "x",
                      "WORKSHOP_ASYNC_MODE": "eventlet"})
    done = {}

    def query(name, sql):
        with app.app_context():
            db.session.execute(sa.text(sql)).all()
            done[name] = time.monotonic()
            db.session.remove()

    start = time.monotonic()
    slow = eventlet.spawn(query, "slow", "SELECT pg_sleep(1)")
    eventlet.sleep(0)  # the slow query is on its way
    quick = [eventlet.spawn(query, f"quick{i}", "SELECT 1") for i in range(5)]
    for thread in [slow, *quick]:
        thread.wait()
    print(json.dumps({name: at - start for name, at in done.items()}))
    """
)


def test_a_slow_query_does_not_stall_other_green_threads(app):
    """Under eventlet the driver must wait through the monkey-patched sockets."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    result = subprocess.run(
        [sys.executable, "-c", GREEN_SCRIPT, url],
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    finished = json.loads(result.stdout.strip().splitlines()[-1])
    assert finished["slow"] >= 1.0
    # Every quick query finished while the slow one was still sleeping in PostgreSQL.
    assert all(finished[f"quick{i}"] < finished["slow"] for i in range(5)), finished
