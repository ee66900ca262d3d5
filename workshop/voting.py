"""Dot voting and results."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl

from . import events, participants, publish, suggestions, validation
from .database import WriteTransaction, group_commit
from .errors import Conflict
from .extensions import db
from .models import Event, Participant, Suggestion, Vote

#: Everything a dot change checks, read in one statement under the write lock: the event (by
#: code), the caller (by token hash), the card (only in this event) and the caller's dots on it.
#: Votes arrive by the hundred a second; the ORM's nine statements for this cost five times more.
_VOTE_STATE = (
    sa.select(
        Event.id,
        Event.phase,
        Event.archived_at,
        Event.max_dots_per_suggestion,
        Participant.id,
        Participant.dots_budget,
        Participant.dots_used,
        Suggestion.id,
        Suggestion.status,
        Suggestion.merged_into_id,
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
    .where(Event.code == sa.bindparam("code"))
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
    .values(dots_used=Participant.dots_used + sa.bindparam("delta"))
)


def set_dots(code: str, token: str | None, suggestion_id: Any, data: Any) -> dict:
    """Set (not add) a participant's dots on a card, so a resent request changes nothing.

    The caller is named by the event's code and the participant's token rather than by loaded
    rows: the event, the caller and the card are read once, under the write lock, in one query.
    """
    code = events.checked_code(code)
    if not token:
        raise participants.not_joined()
    validation.check_fields(data, {"dots"}, {"dots"})
    dots = validation.integer(data["dots"], "dots", minimum=0, maximum=100)
    # Out-of-range ids (a URL may carry any number of digits) would overflow SQLite's integers.
    if not (isinstance(suggestion_id, int) and 0 < suggestion_id <= validation.MAX_ID):
        suggestion_id = 0
    key = {
        "code": code,
        "token_hash": participants.hash_token(token),
        "suggestion_id": suggestion_id,
    }
    # Votes share commits: see database.GroupCommit.
    return group_commit(lambda connection, tx: _set_dots(connection, tx, key, dots))


def _set_dots(connection: sa.Connection, tx: WriteTransaction, key: dict, dots: int) -> dict:
    """The dot change itself, in a transaction that holds the write lock."""
    row = connection.execute(_VOTE_STATE, key).one_or_none()
    if row is None:
        raise events.event_not_found()
    (event_id, phase, archived_at, cap, participant_id, budget, used, card_id, status,
     merged_into_id, current) = row  # fmt: skip
    if participant_id is None:
        raise participants.not_joined()
    if archived_at is not None:
        raise events.archived()
    if card_id is None:
        raise suggestions.not_found()
    if phase != "vote":
        raise Conflict("wrong_phase", _l("Voting is not open."))
    current = current or 0
    left = budget - used
    delta = dots - current
    if delta > 0 and not (status == "visible" and merged_into_id is None):
        raise Conflict("not_votable", _l("This card cannot receive dots."))
    if dots > cap:
        raise Conflict("cap_exceeded", _l("At most %(n)d dots per card.", n=cap))
    if delta > left:
        raise Conflict(
            "budget_exceeded",
            _nl("You have only %(num)d dot left.", "You have only %(num)d dots left.", left),
        )
    if delta:
        keys = {"p": participant_id, "s": card_id}
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
        tx.on_commit(lambda: publish.tallies_changed(event_id, [card_id]))
    return {"suggestion_id": card_id, "dots": dots, "dots_left": left}


def competition_ranks(values: list[int]) -> list[int]:
    """Ranks for values sorted from high to low; ties share a rank (1, 2, 2, 4)."""
    ranks = []
    for index, value in enumerate(values):
        ranks.append(ranks[-1] if index and value == values[index - 1] else index + 1)
    return ranks


TOP = 10


def top_overall(cards: list[Suggestion]) -> list[dict]:
    """The best cards across all areas (sorted by dots); a tie at the last place stays in."""
    ranks = competition_ranks([card.dots for card in cards])
    return [
        {
            "id": card.id,
            "title": card.title,
            "area_id": card.area_id,
            "dots": card.dots,
            "rank": rank,
        }
        for card, rank in zip(cards, ranks, strict=True)
        if rank <= TOP and card.dots > 0
    ]


def results(event: Event) -> dict:
    """Cards ranked by dots within each area; cards without an area form their own group."""
    cards = db.session.scalars(
        sa.select(Suggestion)
        .where(
            Suggestion.event_id == event.id,
            Suggestion.status == "visible",
            Suggestion.merged_into_id.is_(None),
        )
        .order_by(Suggestion.dots.desc(), Suggestion.id)
    ).all()
    groups: dict[int | None, list[Suggestion]] = {area.id: [] for area in event.areas}
    for card in cards:
        groups.setdefault(card.area_id, []).append(card)
    names = {area.id: area.name for area in event.areas}
    areas = []
    for area_id, group in groups.items():
        ranks = competition_ranks([card.dots for card in group])
        areas.append(
            {
                "id": area_id,
                "name": names.get(area_id),
                "suggestions": [
                    {
                        "id": card.id,
                        "title": card.title,
                        "dots": card.dots,
                        "voters": card.voters,
                        "rank": rank,
                    }
                    for card, rank in zip(group, ranks, strict=True)
                ],
            }
        )
    participants, voters, dots = db.session.execute(
        sa.select(
            sa.func.count(Participant.id),
            sa.func.count(Participant.id).filter(Participant.dots_used > 0),
            sa.func.coalesce(sa.func.sum(Participant.dots_used), 0),
        ).where(Participant.event_id == event.id)
    ).one()
    return {
        "event": {"code": event.code, "title": event.title, "phase": event.phase},
        "areas": areas,
        "top": top_overall(cards),
        "totals": {
            "participants": participants,
            "voters": voters,
            "suggestions": len(cards),
            "dots": int(dots),
        },
    }
