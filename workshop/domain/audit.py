"""The audit log: each staff write on an event leaves an entry, made in the same transaction."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from workshop import validation
from workshop.clock import iso
from workshop.db.engine import WriteTransaction
from workshop.db.models import Area, AuditEntry, Event, Suggestion, User
from workshop.extensions import db
from workshop.live import messages, publisher

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000

#: What each action is called in exports (the console shows the same words).
ACTION_LABELS = {
    "event_created": _l("created the event"),
    "event_duplicated": _l("copied the event"),
    "event_archived": _l("archived the event"),
    "event_unarchived": _l("took the event out of the archive"),
    "event_changed": _l("changed the event's texts or rules"),
    "display_changed": _l("changed the board screen"),
    "phase_changed": _l("changed the phase"),
    "area_created": _l("added an area"),
    "area_changed": _l("changed an area"),
    "area_deleted": _l("deleted an area"),
    "card_created": _l("added a suggestion"),
    "card_edited": _l("edited a suggestion"),
    "card_moved": _l("moved a suggestion"),
    "card_hidden": _l("hid a suggestion"),
    "card_approved": _l("approved a suggestion"),
    "card_restored": _l("restored a suggestion"),
    "card_merged": _l("merged a suggestion"),
    "card_unmerged": _l("undid a merge"),
    "pair_dismissed": _l("said two suggestions are not duplicates"),
    "language_changed": _l("changed the language of a suggestion"),
    "translation_corrected": _l("corrected a translation"),
    "texts_translated": _l("translated the question or area names"),
    "seat_codes_generated": _l("generated seat codes"),
    "follow_up_created": _l("created the event as a follow-up of another"),
    "cards_followed_up": _l("took suggestions on to a follow-up event"),
    "photo_added": _l("added a photo of a paper card"),
    "photo_removed": _l("removed the photo of a card"),
    "paper_card_withdrawn": _l("withdrew a suggestion entered from paper"),
    "dots_on_behalf": _l("gave or took dots for a person at the desk"),
}


#: The key of a phase change's details that holds the board as it stood (`board_state`): kept
#: for the handover package's board protocol, left out of the live log and the exports, where a
#: copy of every card per phase change would only be noise.
BOARD = "board"


def board_state(event_id: int) -> dict:
    """The board as it stands, compact: areas, and each card not merged away or withdrawn with
    its id, title, area, dots and status (like a photo of the pin boards)."""
    areas = db.session.execute(
        sa.select(Area.id, Area.name, Area.color)
        .where(Area.event_id == event_id)
        .order_by(Area.position, Area.id)
    ).all()
    cards = db.session.execute(
        sa.select(
            Suggestion.id, Suggestion.title, Suggestion.area_id, Suggestion.dots, Suggestion.status
        )
        .where(
            Suggestion.event_id == event_id,
            Suggestion.merged_into_id.is_(None),
            Suggestion.status != "withdrawn",
        )
        .order_by(Suggestion.id)
    ).all()
    return {
        "areas": [{"id": i, "name": name, "color": color} for i, name, color in areas],
        "cards": [
            {"id": i, "title": title, "area": area, "dots": dots, "status": status}
            for i, title, area, dots, status in cards
        ],
    }


def shown_details(details: dict) -> dict:
    """An entry's details without the board snapshot (see BOARD)."""
    details.pop(BOARD, None)
    return details


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def entry_json(entry: AuditEntry) -> dict:
    return {
        "id": entry.id,
        "at": iso(entry.created_at),
        "user": entry.user.username if entry.user else None,
        "action": entry.action,
        "suggestion_id": entry.suggestion_id,
        "details": shown_details(json.loads(entry.details or "{}")),
    }


def record(
    tx: WriteTransaction,
    event_id: int,
    user: User | None,
    action: str,
    suggestion_id: int | None = None,
    **details: Any,
) -> AuditEntry:
    """Add an entry inside the caller's write transaction; staff see it live after the commit."""
    entry = AuditEntry(
        event_id=event_id,
        user_id=user.id if user else None,
        action=action,
        suggestion_id=suggestion_id,
        details=json.dumps(details, ensure_ascii=False, default=str),
    )
    db.session.add(entry)
    db.session.flush()
    data = entry_json(entry)
    tx.on_commit(lambda: publisher.publish(event_id, messages.audit(data)))
    return entry


def entries(event: Event, limit: Any = None) -> list[dict]:
    """The event's entries, newest first (`limit` may come as the text of a query string)."""
    if limit is None:
        limit = DEFAULT_LIMIT
    elif isinstance(limit, str) and limit.isascii() and limit.isdigit() and len(limit) < 10:
        limit = int(limit)
    limit = validation.integer(limit, "limit", minimum=1, maximum=MAX_LIMIT)
    rows = db.session.scalars(
        sa.select(AuditEntry)
        .options(joinedload(AuditEntry.user))
        .where(AuditEntry.event_id == event.id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return [entry_json(entry) for entry in rows]
