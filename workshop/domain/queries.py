"""Read models: the public cards, participation figures, tallies and the ranked results."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from workshop.db.models import Event, Participant, Suggestion
from workshop.domain.rules import counts_visible
from workshop.extensions import db
from workshop.live import messages
from workshop.live.kept import kept_views, state
from workshop.live.messages import Message


def public_cards(event_id: int) -> sa.Select:
    """The event's public cards (visible, not merged away), oldest first."""
    return (
        sa.select(Suggestion)
        .where(Suggestion.event_id == event_id, Suggestion.is_public)
        .order_by(Suggestion.id)
    )


#: Who counts as a participant, the one rule for every screen, message and export: a device
#: that has filed a card or given a dot (and stays counted after taking it back), never a
#: device that merely opened the page, and never a staff test device (one that joined while
#: a staff session was logged in). See participants.took_part.
COUNTED = sa.and_(Participant.took_part, Participant.staff_device.is_(False))


@dataclass
class Participation:
    """Who takes part and votes, the dots spent and left: one query for every screen and export.

    `dots` counts every dot on the cards (a staff test device's too), so that it matches the
    cards' totals; `dots_unspent` is the budget the counted participants have not spent yet.
    """

    participants: int
    voted: int
    dots: int
    dots_unspent: int = 0

    @property
    def not_voted(self) -> int:
        """Participants with no dot on any card right now (for example, they only filed)."""
        return self.participants - self.voted


def participation(event_id: int) -> Participation:
    participants, voted, dots, unspent = db.session.execute(
        sa.select(
            sa.func.count(Participant.id).filter(COUNTED),
            sa.func.count(Participant.id).filter(COUNTED, Participant.dots_used > 0),
            sa.func.coalesce(sa.func.sum(Participant.dots_used), 0),
            sa.func.coalesce(
                sa.func.sum(Participant.dots_budget - Participant.dots_used).filter(COUNTED), 0
            ),
        ).where(Participant.event_id == event_id)
    ).one()
    return Participation(participants, voted, int(dots), int(unspent))


def public_card_count(event_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Suggestion.id)).where(
            Suggestion.event_id == event_id, Suggestion.is_public
        )
    )


def counts(event_id: int, staff: bool = False) -> dict:
    """Participants (see COUNTED), public cards and dots cast: the figures the screens show;
    staff also see who has voted, who has not yet, and the dots not spent yet."""
    people = participation(event_id)
    figures = {
        "participants": people.participants,
        "suggestions": public_card_count(event_id),
        "dots": people.dots,
    }
    if staff:
        figures.update(
            voted=people.voted, not_voted=people.not_voted, dots_unspent=people.dots_unspent
        )
    return figures


def public_counts(staff_counts: dict) -> dict:
    """The public's part of the staff's figures."""
    return {key: staff_counts[key] for key in ("participants", "suggestions", "dots")}


def figures(event: Event) -> dict:
    """What the console shows staff: who has voted, and how many public cards each area holds."""
    people = participation(event.id)
    per_area = {str(area.id): 0 for area in event.areas}
    per_area["none"] = 0
    rows = db.session.execute(
        sa.select(Suggestion.area_id, sa.func.count(Suggestion.id))
        .where(Suggestion.event_id == event.id, Suggestion.is_public)
        .group_by(Suggestion.area_id)
    )
    for area_id, n in rows:
        per_area["none" if area_id is None else str(area_id)] = n
    return {
        "participants": people.participants,
        "voted": people.voted,
        "not_voted": people.not_voted,
        "dots_unspent": people.dots_unspent,
        "per_area": per_area,
    }


def public_totals(event_id: int) -> dict[str, int]:
    """Every public card's total, by id."""
    rows = db.session.execute(
        sa.select(Suggestion.id, Suggestion.dots).where(
            Suggestion.event_id == event_id, Suggestion.is_public
        )
    )
    return {str(card_id): dots for card_id, dots in rows}


def tally_messages(event_id: int, card_ids: set[int], counts_due: bool) -> list[Message]:
    """The `dots` messages for these cards' totals and, if due, the figures, read as they are
    now (the publisher's flush calls this)."""
    event = db.session.get(Event, event_id)
    if event is None:
        return []
    rows = db.session.execute(
        sa.select(Suggestion.id, Suggestion.dots, Suggestion.is_public).where(
            Suggestion.id.in_(card_ids)
        )
    )
    shown = counts_visible(event, staff=False)
    staff_totals, public = {}, {}
    for card_id, dots, is_public in rows:
        staff_totals[str(card_id)] = dots
        if is_public and shown:
            public[str(card_id)] = dots
    staff_counts = counts(event_id, staff=True) if counts_due else None
    public_figures = public_counts(staff_counts) if staff_counts is not None else None
    return messages.dots(staff_totals, public, staff_counts, public_figures)


def competition_ranks(values: list[int]) -> list[int | None]:
    """Ranks for dot totals sorted from high to low; ties share a rank (1, 2, 2, 4), and a
    total of 0 gets none (None): a card nobody voted for has no place in a ranking."""
    ranks: list[int | None] = []
    for index, value in enumerate(values):
        if value <= 0:
            ranks.append(None)
        else:
            ranks.append(ranks[-1] if index and value == values[index - 1] else index + 1)
    return ranks


TOP = 10


def top_overall(cards: list[Suggestion]) -> list[dict]:
    """The best cards across all areas (sorted by dots); a tie at the last place stays in."""
    ranks = competition_ranks([card.dots for card in cards])
    return [
        {
            "id": card.id,
            "title": card.title,
            "area_id": card.area_id,
            "dots": card.dots,
            "rank": rank,
        }
        for card, rank in zip(cards, ranks, strict=True)
        if rank is not None and rank <= TOP
    ]


def _ranked_areas(event: Event, cards: list[Suggestion]) -> list[dict]:
    groups: dict[int | None, list[Suggestion]] = {area.id: [] for area in event.areas}
    for card in cards:
        groups.setdefault(card.area_id, []).append(card)
    names = {area.id: area.name for area in event.areas}
    areas = []
    for area_id, group in groups.items():
        ranks = competition_ranks([card.dots for card in group])
        ranked = [
            {"id": c.id, "title": c.title, "dots": c.dots, "voters": c.voters, "rank": rank}
            for c, rank in zip(group, ranks, strict=True)
        ]
        areas.append({"id": area_id, "name": names.get(area_id), "suggestions": ranked})
    return areas


def follow_ups(
    event_code: str, card_id: int | None = None, staff: bool = False
) -> dict[int, list[dict]]:
    """The forward trail: for each card of the event (or only `card_id`) that went on to a
    follow-up event, that event's code and the card's id there, oldest first. Others than
    `staff` learn a code only where they could join that event (not a draft), with its title."""
    query = (
        sa.select(Suggestion.origin_suggestion, Event.code, Suggestion.id, Event.phase, Event.title)
        .join(Event, Event.id == Suggestion.event_id)
        .where(Suggestion.origin_event == event_code)
        .order_by(Suggestion.id)
    )
    if card_id is not None:
        query = query.where(Suggestion.origin_suggestion == card_id)
    trail: dict[int, list[dict]] = {}
    for source_id, code, copy_id, phase, title in db.session.execute(query):
        step = {"event": code, "suggestion": copy_id}
        if not staff:
            step = public_step(code, copy_id, phase, title)
        trail.setdefault(source_id, []).append(step)
    return trail


def public_step(code: str, copy_id: int, phase: str, title: str) -> dict:
    """A step of the trail as participants see it: a draft follow-up event is only "a working
    group" (its code would lead nowhere and its title may not be settled yet)."""
    if phase == "draft":
        return {"event": None, "suggestion": None, "title": None}
    return {"event": code, "suggestion": copy_id, "title": title}


def _with_trail(data: dict, trail: dict[int, list[dict]]) -> dict:
    """Each ranked card of the results with the follow-up events it went on to."""
    for item in [*data["top"], *(card for area in data["areas"] for card in area["suggestions"])]:
        item["followed_up"] = trail.get(item["id"], [])
    return data


def trail_key(trail: dict[int, list[dict]]) -> tuple:
    """The trail as part of a kept view's key: the follow-up events' phases and titles are
    shown, and their changes are not published to this event's rooms."""
    return tuple(
        (card, tuple(tuple(step.values()) for step in steps)) for card, steps in trail.items()
    )


def public_results(event: Event) -> dict:
    """`results` as readers other than staff see it, made once per state of the event and
    shared by every reader (so not to be changed): 120 phones reloading cost one read."""
    trail = follow_ups(event.code)
    at = state(event.id, event.code, trail_key(trail))
    return kept_views(current_app).get(event.id, at, "results", lambda: results(event, trail=trail))


def results(event: Event, staff: bool = False, trail: dict[int, list[dict]] | None = None) -> dict:
    """Cards ranked by dots within each area (cards without dots last, unranked); cards
    without an area form their own group; the trail as `staff` or others may see it."""
    cards = db.session.scalars(
        sa.select(Suggestion)
        .where(Suggestion.event_id == event.id, Suggestion.is_public)
        .order_by(Suggestion.dots.desc(), Suggestion.id)
    ).all()
    people = participation(event.id)
    data = {
        "event": {"code": event.code, "title": event.title, "phase": event.phase},
        "areas": _ranked_areas(event, cards),
        "top": top_overall(cards),
        "totals": {
            "participants": people.participants,
            "voters": people.voted,
            "suggestions": len(cards),
            "dots": people.dots,
        },
    }
    return _with_trail(data, follow_ups(event.code, staff=staff) if trail is None else trail)


#: Merges of merges a card's trail is followed through before giving up (a guard: merging a
#: merged card is refused, so a real trail is as long as the merges made one after another).
MERGE_DEPTH = 50


def ranks_by_card(results_data: dict) -> dict[int, tuple[int | None, int]]:
    """Each ranked card's (rank within its area, dots), from `results`."""
    return {
        card["id"]: (card["rank"], card["dots"])
        for area in results_data["areas"]
        for card in area["suggestions"]
    }


def final_card(card: Suggestion) -> Suggestion:
    """The card that carries this one in the results: itself, or the end of its merge trail."""
    for _ in range(MERGE_DEPTH):
        if card.merged_into_id is None:
            break
        card = db.session.get(Suggestion, card.merged_into_id)
    return card


def own_cards(event: Event, participant: Participant) -> list[Suggestion]:
    return db.session.scalars(
        sa.select(Suggestion)
        .where(Suggestion.event_id == event.id, Suggestion.participant_id == participant.id)
        .order_by(Suggestion.id)
    ).all()


def mine(event: Event, participant: Participant, ranked: dict) -> list[dict]:
    """What became of each of the participant's own cards: its status, the card it was merged
    into (at the end of the trail), and the rank and dots of the public card that carries it
    (itself or that one); rank and dots are null where no public card carries it."""
    fates = []
    for card in own_cards(event, participant):
        carrier = final_card(card)
        rank, dots = ranked.get(carrier.id, (None, None))
        fates.append(
            {
                "id": card.id,
                "status": "merged" if card.merged_into_id else card.status,
                "merged_into": carrier.id if carrier.id != card.id else None,
                "rank": rank,
                "dots": dots,
            }
        )
    return fates
