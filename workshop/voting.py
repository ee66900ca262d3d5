"""Dot voting and results."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl

from . import publish, validation
from .database import write_transaction
from .errors import Conflict
from .extensions import db
from .models import Event, Participant, Suggestion, Vote
from .participants import dots_left
from .suggestions import get_in_event


def set_dots(event: Event, participant: Participant, suggestion_id: Any, data: Any) -> dict:
    """Set (not add) this participant's dots on a card, so a resent request changes nothing."""
    validation.check_fields(data, {"dots"}, {"dots"})
    dots = validation.integer(data["dots"], "dots", minimum=0, maximum=100)
    event_id, participant_id = event.id, participant.id
    with write_transaction() as tx:
        event = db.session.get(Event, event_id)
        # Row lock on engines that have one (PostgreSQL); SQLite's BEGIN IMMEDIATE already did.
        participant = db.session.scalar(
            sa.select(Participant).where(Participant.id == participant_id).with_for_update()
        )
        suggestion = get_in_event(event, suggestion_id)
        if event.phase != "vote":
            raise Conflict("wrong_phase", _l("Voting is not open."))
        vote = db.session.get(Vote, (participant.id, suggestion.id))
        current = vote.dots if vote else 0
        delta = dots - current
        if delta > 0 and not suggestion.is_public:
            raise Conflict("not_votable", _l("This card cannot receive dots."))
        if dots > event.max_dots_per_suggestion:
            raise Conflict(
                "cap_exceeded",
                _l("At most %(n)d dots per card.", n=event.max_dots_per_suggestion),
            )
        if delta > dots_left(participant):
            raise Conflict(
                "budget_exceeded",
                _nl(
                    "You have only %(num)d dot left.",
                    "You have only %(num)d dots left.",
                    dots_left(participant),
                ),
            )
        if delta:
            if vote is None:
                db.session.add(
                    Vote(participant_id=participant.id, suggestion_id=suggestion.id, dots=dots)
                )
            elif dots == 0:
                db.session.delete(vote)
            else:
                vote.dots = dots
            voters = (current == 0) - (dots == 0)
            # Counters change in SQL, so concurrent voters on one card cannot lose an update.
            db.session.execute(
                sa.update(Suggestion)
                .where(Suggestion.id == suggestion.id)
                .values(dots=Suggestion.dots + delta, voters=Suggestion.voters + voters)
            )
            left = db.session.scalar(
                sa.update(Participant)
                .where(Participant.id == participant.id)
                .values(dots_used=Participant.dots_used + delta)
                .returning(Participant.dots_budget - Participant.dots_used)
            )
            suggestion_id = suggestion.id
            tx.on_commit(lambda: publish.tallies_changed(event_id, [suggestion_id]))
        else:
            left = dots_left(participant)
        result = {"suggestion_id": suggestion.id, "dots": dots, "dots_left": left}
    return result


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
