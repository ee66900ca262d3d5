"""Suggestions (cards): submit, edit, withdraw, moderate, move, merge and unmerge."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from . import audit, i18n, publish, validation
from .database import WriteTransaction, write_transaction
from .errors import Conflict, Forbidden, NotFound
from .events import counts_visible, require_open
from .extensions import db
from .models import Area, Event, MergedVote, Participant, Suggestion, User, Vote

TITLE_MAX = 140
BODY_MAX = 1000
AUTHOR_FIELDS = {"title", "body", "area_id", "status", "version"}
STAFF_FIELDS = {"title", "body", "area_id", "status", "version"}


# -- reading ---------------------------------------------------------------------------------


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


def suggestion_json(
    event: Event, suggestion: Suggestion, merged_from: list[Suggestion], staff: bool = False
) -> dict:
    """A card as one audience may see it (`dots` is null while totals are hidden from it)."""
    return {
        "id": suggestion.id,
        "area_id": suggestion.area_id,
        "title": suggestion.title,
        "body": suggestion.body,
        "status": "merged" if suggestion.merged_into_id else suggestion.status,
        # The language the author wrote in, e.g. "ar" (null for cards older than this field).
        "language": suggestion.language,
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
        "created_at": suggestion.created_at.isoformat(timespec="seconds") + "Z",
    }


def list_json(event: Event, staff: bool = False) -> list[dict]:
    """Every card the audience may see, oldest first."""
    query = sa.select(Suggestion).where(Suggestion.event_id == event.id).order_by(Suggestion.id)
    if not staff:
        query = query.where(Suggestion.status == "visible", Suggestion.merged_into_id.is_(None))
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


def get_in_event(event: Event, suggestion_id: Any) -> Suggestion:
    # Out-of-range ids (a URL may carry any number of digits) would overflow SQLite's integers.
    known = isinstance(suggestion_id, int) and 0 < suggestion_id <= validation.MAX_ID
    suggestion = db.session.get(Suggestion, suggestion_id) if known else None
    if suggestion is None or suggestion.event_id != event.id:
        raise not_found()
    return suggestion


def not_found() -> NotFound:
    return NotFound("suggestion_not_found", _l("This suggestion does not exist in this event."))


def _publish_cards(tx: WriteTransaction, event: Event, *cards: Suggestion) -> None:
    event_id, messages = event.id, []
    for card in cards:
        messages += publish.suggestion_messages(
            one_json(event, card, staff=True), one_json(event, card), card.is_public
        )
    tx.on_commit(lambda: publish.publish(event_id, messages))
    # The number of public cards, shown on the screens, may have changed too.
    tx.on_commit(lambda: publish.tallies_changed(event_id))


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
    event: Event, data: Any, participant: Participant | None = None, user: User | None = None
) -> tuple[Suggestion, bool]:
    """File a card; a resent `client_id` returns the stored card instead of a second one."""
    validation.check_fields(
        data, {"client_id", "title", "body", "area_id", "language"}, {"client_id", "title"}
    )
    client_id = validation.client_id(data["client_id"])
    title = validation.text(data["title"], "title", max_length=TITLE_MAX)
    body = validation.text(
        data.get("body"), "body", max_length=BODY_MAX, required=False, multiline=True
    )
    area_id = validation.optional_id(data.get("area_id"), "area_id")
    if data.get("language") is not None:
        language = validation.choice(
            data["language"], "language", tuple(current_app.config["WORKSHOP_LANGUAGES"])
        )
    else:
        # The author's interface language: what they read is most likely what they write in.
        language = i18n.request_language(event.default_language)
    event_id = event.id
    with write_transaction() as tx:
        event = db.session.get(Event, event_id)
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
        if existing is not None:
            return existing, False
        if participant:
            require_open(event)
        if participant and event.phase != "collect":
            raise Conflict("wrong_phase", _l("Suggestions can only be filed while collecting."))
        if not participant and event.phase == "results":
            raise Conflict("wrong_phase", _l("The results are final; no new cards."))
        _check_area(event, area_id)
        if participant:
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
        suggestion = Suggestion(
            event_id=event.id,
            area_id=area_id,
            participant_id=participant.id if participant else None,
            created_by_id=None if participant else user.id,
            client_id=client_id,
            title=title,
            body=body,
            language=language,
            status="pending" if participant and event.moderation == "pre" else "visible",
        )
        db.session.add(suggestion)
        db.session.flush()
        _publish_cards(tx, event, suggestion)
        if user is not None:
            audit.record(
                tx, event.id, user, "card_created", suggestion.id, title=title, area=area_id
            )
    return suggestion, True


def update(
    event: Event,
    suggestion_id: Any,
    data: Any,
    participant: Participant | None = None,
    user: User | None = None,
) -> Suggestion:
    """Edit a card: its author while collecting, or staff at any time."""
    validation.check_fields(data, STAFF_FIELDS if user else AUTHOR_FIELDS)
    changes: dict[str, Any] = {}
    if "title" in data:
        changes["title"] = validation.text(data["title"], "title", max_length=TITLE_MAX)
    if "body" in data:
        changes["body"] = validation.text(
            data["body"], "body", max_length=BODY_MAX, required=False, multiline=True
        )
    if "area_id" in data:
        changes["area_id"] = validation.optional_id(data["area_id"], "area_id")
    if "status" in data:
        status = validation.choice(data["status"], "status", ("visible", "hidden", "withdrawn"))
        # Approving and hiding are for staff, withdrawing for the author: a 403, not bad input.
        if status not in (("visible", "hidden") if user else ("withdrawn",)):
            raise Forbidden("forbidden", _l("You may not set this status."))
        changes["status"] = status
    event_id = event.id
    with write_transaction() as tx:
        event = db.session.get(Event, event_id)
        suggestion = get_in_event(event, suggestion_id)
        _check_version(event, suggestion, data, staff=user is not None)
        if user is None:
            require_open(event)
            _check_author(event, suggestion, participant)
            text_changed = any(
                changes.get(name, getattr(suggestion, name)) != getattr(suggestion, name)
                for name in ("title", "body")
            )
            # Under pre-moderation an edited card is checked again before it shows.
            if text_changed and event.moderation == "pre" and suggestion.status == "visible":
                changes.setdefault("status", "pending")
        elif suggestion.status == "withdrawn":
            raise Conflict("withdrawn", _l("Its author has withdrawn this card."))
        if "area_id" in changes:
            _check_area(event, changes["area_id"])
        before = {
            name: getattr(suggestion, name) for name in ("title", "body", "area_id", "status")
        }
        for name, value in changes.items():
            setattr(suggestion, name, value)
        if changes:
            suggestion.version += 1
        db.session.flush()
        _publish_cards(tx, event, suggestion)
        if user is not None:
            _audit_update(tx, event, user, suggestion, before)
    return suggestion


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
    if card.status != before["status"]:
        if card.status == "hidden":
            action = "card_hidden"
        else:
            action = "card_approved" if before["status"] == "pending" else "card_restored"
        audit.record(tx, event.id, user, action, card.id, title=card.title)


def _area_ref(area_id: int | None, names: dict[int, str]) -> dict | None:
    return None if area_id is None else {"id": area_id, "name": names.get(area_id)}


def _check_author(event: Event, suggestion: Suggestion, participant: Participant | None) -> None:
    if participant is None or suggestion.participant_id != participant.id:
        raise Forbidden("not_author", _l("Only its author can change this card."))
    if event.phase != "collect":
        raise Conflict("wrong_phase", _l("Cards can only be changed while collecting."))
    if suggestion.merged_into_id is not None or suggestion.status not in ("visible", "pending"):
        raise Conflict("not_editable", _l("This card can no longer be changed."))


def merge(event: Event, source_id: Any, into_id: Any, user: User | None = None) -> Suggestion:
    """Merge card A into card B: A's dots move to B, capped per participant, excess returned."""
    source_id = validation.integer(source_id, "id", minimum=1, maximum=validation.MAX_ID)
    into_id = validation.integer(into_id, "into", minimum=1, maximum=validation.MAX_ID)
    event_id = event.id
    with write_transaction() as tx:
        event = db.session.get(Event, event_id)
        if event.phase == "results":
            raise Conflict("wrong_phase", _l("The results are final; cards cannot be merged."))
        source = get_in_event(event, source_id)
        target = get_in_event(event, into_id)
        if source.id == target.id:
            raise Conflict("merge_into_self", _l("A card cannot be merged into itself."))
        for card in (source, target):
            if card.merged_into_id is not None:
                raise Conflict("already_merged", _l("This card is already merged into another."))
            if card.status == "withdrawn":
                raise Conflict("withdrawn", _l("Its author has withdrawn this card."))
        cap = event.max_dots_per_suggestion
        votes = db.session.scalars(sa.select(Vote).where(Vote.suggestion_id == source.id)).all()
        for vote in votes:
            on_target = db.session.get(Vote, (vote.participant_id, target.id))
            before = on_target.dots if on_target else 0
            after = min(before + vote.dots, cap)
            db.session.add(
                MergedVote(
                    suggestion_id=source.id,
                    participant_id=vote.participant_id,
                    moved=vote.dots,
                    before=before,
                    after=after,
                )
            )
            _set_vote(vote.participant_id, target.id, after)
            returned = before + vote.dots - after
            if returned:
                _spend(vote.participant_id, -returned)
            db.session.delete(vote)
        source.merged_into_id = target.id
        source.version += 1
        target.version += 1
        db.session.flush()
        _recount(source, target)
        _publish_cards(tx, event, source, target)
        audit.record(
            tx,
            event.id,
            user,
            "card_merged",
            source.id,
            title=source.title,
            into=target.id,
            into_title=target.title,
        )
    return target


def unmerge(event: Event, source_id: Any, user: User | None = None) -> Suggestion:
    """Undo a merge: both cards come back; dots spent meanwhile shrink the restored card's dots."""
    source_id = validation.integer(source_id, "id", minimum=1, maximum=validation.MAX_ID)
    event_id = event.id
    with write_transaction() as tx:
        event = db.session.get(Event, event_id)
        if event.phase == "results":
            raise Conflict("wrong_phase", _l("The results are final; cards cannot be unmerged."))
        source = get_in_event(event, source_id)
        if source.merged_into_id is None:
            raise Conflict("not_merged", _l("This card is not merged."))
        target = db.session.get(Suggestion, source.merged_into_id)
        if target.merged_into_id is not None:
            raise Conflict(
                "unmerge_outer_first",
                _l("The card it was merged into is merged itself; undo that merge first."),
            )
        cap = event.max_dots_per_suggestion
        records = db.session.scalars(
            sa.select(MergedVote).where(MergedVote.suggestion_id == source.id)
        ).all()
        for record in records:
            participant = db.session.get(Participant, record.participant_id)
            on_target = db.session.get(Vote, (record.participant_id, target.id))
            now = on_target.dots if on_target else 0
            restored_source, restored_target = split_on_unmerge(record, now, cap)
            over = (
                participant.dots_used - now + restored_source + restored_target
            ) - participant.dots_budget
            if over > 0:
                cut = min(over, restored_source)
                restored_source -= cut
                restored_target -= over - cut
            _set_vote(record.participant_id, target.id, restored_target)
            _set_vote(record.participant_id, source.id, restored_source)
            _spend(record.participant_id, restored_source + restored_target - now)
            db.session.delete(record)
        source.merged_into_id = None
        source.version += 1
        target.version += 1
        db.session.flush()
        _recount(source, target)
        _publish_cards(tx, event, source, target)
        audit.record(
            tx, event.id, user, "card_unmerged", source.id, title=source.title, out_of=target.id
        )
    return source


def split_on_unmerge(record: MergedVote, now: int, cap: int) -> tuple[int, int]:
    """Split one participant's dots on the merged card back into (source, target).

    Dots added to the target after the merge stay on the target; dots taken off it after the
    merge come off the source's share first. That share is what fitted under the cap
    (`after - before`); the rest of `moved` went back to the budget and is claimed back.
    """
    change = now - record.after
    if change >= 0:
        source, target = record.moved, record.before + change
    else:
        taken_from_source = min(record.after - record.before, -change)
        source = record.moved - taken_from_source
        target = record.before - (-change - taken_from_source)
    return min(source, cap), min(target, cap)


def _set_vote(participant_id: int, suggestion_id: int, dots: int) -> None:
    vote = db.session.get(Vote, (participant_id, suggestion_id))
    if dots <= 0:
        if vote is not None:
            db.session.delete(vote)
    elif vote is None:
        db.session.add(Vote(participant_id=participant_id, suggestion_id=suggestion_id, dots=dots))
    else:
        vote.dots = dots


def _spend(participant_id: int, delta: int) -> None:
    db.session.execute(
        sa.update(Participant)
        .where(Participant.id == participant_id)
        .values(dots_used=Participant.dots_used + delta)
    )


def _recount(*cards: Suggestion) -> None:
    """Recompute the counters of a few cards from their votes (merges only, not per vote)."""
    for card in cards:
        total, voters = db.session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(Vote.dots), 0), sa.func.count()).where(
                Vote.suggestion_id == card.id
            )
        ).one()
        card.dots, card.voters = int(total), voters
