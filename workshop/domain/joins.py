"""Joins by network: how many participants each address bucket made, to make vote stuffing visible.

Without identities nobody can tell one person with many phones (or a script) from a hall behind
one venue router; both look like many joins from one address. So the console shows the counts
and warns about the rate, and staff decide, e.g. to require seat codes (see docs/seat-codes.md).
The address itself is never stored: only a short keyed hash, per event, of its network.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

import sqlalchemy as sa

from workshop.clock import utcnow
from workshop.db.models import Event, Participant
from workshop.extensions import db
from workshop.hashing import keyed_hash

#: The span the warning counts joins in.
WINDOW = timedelta(minutes=2)
#: The most buckets the console lists (the busiest first); the rest are counted together.
MAX_LISTED = 10
#: An IPv6 device may use any address of its /64, so the prefix is what names one network.
IPV6_PREFIX = 64


def bucket(event_id: int, address: str | None) -> str | None:
    """The bucket of a join from `address`: 16 hex digits, keyed and per event (unlinkable)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        network = address
    else:
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if ip.version == 6:
            network = str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
        else:
            network = str(ip)
    return keyed_hash(f"join:{event_id}:{network}")[:16]


def label(bucket_value: str | None) -> str | None:
    """A short name staff can tell apart and say aloud; None for joins made before buckets."""
    return bucket_value[:4].upper() if bucket_value else None


def stats(event: Event, threshold: int, now: datetime | None = None) -> dict:
    """Joins per bucket in total and in the last WINDOW, busiest first, and the warning if any.

    `threshold`: joins from one bucket within WINDOW above which staff are warned (0: never).
    """
    since = (now or utcnow()) - WINDOW
    recent = sa.func.sum(sa.case((Participant.created_at >= since, 1), else_=0))
    rows = db.session.execute(
        sa.select(Participant.join_bucket, sa.func.count(), recent)
        .where(Participant.event_id == event.id)
        .group_by(Participant.join_bucket)
        .order_by(recent.desc(), sa.func.count().desc(), Participant.join_bucket)
    ).all()
    buckets = [
        {"label": label(value), "total": total, "recent": int(last or 0)}
        for value, total, last in rows
    ]
    busy = [b for b in buckets if threshold and b["label"] and b["recent"] > threshold]
    return {
        "participants": sum(b["total"] for b in buckets),
        "window_seconds": int(WINDOW.total_seconds()),
        "threshold": threshold,
        "buckets": buckets[:MAX_LISTED],
        "more_buckets": max(0, len(buckets) - MAX_LISTED),
        "warning": busy[0] if busy else None,
        "seat_codes_required": event.seat_codes_required,
    }
