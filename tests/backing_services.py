"""PostgreSQL and Redis for the scale-out tests, found through environment variables.

`WORKSHOP_TEST_POSTGRES_URL` names a database whose user may create databases (each test gets its
own); `WORKSHOP_TEST_REDIS_URL` names a Redis database the tests may empty. `.ci/run` starts both.
Without them these tests are skipped, except under CI, where a missing service fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

POSTGRES = "WORKSHOP_TEST_POSTGRES_URL"
REDIS = "WORKSHOP_TEST_REDIS_URL"
EXAMPLES = {
    POSTGRES: "postgresql+pg8000://workshop:workshop@127.0.0.1:5432/workshop",
    REDIS: "redis://127.0.0.1:6379/15",
}


def require(name: str) -> str:
    """The service's URL; skip the test without it, fail it under CI."""
    value = os.environ.get(name)
    if not value:
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide {name} (see .ci/run)")
        pytest.skip(f"{name} is not set (e.g. {EXAMPLES[name]}; .ci/run shows how to start it)")
    return value


def _admin_engine(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


@contextmanager
def new_database(template: str | None = None) -> Iterator[str]:
    """An empty database (or a copy of `template`) for one test, dropped afterwards."""
    admin_url = require(POSTGRES)
    name = f"workshop_test_{uuid.uuid4().hex[:16]}"
    engine = _admin_engine(admin_url)
    copy = f' TEMPLATE "{template}"' if template else ""
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def empty_redis() -> str:
    """The test Redis database, emptied."""
    import redis

    url = require(REDIS)
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url
