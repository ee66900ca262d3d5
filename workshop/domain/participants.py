"""Participants: anonymous devices that join an event with a random token."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop import validation
from workshop.db.engine import write_transaction
from workshop.db.models import Event, Participant
from workshop.domain import affiliations, events, seats
from workshop.errors import Conflict, NotFound, Unauthorized
from workshop.extensions import db


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def join(
    event: Event, seat_code: Any = None, bucket: str | None = None, staff: bool = False
) -> tuple[Participant, str]:
    """Create a participant for this event; returns it with its token (shown only once).

    An event that requires seat codes takes one unused code per participant (see seats.py);
    otherwise `seat_code` is ignored. `bucket`: the network it joined from (joins.bucket), so
    staff see joins by network. `staff`: a staff session is logged in on this device (a test
    phone), which never counts as a participant.
    """
    token = secrets.token_urlsafe(32)
    event_id = event.id
    with write_transaction(event_id):
        event = db.session.get(Event, event_id)
        if event.phase == "draft":
            # Nobody joins an event in preparation, staff included (it opens with "collect").
            raise NotFound("event_not_found", _l("There is no event with this code."))
        participant = Participant(
            event_id=event.id,
            token_hash=hash_token(token),
            dots_budget=event.vote_budget,
            join_bucket=bucket,
            staff_device=staff,
        )
        db.session.add(participant)
        if event.seat_codes_required:
            db.session.flush()
            seats.consume(event, participant, seat_code)
    # No figure changes: opening the page makes nobody a participant (see took_part).
    return participant, token


def took_part(participant: Participant) -> None:
    """Count this device as a participant from now on: called with its first card, in that
    card's transaction, whose messages carry the new figures (voting.py sets the flag in its
    own statement)."""
    participant.took_part = True


def choose_affiliation(event: Event, participant: Participant, data: Any) -> Participant:
    """Record a participant's one answer: an entry of the event's list, or null to skip."""
    validation.check_fields(data, {"affiliation"}, {"affiliation"})
    value = data["affiliation"]
    if value is not None:
        value = validation.text(value, "affiliation", max_length=affiliations.MAX_LENGTH)
    event_id, participant_id = event.id, participant.id
    with write_transaction(event_id):
        event = db.session.get(Event, event_id)
        events.require_open(event)
        options = affiliations.listed(event.affiliations)
        if not options:
            raise Conflict("affiliations_off", _l("This event does not ask for affiliations."))
        if value is not None and value not in options:
            raise validation.invalid("affiliation", _l("Please choose one of the listed answers."))
        participant = db.session.get(Participant, participant_id)
        if participant.affiliation is not None:
            raise Conflict("affiliation_answered", _l("You have already answered this question."))
        # "" records a skip: asked once, never again.
        participant.affiliation = value or ""
    return participant


def by_token(event: Event, token: str | None) -> Participant | None:
    if not token:
        return None
    return db.session.scalar(
        sa.select(Participant).where(
            Participant.token_hash == hash_token(token), Participant.event_id == event.id
        )
    )


def _live_target_query(with_token: bool) -> sa.Select:
    participant = sa.null()
    if with_token:
        participant = (
            sa.select(Participant.id)
            .where(Participant.event_id == Event.id, Participant.token_hash == sa.bindparam("hash"))
            .scalar_subquery()
        )
    return sa.select(Event.id, Event.phase, participant).where(Event.code == sa.bindparam("code"))


#: Built once: a statement made anew for each connection costs as much as running it.
_LIVE_TARGET = {False: _live_target_query(False), True: _live_target_query(True)}


def live_target(code: str, token: str | None) -> tuple[int, str, int | None]:
    """(event id, phase, participant id) for a live connection to the event with this stored
    code (`events.checked_code`); the participant is the one this token belongs to there (None:
    nobody, or no token). One Core statement, since a hall of phones reconnects at once
    (benchmarks/README.md, issue 19). A 404 for a code that names no event."""
    params = {"code": code, "hash": hash_token(token)} if token else {"code": code}
    row = db.session.connection().execute(_LIVE_TARGET[bool(token)], params).first()
    if row is None:
        raise events.event_not_found()
    event_id, phase, participant_id = row
    return event_id, phase, participant_id


def not_joined() -> Unauthorized:
    return Unauthorized(
        "not_joined", _l("Please join the event first (scan the QR code or enter the code).")
    )


def cookie_name(code: str) -> str:
    """The HttpOnly cookie that holds a browser's participant token for one event."""
    return f"workshop_{code}"
