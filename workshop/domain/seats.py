"""Seat codes: single-use join codes printed on cards, for events that need one person, one budget.

A code is shown once, on the sheet made right after it was generated; the database keeps only a
keyed hash of it. Generating again can revoke the unused codes (a lost or misprinted sheet then
opens nothing); a code already used stays with the phone that joined with it, which goes on
working through its own device token.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop import validation
from workshop.clock import utcnow
from workshop.db.engine import write_transaction
from workshop.db.models import Event, Participant, SeatCode, User
from workshop.domain import audit
from workshop.domain.events import CODE_ALPHABET
from workshop.errors import Conflict, Forbidden
from workshop.extensions import db
from workshop.hashing import keyed_hash

#: Ten characters of the join codes' alphabet (no 0/O, 1/I/L, ...): about 46 bits, so guessing
#: one of a few hundred unused codes online is hopeless, yet a card can still be typed.
CODE_LENGTH = 10
#: Shown as two groups of five, e.g. "KXR4M-7HQTA"; spaces and dashes are ignored when typed.
GROUP = 5
#: Codes one request may make (a sheet of 12 cards per page: at most 42 pages).
MAX_PER_REQUEST = 500
#: Codes an event may hold in all, used ones included.
MAX_PER_EVENT = 5000
_SEPARATORS = re.compile(r"[\s\-‐‑–—_.]+")


def normalise(raw: Any) -> str | None:
    """The code as stored (upper case, no separators), or None if it cannot be one of ours."""
    if not isinstance(raw, str):
        return None
    code = _SEPARATORS.sub("", raw).upper()
    if len(code) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in code):
        return None
    return code


def display(code: str) -> str:
    """The code as printed on the card: "KXR4M-7HQTA"."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def hash_code(event_id: int, code: str) -> str:
    """Keyed with the app's secret: codes are short, so a plain hash of a copied database could
    be reversed by trying every code; with the key it cannot."""
    return keyed_hash(f"seat:{event_id}:{code}")


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def counts(event: Event) -> dict:
    """How many of the event's codes have been used and how many are still open."""
    total, used = db.session.execute(
        sa.select(
            sa.func.count(SeatCode.id),
            sa.func.coalesce(sa.func.sum(sa.case((SeatCode.used_at.is_not(None), 1), else_=0)), 0),
        ).where(SeatCode.event_id == event.id)
    ).one()
    return {"total": total, "used": int(used), "unused": total - int(used)}


def generate(event: Event, data: Any, user: User | None) -> list[str]:
    """Make `count` new codes and return them in plain text: the only time they exist as such.

    With `replace_unused`, every code not used yet is revoked first (a new sheet replaces the old).
    """
    validation.check_fields(data, {"count", "replace_unused"}, {"count"})
    count = validation.integer(data["count"], "count", minimum=1, maximum=MAX_PER_REQUEST)
    replace = validation.boolean(data.get("replace_unused", False), "replace_unused")
    event_id = event.id
    with write_transaction(event_id) as tx:
        revoked = 0
        if replace:
            revoked = db.session.execute(
                sa.delete(SeatCode).where(SeatCode.event_id == event_id, SeatCode.used_at.is_(None))
            ).rowcount
        taken = set(
            db.session.scalars(sa.select(SeatCode.code_hash).where(SeatCode.event_id == event_id))
        )
        if len(taken) + count > MAX_PER_EVENT:
            raise Conflict(
                "too_many_seat_codes",
                _l("An event can have at most %(max)d seat codes.", max=MAX_PER_EVENT),
            )
        codes: list[str] = []
        while len(codes) < count:
            code = _new_code()
            digest = hash_code(event_id, code)
            # A repeat is astronomically unlikely; skipping it keeps the unique constraint happy.
            if digest not in taken:
                taken.add(digest)
                codes.append(code)
                db.session.add(SeatCode(event_id=event_id, code_hash=digest))
        audit.record(tx, event_id, user, "seat_codes_generated", count=count, revoked=revoked)
    return codes


def consume(event: Event, participant: Participant, raw: Any) -> None:
    """Bind an unused code to a joining participant, inside the caller's write transaction.

    One UPDATE that only matches an unused code: of two phones racing with one card, exactly
    one changes the row; the other is refused and its transaction (and participant) rolled back.
    """
    if raw is not None and not isinstance(raw, str):
        raise validation.invalid("seat_code", _l("%(field)s must be text.", field="seat_code"))
    if raw is None or not raw.strip():
        raise Forbidden(
            "seat_code_required",
            _l("This event needs a seat code. Please type the code printed on your card."),
        )
    code = normalise(raw)
    if code is None:
        raise invalid()
    digest = hash_code(event.id, code)
    result = db.session.execute(
        sa.update(SeatCode)
        .where(
            SeatCode.event_id == event.id,
            SeatCode.code_hash == digest,
            SeatCode.used_at.is_(None),
        )
        .values(used_at=utcnow(), participant_id=participant.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        return
    known = db.session.scalar(
        sa.select(SeatCode.id).where(SeatCode.event_id == event.id, SeatCode.code_hash == digest)
    )
    if known is not None:
        raise Conflict(
            "seat_code_used",
            _l(
                "This seat code has already been used on another phone. "
                "Please ask the organisers for a new card."
            ),
        )
    raise invalid()


def invalid() -> Forbidden:
    return Forbidden(
        "seat_code_invalid",
        _l("This seat code is not valid. Please check it against your card."),
    )
