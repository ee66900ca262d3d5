"""Follow-up events: a new event from chosen cards of another, each card keeping its trail."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from workshop import validation
from workshop.db.engine import write_transaction
from workshop.db.models import (
    Area,
    AreaTranslation,
    CardTranslation,
    Event,
    EventTranslation,
    Suggestion,
    User,
)
from workshop.domain import audit
from workshop.domain.events import new_code, require_manager
from workshop.domain.rules import LANGUAGE_SETTINGS, SETTINGS
from workshop.domain.suggestions import publish_cards
from workshop.errors import NotFound
from workshop.extensions import db

#: The most cards one follow-up event takes over (a working group's list, not a whole plenum).
MAX_CARDS = 200


def create_follow_up(source: Event, data: Any, user: User) -> Event:
    """A new draft event, owned by `user`, with copies of the chosen cards of `source`: their
    title, detail, language and translations, no dots, and each card's origin."""
    require_manager(user, source)
    validation.check_fields(data, {"title", "question", "suggestions"}, {"title", "suggestions"})
    title = validation.text(data["title"], "title", max_length=200)
    question = data.get("question")
    if question is not None:
        question = validation.text(question, "question", max_length=1000, multiline=True)
    ids = _chosen_ids(data["suggestions"])
    source_id = source.id
    with write_transaction() as tx:
        source = db.session.get(Event, source_id)
        cards = _chosen_cards(source, ids)
        event = _new_event(source, title, question, user)
        areas = _copied_areas(source, {card.area_id for card in cards}, event)
        db.session.add(event)
        db.session.flush()
        copies = [_copied_card(source, card, event, areas) for card in cards]
        db.session.add_all(copies)
        db.session.flush()
        # The source's screens learn where its cards went on to (their `followed_up`).
        publish_cards(tx, source, *cards)
        audit.record(tx, event.id, user, "follow_up_created", source=source.code, suggestions=ids)
        audit.record(tx, source.id, user, "cards_followed_up", event=event.code, suggestions=ids)
    return event


def _chosen_ids(value: Any) -> list[int]:
    """The chosen card ids, in the order given, each once."""
    if not isinstance(value, list) or not value or len(value) > MAX_CARDS:
        raise validation.invalid(
            "suggestions",
            _l("Choose between 1 and %(most)d suggestions.", most=MAX_CARDS),
        )
    if not all(validation.known_id(item) for item in value):
        raise validation.invalid("suggestions", _l("suggestions must be a list of card ids."))
    return list(dict.fromkeys(value))


def _chosen_cards(source: Event, ids: list[int]) -> list[Suggestion]:
    """The chosen cards of the source event, in the order chosen; a 404 for any other id."""
    found = {
        card.id: card
        for card in db.session.scalars(
            sa.select(Suggestion)
            .where(Suggestion.event_id == source.id, Suggestion.id.in_(ids))
            .options(selectinload(Suggestion.translations))
        )
    }
    # A withdrawn card's author took it back; it does not go on to a working group.
    missing = [
        card_id for card_id in ids if card_id not in found or found[card_id].status == "withdrawn"
    ]
    if missing:
        raise NotFound(
            "suggestion_not_found",
            _l("This suggestion does not exist in this event."),
            missing=missing,
        )
    return [found[card_id] for card_id in ids]


def _new_event(source: Event, title: str, question: str | None, user: User) -> Event:
    """The follow-up event in preparation, with the source's rules and languages."""
    event = Event(
        code=new_code(),
        title=title,
        question=source.question if question is None else question,
        phase="draft",
        owner_id=user.id,
        **{name: getattr(source, name) for name in (*SETTINGS, *LANGUAGE_SETTINGS)},
    )
    if question is None:
        event.translations = [
            EventTranslation(language=row.language, question=row.question, machine=row.machine)
            for row in source.translations
        ]
    return event


def _copied_areas(source: Event, used: set[int | None], event: Event) -> dict[int, Area]:
    """The source's areas the chosen cards use (all of them when no chosen card has one), in
    the source's order, with their translations; the copies by the source area's id."""
    chosen = [area for area in source.areas if area.id in used] or list(source.areas)
    copies = {}
    for position, area in enumerate(chosen):
        copies[area.id] = Area(
            name=area.name,
            color=area.color,
            position=position,
            translations=[
                AreaTranslation(language=row.language, name=row.name, machine=row.machine)
                for row in area.translations
            ],
        )
    event.areas = list(copies.values())
    return copies


def _copied_card(
    source: Event, card: Suggestion, event: Event, areas: dict[int, Area]
) -> Suggestion:
    """A fresh card with the original's texts and language, visible, without dots."""
    area = areas.get(card.area_id)
    return Suggestion(
        event_id=event.id,
        area_id=area.id if area else None,
        title=card.title,
        body=card.body,
        language=card.language,
        status="visible",
        origin_event=source.code,
        origin_suggestion=card.id,
        translations=[
            CardTranslation(
                language=row.language,
                title=row.title,
                body=row.body,
                machine=row.machine,
                source_hash=row.source_hash,
            )
            for row in card.translations
        ],
    )
