"""What a fresh installation needs before it serves: schema, first admin, demo event."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from workshop.db.engine import startup_lock
from workshop.db.models import Event, User
from workshop.domain import accounts, events
from workshop.extensions import db
from workshop.ops import retention


@dataclass
class Prepared:
    admin_password: str | None
    demo_code: str | None
    #: Ended events deleted at start-up because they outlived WORKSHOP_RETENTION_DAYS.
    purged: int = 0


def prepare(app: Flask, demo: bool = True) -> Prepared:
    """Upgrade the schema, purge expired events, create the admin account and, on an empty
    database, a demo event."""
    # Several processes starting together on one PostgreSQL database take turns here.
    with app.app_context(), startup_lock():
        upgrade()
        purged = len(retention.purge_expired().events)
        password = accounts.ensure_admin(app.config.get("WORKSHOP_ADMIN_PASSWORD"))
        demo_code = None
        if demo and db.session.scalar(sa.select(Event.id).limit(1)) is None:
            admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
            demo_code = events.create_demo_event(admin).code
        first = db.session.scalar(sa.select(Event.code).order_by(Event.id).limit(1))
        db.session.remove()
    return Prepared(password, demo_code or first, purged)
