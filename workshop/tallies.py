"""Read-only figures about an event: who may see totals, and the live counts."""

from __future__ import annotations

import sqlalchemy as sa

from .extensions import db
from .models import Event, Participant, Suggestion


def counts_visible(event: Event, staff: bool) -> bool:
    """Whether totals may be shown to this audience in the event's current phase."""
    return staff or not (event.phase == "vote" and event.hide_counts_while_voting)


def counts(event_id: int, staff: bool = False) -> dict:
    """People joined, public cards and dots cast: the figures the screens show; staff also see
    how many people have not voted yet."""
    participants, dots, voted = db.session.execute(
        sa.select(
            sa.func.count(Participant.id),
            sa.func.coalesce(sa.func.sum(Participant.dots_used), 0),
            sa.func.count(Participant.id).filter(Participant.dots_used > 0),
        ).where(Participant.event_id == event_id)
    ).one()
    suggestions = db.session.scalar(
        sa.select(sa.func.count(Suggestion.id)).where(
            Suggestion.event_id == event_id,
            Suggestion.status == "visible",
            Suggestion.merged_into_id.is_(None),
        )
    )
    figures = {"participants": participants, "suggestions": suggestions, "dots": int(dots)}
    if staff:
        figures.update(voted=voted, not_voted=participants - voted)
    return figures


def public_counts(staff_counts: dict) -> dict:
    """The public's part of the staff's figures."""
    return {key: staff_counts[key] for key in ("participants", "suggestions", "dots")}


def totals(card_ids: set[int]) -> list[tuple[int, int, bool]]:
    """(id, dots, public) of these cards, as they are now."""
    rows = db.session.execute(
        sa.select(
            Suggestion.id, Suggestion.dots, Suggestion.status, Suggestion.merged_into_id
        ).where(Suggestion.id.in_(card_ids))
    )
    return [
        (card_id, dots, status == "visible" and merged_into is None)
        for card_id, dots, status, merged_into in rows
    ]
