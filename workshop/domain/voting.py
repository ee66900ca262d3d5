"""Dot voting: a participant sets the dots on a card, within the event's budget and caps.

Balanced voting (`max_dots_per_area`): the dots one participant has on the cards of one area
count against the area's cap; cards without an area count as one group of their own. Only new
dots are checked, so dots on a card moved into a full area stay, and can be taken back.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl

from workshop import validation
from workshop.clock import iso, utcnow
from workshop.db.engine import WriteTransaction, group_commit
from workshop.db.models import AuditEntry, Event, Participant, Suggestion, User, Vote
from workshop.domain import events, participants, rules, suggestions
from workshop.errors import Conflict, NotFound
from workshop.live import messages, publisher

#: Everything a dot change checks, read in one statement under the write lock: the event (by
#: code), the caller (by token hash), the card (only in this event) and the caller's dots on it.
#: Votes arrive by the hundred a second; the ORM's nine statements for this cost five times more.
_VOTE_STATE = (
    sa.select(
        Event.id,
        Event.phase,
        Event.archived_at,
        Event.max_dots_per_suggestion,
        Event.max_dots_per_area,
        Participant.id,
        Participant.dots_budget,
        Participant.dots_used,
        Suggestion.id,
        Suggestion.is_public,
        Suggestion.area_id,
        Vote.dots,
    )
    .select_from(Event)
    .outerjoin(
        Participant,
        sa.and_(
            Participant.event_id == Event.id,
            Participant.token_hash == sa.bindparam("token_hash"),
        ),
    )
    .outerjoin(
        Suggestion,
        sa.and_(Suggestion.event_id == Event.id, Suggestion.id == sa.bindparam("suggestion_id")),
    )
    .outerjoin(
        Vote, sa.and_(Vote.participant_id == Participant.id, Vote.suggestion_id == Suggestion.id)
    )
    .where(Event.code == sa.bindparam("code"), Event.id == sa.bindparam("event_id"))
)
#: An event's id by its code (codes never change), read before the write: its lock needs the id.
#: The dots one participant has on the cards of one area (or on the cards without one).
_AREA_DOTS = (
    sa.select(sa.func.coalesce(sa.func.sum(Vote.dots), 0))
    .join(Suggestion, Suggestion.id == Vote.suggestion_id)
    .where(
        Vote.participant_id == sa.bindparam("p"),
        Suggestion.area_id.is_not_distinct_from(sa.bindparam("area", type_=sa.Integer)),
    )
)

_VOTE_INSERT = sa.insert(Vote).values(
    participant_id=sa.bindparam("p"), suggestion_id=sa.bindparam("s"), dots=sa.bindparam("dots")
)
_VOTE_UPDATE = (
    sa.update(Vote)
    .where(Vote.participant_id == sa.bindparam("p"), Vote.suggestion_id == sa.bindparam("s"))
    .values(dots=sa.bindparam("dots"))
)
_VOTE_DELETE = sa.delete(Vote).where(
    Vote.participant_id == sa.bindparam("p"), Vote.suggestion_id == sa.bindparam("s")
)
# Counters change in SQL, so that they hold whatever else wrote the rows.
_CARD_COUNTERS = (
    sa.update(Suggestion)
    .where(Suggestion.id == sa.bindparam("s"))
    .values(
        dots=Suggestion.dots + sa.bindparam("delta"),
        voters=Suggestion.voters + sa.bindparam("voters"),
    )
)
_DOTS_USED = (
    sa.update(Participant)
    .where(Participant.id == sa.bindparam("p"))
    # Any dot given makes the device a participant for good (queries.COUNTED).
    .values(dots_used=Participant.dots_used + sa.bindparam("delta"), took_part=sa.true())
)


def set_dots(code: str, token: str | None, suggestion_id: Any, data: Any) -> dict:
    """Set (not add) a participant's dots on a card, so a resent request changes nothing.

    The caller is named by the event's code and the participant's token rather than by loaded
    rows: the event, the caller and the card are read once, under the write lock, in one query.
    Only the event's id is known before, to pick its lock (read once per code: codes never change).
    """
    if not token:
        raise participants.not_joined()
    validation.check_fields(data, {"dots"}, {"dots"})
    return _set_by_hash(code, participants.hash_token(token), suggestion_id, data["dots"])


def set_dots_on_behalf(
    event: Event, participant: Participant, user: User, suggestion_id: Any, dots: Any
) -> dict:
    """Set a participant's dots for them, by a helper at the desk: the same rules as a phone,
    and an audit entry (who, for which participant, which card, how many dots more or less)
    in the vote's own transaction."""
    by = {"user_id": user.id, "username": user.username, "participant": participant.id}
    return _set_by_hash(event.code, participant.token_hash, suggestion_id, dots, by)


def _set_by_hash(
    code: str, token_hash: str, suggestion_id: Any, dots: Any, by: dict | None = None
) -> dict:
    code = events.checked_code(code)
    dots = validation.integer(dots, "dots", minimum=0, maximum=100)
    if not validation.known_id(suggestion_id):
        suggestion_id = 0
    key = {"code": code, "token_hash": token_hash, "suggestion_id": suggestion_id}
    try:
        return _vote(key, dots, events.event_id(code), by)
    except NotFound as error:
        if error.code != "event_not_found":
            raise
    # The remembered id's event is gone, and its code may name a new one: read it again, once.
    return _vote(key, dots, events.event_id(code, fresh=True), by)


def _vote(key: dict, dots: int, event_id: int, by: dict | None = None) -> dict:
    """Votes share commits, one queue and lock per event: see engine.GroupCommit."""
    key = {**key, "event_id": event_id}

    def change(connection: sa.Connection, tx: WriteTransaction) -> dict:
        result = _set_dots(connection, tx, key, dots)
        delta = result.pop("delta")
        if by is not None and delta:
            _audit_on_behalf(connection, tx, event_id, by, {**result, "change": delta})
        return result

    return group_commit(change, event_id)


def _audit_on_behalf(
    connection: sa.Connection, tx: WriteTransaction, event_id: int, by: dict, result: dict
) -> None:
    """The audit entry of a dot change made on behalf: the participant's id, never the seat code."""
    details = {"participant": by["participant"], "change": result["change"], "dots": result["dots"]}
    at = utcnow()
    entry_id = connection.execute(
        sa.insert(AuditEntry).values(
            event_id=event_id,
            user_id=by["user_id"],
            action="dots_on_behalf",
            suggestion_id=result["suggestion_id"],
            details=json.dumps(details),
            created_at=at,
        )
    ).inserted_primary_key[0]
    data = {
        "id": entry_id,
        "at": iso(at),
        "user": by["username"],
        "action": "dots_on_behalf",
        "suggestion_id": result["suggestion_id"],
        "details": details,
    }
    tx.on_commit(lambda: publisher.publish(event_id, messages.audit(data)))


def _set_dots(connection: sa.Connection, tx: WriteTransaction, key: dict, dots: int) -> dict:
    """The dot change itself, in a transaction that holds the write lock."""
    row = connection.execute(_VOTE_STATE, key).one_or_none()
    if row is None:
        raise events.event_not_found()
    (event_id, phase, archived_at, cap, area_cap, participant_id, budget, used, card_id, public,
     area_id, current) = row  # fmt: skip
    _check_caller(participant_id, archived_at, card_id, phase)
    current = current or 0
    left = budget - used
    delta = dots - current
    _check_dots(dots, delta, left, cap, public)
    keys = {"p": participant_id, "s": card_id}
    if area_cap is not None and delta > 0:
        # Read under the same write lock as the dot: two phones cannot both take the last one.
        in_area = connection.execute(_AREA_DOTS, {**keys, "area": area_id}).scalar_one()
        _check_area(in_area + delta, area_cap)
    if delta:
        if current == 0:
            connection.execute(_VOTE_INSERT, {**keys, "dots": dots})
        elif dots == 0:
            connection.execute(_VOTE_DELETE, keys)
        else:
            connection.execute(_VOTE_UPDATE, {**keys, "dots": dots})
        voters = (current == 0) - (dots == 0)
        connection.execute(_CARD_COUNTERS, {**keys, "delta": delta, "voters": voters})
        connection.execute(_DOTS_USED, {**keys, "delta": delta})
        left -= delta
        tx.on_commit(lambda: publisher.tallies_changed(event_id, [card_id]))
    # `delta` is for the caller (an audit entry on behalf), not for the response.
    return {"suggestion_id": card_id, "dots": dots, "dots_left": left, "delta": delta}


def _check_caller(participant_id: int | None, archived_at, card_id: int | None, phase: str) -> None:
    """A participant of this open event, a card of it, and voting open."""
    if participant_id is None:
        raise participants.not_joined()
    if archived_at is not None:
        raise events.archived()
    if card_id is None:
        raise suggestions.not_found()
    if "vote" not in rules.PARTICIPANT_ACTIONS[phase]:
        raise Conflict("wrong_phase", _l("Voting is not open."))


def _check_dots(dots: int, delta: int, left: int, cap: int, public: bool) -> None:
    """New dots only on public cards, at most `cap` on one card, and no more than are left."""
    if delta > 0 and not public:
        raise Conflict("not_votable", _l("This card cannot receive dots."))
    if dots > cap:
        raise Conflict("cap_exceeded", _l("At most %(n)d dots per card.", n=cap))
    if delta > left:
        raise Conflict(
            "budget_exceeded",
            _nl("You have only %(num)d dot left.", "You have only %(num)d dots left.", left),
        )


def _check_area(in_area: int, area_cap: int) -> None:
    """Balanced voting: no more than `area_cap` of one participant's dots in one area."""
    if in_area > area_cap:
        raise Conflict(
            "area_cap_reached",
            _nl(
                "At most %(num)d of your dots may go to the suggestions of one area.",
                "At most %(num)d of your dots may go to the suggestions of one area.",
                area_cap,
            ),
        )
