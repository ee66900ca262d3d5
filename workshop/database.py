"""Engine settings and the one way to run a write: a short transaction that takes the lock first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

WRITE_OPTION = "workshop_write"


def configure_engine(engine: Engine) -> None:
    """Make SQLite durable and serialise writers explicitly (no lock upgrades)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # The driver must not open transactions itself; the "begin" hook below does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit that returned is on disk, even after a power cut (NORMAL is not).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # Writers take the write lock at BEGIN, so two writers never deadlock on an upgrade.
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


class WriteTransaction:
    """Collects what to publish once the transaction has committed."""

    def __init__(self) -> None:
        self.after_commit: list[Callable[[], None]] = []

    def on_commit(self, callback: Callable[[], None]) -> None:
        self.after_commit.append(callback)


@contextmanager
def write_transaction() -> Iterator[WriteTransaction]:
    """Run the block in one short write transaction; commit, then run the publish callbacks.

    Reads made earlier in the request are discarded, so the block sees the state under the lock.
    Never do network I/O inside the block: under eventlet it would hold the lock across a yield.
    """
    session = db.session()
    if session.in_transaction():
        session.rollback()
    session.connection(execution_options={WRITE_OPTION: True})
    tx = WriteTransaction()
    try:
        yield tx
        session.commit()
    except BaseException:
        session.rollback()
        raise
    for callback in tx.after_commit:
        callback()
