"""Suggestions (cards): file, edit, withdraw, moderate and move them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from workshop import i18n, signals, validation
from workshop.db.engine import WriteTransaction, write_transaction
from workshop.db.models import Area, Event, Participant, Suggestion, User
from workshop.domain import audit, participants, rules
from workshop.domain.events import require_open
from workshop.domain.schemas import card_messages, card_status, codes, one_json
from workshop.engines import languages
from workshop.errors import Conflict, Forbidden, NotFound
from workshop.extensions import db
from workshop.live import publisher

TITLE_MAX = 140
BODY_MAX = 1000
AUTHOR_FIELDS = {"title", "body", "area_id", "status", "version", "language"}
STAFF_FIELDS = {"title", "body", "area_id", "status", "version", "language"}


def get_in_event(event: Event, suggestion_id: Any) -> Suggestion:
    known = validation.known_id(suggestion_id)
    suggestion = db.session.get(Suggestion, suggestion_id) if known else None
    if suggestion is None or suggestion.event_id != event.id:
        raise not_found()
    return suggestion


def not_found() -> NotFound:
    return NotFound("suggestion_not_found", _l("This suggestion does not exist in this event."))


def publish_cards(tx: WriteTransaction, event: Event, *cards: Suggestion) -> None:
    """After commit: the cards as each audience sees them, and the figures (the number of public
    cards may have changed)."""
    event_id, messages = event.id, card_messages(event, *cards)
    ids = [card.id for card in cards]
    tx.on_commit(lambda: publisher.publish(event_id, messages))
    tx.on_commit(lambda: publisher.tallies_changed(event_id))
    tx.on_commit(lambda: signals.cards_changed.send(None, event_id=event_id, ids=ids))


def _check_area(event: Event, area_id: int | None) -> None:
    if area_id is None:
        return
    area = db.session.get(Area, area_id)
    if area is None or area.event_id != event.id:
        raise validation.invalid("area_id", _l("This area does not exist in this event."))


def _check_version(event: Event, suggestion: Suggestion, data: dict, staff: bool) -> None:
    """Refuse an edit made to an older version; the error carries the card as it is now."""
    if "version" not in data:
        return
    version = validation.integer(data["version"], "version", minimum=1, maximum=2**31)
    if version != suggestion.version:
        raise Conflict(
            "version_conflict",
            _l("Someone else changed this card meanwhile. Here is the current version."),
            card=one_json(event, suggestion, staff=staff),
        )


# -- writing ---------------------------------------------------------------------------------


def submit(
    event: Event,
    data: Any,
    participant: Participant | None = None,
    user: User | None = None,
    from_paper: bool = False,
) -> tuple[Suggestion, bool]:
    """File a card; a resent `client_id` returns the stored card instead of a second one.
    `from_paper`: staff typed it in from a handwritten card (domain/paper.py)."""
    card = _parse_card(event, data)
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = db.session.get(Event, event_id)
        existing = _already_filed(event, card["client_id"], participant, user)
        if existing is not None:
            return existing, False
        _check_may_file(event, participant)
        _check_area(event, card["area_id"])
        pre = participant is not None and event.moderation == "pre"
        suggestion = Suggestion(
            event_id=event.id,
            participant_id=participant.id if participant else None,
            created_by_id=None if participant else user.id,
            status="pending" if pre else "visible",
            from_paper=from_paper,
            **card,
        )
        db.session.add(suggestion)
        db.session.flush()
        publish_cards(tx, event, suggestion)
        if participant is not None:
            participants.took_part(participant)
        if user is not None:
            title, area = card["title"], card["area_id"]
            paper = {"from_paper": True} if from_paper else {}
            audit.record(
                tx, event.id, user, "card_created", suggestion.id, title=title, area=area, **paper
            )
    return suggestion, True


def _parse_card(event: Event, data: Any) -> dict[str, Any]:
    """A new card's fields, checked, with the language it is written in."""
    validation.check_fields(
        data, {"client_id", "title", "body", "area_id", "language"}, {"client_id", "title"}
    )
    title = validation.text(data["title"], "title", max_length=TITLE_MAX)
    body = validation.text(
        data.get("body"), "body", max_length=BODY_MAX, required=False, multiline=True
    )
    named = validation.language(data["language"]) if data.get("language") is not None else None
    return {
        "client_id": validation.client_id(data["client_id"]),
        "title": title,
        "body": body,
        "area_id": validation.optional_id(data.get("area_id"), "area_id"),
        "language": card_language(event, title, body, named),
    }


def card_language(event: Event, title: str, body: str, named: str | None) -> str:
    """The language a card is written in: the one its author named, else the one its text is
    detected in (offline, among the event's languages), else the author's interface language
    (a two-word title may be too short to tell)."""
    if named:
        return named
    detected = languages.detect(f"{title}\n{body}", codes(event.languages))
    return detected or i18n.request_language(event.default_language)


def _already_filed(
    event: Event, client_id: str, participant: Participant | None, user: User | None
) -> Suggestion | None:
    """The card this author already filed with this client id (a resend), if any."""
    author = (
        Suggestion.participant_id == participant.id
        if participant
        else Suggestion.created_by_id == user.id
    )
    existing = db.session.scalar(
        sa.select(Suggestion).where(author, Suggestion.client_id == client_id)
    )
    if existing is not None and existing.event_id != event.id:
        # A staff account's client ids are unique across events (the table's constraint);
        # answering with the other event's card would say this one was filed when it was not.
        raise Conflict(
            "client_id_taken",
            _l("This client_id is already used for a card in another event."),
        )
    return existing


def _check_may_file(event: Event, participant: Participant | None) -> None:
    """The phase allows filing, and a participant is below the event's cap."""
    if participant is None:
        if not rules.staff_may(event, "file"):
            raise Conflict("wrong_phase", _l("The results are final; no new cards."))
        return
    require_open(event)
    if not rules.participant_may(event, "file"):
        raise Conflict("wrong_phase", _l("Suggestions can only be filed while collecting."))
    _check_event_room(event)
    filed = db.session.scalar(
        sa.select(sa.func.count(Suggestion.id)).where(
            Suggestion.participant_id == participant.id,
            Suggestion.status != "withdrawn",
        )
    )
    if filed >= event.max_suggestions_per_participant:
        raise Conflict(
            "limit_reached",
            _l(
                "You have filed the most suggestions allowed (%(n)d).",
                n=event.max_suggestions_per_participant,
            ),
        )


def _check_event_room(event: Event) -> None:
    """The event holds fewer cards than WORKSHOP_MAX_CARDS_PER_EVENT (every card counts, hidden
    and withdrawn ones too: each is a row, and work for every list and export)."""
    limit = current_app.config["WORKSHOP_MAX_CARDS_PER_EVENT"]
    if not limit:
        return
    held = db.session.scalar(
        sa.select(sa.func.count(Suggestion.id)).where(Suggestion.event_id == event.id)
    )
    if held >= limit:
        raise Conflict(
            "event_full",
            _l("This event holds the most suggestions it can take (%(n)d).", n=limit),
        )


def update(
    event: Event,
    suggestion_id: Any,
    data: Any,
    participant: Participant | None = None,
    user: User | None = None,
) -> Suggestion:
    """Edit a card: its author while collecting, or staff at any time."""
    changes = _parse_changes(data, staff=user is not None)
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = db.session.get(Event, event_id)
        suggestion = get_in_event(event, suggestion_id)
        _check_version(event, suggestion, data, staff=user is not None)
        if user is None:
            _check_author(event, suggestion, participant)
            _recheck_if_edited(event, suggestion, changes)
        elif "edit" not in rules.CARD_ACTIONS[card_status(suggestion)]:
            raise Conflict("withdrawn", _l("Its author has withdrawn this card."))
        if "area_id" in changes:
            _check_area(event, changes["area_id"])
        before = {
            name: getattr(suggestion, name)
            for name in ("title", "body", "area_id", "status", "language")
        }
        for name, value in changes.items():
            setattr(suggestion, name, value)
        if changes:
            suggestion.version += 1
        db.session.flush()
        # A merged card shows inside the card it was merged into: that one changed too.
        merged_into = db.session.get(Suggestion, suggestion.merged_into_id or 0)
        publish_cards(tx, event, suggestion, *filter(None, [merged_into]))
        if user is not None:
            _audit_update(tx, event, user, suggestion, before)
    return suggestion


def _parse_changes(data: Any, staff: bool) -> dict[str, Any]:
    """The fields an edit sets, checked. Approving and hiding are for staff, withdrawing for the
    author: another status is a 403, not bad input."""
    validation.check_fields(data, STAFF_FIELDS if staff else AUTHOR_FIELDS)
    changes: dict[str, Any] = {}
    if "title" in data:
        changes["title"] = validation.text(data["title"], "title", max_length=TITLE_MAX)
    if "body" in data:
        changes["body"] = validation.text(
            data["body"], "body", max_length=BODY_MAX, required=False, multiline=True
        )
    if "area_id" in data:
        changes["area_id"] = validation.optional_id(data["area_id"], "area_id")
    if "language" in data:
        changes["language"] = validation.language(data["language"])
    if "status" in data:
        status = validation.choice(data["status"], "status", ("visible", "hidden", "withdrawn"))
        if status not in (("visible", "hidden") if staff else ("withdrawn",)):
            raise Forbidden("forbidden", _l("You may not set this status."))
        changes["status"] = status
    return changes


def _recheck_if_edited(event: Event, suggestion: Suggestion, changes: dict[str, Any]) -> None:
    """Under pre-moderation a card whose author changed its text is checked again before it
    shows."""
    text_changed = any(
        changes.get(name, getattr(suggestion, name)) != getattr(suggestion, name)
        for name in ("title", "body")
    )
    if text_changed and event.moderation == "pre" and suggestion.status == "visible":
        changes.setdefault("status", "pending")


def _audit_update(
    tx: WriteTransaction, event: Event, user: User, card: Suggestion, before: dict
) -> None:
    """Record what a staff edit changed: the text (keeping the original), the area, the status."""
    if (card.title, card.body) != (before["title"], before["body"]):
        audit.record(
            tx,
            event.id,
            user,
            "card_edited",
            card.id,
            old={"title": before["title"], "body": before["body"]},
            new={"title": card.title, "body": card.body},
        )
    if card.area_id != before["area_id"]:
        names = {area.id: area.name for area in event.areas}
        audit.record(
            tx,
            event.id,
            user,
            "card_moved",
            card.id,
            title=card.title,
            **{
                "from": _area_ref(before["area_id"], names),
                "to": _area_ref(card.area_id, names),
            },
        )
    if card.language != before["language"]:
        audit.record(
            tx,
            event.id,
            user,
            "language_changed",
            card.id,
            title=card.title,
            **{"from": before["language"], "to": card.language},
        )
    if card.status != before["status"]:
        if card.status == "hidden":
            action = "card_hidden"
        else:
            action = "card_approved" if before["status"] == "pending" else "card_restored"
        audit.record(tx, event.id, user, action, card.id, title=card.title)


def _area_ref(area_id: int | None, names: dict[int, str]) -> dict | None:
    return None if area_id is None else {"id": area_id, "name": names.get(area_id)}


def _check_author(event: Event, suggestion: Suggestion, participant: Participant | None) -> None:
    """Only its author changes a card, in an open event, while collecting, while it is theirs."""
    require_open(event)
    if participant is None or suggestion.participant_id != participant.id:
        raise Forbidden("not_author", _l("Only its author can change this card."))
    if not rules.participant_may(event, "edit"):
        raise Conflict("wrong_phase", _l("Cards can only be changed while collecting."))
    if card_status(suggestion) not in rules.AUTHOR_EDITABLE:
        raise Conflict("not_editable", _l("This card can no longer be changed."))
