"""Time as stored (naive UTC) and as sent (ISO 8601 with a Z)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC without a time zone, as the database keeps it."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(moment: datetime) -> str:
    """A stored moment as JSON and exports show it: `2026-05-04T18:30:00Z`."""
    return moment.isoformat(timespec="seconds") + "Z"
