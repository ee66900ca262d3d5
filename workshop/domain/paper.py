"""The paper lane: a helper types in handwritten cards, and gives dots for a person who comes to
the desk with a seat code.

Paper cards belong to no phone (`participant_id` null, `created_by_id` the helper, `from_paper`
true): they count towards no participant's card limit and make nobody a participant in the
figures. A helper may file them in every phase in which staff may file cards (all but
`results`): they were written in the room, perhaps while it was collecting, and are typed in later.
Dots on behalf follow the phone's rules exactly (domain/voting.py), voting phase only.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop import validation
from workshop.db.engine import write_transaction
from workshop.db.models import Area, Event, Participant, SeatCode, Suggestion, User, Vote
from workshop.domain import audit, events, participants, seats, suggestions, voting
from workshop.errors import Conflict, Forbidden
from workshop.extensions import db


def require_helper(user: User | None, event: Event) -> None:
    """This account may use this event's paper lane (events.can_help)."""
    if not events.can_help(user, event):
        raise Forbidden("forbidden", _l("You may not help with this event."))


def file_card(event: Event, data: Any, user: User) -> tuple[Suggestion, bool]:
    """File a card from paper; a resent `client_id` returns the stored card."""
    require_helper(user, event)
    return suggestions.submit(event, data, user=user, from_paper=True)


def withdraw_card(event: Event, suggestion_id: Any, user: User) -> Suggestion:
    """Undo a mistake: withdraw a paper card this account entered (and only such a card)."""
    require_helper(user, event)
    event_id = event.id
    with write_transaction(event_id) as tx:
        card = suggestions.get_in_event(event, suggestion_id)
        if not card.from_paper or card.created_by_id != user.id:
            raise Forbidden("not_your_paper_card", _l("You can only undo cards you entered."))
        if card.status != "withdrawn":
            card.status = "withdrawn"
            card.version += 1
            db.session.flush()
            suggestions.publish_cards(tx, event, card)
            audit.record(tx, event_id, user, "paper_card_withdrawn", card.id, title=card.title)
    return card


def desk_participant(event: Event, raw_code: Any) -> Participant:
    """The participant of a seat code: the one it is bound to, or for an unused code a new one
    (whose token nobody gets: that person votes at the desk), binding the code to it."""
    code = seats.normalise(raw_code) if isinstance(raw_code, str) else None
    if code is None:
        raise seats.invalid()
    digest = seats.hash_code(event.id, code)
    seat = db.session.scalar(
        sa.select(SeatCode).where(SeatCode.event_id == event.id, SeatCode.code_hash == digest)
    )
    if seat is None:
        raise seats.invalid()
    if seat.participant_id is not None:
        return db.session.get(Participant, seat.participant_id)
    if seat.used_at is not None:
        raise Conflict("seat_code_used", _l("This seat code has already been used."))
    event_id = event.id
    with write_transaction(event_id):
        event = db.session.get(Event, event_id)
        token = secrets.token_urlsafe(32)
        participant = Participant(
            event_id=event_id,
            token_hash=participants.hash_token(token),
            dots_budget=event.vote_budget,
        )
        db.session.add(participant)
        db.session.flush()
        seats.consume(event, participant, code)
    return participant


def seat_view(event: Event, user: User, raw_code: Any) -> dict:
    """What the desk shows for a seat code: the person's budget, the rules, and every card they
    may give dots to (public cards, by area) with their dots on it."""
    require_helper(user, event)
    validation.check_fields(raw_code, {"seat_code"}, {"seat_code"})
    participant = desk_participant(event, raw_code["seat_code"])
    mine = dict(
        db.session.execute(
            sa.select(Vote.suggestion_id, Vote.dots).where(Vote.participant_id == participant.id)
        ).all()
    )
    cards = db.session.execute(
        sa.select(Suggestion.id, Suggestion.title, Suggestion.area_id, Suggestion.from_paper)
        .outerjoin(Area, Area.id == Suggestion.area_id)
        .where(Suggestion.event_id == event.id, Suggestion.is_public)
        .order_by(Area.position.is_(None), Area.position, Suggestion.id)
    ).all()
    return {
        "dots_budget": participant.dots_budget,
        "dots_left": participant.dots_left,
        "phase": event.phase,
        "rules": {
            "max_dots_per_suggestion": event.max_dots_per_suggestion,
            "max_dots_per_area": event.max_dots_per_area,
        },
        "suggestions": [
            {
                "id": card_id,
                "title": title,
                "area_id": area_id,
                "from_paper": bool(paper),
                "dots_mine": mine.get(card_id, 0),
            }
            for card_id, title, area_id, paper in cards
        ],
    }


def set_dots(event: Event, user: User, suggestion_id: Any, data: Any) -> dict:
    """Set the dots of the person with this seat code on a card, with the phone's rules."""
    require_helper(user, event)
    validation.check_fields(data, {"seat_code", "dots"}, {"seat_code", "dots"})
    participant = desk_participant(event, data["seat_code"])
    return voting.set_dots_on_behalf(event, participant, user, suggestion_id, data["dots"])
