"""Votes share commits (engine.GroupCommit): one transaction for a batch, each write in its own
savepoint, each caller answered after the commit that holds its write."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from helpers import wait_for

from workshop.db.engine import GROUP_COMMIT
from workshop.errors import Conflict
from workshop.extensions import db


@pytest.fixture
def notes(app):
    """A scratch table, and a count of the commits the engine makes."""
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE notes (text TEXT NOT NULL)"))
        db.session.commit()
        engine = db.engine
    commits = []

    def count(_connection):
        commits.append(1)

    sa.event.listen(engine, "commit", count)
    yield commits
    sa.event.remove(engine, "commit", count)


def stored(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.text("SELECT text FROM notes ORDER BY rowid")))


def write(text: str, fail: bool = False, published: list | None = None):
    def work(connection, tx):
        connection.execute(sa.text("INSERT INTO notes (text) VALUES (:t)"), {"t": text})
        if fail:
            raise Conflict("refused", "refused")
        if published is not None:
            tx.on_commit(lambda: published.append(text))
        return text.upper()

    return work


def test_a_failing_write_is_undone_alone_and_the_rest_commit_once(app, notes):
    group = app.extensions[GROUP_COMMIT]
    release, holding = threading.Event(), threading.Event()
    published: list[str] = []
    results: dict[str, object] = {}

    def hold(connection, tx):
        holding.set()
        release.wait(5)
        return "first"

    def call(name, work):
        try:
            results[name] = group.run(work)
        except Conflict as error:
            results[name] = error

    # The first batch holds the writer while three more writes queue up behind it.
    first = threading.Thread(target=call, args=("first", hold))
    first.start()
    assert holding.wait(5)
    commits_before = len(notes)
    threads = [
        threading.Thread(target=call, args=(name, write(name, fail, published)))
        for name, fail in (("a", False), ("b", True), ("c", False))
    ]
    for thread in threads:
        thread.start()
    wait_for(lambda: group.waiting() == 3)
    release.set()
    for thread in [first, *threads]:
        thread.join(5)
    assert results["first"] == "first"
    assert (results["a"], results["c"]) == ("A", "C")
    assert isinstance(results["b"], Conflict)
    assert stored(app) == ["a", "c"]
    assert sorted(published) == ["a", "c"]  # nothing published for the write that was undone
    assert len(notes) - commits_before == 2  # the holding batch's commit, then one for a, b, c


def test_a_caller_returns_only_after_its_write_is_committed(app, notes):
    group = app.extensions[GROUP_COMMIT]
    seen = []

    def work(connection, tx):
        connection.execute(sa.text("INSERT INTO notes (text) VALUES ('x')"))
        tx.on_commit(lambda: seen.append(len(notes)))
        return "done"

    assert group.run(work) == "done"
    # The callback ran after the commit, and the write is visible to a new session.
    assert seen == [len(notes)] and seen[0] >= 1
    assert stored(app) == ["x"]


def test_a_failed_commit_fails_every_caller_of_the_batch(app, notes, monkeypatch):
    group = app.extensions[GROUP_COMMIT]

    def broken_commit(self):
        raise sa.exc.OperationalError("COMMIT", {}, Exception("disk full"))

    monkeypatch.setattr(sa.orm.Session, "commit", broken_commit)
    with pytest.raises(sa.exc.OperationalError):
        group.run(write("lost"))
    monkeypatch.undo()
    assert stored(app) == []
    assert group.run(write("kept")) == "KEPT"
    assert stored(app) == ["kept"]


def test_the_first_writer_commits_its_own_batch_and_a_task_the_rest(app, notes):
    """No batch under way: the caller commits its write itself (no hand-over to a task and back).
    Writes that queued while it did are committed by a task, not by that caller."""
    group = app.extensions[GROUP_COMMIT]
    committed_by: dict[str, threading.Thread] = {}

    def noted(name, hold=None):
        def work(connection, tx):
            committed_by[name] = threading.current_thread()
            if hold is not None:
                hold[0].set()
                hold[1].wait(5)
            return name

        return work

    assert group.run(noted("alone")) == "alone"
    assert committed_by["alone"] is threading.current_thread()
    holding, release = threading.Event(), threading.Event()
    leader = threading.Thread(target=group.run, args=(noted("leader", (holding, release)),))
    leader.start()
    assert holding.wait(5)
    followers = [threading.Thread(target=group.run, args=(noted(name),)) for name in "ab"]
    for thread in followers:
        thread.start()
    wait_for(lambda: group.waiting() == 2)
    release.set()
    for thread in [leader, *followers]:
        thread.join(5)
    assert committed_by["leader"] is leader
    assert committed_by["a"] is committed_by["b"]  # one batch
    assert committed_by["a"] not in (leader, *followers)
    assert group.waiting() == 0
