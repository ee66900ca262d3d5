"""Retention: events that ended long ago are deleted with everything people left in them.

An event has ended when staff archived it or moved it to the results phase; it is purged once it
has not changed for WORKSHOP_RETENTION_DAYS days (0: never). The purge is `events.delete_event`,
the same operation as a delete by staff (cards, participants, dots, audit entries all go).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from workshop.clock import utcnow
from workshop.db.models import Event
from workshop.domain import events, rules
from workshop.extensions import db, socketio

#: A child of the app's logger ("workshop"), at INFO even where that one is left at WARNING:
#: a purge must leave a record.
logger = logging.getLogger("workshop.retention")
logger.setLevel(logging.INFO)

#: How often the server looks for expired events (it also looks once at start-up).
INTERVAL = 24 * 3600


@dataclass
class Purge:
    """What one purge found (and, unless a dry run, deleted)."""

    cutoff: datetime | None
    #: (code, last change) of each expired event, oldest first.
    events: list[tuple[str, datetime]] = field(default_factory=list)
    dry_run: bool = False


def cutoff(now: datetime, days: int) -> datetime | None:
    """Events unchanged since before this moment are expired; None when retention is off."""
    return now - timedelta(days=days) if days > 0 else None


def expired(now: datetime) -> Purge:
    """The ended events that have not changed for the configured number of days."""
    limit = cutoff(now, current_app.config.get("WORKSHOP_RETENTION_DAYS", 0))
    if limit is None:
        return Purge(None)
    rows = db.session.execute(
        sa.select(Event.code, Event.updated_at)
        .where(
            sa.or_(Event.archived_at.is_not(None), Event.phase.in_(rules.ENDED_IN)),
            Event.updated_at < limit,
        )
        .order_by(Event.updated_at)
    ).all()
    return Purge(limit, [(code, changed) for code, changed in rows])


def purge_expired(now: datetime | None = None, dry_run: bool = False) -> Purge:
    """Delete the expired events (one transaction each) and log how many went."""
    result = expired(now or utcnow())
    result.dry_run = dry_run
    if result.cutoff is None or dry_run:
        return result
    for code, _changed in result.events:
        event = db.session.scalar(sa.select(Event).where(Event.code == code))
        if event is not None:
            events.delete_event(event)
    db.session.remove()
    # Flask gives the app's logger a handler (stderr) on first use, unless one is configured.
    _ = current_app.logger
    # Codes and a count only: no title, no text anyone wrote, nothing about people.
    logger.info(
        "retention: purged %d event(s) unchanged since before %s%s%s",
        len(result.events),
        result.cutoff.isoformat(timespec="seconds"),
        ": " if result.events else "",
        ", ".join(code for code, _ in result.events),
    )
    return result


def run_daily(app: Flask, interval: float = INTERVAL) -> None:
    """Purge once a day for as long as the server runs (start-up already purged once)."""
    while True:
        socketio.sleep(interval)
        try:
            with app.app_context():
                purge_expired()
        except Exception:
            # A failed purge must not end the loop; tomorrow's may succeed.
            logger.exception("retention: purge failed")


def start(app: Flask) -> None:
    """Purge daily in the background of the running server (eventlet or threading)."""
    if app.config.get("WORKSHOP_RETENTION_DAYS", 0) > 0:
        socketio.start_background_task(run_daily, app)
