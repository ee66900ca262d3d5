"""Photos of paper cards (the paper lane): add, replace, read and remove, staff only.

A photo is cleaned (engines/photos.py: upright, shrunk, re-encoded without metadata) off
eventlet's hub before the write transaction, stored with its card and deleted with the card or
the event by the database's cascade; it is never shown to participants or in public results.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop.db.engine import write_transaction
from workshop.db.models import CardPhoto, Event, Suggestion, User
from workshop.domain import audit, events
from workshop.domain.suggestions import get_in_event, publish_cards
from workshop.engines import offhub
from workshop.engines.photos import Photo, PhotoError, clean
from workshop.errors import Forbidden, NotFound, WorkshopError
from workshop.extensions import db

#: The staff roles that may add, see and remove photos: the one place to name another role.
PHOTO_ROLES = ("admin", "moderator")

#: What each refusal of engines/photos.py tells the sender.
REFUSALS = {
    "type": (415, "photo_type", _l("Please send a photo as JPEG, PNG or WebP.")),
    "pixels": (413, "photo_too_large", _l("This photo has too many pixels.")),
    "broken": (400, "photo_invalid", _l("This file is damaged or not a photo.")),
}


def may_handle(user: User | None, event: Event, card: Suggestion | None = None) -> bool:
    """Whether this staff user may add, see and remove the photos of this event's cards. A helper
    only adds them, and only to paper cards of the events they help with (`card` given)."""
    if user is None:
        return False
    if user.is_helper:
        return card is not None and card.from_paper and events.can_help(user, event)
    return user.role in PHOTO_ROLES and events.can_manage(user, event)


def require_handler(user: User | None, event: Event, card: Suggestion | None = None) -> None:
    """Refuse (403) anyone `may_handle` does not let in."""
    if not may_handle(user, event, card):
        raise Forbidden("forbidden", _l("You may not manage this event."))


def not_found() -> NotFound:
    return NotFound("photo_not_found", _l("This suggestion has no photo."))


def too_large(limit: int) -> WorkshopError:
    """An upload over WORKSHOP_PHOTO_MAX_BYTES."""
    megabytes = max(1, round(limit / 1_000_000))
    return WorkshopError(
        "photo_too_large",
        _l("The photo is too large (at most %(size)s MB).", size=megabytes),
        status=413,
    )


def cleaned(upload: bytes) -> Photo:
    """The upload as a clean JPEG, or a 4xx error that says what is wrong with it."""
    if not upload:
        raise WorkshopError("photo_missing", _l("Please choose a photo."))
    try:
        return offhub.run(clean, upload)
    except PhotoError as error:
        status, code, message = REFUSALS[error.reason]
        raise WorkshopError(code, message, status=status) from error


def store(event: Event, suggestion_id: Any, upload: bytes, user: User) -> CardPhoto:
    """Add or replace the photo of a card; staff see the card's new `photo` live."""
    if not user.is_helper:
        require_handler(user, event)  # before the card is looked up: outsiders learn nothing
    require_handler(user, event, get_in_event(event, suggestion_id))
    photo = cleaned(upload)
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = db.session.get(Event, event_id)
        card = get_in_event(event, suggestion_id)
        row = db.session.get(CardPhoto, card.id) or CardPhoto(suggestion_id=card.id)
        row.event_id, row.content_type = event_id, "image/jpeg"
        row.data, row.width, row.height = photo.data, photo.width, photo.height
        db.session.add(row)
        db.session.flush()
        publish_cards(tx, event, card)
        audit.record(tx, event_id, user, "photo_added", card.id)
    return row


def get(event: Event, suggestion_id: Any, user: User | None) -> CardPhoto:
    """The stored photo of a card, for staff who may handle photos."""
    require_handler(user, event)
    card = get_in_event(event, suggestion_id)
    row = db.session.get(CardPhoto, card.id)
    if row is None:
        raise not_found()
    return row


def remove(event: Event, suggestion_id: Any, user: User) -> None:
    """Delete the photo of a card (a 404 when it has none)."""
    require_handler(user, event)
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = db.session.get(Event, event_id)
        card = get_in_event(event, suggestion_id)
        deleted = db.session.execute(
            sa.delete(CardPhoto).where(CardPhoto.suggestion_id == card.id)
        ).rowcount
        if not deleted:
            raise not_found()
        publish_cards(tx, event, card)
        audit.record(tx, event_id, user, "photo_removed", card.id)
