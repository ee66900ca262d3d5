"""Merging duplicate cards, and undoing it: dots move with the card and come back."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop import validation
from workshop.db.engine import WriteTransaction, write_transaction
from workshop.db.models import Event, MergedVote, Participant, Suggestion, User, Vote
from workshop.domain import audit, rules, suggestions
from workshop.domain.schemas import card_status
from workshop.errors import Conflict
from workshop.extensions import db
from workshop.live import publisher


def _card_id(value: Any, field: str) -> int:
    return validation.integer(value, field, minimum=1, maximum=validation.MAX_ID)


#: Why a merge or its undoing is refused after the vote.
FINAL = {
    "merge": _l("The results are final; cards cannot be merged."),
    "unmerge": _l("The results are final; cards cannot be unmerged."),
}


def _allowed(event_id: int, action: str) -> Event:
    """The event as it is under the write lock, if its phase allows `action`."""
    event = db.session.get(Event, event_id)
    if not rules.staff_may(event, action):
        raise Conflict("wrong_phase", FINAL[action])
    return event


def merge(event: Event, source_id: Any, into_id: Any, user: User | None = None) -> Suggestion:
    """Merge card A into card B: A's dots move to B, capped per participant, excess returned."""
    source_id, into_id = _card_id(source_id, "id"), _card_id(into_id, "into")
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = _allowed(event_id, "merge")
        source = suggestions.get_in_event(event, source_id)
        target = suggestions.get_in_event(event, into_id)
        if source.id == target.id:
            raise Conflict("merge_into_self", _l("A card cannot be merged into itself."))
        for card in (source, target):
            _check_mergeable(card)
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
        _link(tx, event, source, target, target.id)
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
    source_id = _card_id(source_id, "id")
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = _allowed(event_id, "unmerge")
        source = suggestions.get_in_event(event, source_id)
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
        _link(tx, event, source, target, None)
        audit.record(
            tx, event.id, user, "card_unmerged", source.id, title=source.title, out_of=target.id
        )
    return source


def _link(
    tx: WriteTransaction, event: Event, source: Suggestion, target: Suggestion, into: int | None
) -> None:
    """Merge `source` into `into` (None: undo), recount both cards and tell every screen."""
    source.merged_into_id = into
    source.version += 1
    target.version += 1
    db.session.flush()
    _recount(source, target)
    suggestions.publish_cards(tx, event, source, target)
    # Dots moved without a vote: a flush that read the totals before this commit may go out after
    # these cards, so their totals follow once more, read after it.
    event_id, card_ids = event.id, [source.id, target.id]
    tx.on_commit(lambda: publisher.tallies_changed(event_id, card_ids))


def _check_mergeable(card: Suggestion) -> None:
    status = card_status(card)
    if "merge" in rules.CARD_ACTIONS[status]:
        return
    if status == "merged":
        raise Conflict("already_merged", _l("This card is already merged into another."))
    raise Conflict("withdrawn", _l("Its author has withdrawn this card."))


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
