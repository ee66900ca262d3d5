"""Thematic areas of an event: add, rename, recolour, reorder and remove (cards are never lost)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop import validation
from workshop.db.engine import write_transaction
from workshop.db.models import Area, Event, Suggestion, User
from workshop.domain import audit
from workshop.domain.events import COLOR, MAX_AREAS, PALETTE
from workshop.domain.schemas import area_json, card_messages, event_messages
from workshop.errors import Conflict, NotFound
from workshop.extensions import db
from workshop.live import publisher

NAME_MAX = 100


def _color(value: Any) -> str:
    if not isinstance(value, str) or not COLOR.match(value):
        raise validation.invalid("color", _l("A colour must look like #1f5fa8."))
    return value


def get_area(event: Event, area_id: Any) -> Area:
    area = db.session.get(Area, area_id) if validation.known_id(area_id) else None
    if area is None or area.event_id != event.id:
        raise NotFound("area_not_found", _l("This area does not exist in this event."))
    return area


def create_area(event: Event, data: Any, user: User | None) -> Area:
    """Add an area at the end of the event's list."""
    validation.check_fields(data, {"name", "color"}, {"name"})
    name = validation.text(data["name"], "name", max_length=NAME_MAX)
    color = _color(data["color"]) if data.get("color") is not None else None
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = db.session.get(Event, event_id)
        if len(event.areas) >= MAX_AREAS:
            raise Conflict("too_many_areas", _l("At most %(max)d areas.", max=MAX_AREAS))
        position = len(event.areas)
        area = Area(name=name, color=color or PALETTE[position % len(PALETTE)], position=position)
        event.areas.append(area)
        db.session.flush()
        messages = event_messages(event)
        tx.on_commit(lambda: publisher.publish(event_id, messages))
        audit.record(tx, event_id, user, "area_created", area=area_json(area))
    return area


def update_area(event: Event, area_id: Any, data: Any, user: User | None) -> Area:
    """Rename or recolour an area, or move it to another position (the others shift)."""
    validation.check_fields(data, {"name", "color", "position"})
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = validation.text(data["name"], "name", max_length=NAME_MAX)
    if "color" in data:
        changes["color"] = _color(data["color"])
    position = (
        validation.integer(data["position"], "position", minimum=0, maximum=MAX_AREAS)
        if "position" in data
        else None
    )
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = db.session.get(Event, event_id)
        area = get_area(event, area_id)
        old = area_json(area)
        for name, value in changes.items():
            setattr(area, name, value)
        if position is not None:
            ordered = [other for other in event.areas if other.id != area.id]
            ordered.insert(min(position, len(ordered)), area)
            _renumber(event, ordered)
        db.session.flush()
        new = area_json(area)
        if new != old:
            messages = event_messages(event)
            tx.on_commit(lambda: publisher.publish(event_id, messages))
            audit.record(tx, event_id, user, "area_changed", old=old, new=new)
    return area


def delete_area(event: Event, area_id: Any, user: User | None) -> None:
    """Remove an area; its cards go to the holding column "no area"."""
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = db.session.get(Event, event_id)
        area = get_area(event, area_id)
        removed = area_json(area)
        cards = list(
            db.session.scalars(
                sa.select(Suggestion).where(Suggestion.area_id == area.id).order_by(Suggestion.id)
            )
        )
        for card in cards:
            card.area_id = None
            card.version += 1
        _renumber(event, [other for other in event.areas if other.id != area.id])
        db.session.flush()
        messages = event_messages(event) + card_messages(event, *cards)
        tx.on_commit(lambda: publisher.publish(event_id, messages))
        audit.record(
            tx, event_id, user, "area_deleted", area=removed, cards=[card.id for card in cards]
        )


def _renumber(event: Event, ordered: list[Area]) -> None:
    """Store this order as positions 0, 1, 2 …; an area left out of the list is deleted."""
    for i, area in enumerate(ordered):
        area.position = i
    # Reassigning the list keeps the event's JSON in the new order; delete-orphan removes the rest.
    event.areas = ordered
