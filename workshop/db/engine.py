"""Engine settings and the one way to run a write: a short transaction that takes the lock first.

SQLite (one process) and PostgreSQL (several processes, see docs/deployment.md) get the same
guarantee: write transactions of one event run one at a time, and each sees every write committed
before it. Reads never wait for writers. SQLite has one lock for the whole file; PostgreSQL takes
one advisory lock per event, so two plenums on one installation do not queue behind each other.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from workshop.db import models  # noqa: F401  (every table known to Alembic)
from workshop.extensions import db, migrate

#: Alembic's scripts: the schema is built and upgraded by them, never by `create_all`.
MIGRATIONS = Path(__file__).parent / "migrations"

WRITE_OPTION = "workshop_write"
#: Key of the PostgreSQL advisory lock that serialises the writes not tied to one event (accounts,
#: new events, imports): any fixed 64-bit number. Their checks (a free event code, a free user
#: name, the last admin) read across events, so they run one at a time among themselves; an
#: event's writes never read what those checks read (rows they refer to are held by PostgreSQL's
#: own foreign-key locks), so they need not wait for each other.
WRITE_LOCK = 0x776F726B73686F70  # "workshop"
#: First half of the two-number advisory lock of one event's writes, `(EVENT_LOCK, event id)`.
#: PostgreSQL keeps two-number keys apart from 64-bit ones, so it never meets WRITE_LOCK.
EVENT_LOCK = 0x776F726B  # "work"
#: Key of the lock that lets one process at a time upgrade the schema and create the first data.
STARTUP_LOCK = WRITE_LOCK + 1
#: How long a writer waits for the lock before its request fails (SQLite: busy_timeout).
LOCK_TIMEOUT_MS = 10_000

#: PostgreSQL engine options. Under eventlet every request is a green thread and holds a
#: connection only while it runs; 10 (+10 in bursts) per process keeps four processes below
#: PostgreSQL's default of 100 connections.
POSTGRES_ENGINE_OPTIONS = {
    "pool_size": 10,
    "max_overflow": 10,
    "pool_timeout": 30,
    # A connection PostgreSQL or a firewall closed while idle is replaced, not handed out.
    "pool_pre_ping": True,
    "pool_recycle": 1800,
    # Each statement sees what committed before it; the write lock relies on that (a snapshot
    # taken before waiting for the lock would miss the previous writer's commit).
    "isolation_level": "READ COMMITTED",
}


def is_postgres(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def engine_options(url: str | URL, options: dict) -> dict:
    """The engine options for this database: PostgreSQL's defaults under the configured ones."""
    if is_postgres(url):
        return {**POSTGRES_ENGINE_OPTIONS, **options}
    return options


def configure_engine(engine: Engine) -> None:
    """Set up the connections of the engine's database (SQLite or PostgreSQL)."""
    if engine.dialect.name == "postgresql":
        _configure_postgres(engine)
    elif engine.dialect.name == "sqlite":
        _configure_sqlite(engine)


def _configure_sqlite(engine: Engine) -> None:
    """Make SQLite durable and private, and serialise writers explicitly (no lock upgrades)."""
    path = _sqlite_path(engine.url)
    if path is not None:
        _private_file(path)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # The driver must not open transactions itself; the "begin" hook below does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Deleted rows are overwritten with zeros, not left readable in free pages; the WAL
        # is cut back to nothing whenever a checkpoint lets it start over, so old frames with
        # deleted text do not stay in it.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA journal_size_limit=0")
        if path is not None:
            _private_companions(path)
        # FULL: a commit that returned is on disk, even after a power cut (NORMAL is not).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # Writers take the write lock at BEGIN, so two writers never deadlock on an upgrade.
        writer = connection.get_execution_options().get(WRITE_OPTION)
        # Straight to the driver: through exec_driver_sql it cost a statement's whole machinery.
        connection.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if writer else "BEGIN")


def _sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory or URI-named database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _private_file(path: Path) -> None:
    """Create the database file (and a missing folder) readable by this user only: it holds
    every card, token hash and staff password hash. An existing file is narrowed to 0600."""
    # The modes apply only to what is created here (and the umask can only narrow them).
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    _narrow(path)


def _private_companions(path: Path) -> None:
    """The -wal and -shm files: SQLite gives them the database's mode; narrowed in case an
    older run made them readable."""
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            _narrow(companion)


def _narrow(path: Path) -> None:
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError as exc:  # another user's file: say so, but still serve
        logging.getLogger(__name__).warning("Could not make %s private: %s", path, exc)


def _configure_postgres(engine: Engine) -> None:
    """Refuse a driver that would stall the server, and bound how long writers wait."""
    check_green_driver(engine.dialect.driver)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
        cursor.close()
        dbapi_connection.commit()


def check_green_driver(driver: str) -> None:
    """Under eventlet, refuse psycopg 3 with its C wait loop: every query would stop the server.

    eventlet's monkey-patching makes pg8000 (pure Python over sockets) and psycopg2 (eventlet
    installs its wait callback) cooperative; psycopg 3 waits in C unless it runs as pure Python.
    """
    if driver != "psycopg" or not _eventlet_patched():
        return
    import psycopg.waiting

    if psycopg.waiting.wait.__name__ == "wait_c":
        raise RuntimeError(
            "psycopg 3 with its C speed-ups blocks every client under eventlet: use "
            "WORKSHOP_DATABASE_URL=postgresql+pg8000://… (pip install -e '.[scale]')"
        )


def _eventlet_patched() -> bool:
    patcher = sys.modules.get("eventlet.patcher")
    return patcher is not None and patcher.is_monkey_patched("socket")


@contextmanager
def startup_lock() -> Iterator[None]:
    """Let one process at a time prepare the database (several start together on PostgreSQL)."""
    if not is_postgres(db.engine.url):
        yield
        return
    with db.engine.connect() as connection:
        # A session lock, not a transaction's: it must outlive the migrations' own commits.
        connection.execute(sa.select(sa.func.pg_advisory_lock(STARTUP_LOCK)))
        connection.commit()
        try:
            yield
        finally:
            connection.execute(sa.select(sa.func.pg_advisory_unlock(STARTUP_LOCK)))
            connection.commit()


class WriteTransaction:
    """Collects what to publish once the transaction has committed."""

    def __init__(self) -> None:
        self.after_commit: list[Callable[[], None]] = []

    def on_commit(self, callback: Callable[[], None]) -> None:
        self.after_commit.append(callback)


def write_lock(event_id: int | None) -> sa.Select:
    """The statement that takes the write lock of one event, or the global one (None)."""
    if event_id is None:
        return sa.select(sa.func.pg_advisory_xact_lock(WRITE_LOCK))
    # Casts: a driver may send Python ints as bigint, and there is no (bigint, bigint) form.
    return sa.select(
        sa.func.pg_advisory_xact_lock(
            sa.cast(EVENT_LOCK, sa.Integer), sa.cast(int(event_id), sa.Integer)
        )
    )


@contextmanager
def write_transaction(event_id: int | None = None) -> Iterator[WriteTransaction]:
    """Run the block in one short write transaction; commit, then run the publish callbacks.

    `event_id`: the one event whose rows the block reads and writes; None for writes not tied
    to one event (accounts, creating or importing an event), which share one global lock.
    Reads made earlier in the request are discarded, so the block sees the state under the lock.
    Talk to nothing but the database inside the block (no Redis, no HTTP): under eventlet every
    wait for I/O lets other green threads run while this one holds the lock.
    """
    session = db.session()
    if session.in_transaction():
        session.rollback()
    connection = session.connection(execution_options={WRITE_OPTION: True})
    if connection.dialect.name == "postgresql":
        # PostgreSQL's equivalent of SQLite's BEGIN IMMEDIATE: one writer per event at a time
        # across all processes, released by commit or rollback. The domain's checks (budget,
        # caps, phase, merges) read and then write rows of one event; run one at a time they
        # need no locks of their own.
        session.execute(write_lock(event_id))
    tx = WriteTransaction()
    try:
        yield tx
        session.commit()
    except BaseException:
        session.rollback()
        raise
    for callback in tx.after_commit:
        callback()


GROUP_COMMIT = "workshop.group_commit"


@dataclass
class _Work:
    """One caller's share of a batch: what to run, and what came of it."""

    run: Callable[[sa.Connection, WriteTransaction], Any]
    done: Any
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """Runs the short writes of many requests in one transaction: one commit, one fsync.

    With `synchronous=FULL` every commit waits for the disk, and under eventlet that wait stops
    the whole server; votes arrive by the hundred a second, so they share commits. Each write
    runs in a SAVEPOINT of the batch's transaction: one that raises is undone alone, and every
    caller returns, or raises, only after the commit that holds its write, so an answered
    request is on disk as before. A batch is what arrived while the previous one ran.
    On PostgreSQL each event has its own queue and batches (its own lock); SQLite's one lock
    covers the file, so there all events share one queue. The caller that finds no batch under
    way commits the first one itself (a hand-over to a task and back costs a vote's answer a
    wait behind whatever else runs, twice); the batches after it are a task's.
    """

    #: The most writes in one transaction, so that the write lock is held briefly.
    MAX_BATCH = 200

    def __init__(self, app, server) -> None:
        self.app = app
        #: The app's Socket.IO server: its async mode's events and background tasks.
        self.server = server
        self._lock = threading.Lock()
        #: Waiting work by event id (None: SQLite's one queue); a key is present while drained.
        self._queues: dict[int | None, list[_Work]] = {}
        self._per_event = is_postgres(app.config["SQLALCHEMY_DATABASE_URI"])

    def run(
        self, work: Callable[[sa.Connection, WriteTransaction], Any], event_id: int | None = None
    ) -> Any:
        """Run `work(connection, tx)` in the next batch of its event; return its result or raise.

        `tx.on_commit` callbacks run after the batch committed, only for work that succeeded.
        """
        key = event_id if self._per_event else None
        item = _Work(work, self.server.eio.create_event())
        with self._lock:
            start = key not in self._queues
            self._queues.setdefault(key, []).append(item)
        if start:
            self._drain(key, leader=True)
        item.done.wait()
        if item.error is not None:
            raise item.error
        return item.result

    def waiting(self, event_id: int | None = None) -> int:
        """How many writes of this event wait for a batch (tests and diagnostics)."""
        key = event_id if self._per_event else None
        with self._lock:
            return len(self._queues.get(key, ()))

    def _drain(self, key: int | None, leader: bool = False) -> None:
        """Commit batches until the queue is empty; a `leader` (the caller whose write started
        the queue) commits only the first and leaves the rest to a task."""
        while True:
            with self._lock:
                queue = self._queues[key]
                batch = queue[: self.MAX_BATCH]
                del queue[: self.MAX_BATCH]
                if not batch:
                    del self._queues[key]
                    return
            try:
                self._commit(batch, key)
            finally:
                for item in batch:
                    item.done.set()
                if leader:
                    # Even when the leader was interrupted: what queued meanwhile is not lost.
                    self._hand_over(key)
            if leader:
                return

    def _hand_over(self, key: int | None) -> None:
        """After a leader's batch: the writes that queued meanwhile go to a task."""
        with self._lock:
            if self._queues[key]:
                self.server.start_background_task(self._drain, key)
            else:
                del self._queues[key]

    def _commit(self, batch: list[_Work], key: int | None) -> None:
        # The app context's end closes the batch's session.
        with self.app.app_context():
            try:
                with write_transaction(key) as tx:
                    connection = db.session.connection()
                    for item in batch:
                        self._run_one(item, connection, tx)
            except Exception as error:
                # The commit failed: nothing of the batch is stored, every caller hears so.
                for item in batch:
                    if item.error is None:
                        item.error, item.result = error, None

    @staticmethod
    def _run_one(item: _Work, connection: sa.Connection, tx: WriteTransaction) -> None:
        own = WriteTransaction()
        try:
            # The connection's savepoint, emitted now (the session's would wait for the
            # session's next statement, and work uses none).
            with connection.begin_nested():
                item.result = item.run(connection, own)
        except Exception as error:  # the caller's to handle, e.g. a 409
            item.error = error
        else:
            tx.after_commit.extend(own.after_commit)


def init_app(app: Flask) -> None:
    """Bind the database with the engine options of its kind, and the migrations."""
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
    )
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)


def init_group_commit(app: Flask, server) -> None:
    """Votes share commits through the app's Socket.IO server (its async mode's events)."""
    app.extensions[GROUP_COMMIT] = GroupCommit(app, server)


def group_commit(
    work: Callable[[sa.Connection, WriteTransaction], Any], event_id: int | None = None
) -> Any:
    """Run a short write of one event in the next shared transaction (see GroupCommit)."""
    return current_app.extensions[GROUP_COMMIT].run(work, event_id)
