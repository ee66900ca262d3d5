"""The SQLite file is private: created 0600 (with its -wal and -shm) in a folder created 0700,
an existing file is narrowed; deleted rows are overwritten (secure_delete) and the WAL is cut
back when it starts over, so deleted text does not stay readable on disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import _config

from workshop import create_app
from workshop.extensions import db


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def make_app(path):
    return create_app(_config(path, path.parent))


@pytest.fixture
def loose_umask():
    """The umask of a careless service: everything created readable by everyone."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_database_and_its_folder_are_private(tmp_path, loose_umask):
    path = tmp_path / "new" / "data" / "workshop.sqlite3"
    app = make_app(path)
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE t (x TEXT)"))
        db.session.execute(sa.text("INSERT INTO t VALUES ('secret')"))
        db.session.commit()
        for suffix in ("", "-wal", "-shm"):
            assert mode(f"{path}{suffix}") == 0o600, suffix
        assert mode(path.parent) == 0o700
        db.engine.dispose()


def test_an_existing_database_readable_by_others_is_narrowed(tmp_path, loose_umask):
    path = tmp_path / "workshop.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        # An empty -wal and -shm are what a crashed run may leave; SQLite starts them over.
        open(f"{path}{suffix}", "wb").close()
        os.chmod(f"{path}{suffix}", 0o644)
    app = make_app(path)
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))
        for suffix in ("", "-wal", "-shm"):
            assert mode(f"{path}{suffix}") == 0o600, suffix
        db.engine.dispose()


def test_deleted_text_is_overwritten(app):
    with app.app_context():
        pragmas = db.session.execute(sa.text("PRAGMA secure_delete")).scalar()
        limit = db.session.execute(sa.text("PRAGMA journal_size_limit")).scalar()
        assert (pragmas, limit) == (1, 0)


def test_deleted_text_leaves_no_trace_once_the_wal_starts_over(tmp_path):
    """After SQLite's automatic (passive) checkpoint the next write starts the WAL over: cut
    back to nothing, the frames that held the deleted text are gone (without the limit they
    stay until overwritten; benchmarks/sqlite_privacy.py prints both)."""
    path = tmp_path / "workshop.sqlite3"
    app = make_app(path)
    secret = b"Deleted-card-text-4711"
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE t (x TEXT)"))
        for i in range(50):
            db.session.execute(sa.text("INSERT INTO t VALUES (:x)"), {"x": f"filler {i} " * 20})
            db.session.commit()
        db.session.execute(sa.text("INSERT INTO t VALUES (:x)"), {"x": secret.decode()})
        db.session.commit()
        db.session.execute(sa.text("DELETE FROM t WHERE x = :x"), {"x": secret.decode()})
        db.session.commit()
        db.session.execute(sa.text("PRAGMA wal_checkpoint(PASSIVE)"))
        db.session.commit()
        db.session.execute(sa.text("INSERT INTO t VALUES ('next')"))
        db.session.commit()
        for suffix in ("", "-wal"):
            file = Path(f"{path}{suffix}")
            assert not file.exists() or secret not in file.read_bytes(), suffix
        db.engine.dispose()
