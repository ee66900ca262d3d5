"""Similar cards across languages: vectors kept with the cards, possible duplicates, suggested
groups and areas, and hints for an attendee who is typing.

The engine (engines/embeddings.py) turns a card's text into a vector; a background task per
process analyses what was filed or edited, a few cards at a time, off eventlet's hub, and stores
the vectors (kept across restarts, made again when the text changes, deleted with the card).
Without an engine, or while it fails, every read here answers "nothing similar".
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from workshop import validation
from workshop.db.engine import write_transaction
from workshop.db.models import Area, CardVector, DismissedPair, Event, Suggestion, User
from workshop.domain import audit
from workshop.domain.background import EngineDown, EventQueue
from workshop.domain.suggestions import get_in_event
from workshop.engines import neighbours, offhub
from workshop.engines.embeddings import Embedder, EngineError, from_config
from workshop.errors import NotFound
from workshop.extensions import db
from workshop.live import messages, publisher

log = logging.getLogger(__name__)

EXTENSION = "workshop.similarity"
#: Cards analysed per model call: each batch is one short write and one console message.
BATCH = 16
#: Pairs the duplicates list returns at most.
PAIRS_LIMIT = 100
#: Similar cards listed for one card.
SIMILAR_LIMIT = 5
#: Hints an attendee sees while typing.
HINT_LIMIT = 3
#: Longest text a hint is looked up for (a card's body is at most 1,000 characters).
TEXT_MAX = 1000


@dataclass
class Analyser:
    """One app's engine, and its queue of events with cards to analyse."""

    engine: Embedder | None
    queue: EventQueue
    #: Area names embedded so far, for areas that have no cards yet: (model, name) -> vector.
    names: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)


def init_app(app: Flask) -> None:
    """Start the engine the settings name; a missing or broken one leaves hints off."""
    try:
        engine = from_config(app.config)
    except EngineError as error:
        log.warning("Similar cards are off: %s", error)
        engine = None
    app.extensions[EXTENSION] = Analyser(engine, EventQueue(app, "Similar cards", analyse_batch))


def _analyser() -> Analyser:
    return current_app.extensions[EXTENSION]


def enabled() -> bool:
    """Whether this server has an engine for similar cards (the console says so otherwise)."""
    return _analyser().engine is not None


# -- analysing ----------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def text_hash(title: str, body: str) -> str:
    """What a stored vector was made from: the card's text as embedded, and how."""
    text = neighbours.CARD_KIND + "\n" + neighbours.card_text(title, body)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _analysed() -> sa.ColumnElement[bool]:
    """Cards worth comparing: neither merged away nor withdrawn."""
    return sa.and_(Suggestion.merged_into_id.is_(None), Suggestion.status != "withdrawn")


def _stale(event_id: int, model: str) -> list[tuple[int, str, str]]:
    """(id, title, body) of the event's cards that have no vector for their current text."""
    rows = db.session.execute(
        sa.select(Suggestion.id, Suggestion.title, Suggestion.body, CardVector.text_hash)
        .outerjoin(
            CardVector,
            sa.and_(CardVector.suggestion_id == Suggestion.id, CardVector.model == model),
        )
        .where(Suggestion.event_id == event_id, _analysed())
        .order_by(Suggestion.id)
    )
    return [
        (card_id, title, body)
        for card_id, title, body, stored in rows
        if stored != text_hash(title, body)
    ]


def pending(event_id: int) -> int:
    """Cards of the event not analysed yet (0 without an engine)."""
    engine = _analyser().engine
    return 0 if engine is None else len(_stale(event_id, engine.name))


def on_cards_changed(_sender: Any = None, event_id: int = 0, **_: Any) -> None:
    """Cards were filed or changed: analyse the event's stale cards in the background."""
    analyse_later(event_id)


def analyse_later(event_id: int) -> None:
    """Queue the event; one background task per process works through the queue."""
    analyser = _analyser()
    if analyser.engine is not None:
        analyser.queue.add(event_id)


def sweep(app: Flask) -> int:
    """At start-up: queue every event that has cards without a vector; returns how many."""
    with app.app_context():
        if not enabled():
            return 0
        event_ids = db.session.scalars(sa.select(Event.id).where(Event.archived_at.is_(None)))
        queued = [event_id for event_id in event_ids if pending(event_id)]
        for event_id in queued:
            analyse_later(event_id)
        return len(queued)


def analyse_batch(event_id: int) -> bool:
    """Embed and store up to BATCH stale cards of the event; True while more are left."""
    engine = _analyser().engine
    stale = _stale(event_id, engine.name)
    if not stale:
        return False
    batch = stale[:BATCH]
    db.session.rollback()  # no transaction held open while the model runs
    texts = [neighbours.card_text(title, body) for _, title, body in batch]
    try:
        vectors = engine.embed(texts, neighbours.CARD_KIND)
    except EngineError as error:
        raise EngineDown(str(error)) from error
    with write_transaction(event_id) as tx:
        present = set(
            db.session.scalars(
                sa.select(Suggestion.id).where(Suggestion.id.in_([card[0] for card in batch]))
            )
        )
        for (card_id, title, body), vector in zip(batch, vectors, strict=True):
            if card_id in present:
                _store(event_id, card_id, engine.name, text_hash(title, body), vector)
        left = len(stale) - len(batch)
        tx.on_commit(lambda: publisher.publish(event_id, messages.similarity(left)))
    return left > 0


def _store(event_id: int, card_id: int, model: str, digest: str, vector: np.ndarray) -> None:
    row = db.session.get(CardVector, card_id) or CardVector(suggestion_id=card_id)
    row.event_id, row.model, row.text_hash = event_id, model, digest
    row.vector = np.asarray(vector, dtype="<f4").tobytes()
    db.session.add(row)


# -- reading ------------------------------------------------------------------------------


@dataclass
class Vectors:
    """The fresh vectors of some of an event's cards, row i belonging to ids[i]."""

    ids: list[int]
    matrix: np.ndarray


def _vectors(event: Event, *where: sa.ColumnElement[bool]) -> Vectors:
    """Fresh vectors (current model and text) of the event's analysed cards matching `where`."""
    engine = _analyser().engine
    rows = db.session.execute(
        sa.select(
            Suggestion.id,
            Suggestion.title,
            Suggestion.body,
            CardVector.text_hash,
            CardVector.vector,
        )
        .join(CardVector, CardVector.suggestion_id == Suggestion.id)
        .where(
            Suggestion.event_id == event.id, CardVector.model == engine.name, _analysed(), *where
        )
        .order_by(Suggestion.id)
    )
    ids, vectors = [], []
    for card_id, title, body, digest, blob in rows:
        if digest == text_hash(title, body):
            ids.append(card_id)
            vectors.append(np.frombuffer(blob, dtype="<f4"))
    matrix = np.stack(vectors) if vectors else np.zeros((0, 1), np.float32)
    return Vectors(ids, matrix)


def _dismissed(event: Event) -> set[tuple[int, int]]:
    rows = db.session.execute(
        sa.select(DismissedPair.a_id, DismissedPair.b_id).where(DismissedPair.event_id == event.id)
    )
    return {(a, b) for a, b in rows}


def duplicates(event: Event) -> dict:
    """Possible duplicates across languages and areas, best first, without dismissed pairs."""
    if not enabled():
        return {"on": False, "pending": 0, "pairs": []}
    left = pending(event.id)
    if left:
        analyse_later(event.id)  # e.g. after a restart, or cards another process filed
    found = _vectors(event)
    dismissed = _dismissed(event)
    same = _same_text(event, PAIRS_LIMIT + len(dismissed))
    pairs = offhub.run(
        neighbours.pairs,
        found.ids,
        found.matrix,
        neighbours.DUPLICATE,
        PAIRS_LIMIT + len(dismissed),
    )
    exact = {(a, b) for a, b, _ in same}
    pairs = same + [pair for pair in pairs if pair[:2] not in exact]
    kept = [(a, b, score) for a, b, score in pairs if (a, b) not in dismissed][:PAIRS_LIMIT]
    return {
        "on": True,
        "pending": left,
        "pairs": [{"a": a, "b": b, "score": score} for a, b, score in kept],
    }


def _same_text(event: Event, limit: int) -> list[tuple[int, int, float]]:
    """Pairs of cards that say the same in NFKC, case folded (`validation.comparable`):
    "Free coffee" and "ＦＲＥＥ COFFEE" are duplicates whatever the model's vectors say."""
    rows = db.session.execute(
        sa.select(Suggestion.id, Suggestion.title, Suggestion.body)
        .where(Suggestion.event_id == event.id, _analysed())
        .order_by(Suggestion.id)
    )
    groups: dict[str, list[int]] = {}
    for card_id, title, body in rows:
        key = validation.comparable(neighbours.card_text(title, body))
        groups.setdefault(key, []).append(card_id)
    pairs = (
        (a, b, 1.0) for ids in groups.values() for i, a in enumerate(ids) for b in ids[i + 1 :]
    )
    return list(itertools.islice(pairs, limit))


def similar_cards(event: Event, suggestion_id: Any, public: bool) -> list[dict]:
    """The cards most similar to one card, best first (public cards only for participants)."""
    card = get_in_event(event, suggestion_id)
    if public and not card.is_public:
        raise NotFound("suggestion_not_found", _l("This suggestion does not exist in this event."))
    if not enabled():
        return []
    found = _vectors(event, Suggestion.is_public) if public else _vectors(event)
    if card.id not in found.ids:
        return []
    index = found.ids.index(card.id)
    others = [i for i in range(len(found.ids)) if i != index]
    near = neighbours.nearest(
        found.matrix[index],
        [found.ids[i] for i in others],
        found.matrix[others],
        SIMILAR_LIMIT,
        neighbours.DUPLICATE,
    )
    return [{"id": card_id, "score": score} for card_id, score in near]


def _embed_probe(text: str) -> np.ndarray | None:
    """The vector of a text being typed, or None when the engine fails."""
    try:
        return _analyser().engine.embed([text], neighbours.PROBE_KIND)[0]
    except EngineError as error:
        _analyser().queue.failed(error)
        return None


def hints(event: Event, data: Any) -> list[dict]:
    """Public cards that say what `data["text"]` says: at most three, best first."""
    validation.check_fields(data, {"text"}, {"text"})
    text = validation.text(data["text"], "text", max_length=TEXT_MAX, multiline=True)
    if not enabled():
        return []
    found = _vectors(event, Suggestion.is_public)
    if not found.ids:
        return []
    probe = _embed_probe(text)
    if probe is None:
        return []
    near = neighbours.nearest(probe, found.ids, found.matrix, HINT_LIMIT, neighbours.HINT)
    titles = dict(
        db.session.execute(
            sa.select(Suggestion.id, Suggestion.title).where(
                Suggestion.id.in_([card_id for card_id, _ in near])
            )
        ).all()
    )
    return [{"id": i, "title": titles[i], "score": score} for i, score in near]


def groups(event: Event, area_id: Any) -> list[dict]:
    """Cards of one area that belong together, each group under its most central card."""
    if isinstance(area_id, str) and area_id.isascii() and area_id.isdigit() and len(area_id) < 10:
        area_id = int(area_id)  # from the query string
    if area_id is None:
        raise validation.invalid("area_id", _l("Name the area whose groups you want."))
    area_id = validation.optional_id(area_id, "area_id")
    area = db.session.get(Area, area_id)
    if area is None or area.event_id != event.id:
        raise NotFound("area_not_found", _l("This area does not exist in this event."))
    if not enabled():
        return []
    found = _vectors(event, Suggestion.area_id == area.id, Suggestion.status != "hidden")
    clusters = offhub.run(neighbours.groups, found.ids, found.matrix, neighbours.GROUP)
    return [{"heading": heading, "suggestions": members} for heading, members in clusters]


def area_hints(event: Event) -> list[dict]:
    """For each card filed without an area, the area whose cards (or name) it is closest to."""
    if not enabled():
        return []
    loose = _vectors(event, Suggestion.area_id.is_(None), Suggestion.status != "hidden")
    if not loose.ids:
        return []
    centres = _area_centres(event)
    if centres is None:
        return []
    found = []
    for card_id, vector in zip(loose.ids, loose.matrix, strict=True):
        best = neighbours.best_area(vector, centres)
        if best is not None:
            found.append({"id": card_id, "area_id": best[0], "score": best[1]})
    return found


def _area_centres(event: Event) -> dict[int, np.ndarray] | None:
    """Each area's mean card vector, or its name's vector while it has no cards."""
    placed = _vectors(event, Suggestion.area_id.is_not(None), Suggestion.status != "hidden")
    area_of = dict(
        db.session.execute(
            sa.select(Suggestion.id, Suggestion.area_id).where(Suggestion.id.in_(placed.ids))
        ).all()
    )
    centres = {}
    for area in event.areas:
        rows = [i for i, card_id in enumerate(placed.ids) if area_of.get(card_id) == area.id]
        if rows:
            centres[area.id] = placed.matrix[rows].mean(axis=0)
        elif (vector := _name_vector(area.name)) is not None:
            centres[area.id] = vector
        else:
            return None
    return centres


def _name_vector(name: str) -> np.ndarray | None:
    analyser = _analyser()
    key = (analyser.engine.name, name)
    if key not in analyser.names:
        vector = _embed_probe(name)
        if vector is None:
            return None
        analyser.names[key] = vector
    return analyser.names[key]


# -- writing ------------------------------------------------------------------------------


def dismiss(event: Event, data: Any, user: User) -> dict:
    """Two cards are not duplicates: leave the pair out for every moderator from now on."""
    validation.check_fields(data, {"a", "b"}, {"a", "b"})
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = db.session.get(Event, event_id)
        first, second = get_in_event(event, data["a"]), get_in_event(event, data["b"])
        if first.id == second.id:
            raise validation.invalid("b", _l("A card is not a duplicate of itself."))
        a, b = sorted((first, second), key=lambda card: card.id)
        if db.session.get(DismissedPair, (a.id, b.id)) is None:
            db.session.add(DismissedPair(a_id=a.id, b_id=b.id, event_id=event.id, user_id=user.id))
            audit.record(
                tx,
                event.id,
                user,
                "pair_dismissed",
                a.id,
                a={"id": a.id, "title": a.title},
                b={"id": b.id, "title": b.title},
            )
        pair = {"a": a.id, "b": b.id}
        tx.on_commit(lambda: publisher.publish(event_id, messages.pair_dismissed(**pair)))
    return pair
