"""Everyone can read every card: a card's language, its translations into the event's languages
(by a LibreTranslate-compatible engine the organiser runs, in the background, retried while the
engine is down), corrections by staff, and the event's texts (question, area names) in every
language of the event.

Without an engine nothing is translated and nothing else changes; a card's language is still
detected (engines/languages.py), offline.
"""

from __future__ import annotations

import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from workshop import validation
from workshop.db.engine import write_transaction
from workshop.db.models import (
    AreaTranslation,
    CardTranslation,
    Event,
    EventTranslation,
    Suggestion,
    User,
)
from workshop.domain import audit
from workshop.domain.background import EngineDown, EventQueue
from workshop.domain.schemas import card_messages, codes, event_messages
from workshop.domain.suggestions import get_in_event
from workshop.engines.translation import LibreTranslate, TranslationError, from_config
from workshop.errors import Conflict, WorkshopError
from workshop.extensions import db
from workshop.live import publisher

log = logging.getLogger(__name__)

EXTENSION = "workshop.translations"
#: Cards translated into one language per engine round trip.
BATCH = 10
TITLE_MAX = 400
BODY_MAX = 3000


@dataclass
class Translator:
    engine: LibreTranslate | None
    queue: EventQueue


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Translator(
        from_config(app.config), EventQueue(app, "Translation", translate_batch)
    )


def _translator() -> Translator:
    return current_app.extensions[EXTENSION]


def enabled() -> bool:
    """Whether this server has a translation engine."""
    return _translator().engine is not None


def base(code: str | None) -> str | None:
    """The language a code's text is in: plain German (`de@simple`) is German."""
    return code.split("@")[0] if code else None


def event_languages(event: Event) -> list[str]:
    """The languages the event works in, as chosen (variants included)."""
    return codes(event.languages)


def targets(event: Event) -> list[str]:
    """The languages cards and texts are translated into."""
    return list(dict.fromkeys(base(code) for code in event_languages(event)))


def source_hash(card: Suggestion) -> str:
    """What a machine translation was made from; it is stale once this changes."""
    text = f"{base(card.language)}\n{card.title}\n{card.body}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# -- translating cards ------------------------------------------------------------------------


def on_cards_changed(_sender: Any = None, event_id: int = 0, **_: Any) -> None:
    """Cards were filed or changed: translate what is missing, in the background."""
    if enabled():
        _translator().queue.add(event_id)


def sweep(app: Flask) -> None:
    """At start-up: queue every open event; each finds out itself whether work is left."""
    with app.app_context():
        if enabled():
            for event_id in db.session.scalars(
                sa.select(Event.id).where(Event.archived_at.is_(None))
            ):
                _translator().queue.add(event_id)


def _work(event: Event) -> list[tuple[Suggestion, str]]:
    """(card, target) for every public card still lacking a current machine translation; a
    translation a person corrected is never replaced."""
    cards = list(
        db.session.scalars(
            sa.select(Suggestion)
            .where(Suggestion.event_id == event.id, Suggestion.is_public)
            .order_by(Suggestion.id)
        )
    )
    stored = {
        (row.suggestion_id, row.language): row
        for row in db.session.scalars(
            sa.select(CardTranslation).where(
                CardTranslation.suggestion_id.in_([card.id for card in cards])
            )
        )
    }
    todo = []
    for card in cards:
        digest = source_hash(card)
        # A card older than languages is taken to be in the event's default language.
        source = base(card.language) or base(event.default_language)
        for target in targets(event):
            row = stored.get((card.id, target))
            if target == source or (row and not row.machine):
                continue
            if row is None or row.source_hash != digest:
                todo.append((card, target))
    return todo


def pending(event: Event) -> int:
    """Translations still to be made (0 without an engine)."""
    return len(_work(event)) if enabled() else 0


@dataclass
class Job:
    """Some cards written in one language, to be translated into another."""

    source: str
    target: str
    #: card id -> (title, body, source hash) as read before the engine was asked.
    cards: dict[int, tuple[str, str, str]]
    result: list[str] | None = None
    error: Exception | None = None


def _jobs(event: Event, todo: list[tuple[Suggestion, str]]) -> tuple[list[Job], bool]:
    """The next BATCH cards with work left, as one job per language pair; whether more cards
    are left after them."""
    cards = list({card.id: card for card, _ in todo}.values())
    chosen = {card.id for card in cards[:BATCH]}
    jobs: dict[tuple[str, str], Job] = {}
    for card, target in todo:
        if card.id in chosen:
            source = base(card.language) or base(event.default_language)
            job = jobs.setdefault((source, target), Job(source, target, {}))
            job.cards[card.id] = (card.title, card.body, source_hash(card))
    return list(jobs.values()), len(cards) > len(chosen)


def _run(engine: LibreTranslate, job: Job) -> Job:
    texts = [text for title, body, _ in job.cards.values() for text in (title, body)]
    try:
        job.result = engine.translate(texts, job.source, job.target)
    except TranslationError as error:
        job.error = error
    return job


def translate_batch(event_id: int) -> bool:
    """Translate the next BATCH cards into every language they lack, one request per language
    pair at the same time, and store what came back; True while more cards are left."""
    event = db.session.get(Event, event_id)
    todo = _work(event) if event else []
    if not todo:
        return False
    jobs, more = _jobs(event, todo)
    db.session.rollback()  # nothing held open while the engine works
    # Threads are green threads under eventlet: the requests wait together, not one by one.
    engine = _translator().engine
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        done = list(pool.map(lambda job: _run(engine, job), jobs))
    _store(event_id, [job for job in done if job.result is not None])
    if failed := [job for job in done if job.result is None]:
        raise EngineDown(str(failed[0].error))
    return more


def _store(event_id: int, jobs: list[Job]) -> None:
    """Keep the new translations, unless a card changed meanwhile or a person corrected it; each
    changed card goes out once."""
    if not jobs:
        return
    with write_transaction(event_id) as tx:
        event = db.session.get(Event, event_id)
        changed: dict[int, Suggestion] = {}
        for job in jobs:
            for index, (card_id, (_, _, digest)) in enumerate(job.cards.items()):
                card = db.session.get(Suggestion, card_id)
                row = db.session.get(CardTranslation, (card_id, job.target))
                if card is None or source_hash(card) != digest or (row and not row.machine):
                    continue
                row = row or CardTranslation(suggestion_id=card_id, language=job.target)
                row.title = job.result[2 * index][:TITLE_MAX]
                row.body = job.result[2 * index + 1][:BODY_MAX]
                row.machine, row.source_hash = True, digest
                db.session.add(row)
                changed[card_id] = card
        db.session.flush()
        if changed:
            for card in changed.values():
                db.session.expire(card, ["translations"])
            messages = card_messages(event, *changed.values())
            tx.on_commit(lambda: publisher.publish(event_id, messages))


# -- corrections --------------------------------------------------------------------------------


def correct(event: Event, suggestion_id: Any, language: Any, data: Any, user: User) -> Suggestion:
    """A person's translation of a card; the engine never overwrites it (audited)."""
    target = base(validation.language(language))
    validation.check_fields(data, {"title", "body"}, {"title"})
    title = validation.text(data["title"], "title", max_length=TITLE_MAX)
    body = validation.text(
        data.get("body"), "body", max_length=BODY_MAX, required=False, multiline=True
    )
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = db.session.get(Event, event_id)
        card = get_in_event(event, suggestion_id)
        if target == base(card.language):
            raise Conflict("same_language", _l("This is the language the card is written in."))
        row = db.session.get(CardTranslation, (card.id, target))
        old = {"title": row.title, "body": row.body} if row else None
        row = row or CardTranslation(suggestion_id=card.id, language=target)
        row.title, row.body, row.machine, row.source_hash = title, body, False, source_hash(card)
        db.session.add(row)
        db.session.flush()
        audit.record(
            tx,
            event.id,
            user,
            "translation_corrected",
            card.id,
            language=target,
            old=old,
            new={"title": title, "body": body},
        )
        messages = card_messages(event, card)
        tx.on_commit(lambda: publisher.publish(event_id, messages))
    return card


# -- the event's texts ----------------------------------------------------------------------------


def _texts(data: Any) -> dict[str, dict]:
    """{"question": {lang: text}, "areas": {"<id>": {lang: text}}}, checked; "" removes one."""
    validation.check_fields(data, {"question", "areas"})
    question = _by_language(data.get("question", {}), "question", 1000)
    areas = data.get("areas", {})
    if not isinstance(areas, dict):
        raise validation.invalid("areas", _l("areas must be an object."))
    return {
        "question": question,
        "areas": {
            _area_key(key): _by_language(names, "areas", 100) for key, names in areas.items()
        },
    }


def _area_key(key: Any) -> int:
    if not (isinstance(key, str) and key.isascii() and key.isdigit() and len(key) < 10):
        raise validation.invalid("areas", _l("This area does not exist in this event."))
    return int(key)


def _by_language(value: Any, field: str, max_length: int) -> dict[str, str]:
    if not isinstance(value, dict):
        raise validation.invalid(field, _l("%(field)s must be an object.", field=field))
    return {
        base(validation.language(code, field)): validation.text(
            text, field, max_length=max_length, required=False, multiline=field == "question"
        )
        for code, text in value.items()
    }


def set_texts(event: Event, data: Any, user: User) -> Event:
    """The question and the area names in other languages, as staff typed or accepted them."""
    texts = _texts(data)
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = db.session.get(Event, event_id)
        areas = {area.id: area for area in event.areas}
        if set(texts["areas"]) - set(areas):
            raise validation.invalid("areas", _l("This area does not exist in this event."))
        for lang, text in texts["question"].items():
            _put(event.translations, lang, text, EventTranslation)
        for area_id, names in texts["areas"].items():
            for lang, name in names.items():
                _put(areas[area_id].translations, lang, name, AreaTranslation)
        db.session.flush()
        audit.record(tx, event.id, user, "texts_translated", **texts)
        messages = event_messages(event)
        tx.on_commit(lambda: publisher.publish(event_id, messages))
    return event


def _put(rows: list, lang: str, text: str, model: type) -> None:
    """Set one translation of an event text (question or area name); "" removes it."""
    row = next((row for row in rows if row.language == lang), None)
    if not text:
        if row is not None:
            rows.remove(row)
        return
    if row is None:
        row = model(language=lang)
        rows.append(row)
    if isinstance(row, EventTranslation):
        row.question = text
    else:
        row.name = text
    row.machine = False


def suggest_texts(event: Event) -> dict:
    """Machine translations of the question and the area names into the event's languages, for
    staff to accept or change (nothing is stored)."""
    if not enabled():
        return {"question": {}, "areas": {}}
    source = base(event.default_language)
    names = [area.name for area in event.areas]
    suggested: dict = {"question": {}, "areas": {str(area.id): {} for area in event.areas}}
    for target in targets(event):
        if target == source:
            continue
        try:
            question, *areas = _translator().engine.translate(
                [event.question or "", *names], source, target
            )
        except TranslationError as error:
            _translator().queue.failed(error)
            raise WorkshopError(
                "engine_unavailable",
                _l("The translation engine does not answer. Try again later."),
                status=503,
            ) from error
        if event.question:
            suggested["question"][target] = question
        for area, name in zip(event.areas, areas, strict=True):
            suggested["areas"][str(area.id)][target] = name
    return suggested
