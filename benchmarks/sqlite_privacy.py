"""Print what another local user could read of a fresh SQLite database: the modes of the file,
its -wal and -shm (under umask 022), and whether the text of a deleted card is
still in the database file or the WAL after the delete, after a checkpoint (as SQLite's automatic
one) and after the next write, when the WAL starts over. (Debian's SQLite has secure_delete on by
default; other builds, e.g. some wheels, do not: the pragma makes it explicit.)

    .venv/bin/python benchmarks/sqlite_privacy.py
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import sqlalchemy as sa

from workshop import create_app
from workshop.extensions import db

SECRET = "Deleted-card-text-4711"


def modes(path: Path) -> str:
    shown = []
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        found = oct(stat.S_IMODE(name.stat().st_mode)) if name.exists() else "-"
        shown.append(f"{name.name}={found}")
    return " ".join(shown)


def traces(path: Path) -> str:
    found = []
    for suffix in ("", "-wal"):
        file = Path(f"{path}{suffix}")
        present = file.exists() and SECRET.encode() in file.read_bytes()
        found.append(f"{file.name}:{'FOUND' if present else 'clean'}")
    return " ".join(found)


def wal_size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def run(sql: str, **params) -> None:
    db.session.execute(sa.text(sql), params)
    db.session.commit()


def main() -> None:
    os.umask(0o022)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "workshop.sqlite3"
        app = create_app(
            {
                "SECRET_KEY": "x",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                "WORKSHOP_EMBEDDINGS": "off",
                "WORKSHOP_PUBLIC_URL": "http://workshop.test",
            }
        )
        with app.app_context():
            run("CREATE TABLE cards (title TEXT)")
            for i in range(50):
                run("INSERT INTO cards VALUES (:t)", t=f"filler {i} " * 20)
            run("INSERT INTO cards VALUES (:t)", t=SECRET)
            print("modes:                 ", modes(path))
            run("DELETE FROM cards WHERE title = :t", t=SECRET)
            print("after delete:          ", traces(path))
            # PASSIVE: what SQLite's automatic checkpoint (every 1000 pages) does.
            run("PRAGMA wal_checkpoint(PASSIVE)")
            print("after checkpoint:      ", traces(path))
            run("INSERT INTO cards VALUES ('next')")
            print("after next write:      ", traces(path), f"wal={wal_size(path)} bytes")
            db.engine.dispose()


if __name__ == "__main__":
    main()
