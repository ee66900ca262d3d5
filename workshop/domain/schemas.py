"""The JSON each audience sees (staff, or the public: board and phones), and the live messages
and snapshots made of it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from workshop.clock import iso, utcnow
from workshop.db.models import (
    Area,
    CardPhoto,
    CardTranslation,
    Event,
    Participant,
    Suggestion,
    Vote,
)
from workshop.domain import affiliations, queries
from workshop.domain.rules import SETTINGS, counts_visible
from workshop.extensions import db
from workshop.live import messages
from workshop.live.lists import CardList, Fragment, encoded_lists
from workshop.live.messages import PUBLIC, STAFF, Message
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
        "affiliations": affiliations.listed(event.affiliations),
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
    event: Event,
    suggestion: Suggestion,
    merged_from: list[Suggestion],
    staff: bool = False,
    trail: list[dict] | None = None,
    photos: dict[int, tuple[int, int]] | None = None,
) -> dict:
    """A card as one audience may see it (`dots` is null while totals are hidden from it)."""
    shown = counts_visible(event, staff)
    if trail is None:
        trail = queries.follow_ups(event.code, suggestion.id, staff).get(suggestion.id, [])
    data = card_dict(suggestion, suggestion.translations, merged_from, staff, shown, trail)
    if staff:
        size = photo_size(suggestion.id) if photos is None else photos.get(suggestion.id)
        data["photo"] = photo_json(event.code, suggestion.id, size)
    return data


def card_dict(
    suggestion: Any,
    translations: Sequence[Any],
    merged_from: Sequence[Any],
    staff: bool,
    shown: bool,
    trail: Sequence[dict] = (),
) -> dict:
    """A card's JSON from its columns (a model or a row), translations, merged originals and
    the follow-up events it went on to."""
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
            for row in translations
        },
        "merged_into": suggestion.merged_into_id,
        # The event and card a follow-up event's card came from (null for any other card).
        "origin": origin_json(suggestion.origin_event, suggestion.origin_suggestion),
        # Typed in by a helper from a handwritten card (the paper lane); it belongs to no phone.
        "from_paper": bool(suggestion.from_paper),
        # The follow-up events and cards it went on to (the forward trail).
        "followed_up": list(trail),
        "merged_from": [original.id for original in merged_from],
        "merged_originals": [
            {"id": original.id, "title": original.title, "body": original.body}
            for original in merged_from
            if staff or original.status == "visible"
        ],
        "dots": suggestion.dots if shown else None,
        # Sent back in a PATCH, so that an edit never overwrites a change the editor has not seen.
        "version": suggestion.version,
        "created_at": iso(suggestion.created_at),
    }


def origin_json(event_code: str | None, suggestion_id: int | None) -> dict | None:
    return {"event": event_code, "suggestion": suggestion_id} if event_code else None


def photo_size(suggestion_id: int) -> tuple[int, int] | None:
    """Width and height of a card's photo (domain/photos.py), None without one."""
    row = db.session.execute(
        sa.select(CardPhoto.width, CardPhoto.height).where(CardPhoto.suggestion_id == suggestion_id)
    ).first()
    return tuple(row) if row else None


def photo_sizes(event_id: int) -> dict[int, tuple[int, int]]:
    """Width and height of every photo in the event, by card."""
    rows = db.session.execute(
        sa.select(CardPhoto.suggestion_id, CardPhoto.width, CardPhoto.height).where(
            CardPhoto.event_id == event_id
        )
    )
    return {card: (width, height) for card, width, height in rows}


def photo_json(code: str, suggestion_id: int, size: Sequence[int | None] | None) -> dict | None:
    """Where staff fetch a paper card's photo, and its size; None without one."""
    if not size or size[0] is None:
        return None
    url = f"/api/v1/events/{code}/suggestions/{suggestion_id}/photo"
    return {"url": url, "width": size[0], "height": size[1]}


def list_json(event: Event, staff: bool = False) -> list[dict]:
    """Every card the audience may see, oldest first."""
    if staff:
        query = sa.select(Suggestion).where(Suggestion.event_id == event.id)
        query = query.order_by(Suggestion.id)
    else:
        query = queries.public_cards(event.id)
    query = query.options(selectinload(Suggestion.translations))
    merged, trail = merged_from_map(event.id), queries.follow_ups(event.code, staff=staff)
    photos = photo_sizes(event.id) if staff else None
    return [
        suggestion_json(event, card, merged.get(card.id, []), staff, trail.get(card.id, []), photos)
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


# -- the shared card list (live/lists.py) ------------------------------------------------------

#: Rows read, or cards encoded, between two pauses: under eventlet each pause lets the other
#: connections run, so that building the list of a 20,000-card event never holds them for long.
CHUNK = 500
#: The columns a card's JSON is made of; a change to any of them makes its JSON anew.
CARD_COLUMNS = (
    Suggestion.id,
    Suggestion.area_id,
    Suggestion.title,
    Suggestion.body,
    Suggestion.status,
    Suggestion.language,
    Suggestion.merged_into_id,
    Suggestion.origin_event,
    Suggestion.origin_suggestion,
    Suggestion.from_paper,
    Suggestion.dots,
    Suggestion.version,
    Suggestion.created_at,
)
#: A reader's marks on a card that is neither theirs nor holds any of their dots.
UNMARKED = b',"mine":false,"my_dots":0}'


def pause() -> None:
    """Let other green threads run (time.sleep is eventlet's under run.py; else a no-op yield)."""
    time.sleep(0)


def encode(data: Any) -> bytes:
    """JSON as Flask's provider writes it (sorted keys, compact, ASCII)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def card_list(event: Event, audience: str) -> CardList:
    """The audience's cards (`list_json`) as JSON shared by all readers until the room's next
    change; only cards whose content changed are encoded anew."""
    return _card_list(event.id, event.code, audience, lambda: event)


def _card_list(event_id: int, code: str, audience: str, load: Callable[[], Event]) -> CardList:
    """`card_list` for an event that is only loaded (`load`) when its list must be built."""
    seq = publisher().current_seq(room(event_id, audience))
    lists = encoded_lists(current_app)
    return lists.current(
        event_id, code, audience, seq, lambda kept: _fragments(load(), audience, kept)
    )


def _rows(query: sa.Select) -> Iterator[sa.Row]:
    """The query's rows, fetched CHUNK at a time with a pause after each (not all at once)."""
    for chunk in db.session.execute(query, execution_options={"yield_per": CHUNK}).partitions():
        yield from chunk
        pause()


def _grouped(query: sa.Select, key: str) -> dict[int, list[sa.Row]]:
    groups: dict[int, list[sa.Row]] = {}
    for row in _rows(query):
        groups.setdefault(getattr(row, key), []).append(row)
    return groups


def _card_queries(event_id: int, staff: bool) -> tuple[sa.Select, sa.Select, sa.Select]:
    """The audience's cards, their translations and the cards merged into each, by id."""
    cards = sa.select(*CARD_COLUMNS).where(Suggestion.event_id == event_id)
    if staff:
        # The photo's size is part of a staff card's content: a new photo makes its JSON anew.
        cards = cards.outerjoin(CardPhoto, CardPhoto.suggestion_id == Suggestion.id)
        cards = cards.add_columns(CardPhoto.width, CardPhoto.height)
    else:
        cards = cards.where(Suggestion.is_public)
    names = [CardTranslation.suggestion_id, CardTranslation.language]
    texts = [CardTranslation.title, CardTranslation.body, CardTranslation.machine]
    translations = (
        sa.select(*names, *texts)
        .join(Suggestion, Suggestion.id == CardTranslation.suggestion_id)
        .where(Suggestion.event_id == event_id)
        .order_by(*names)
    )
    merged = (
        sa.select(Suggestion.id, Suggestion.title, Suggestion.body, Suggestion.status)
        .add_columns(Suggestion.merged_into_id)
        .where(Suggestion.event_id == event_id, Suggestion.merged_into_id.is_not(None))
        .order_by(Suggestion.id)
    )
    return cards.order_by(Suggestion.id), translations, merged


def _fragments(event: Event, audience: str, kept: dict[int, Fragment]) -> dict[int, Fragment]:
    """Every card's JSON, oldest first: kept where its content is unchanged, else made anew."""
    staff = audience == STAFF
    # Read after the seq: a setting changed meanwhile (e.g. totals shown) is in this list.
    db.session.refresh(event)
    shown = counts_visible(event, staff)
    cards, translations, merged = _card_queries(event.id, staff)
    translated = _grouped(translations, "suggestion_id")
    merged_from = _grouped(merged, "merged_into_id")
    trail = queries.follow_ups(event.code, staff=staff)
    fragments: dict[int, Fragment] = {}
    made = 0
    for row in _rows(cards):
        texts, originals = translated.get(row.id, ()), merged_from.get(row.id, ())
        onward = trail.get(row.id, [])
        content = (
            tuple(row),
            tuple(map(tuple, texts)),
            tuple(map(tuple, originals)),
            shown,
            tuple(tuple(step.values()) for step in onward),
        )
        fragment = kept.get(row.id)
        if fragment is None or fragment.content != content:
            card = card_dict(row, texts, originals, staff, shown, onward)
            if staff:
                card["photo"] = photo_json(event.code, row.id, (row.width, row.height))
            data = encode(card)
            fragment = Fragment(content, data, b"" if staff else data[:-1] + UNMARKED)
            made += 1
            if made % CHUNK == 0:
                pause()
        fragments[row.id] = fragment
    return fragments


def marked_list(cards: CardList, participant: Participant) -> bytes:
    """The public list with one participant's marks (`mine`, `my_dots`): the shared JSON of every
    card, with only the participant's own and dotted cards encoded anew."""
    me = me_json(participant)
    mine = set(me["suggestions"])
    dots = {int(card_id): n for card_id, n in me["dots"].items()}
    replaced = {}
    for card_id in mine | set(dots):
        if (data := cards.fragment(card_id)) is not None:
            marks = {"mine": card_id in mine, "my_dots": dots.get(card_id, 0)}
            replaced[card_id] = data[:-1] + b"," + encode(marks)[1:]
    return cards.marked(replaced)


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
        **_own_answer(participant.affiliation),
    }


def _own_answer(stored: str | None) -> dict:
    """Asked once: `affiliation` null until answered, then the answer (null again when skipped)."""
    return {"affiliation": stored or None, "affiliation_answered": stored is not None}


def _me_query() -> sa.CompoundSelect:
    kind, nothing, participant = sa.literal_column, sa.null(), sa.bindparam("participant")
    budget = sa.select(
        kind("0"), Participant.dots_budget, Participant.dots_used, Participant.affiliation
    ).where(Participant.id == participant)
    dots = sa.select(kind("1"), Vote.suggestion_id, Vote.dots, nothing).where(
        Vote.participant_id == participant
    )
    mine = sa.select(kind("2"), Suggestion.id, kind("0"), nothing).where(
        Suggestion.participant_id == participant
    )
    return sa.union_all(budget, dots, mine)


#: Built once: a statement made anew for each connection costs as much as running it.
_ME = _me_query()


def _me_by_id(participant_id: int) -> dict:
    """`me_json` in one statement: every phone of a reconnecting hall reads its budget, its dots
    and its cards at once (three ORM reads were a sixth of a connection, issue 19)."""
    me: dict = {"dots_left": 0, "dots_budget": 0, "dots": {}, "suggestions": []}
    # The session's connection: Core rows, without the ORM's work per statement.
    rows = db.session.connection().execute(_ME, {"participant": participant_id})
    for row_kind, first, second, stored in rows:
        if row_kind == 0:
            me["dots_left"], me["dots_budget"] = first - second, first
            me.update(_own_answer(stored))
        elif row_kind == 1:
            me["dots"][str(first)] = second
        else:
            me["suggestions"].append(first)
    me["suggestions"].sort()
    return me


# -- snapshots -------------------------------------------------------------------------------


def snapshot_json(
    event_id: int,
    audience: str,
    participant_id: int | None = None,
    code: str | None = None,
    seq: int | None = None,
) -> str:
    """The full state an audience sees, numbered with the room's current seq, as JSON text.

    The cards are the audience's shared encoded list (`card_list`): a thousand screens asking at
    once cost one encoding, and boards at the same seq get the very same text (one copy in
    memory however many of them are still being sent it). `code`: the event's, where the
    caller already has it; `seq`: the room's, where the caller read it before its open
    transaction began (its reads and these are then at least that new).
    """
    if seq is None:
        # Read seq before the state: a change committed in between arrives again, harmlessly.
        seq = publisher().current_seq(room(event_id, audience))
        db.session.rollback()
    if audience == PUBLIC:
        # A storm of phones reads the event's code, not the whole event: its public JSON and
        # its card list are kept while the seq stands (benchmarks/README.md, issue 19).
        if code is None:
            code = db.session.scalar(sa.select(Event.code).where(Event.id == event_id))
        head = {"seq": seq, "event": _public_event(event_id, seq, _loader(event_id))}
        cards = _card_list(event_id, code, audience, _loader(event_id))
    else:
        event = db.session.get(Event, event_id)
        head = {"seq": seq, "event": event_json(event, staff=True)}
        cards = card_list(event, audience)
    if participant_id:
        head["me"] = _me_by_id(participant_id)
        return _with_cards(head, cards.body)
    return cards.shared(("snapshot", encode(head)), lambda: _with_cards(head, cards.body))


def _loader(event_id: int) -> Callable[[], Event]:
    return lambda: db.session.get(Event, event_id)


def _with_cards(head: dict, cards: bytes) -> str:
    return encode(head)[:-1].decode() + ',"suggestions":' + cards.decode() + "}"


def _public_event(event_id: int, seq: int, load: Callable[[], Event]) -> dict:
    """The public event JSON, read once per seq for every screen connecting meanwhile; the
    countdown as of now, not as of when it was read."""
    states = public_states(current_app)
    state = states.get(event_id, seq)
    if state is None:
        event = load()
        state = (event_json(event), event.timer_ends_at)
        states.put(event_id, seq, state)
    data, timer_ends_at = state
    return {**data, "display": {**data["display"], "timer": timer_json(timer_ends_at)}}
