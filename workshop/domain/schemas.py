"""The JSON each audience sees (staff, or the public: board and phones), and the live messages
and snapshots made of it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from workshop.clock import iso, utcnow
from workshop.db.models import Area, Event, Participant, Suggestion, Vote
from workshop.domain import queries
from workshop.domain.rules import SETTINGS, counts_visible
from workshop.extensions import db
from workshop.live import messages
from workshop.live.messages import PUBLIC, Message
from workshop.live.publisher import publisher, room
from workshop.live.snapshots import public_states

# -- events ----------------------------------------------------------------------------------


def area_json(area: Area) -> dict:
    return {
        "id": area.id,
        "name": area.name,
        "color": area.color,
        "position": area.position,
        # The name in other languages, typed by staff or accepted from the engine.
        "translations": {
            row.language: {"name": row.name, "machine": row.machine} for row in area.translations
        },
    }


def codes(stored: str | None) -> list[str]:
    """A list of language codes as an event stores it (comma-separated), in the chosen order."""
    return [code for code in (stored or "").split(",") if code]


def board_languages(event: Event) -> list[str]:
    """The languages the board shows its instruction in besides German, in the chosen order."""
    return codes(event.board_languages)


def settings_json(event: Event) -> dict:
    return {
        **{name: getattr(event, name) for name in SETTINGS},
        "default_language": event.default_language,
        "board_languages": board_languages(event),
        "languages": codes(event.languages),
        "board_translations": codes(event.board_translations),
    }


def timer_json(ends_at: datetime | None) -> dict | None:
    """A running countdown as of now (None when none runs)."""
    if ends_at is None:
        return None
    left = (ends_at - utcnow()).total_seconds()
    return {"ends_at": iso(ends_at), "seconds_left": max(0, round(left))}


def display_json(event: Event) -> dict:
    """What the projected board shows; the timer as seconds left, so clocks need not agree."""
    return {
        "screen": event.screen,
        "spotlight": event.spotlight_id,
        "timer": timer_json(event.timer_ends_at),
        "layout": event.board_layout,
        "theme": event.board_theme,
    }


def event_json(event: Event, staff: bool = False) -> dict:
    data = {
        "code": event.code,
        "title": event.title,
        "question": event.question,
        "translations": {
            row.language: {"question": row.question, "machine": row.machine}
            for row in event.translations
        },
        "phase": event.phase,
        "areas": [area_json(area) for area in event.areas],
        "settings": settings_json(event),
        "counts": queries.counts(event.id, staff),
        "counts_visible": counts_visible(event, staff),
        "display": display_json(event),
    }
    if staff:
        data["archived"] = event.archived_at is not None
        data["figures"] = queries.figures(event)
    return data


def event_messages(event: Event, totals_turned: bool = False) -> list[Message]:
    """Phase, texts, rules, areas or display changed. When totals become public, all of them go
    out at once; when they become hidden, every public card's total is cleared (null)."""
    totals = None
    if totals_turned:
        shown = counts_visible(event, staff=False)
        current = queries.public_totals(event.id)
        # Without public cards there is nothing to reveal or clear.
        totals = {card: dots if shown else None for card, dots in current.items()} or None
    return messages.event(event_json(event, staff=True), event_json(event), totals)


# -- cards -----------------------------------------------------------------------------------


def merged_from_map(event_id: int) -> dict[int, list[Suggestion]]:
    """Cards merged directly into each card of the event, oldest first."""
    rows = db.session.scalars(
        sa.select(Suggestion)
        .where(Suggestion.event_id == event_id, Suggestion.merged_into_id.is_not(None))
        .order_by(Suggestion.id)
    )
    merged: dict[int, list[Suggestion]] = {}
    for row in rows:
        merged.setdefault(row.merged_into_id, []).append(row)
    return merged


def card_status(card: Suggestion) -> str:
    """The status a card shows: its moderation status, or "merged"."""
    return "merged" if card.merged_into_id else card.status


def suggestion_json(
    event: Event, suggestion: Suggestion, merged_from: list[Suggestion], staff: bool = False
) -> dict:
    """A card as one audience may see it (`dots` is null while totals are hidden from it)."""
    return {
        "id": suggestion.id,
        "area_id": suggestion.area_id,
        "title": suggestion.title,
        "body": suggestion.body,
        "status": card_status(suggestion),
        # The language it is written in, e.g. "ar" (null for cards older than this field), and
        # its translations so far (`machine`: false once a person corrected one).
        "language": suggestion.language,
        "translations": {
            row.language: {"title": row.title, "body": row.body, "machine": row.machine}
            for row in suggestion.translations
        },
        "merged_into": suggestion.merged_into_id,
        "merged_from": [original.id for original in merged_from],
        "merged_originals": [
            {"id": original.id, "title": original.title, "body": original.body}
            for original in merged_from
            if staff or original.status == "visible"
        ],
        "dots": suggestion.dots if counts_visible(event, staff) else None,
        # Sent back in a PATCH, so that an edit never overwrites a change the editor has not seen.
        "version": suggestion.version,
        "created_at": iso(suggestion.created_at),
    }


def list_json(event: Event, staff: bool = False) -> list[dict]:
    """Every card the audience may see, oldest first."""
    if staff:
        query = sa.select(Suggestion).where(Suggestion.event_id == event.id)
        query = query.order_by(Suggestion.id)
    else:
        query = queries.public_cards(event.id)
    query = query.options(selectinload(Suggestion.translations))
    merged = merged_from_map(event.id)
    return [
        suggestion_json(event, card, merged.get(card.id, []), staff)
        for card in db.session.scalars(query)
    ]


def one_json(event: Event, suggestion: Suggestion, staff: bool = False) -> dict:
    merged = list(
        db.session.scalars(
            sa.select(Suggestion)
            .where(Suggestion.merged_into_id == suggestion.id)
            .order_by(Suggestion.id)
        )
    )
    return suggestion_json(event, suggestion, merged, staff)


def card_messages(event: Event, *cards: Suggestion) -> list[Message]:
    """These cards changed: staff see them as they are, the public see them or drop them."""
    result: list[Message] = []
    for card in cards:
        staff_card, public_card = one_json(event, card, staff=True), one_json(event, card)
        result += messages.card(staff_card, public_card, card.is_public)
    return result


# -- participants ----------------------------------------------------------------------------


def me_json(participant: Participant) -> dict:
    """What a participant needs to restore its own view: dots left, its dots and cards."""
    dots = dict(
        db.session.execute(
            sa.select(Vote.suggestion_id, Vote.dots).where(Vote.participant_id == participant.id)
        ).all()
    )
    mine = db.session.scalars(
        sa.select(Suggestion.id)
        .where(Suggestion.participant_id == participant.id)
        .order_by(Suggestion.id)
    ).all()
    return {
        "dots_left": participant.dots_left,
        "dots_budget": participant.dots_budget,
        "dots": {str(sid): n for sid, n in dots.items()},
        "suggestions": list(mine),
    }


# -- snapshots -------------------------------------------------------------------------------


def snapshot(event_id: int, audience: str, participant_id: int | None = None) -> dict:
    """The full state an audience sees, numbered with the room's current seq."""
    # Read seq before the state: a change committed in between arrives again, harmlessly.
    seq = publisher().current_seq(room(event_id, audience))
    db.session.rollback()
    if audience == PUBLIC:
        data = _public_snapshot(event_id, seq)
    else:
        event = db.session.get(Event, event_id)
        data = {
            "seq": seq,
            "event": event_json(event, staff=True),
            "suggestions": list_json(event, staff=True),
        }
    if participant_id:
        data["me"] = me_json(db.session.get(Participant, participant_id))
    return data


def _public_snapshot(event_id: int, seq: int) -> dict:
    states = public_states(current_app)
    state = states.get(event_id, seq)
    if state is None:
        event = db.session.get(Event, event_id)
        state = (event_json(event), list_json(event), event.timer_ends_at)
        states.put(event_id, seq, state)
    event, cards, timer_ends_at = state
    # The countdown as of now, not as of when the state was read.
    event = {**event, "display": {**event["display"], "timer": timer_json(timer_ends_at)}}
    return {"seq": seq, "event": event, "suggestions": cards}
