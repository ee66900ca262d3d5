"""Results for the administration: CSV, XLSX, JSON and the printable report (HTML and PDF).

`read()` reads an event in a fixed number of queries, whatever its size, as plain rows;
`assemble()` makes the snapshot of them, and every other function here is a pure function of that
snapshot, so no format costs a query per card. In the live server the rows are read on eventlet's
hub (database sessions are not thread-safe there) and the snapshot and the file are built off it
(`off_hub`): a workbook of 20,000 cards takes seconds of Python that would stall every screen.
"""

from __future__ import annotations

import contextvars
import csv
import io
import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel import Locale, UnknownLocaleError
from flask import current_app, render_template
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from workshop import config, validation
from workshop.clock import iso, utcnow
from workshop.db.models import (
    AuditEntry,
    CardTranslation,
    Event,
    MergedVote,
    Participant,
    Suggestion,
    Vote,
)
from workshop.domain import affiliations, queries
from workshop.domain.audit import action_label, shown_details
from workshop.domain.rules import SETTINGS
from workshop.domain.schemas import area_json, board_languages
from workshop.domain.translations import base, event_languages, source_hash
from workshop.engines import offhub
from workshop.extensions import db
from workshop.i18n import direction as writing_direction
from workshop.i18n import html_lang, phase_label, status_label
from workshop.results import pdf
from workshop.results.affiliations import Tables, tables

FORMATS = ("csv", "xlsx", "json", "pdf")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "pdf": "application/pdf",
}
#: The JSON export's format name and version; importers refuse anything else. Version 2 added
#: the languages: the event's, its texts' translations, each card's language and translations;
#: version 3 the follow-up trail of each card (`origin`, `followed_up`); version 4 who supports
#: what (`event.affiliations`, `participant_affiliations`, `affiliation_tables`).
JSON_FORMAT = "workshop-event"
JSON_VERSION = 4

#: Cells starting with these are formulas (or become ones) in spreadsheet programs (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_DELIMITER = ";"  # what Excel expects in German-speaking countries
BOM = "\ufeff"
SLUG_MAX = 50


# -- the one read ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Translation:
    """A card's title and body in another language; `machine` is False once a person corrected
    it."""

    title: str
    body: str
    machine: bool


@dataclass(frozen=True)
class Card:
    """One suggestion as the exports see it; `rank` is None for cards that are not ranked;
    `language` is None for cards older than languages; `translations` by language code."""

    id: int
    area_id: int | None
    title: str
    body: str
    status: str
    merged_into: int | None
    dots: int
    voters: int
    created_at: datetime
    rank: int | None = None
    language: str | None = None
    translations: dict[str, Translation] = field(default_factory=dict, hash=False)
    #: The trail: (event code, card id) this card came from, and those it went on to.
    origin: tuple[str, int] | None = None
    followed_up: tuple[tuple[str, int], ...] = ()
    #: Typed in by a helper from a handwritten card (the paper lane).
    from_paper: bool = False


@dataclass
class Group:
    """An area (or the cards without one) with its cards that were not merged away; its name in
    other languages by language code."""

    id: int | None
    name: str | None
    color: str
    cards: list[Card] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    @property
    def ranked(self) -> list[Card]:
        return [card for card in self.cards if card.rank is not None]

    @property
    def unranked(self) -> list[Card]:
        """Visible cards that received no dot."""
        return [card for card in self.cards if card.rank is None and card.status == "visible"]


@dataclass
class Snapshot:
    """Everything an export needs, read at once; plain values, no database objects."""

    event: dict[str, Any]
    areas: list[dict[str, Any]]
    groups: list[Group]
    cards: dict[int, Card]
    merged_from: dict[int, list[int]]
    totals: dict[str, int]
    exported_at: datetime
    #: Only read for the JSON export: (participant id, suggestion id, dots).
    votes: list[tuple[int, int, int]] = field(default_factory=list)
    #: (suggestion id, participant id, moved, before, after)
    ledger: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    participant_ids: list[int] = field(default_factory=list)
    #: (time, staff member's number in this file, action, card id, details); staff appear as
    #: numbers only, so that no staff name leaves the installation.
    audit: list[tuple[datetime, int | None, str, int | None, dict]] = field(default_factory=list)
    #: time.time() before the event was read (see Rows.read_at).
    read_at: float = 0.0
    #: The events' time zone (WORKSHOP_TIME_ZONE): the report, CSV and XLSX give times in it.
    time_zone: str = config.TIME_ZONE
    #: The titles of the events on the cards' trail, by code (a deleted event has none).
    trail_titles: dict[str, str] = field(default_factory=dict)
    #: Who supports what, where the event asks for affiliations (None: it does not).
    supporters: Tables | None = None
    #: Each participant's stored answer (None: not asked, "": skipped), as participant_ids.
    participant_affiliations: list[str | None] = field(default_factory=list)


NO_AREA_COLOR = "#555555"
#: Cards shown in full per area in the report (WORKSHOP_REPORT_DETAIL_LIMIT; 0: all): a report
#: of thousands of cards is neither readable nor printable. The other formats hold every card.
REPORT_DETAIL_LIMIT = 100


@dataclass
class Rows:
    """What an export reads from the database, as plain rows: read on eventlet's hub (quick),
    then turned into a Snapshot and a file off it (`assemble`, `off_hub`), where the time goes."""

    event: dict[str, Any]
    areas: list[dict[str, Any]]
    #: The fields of Card, then the language, the origin's event code and card id, whether it
    #: came from paper, and whether the card is public.
    cards: list[tuple]
    #: (card id, language, title, body, machine, source hash)
    translations: list[tuple]
    #: (participants, voters, dots given)
    people: tuple[int, int, int]
    exported_at: datetime
    #: time.time() before the first read: a deletion after it discards a PDF made from these.
    read_at: float
    votes: list[tuple[int, int, int]] = field(default_factory=list)
    ledger: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    participant_ids: list[int] = field(default_factory=list)
    audit: list[tuple[datetime, int | None, str, int | None, dict]] = field(default_factory=list)
    time_zone: str = config.TIME_ZONE
    #: (card id, follow-up event's code, the card's id there): where cards went on to.
    trail: list[tuple[int, str, int]] = field(default_factory=list)
    #: The titles of the events on the trail (both ways), by code.
    trail_titles: dict[str, str] = field(default_factory=dict)
    #: Where the event asks for affiliations: (card's area, author, affiliation) of each card
    #: filed on a phone, and (card id, card's area, voter, affiliation, dots) of each vote.
    authors: list[tuple] = field(default_factory=list)
    supporter_votes: list[tuple] = field(default_factory=list)
    #: (participant id, stored affiliation), read with the votes.
    participant_affiliations: list[tuple[int, str | None]] = field(default_factory=list)


#: Rows turned into tuples between two turns of the other green threads (see `fetch`).
CHUNK = 2000


def fetch(statement: sa.Select) -> list[tuple]:
    """Every row of `statement` as a plain tuple, letting the other green threads run between
    chunks: 50,000 rows in one go would hold eventlet's hub for about a second."""
    rows: list[tuple] = []
    for part in db.session.execute(statement).partitions(CHUNK):
        rows.extend(tuple(row) for row in part)
        time.sleep(0)  # a yield to the hub under eventlet; next to nothing in threading mode
    return rows


def read(event: Event, with_votes: bool = False, with_audit: bool = False) -> Rows:
    """Read an event for export in a fixed number of queries, without building anything."""
    read_at = time.time()
    people = queries.participation(event.id)
    rows = Rows(
        event=_event_facts(event),
        areas=[area_json(area) for area in event.areas],
        cards=_card_rows(event),
        translations=_card_translations(event),
        trail=_trail_rows(event),
        people=(people.participants, people.voted, people.dots),
        exported_at=utcnow(),
        read_at=read_at,
        time_zone=current_app.config.get("WORKSHOP_TIME_ZONE", config.TIME_ZONE),
    )
    rows.trail_titles = _trail_titles(rows)
    if with_audit:
        rows.audit = _audit_rows(event)
    if rows.event.get("affiliations"):
        rows.authors, rows.supporter_votes = _supporter_rows(event)
    if with_votes:
        rows.participant_affiliations = _participant_rows(event)
        rows.participant_ids = [person for person, _answer in rows.participant_affiliations]
        rows.votes = _vote_rows(event)
        rows.ledger = _ledger_rows(event)
    return rows


def assemble(rows: Rows) -> Snapshot:
    """The snapshot of what `read` found: a pure function, safe to run off the hub."""
    ranks = _ranks(rows)
    cards = _cards(rows, ranks)
    groups, merged_from = _groups(rows.areas, cards, ranks)
    participants, voters, dots = rows.people
    snap = Snapshot(
        event=rows.event,
        areas=rows.areas,
        groups=groups,
        cards=cards,
        merged_from=merged_from,
        totals={
            "participants": participants,
            "voters": voters,
            "suggestions": sum(1 for row in rows.cards if row[-1]),
            "dots": dots,
        },
        exported_at=rows.exported_at,
        votes=rows.votes,
        ledger=rows.ledger,
        participant_ids=rows.participant_ids,
        audit=rows.audit,
        read_at=rows.read_at,
        time_zone=rows.time_zone,
        trail_titles=rows.trail_titles,
        participant_affiliations=[answer for _person, answer in rows.participant_affiliations],
    )
    if rows.event.get("affiliations"):
        snap.supporters = _supporters(rows, snap.groups)
    return snap


def _supporters(rows: Rows, groups: list[Group]) -> Tables:
    """Who supports what: the areas' rows in the report's order, cards of an unknown area
    counted without one."""
    known = [group.id for group in groups]
    if None not in known and any(row[0] not in known for row in rows.authors):
        known.append(None)

    def area(area_id: int | None) -> int | None:
        return area_id if area_id in known else None

    return tables(
        rows.event["affiliations"],
        known,
        [(area(a), person, answer) for a, person, answer in rows.authors],
        [(card, area(a), p, answer, dots) for card, a, p, answer, dots in rows.supporter_votes],
        (card.id for group in groups for card in group.ranked),
    )


def snapshot(event: Event, with_votes: bool = False, with_audit: bool = False) -> Snapshot:
    """Read an event for export in a fixed number of queries and build its snapshot."""
    return assemble(read(event, with_votes, with_audit))


def _ranks(rows: Rows) -> dict[int, int]:
    """Each ranked card's rank, by card id, in the order of the live results (as
    `queries.results` ranks them: public cards by dots, then age, within each area)."""
    public = sorted((row for row in rows.cards if row[-1]), key=lambda row: (-row[6], row[0]))
    by_area: dict[int | None, list[tuple]] = {area["id"]: [] for area in rows.areas}
    for row in public:
        by_area.setdefault(row[1], []).append(row)
    ranks = {}
    for area_rows in by_area.values():
        places = queries.competition_ranks([row[6] for row in area_rows])
        for row, rank in zip(area_rows, places, strict=True):
            if rank is not None:
                ranks[row[0]] = rank
    return ranks


def _cards(rows: Rows, ranks: dict[int, int]) -> dict[int, Card]:
    """Every card of the event by id, merged ones included, with its rank where it has one and
    its translations."""
    stored: dict[int, list[tuple]] = {}
    for card_id, *translation in rows.translations:
        stored.setdefault(card_id, []).append(tuple(translation))
    onward: dict[int, list[tuple[str, int]]] = {}
    for card_id, code, copy_id in rows.trail:
        onward.setdefault(card_id, []).append((code, copy_id))
    cards = {}
    for *values, language, origin_event, origin_id, from_paper, _public in rows.cards:
        card = Card(
            *values,
            rank=ranks.get(values[0]),
            language=language,
            origin=(origin_event, origin_id) if origin_event else None,
            followed_up=tuple(onward.get(values[0], ())),
            from_paper=bool(from_paper),
        )
        digest = source_hash(card)
        current = {
            code: Translation(title, body, machine)
            for code, title, body, machine, made_from in stored.get(card.id, [])
            # A machine translation of an older text is left out: the engine makes a new one.
            if not machine or made_from == digest
        }
        cards[card.id] = replace(card, translations=current) if current else card
    return cards


def _card_rows(event: Event) -> list[tuple]:
    """The fields of Card, then the language, the origin and whether it is public, of every
    card of the event, oldest first."""
    return fetch(
        sa.select(
            Suggestion.id,
            Suggestion.area_id,
            Suggestion.title,
            Suggestion.body,
            Suggestion.status,
            Suggestion.merged_into_id,
            Suggestion.dots,
            Suggestion.voters,
            Suggestion.created_at,
            Suggestion.language,
            Suggestion.origin_event,
            Suggestion.origin_suggestion,
            Suggestion.from_paper,
            Suggestion.is_public,
        )
        .where(Suggestion.event_id == event.id)
        .order_by(Suggestion.id)
    )


def _trail_rows(event: Event) -> list[tuple[int, str, int]]:
    """(card id, follow-up event's code, the card's id there) for each card that went on."""
    return [
        (card_id, step["event"], step["suggestion"])
        for card_id, steps in queries.follow_ups(event.code, staff=True).items()
        for step in steps
    ]


def _trail_titles(rows: Rows) -> dict[str, str]:
    """The titles of the events the cards came from and went on to, by code (the report names
    them); an event deleted since has none."""
    came_from = {origin for *_, origin, _card, _paper, _public in rows.cards if origin}
    codes = came_from | {code for _, code, _ in rows.trail}
    if not codes:
        return {}
    found = db.session.execute(sa.select(Event.code, Event.title).where(Event.code.in_(codes)))
    return {code: title for code, title in found}


def _card_translations(event: Event) -> list[tuple]:
    """(card id, language, title, body, machine, source hash) of every translation."""
    return fetch(
        sa.select(
            CardTranslation.suggestion_id,
            CardTranslation.language,
            CardTranslation.title,
            CardTranslation.body,
            CardTranslation.machine,
            CardTranslation.source_hash,
        )
        .join(Suggestion, Suggestion.id == CardTranslation.suggestion_id)
        .where(Suggestion.event_id == event.id)
        .order_by(CardTranslation.suggestion_id, CardTranslation.language)
    )


def _groups(
    areas: list[dict[str, Any]], cards: dict[int, Card], ranks: dict[int, int]
) -> tuple[list[Group], dict[int, list[int]]]:
    """The areas with their cards not merged away, and which cards were merged into which."""
    groups = {
        area["id"]: Group(
            area["id"],
            area["name"],
            area["color"],
            names={code: text["name"] for code, text in area["translations"].items()},
        )
        for area in areas
    }
    merged_from: dict[int, list[int]] = {}
    order = {card_id: index for index, card_id in enumerate(ranks)}  # results order
    for card in sorted(cards.values(), key=lambda c: _group_order(c, order)):
        if card.merged_into is not None:
            merged_from.setdefault(card.merged_into, []).append(card.id)
            continue
        if withdrawn(card):
            continue  # its author took it back; only the JSON backup keeps it
        area_id = card.area_id if card.area_id in groups else None
        if area_id not in groups:
            groups[None] = Group(None, None, NO_AREA_COLOR)
        groups[area_id].cards.append(card)
    for originals in merged_from.values():
        originals.sort()
    return list(groups.values()), merged_from


def _event_facts(event: Event) -> dict[str, Any]:
    """The event's own fields and settings as plain values."""
    return {
        "id": event.id,
        "code": event.code,
        "title": event.title,
        "question": event.question,
        "phase": event.phase,
        "created_at": event.created_at,
        "settings": {name: getattr(event, name) for name in SETTINGS},
        "affiliations": affiliations.listed(event.affiliations),
        "default_language": event.default_language,
        "board_languages": board_languages(event),
        "languages": event_languages(event),
        "translations": {
            row.language: {"question": row.question, "machine": row.machine}
            for row in event.translations
        },
    }


def _participant_rows(event: Event) -> list[tuple[int, str | None]]:
    """(participant id, stored affiliation) of everyone who joined, in order."""
    return fetch(
        sa.select(Participant.id, Participant.affiliation)
        .where(Participant.event_id == event.id)
        .order_by(Participant.id)
    )


def _supporter_rows(event: Event) -> tuple[list[tuple], list[tuple]]:
    """(area, author, affiliation) of each card filed on a phone and not withdrawn, and (card,
    area, voter, affiliation, dots) of each vote: what the tables of who supports what count."""
    authors = fetch(
        sa.select(Suggestion.area_id, Participant.id, Participant.affiliation)
        .join(Participant, Participant.id == Suggestion.participant_id)
        .where(Suggestion.event_id == event.id, Suggestion.status != "withdrawn")
    )
    votes = fetch(
        sa.select(
            Vote.suggestion_id,
            Suggestion.area_id,
            Vote.participant_id,
            Participant.affiliation,
            Vote.dots,
        )
        .join(Suggestion, Suggestion.id == Vote.suggestion_id)
        .join(Participant, Participant.id == Vote.participant_id)
        .where(Suggestion.event_id == event.id)
    )
    return authors, votes


def _vote_rows(event: Event) -> list[tuple[int, int, int]]:
    """(participant id, suggestion id, dots) for every vote on the event's cards."""
    return fetch(
        sa.select(Vote.participant_id, Vote.suggestion_id, Vote.dots)
        .join(Suggestion, Suggestion.id == Vote.suggestion_id)
        .where(Suggestion.event_id == event.id)
    )


def _ledger_rows(event: Event) -> list[tuple[int, int, int, int, int]]:
    """(suggestion id, participant id, moved, before, after) for every dot moved by a merge."""
    return fetch(
        sa.select(
            MergedVote.suggestion_id,
            MergedVote.participant_id,
            MergedVote.moved,
            MergedVote.before,
            MergedVote.after,
        )
        .join(Suggestion, Suggestion.id == MergedVote.suggestion_id)
        .where(Suggestion.event_id == event.id)
    )


def _audit_rows(event: Event) -> list[tuple[datetime, int | None, str, int | None, dict]]:
    rows = db.session.execute(
        sa.select(
            AuditEntry.created_at,
            AuditEntry.user_id,
            AuditEntry.action,
            AuditEntry.suggestion_id,
            AuditEntry.details,
        )
        .where(AuditEntry.event_id == event.id)
        .order_by(AuditEntry.id)
    ).all()
    staff: dict[int, int] = {}
    entries = []
    for at, user_id, action, card_id, details in rows:
        details = shown_details(json.loads(details or "{}"))
        # An imported entry keeps the staff number of its file in its details.
        who = staff.setdefault(user_id, len(staff) + 1) if user_id else details.pop("by", None)
        entries.append((at, who, action, card_id, details))
    return entries


def _group_order(card: Card, ranked_order: dict[int, int]) -> tuple:
    """Ranked cards in results order, then visible cards without dots, then the rest by id."""
    if card.id in ranked_order:
        return (0, ranked_order[card.id])
    return (1 if card.status == "visible" else 2, card.id)


# -- shared helpers --------------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """Keep spreadsheet programs from reading user text as a formula (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def is_rtl(text: str) -> bool:
    """Whether the text's first strong character is right-to-left (Arabic, Persian, Hebrew)."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def area_label(group: Group) -> str:
    return group.name if group.name is not None else _("Without area")


def withdrawn(card: Card) -> bool:
    """Whether the card's author took it back: the report, CSV and XLSX leave it out."""
    return card.status == "withdrawn"


def mentions_withdrawn(snap: Snapshot, card_id: int | None, details: dict) -> bool:
    """Whether an activity log entry is about a withdrawn card (its text must not show)."""
    ids = (card_id, details.get("into")) if isinstance(details, dict) else (card_id,)
    return any(
        isinstance(found, int) and found in snap.cards and withdrawn(snap.cards[found])
        for found in ids
    )


def card_status(card: Card) -> str:
    return status_label("merged" if card.merged_into is not None else card.status)


def default_language(snap: Snapshot) -> str:
    """The language the spreadsheets translate into: the event's default (plain German is
    German)."""
    return base(snap.event["default_language"])


def translation(snap: Snapshot, card: Card, language: str) -> Translation | None:
    """The card's translation into `language`, unless it is written in that language; a card of
    unknown language counts as written in the event's default one, as the engine takes it."""
    written = base(card.language) or default_language(snap)
    return None if written == language else card.translations.get(language)


def language_name(code: str | None) -> str:
    """A language's name in the current language ("Arabisch" for "ar" in German), else the code."""
    if not code:
        return ""
    try:
        name = Locale.parse(base(code)).get_display_name(get_locale() or "en")
    except (ValueError, UnknownLocaleError):
        name = None
    return name or code


def language_label(code: str | None) -> str:
    """A card's language for the spreadsheets: its name and code, "Arabisch (ar)"."""
    return f"{language_name(code)} ({code})" if code else ""


def translated_by(found: Translation | None) -> str:
    """Who made a translation, for the spreadsheets' "Translation" column."""
    if found is None:
        return ""
    return _("Machine translation") if found.machine else _("Corrected by staff")


def originals(snap: Snapshot, card_id: int) -> list[Card]:
    """Every card merged into this one, also through cards merged into those, oldest first;
    withdrawn ones are left out (their authors took them back)."""
    found: list[Card] = []
    stack = list(reversed(snap.merged_from.get(card_id, [])))
    seen = {card_id}
    while stack:
        original = stack.pop()
        if original in seen:
            continue
        seen.add(original)
        if not withdrawn(snap.cards[original]):
            found.append(snap.cards[original])
        stack.extend(reversed(snap.merged_from.get(original, [])))
    return found


def top_cards(snap: Snapshot, places: int = 10) -> list[tuple[int, Group, Card]]:
    """Ranked cards of all areas with their overall rank, up to `places` (ties included)."""
    ranked = sorted(
        ((group, card) for group in snap.groups for card in group.ranked),
        key=lambda item: (-item[1].dots, item[1].id),
    )
    ranks = queries.competition_ranks([card.dots for _group, card in ranked])
    return [
        (rank, group, card)
        for rank, (group, card) in zip(ranks, ranked, strict=True)
        if rank is not None and rank <= places
    ]


#: The participation figures of the summary sheet and the report's title page, in order.
FIGURE_LABELS = {
    "participants": _l("Participants"),
    "voters": _l("Participants who voted"),
    "dots": _l("Dots given"),
    "filed": _l("Suggestions filed"),
    "merged": _l("Suggestions merged into others"),
    "ranked": _l("Suggestions in the results"),
}


def figures(snap: Snapshot) -> list[tuple[str, int]]:
    """Participation figures, labelled, for the summary sheet and the report's title page."""
    values = {
        "participants": snap.totals["participants"],
        "voters": snap.totals["voters"],
        "dots": snap.totals["dots"],
        # Withdrawn cards are not counted: their authors took them back.
        "filed": sum(1 for card in snap.cards.values() if not withdrawn(card)),
        "merged": sum(
            1
            for card in snap.cards.values()
            if card.merged_into is not None and not withdrawn(card)
        ),
        "ranked": snap.totals["suggestions"],
    }
    return [(str(label), values[key]) for key, label in FIGURE_LABELS.items()]


def event_date(snap: Snapshot) -> datetime:
    """The event's date: it has no date of its own, so the day it was created (in its zone)."""
    return local_moment(snap, snap.event["created_at"])


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_moment(snap: Snapshot, moment: datetime) -> datetime:
    """A stored moment (naive UTC) in the events' time zone (WORKSHOP_TIME_ZONE)."""
    return moment.replace(tzinfo=UTC).astimezone(_zone(snap.time_zone))


def local_time(snap: Snapshot, moment: datetime) -> datetime:
    """A stored moment as the event's clocks showed it, without zone: spreadsheet cells keep no
    zone, so the column header names it."""
    return local_moment(snap, moment).replace(tzinfo=None, microsecond=0)


def zone_label() -> str:
    """The configured time zone as headers name it: "Europe/Berlin"."""
    return current_app.config.get("WORKSHOP_TIME_ZONE", config.TIME_ZONE)


def local_format(snap: Snapshot, moment: datetime) -> str:
    """A stored moment as the report writes it, in the events' time zone and the page's language."""
    return format_datetime(local_moment(snap, moment), "medium", rebase=False)


def slug(text: str) -> str:
    """ASCII file-name part: "Plenum Süd 2026" -> "plenum-sued-2026"."""
    text = text.lower()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelled)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(text) > SLUG_MAX:
        # Cut at a word boundary where there is one, so no word is left half.
        cut = text[: SLUG_MAX + 1].rsplit("-", 1)[0]
        text = cut if len(cut) >= SLUG_MAX // 2 else text[:SLUG_MAX].rstrip("-")
    return text


def filename(snap: Snapshot, fmt: str) -> str:
    name = slug(snap.event["title"]) or f"event-{snap.event['code'].lower()}"
    return f"{name}-{event_date(snap).date().isoformat()}.{fmt}"


# -- who supports what ----------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One table of who supports what as every format shows it: cells are numbers or "< 5"."""

    title: str
    headers: list[str]
    rows: list[list[Any]]


def small_cell_note() -> str:
    """Why some cells read "< 5" or "x": said under the tables in every format."""
    rule = _(
        "Cells based on fewer than %(n)d different people read “%(small)s”, so that nobody can "
        "be singled out. “No answer”: people who skipped the question. Suggestions filed by staff "
        "are not counted.",
        n=affiliations.MIN_CELL_PEOPLE,
        small=affiliations.SMALL_CELL,
    )
    guard = _(
        "A cell that reads “%(withheld)s” is withheld as well, so that a lone “%(small)s” "
        "cannot be worked out from the total of its area.",
        withheld=affiliations.WITHHELD,
        small=affiliations.SMALL_CELL,
    )
    return f"{rule} {guard}"


def supporter_sections(snap: Snapshot) -> list[Section]:
    """Areas × affiliation for cards and for dots, and the groups behind each ranked card;
    none where the event does not ask for affiliations."""
    found = snap.supporters
    if found is None:
        return []
    names = {group.id: area_label(group) for group in snap.groups}
    names.setdefault(None, _("Without area"))
    headers = [_("Area"), *found.groups, _("No answer")]
    ranked = [(group, card) for group in snap.groups for card in group.ranked]
    return [
        Section(
            _("Suggestions filed per area and affiliation"),
            headers,
            [[names[area], *cells] for area, cells in found.cards.items()],
        ),
        Section(
            _("Dots given per area and affiliation"),
            headers,
            [[names[area], *cells] for area, cells in found.dots.items()],
        ),
        Section(
            _("Different groups that gave each suggestion dots"),
            [_("Area"), _("Rank"), _("Title"), _("Groups")],
            [
                [area_label(group), card.rank, card.title, found.supporters[card.id]]
                for group, card in ranked
            ],
        ),
    ]


# -- CSV -------------------------------------------------------------------------------------


def table_headers(language: str, time_zone: str | None = None) -> list[str]:
    """The CSV's columns (the area sheets' without the first); `language` is the one translated
    into, `time_zone` the one times are given in (by default WORKSHOP_TIME_ZONE)."""
    name = language_name(language)
    zone = time_zone or zone_label()
    return [
        _("Area"),
        _("Rank"),
        _("Title"),
        _("Detail"),
        _("Dots"),
        _("Voters"),
        _("Status"),
        _("Merged originals"),
        _("Created (%(zone)s)", zone=zone),
        _("Language"),
        _("Title (%(language)s)", language=name),
        _("Detail (%(language)s)", language=name),
        _("Translation"),
        _("Merged originals (%(language)s)", language=name),
        _("Came from"),
        _("Went on to"),
        _("From paper"),
    ]


def language_cells(snap: Snapshot, card: Card, merged: list[Card]) -> list[str]:
    """The card's language and its translation into the event's default language, and the
    titles of its merged originals in that language (as written where there is none)."""
    language = default_language(snap)
    merged_titles = []
    for original in merged:
        translated = translation(snap, original, language)
        merged_titles.append(translated.title if translated else original.title)
    return [
        language_label(card.language),
        *translation_cells(snap, card, language),
        "\n".join(merged_titles),
    ]


def trail_label(step: tuple[str, int] | None) -> str:
    """A step of the trail as the spreadsheets write it: "K7MQ4X #12" (event code, card id)."""
    return f"{step[0]} #{step[1]}" if step else ""


def trail_cells(card: Card) -> list[str]:
    """Where the card came from and the follow-up events it went on to."""
    return [trail_label(card.origin), "\n".join(map(trail_label, card.followed_up))]


def paper_cell(card: Card) -> str:
    """ "yes" for a card typed in from paper (the paper lane), empty for any other."""
    return _("yes") if card.from_paper else ""


def translation_cells(snap: Snapshot, card: Card, language: str) -> list[str]:
    """The card's title and detail in `language` and who translated them; empty without a
    translation."""
    found = translation(snap, card, language)
    return [found.title if found else "", found.body if found else "", translated_by(found)]


def table_rows(snap: Snapshot) -> Iterable[tuple[Group, Card, list[Card]]]:
    """Each card not merged away, by area and rank, with the cards merged into it."""
    for group in snap.groups:
        for card in group.cards:
            yield group, card, originals(snap, card.id)


def to_csv(snap: Snapshot) -> bytes:
    """One row per card not merged away; UTF-8 with BOM and semicolons, as Excel opens it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(table_headers(default_language(snap), snap.time_zone))
    for group, card, merged in table_rows(snap):
        writer.writerow(
            [
                neutralise(area_label(group)),
                card.rank if card.rank is not None else "",
                neutralise(card.title),
                neutralise(card.body),
                card.dots,
                card.voters,
                card_status(card),
                neutralise("\n".join(original.title for original in merged)),
                local_time(snap, card.created_at).strftime("%Y-%m-%d %H:%M"),
                *(neutralise(cell) for cell in language_cells(snap, card, merged)),
                *trail_cells(card),
                paper_cell(card),
            ]
        )
    _csv_supporters(writer, snap)
    return (BOM + out.getvalue()).encode("utf-8")


def _csv_supporters(writer: Any, snap: Snapshot) -> None:
    """Who supports what after the cards, each table after an empty row and its title, then
    the note on the small-cell rule."""
    sections = supporter_sections(snap)
    for section in sections:
        writer.writerow([])
        writer.writerow([section.title])
        writer.writerow([neutralise(header) for header in section.headers])
        writer.writerows([neutralise(cell) for cell in row] for row in section.rows)
    if sections:
        writer.writerow([])
        writer.writerow([small_cell_note()])


# -- XLSX ------------------------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
TITLE_FONT = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
WRAP_RTL = Alignment(wrap_text=True, vertical="top", readingOrder=2)
TOP = Alignment(vertical="top")
TOP_RTL = Alignment(vertical="top", readingOrder=2)
DATE_FORMAT = "yyyy-mm-dd hh:mm"
SHEET_NAME_MAX = 31


def shorten(text: str, most: int) -> str:
    """`text` in at most `most` characters: cut after a whole word where one fits in half of
    them, else within the word, and marked "…" when cut."""
    if len(text) <= most:
        return text
    room = text[:most]  # a cut at its last space, or its last character, leaves room for "…"
    cut = room.rsplit(None, 1)[0] if " " in room.strip() else ""
    if len(cut) < most // 2:
        cut = room[:-1]
    return cut.rstrip(" -–—,;.(") + "…"


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid sheet name (no []:*?/\\, at most 31 characters, shortened after a whole word),
    unique in the workbook; the area sheets give the full name in their first row."""
    base = re.sub(r"[\[\]:*?/\\\x00-\x1f]", "-", name).strip().strip("'").strip() or "-"
    candidate, number = shorten(base, SHEET_NAME_MAX), 1
    # Excel compares sheet names without regard to case; "History" is reserved.
    while candidate.casefold() in taken or candidate.casefold() == "history":
        number += 1
        suffix = f" ({number})"
        candidate = shorten(base, SHEET_NAME_MAX - len(suffix)) + suffix
    taken.add(candidate.casefold())
    return candidate


def _write_table(
    sheet: Worksheet,
    headers: list[str],
    rows: Iterable[list[Any]],
    max_widths: list[int],
    first_row: int = 1,
    freeze: bool = True,
) -> None:
    """A table with a styled, frozen header row, an auto filter and widths that fit."""
    widths = [len(header) + 2 for header in headers]
    for column, header in enumerate(headers, 1):
        cell = sheet.cell(row=first_row, column=column, value=header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    row_number = first_row
    for row_number, row in enumerate(rows, first_row + 1):
        for column, value in enumerate(row, 1):
            cell = sheet.cell(row=row_number, column=column, value=neutralise(value))
            if isinstance(value, datetime):
                cell.value = value.replace(microsecond=0)
                cell.number_format = DATE_FORMAT
                length = 16
            elif isinstance(value, str):
                wrapped = "\n" in value or len(value) > max_widths[column - 1]
                rtl = is_rtl(value)
                cell.alignment = (
                    (WRAP_RTL if rtl else WRAP) if wrapped else (TOP_RTL if rtl else TOP)
                )
                length = max((len(line) for line in value.split("\n")), default=0)
            else:
                length = len(str(value)) if value is not None else 0
            widths[column - 1] = max(widths[column - 1], min(length + 2, max_widths[column - 1]))
    last = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A{first_row}:{last}{max(row_number, first_row)}"
    if freeze:
        sheet.freeze_panes = sheet.cell(row=first_row + 1, column=1)
    for column, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def _summary_sheet(book: Workbook, snap: Snapshot, taken: set[str]) -> None:
    sheet = book.create_sheet(sheet_name(_("Summary"), taken))
    title = sheet.cell(row=1, column=1, value=neutralise(snap.event["title"]))
    title.font = TITLE_FONT
    if is_rtl(snap.event["title"]):
        title.alignment = TOP_RTL
    facts: list[tuple[str, Any]] = [
        (_("Event"), snap.event["title"]),
        (_("Question"), snap.event["question"]),
        (_("Date"), format_date(event_date(snap), "long", rebase=False)),
        (_("Phase"), phase_label(snap.event["phase"])),
        *figures(snap),
        (_("Exported (%(zone)s)", zone=snap.time_zone), local_time(snap, snap.exported_at)),
    ]
    for row, (label, value) in enumerate(facts, 3):
        sheet.cell(row=row, column=1, value=label).font = HEADER_FONT
        cell = sheet.cell(row=row, column=2, value=neutralise(value))
        if isinstance(value, datetime):
            cell.number_format = DATE_FORMAT
        elif isinstance(value, str):
            cell.alignment = WRAP_RTL if is_rtl(value) else WRAP
    heading_row = len(facts) + 4
    sheet.cell(row=heading_row, column=1, value=_("Top 10 overall")).font = TITLE_FONT
    _write_table(
        sheet,
        [_("Rank"), _("Area"), _("Title"), _("Dots"), _("Voters")],
        (
            [rank, area_label(group), card.title, card.dots, card.voters]
            for rank, group, card in top_cards(snap)
        ),
        [8, 40, 70, 10, 12],
        first_row=heading_row + 1,
        freeze=False,
    )
    sheet.column_dimensions["A"].width = max(sheet.column_dimensions["A"].width, 30)
    sheet.column_dimensions["B"].width = max(sheet.column_dimensions["B"].width, 50)


def _area_sheets(book: Workbook, snap: Snapshot, taken: set[str]) -> None:
    """A sheet per area: its full name in the first row (the sheet's name may be shortened),
    then its cards as a table."""
    headers = table_headers(default_language(snap), snap.time_zone)[1:]
    for group in snap.groups:
        name = area_label(group)
        sheet = book.create_sheet(sheet_name(name, taken))
        title = sheet.cell(row=1, column=1, value=neutralise(name))
        title.font = TITLE_FONT
        title.alignment = TOP_RTL if is_rtl(name) else TOP
        _write_table(
            sheet,
            headers,
            _area_rows(snap, group),
            [8, 60, 80, 10, 12, 24, 60, 18, 24, 60, 80, 24, 60, 20, 20, 12],
            first_row=2,
        )


def _area_rows(snap: Snapshot, group: Group) -> Iterable[list[Any]]:
    for card in group.cards:
        merged = originals(snap, card.id)
        yield [
            card.rank,
            card.title,
            card.body,
            card.dots,
            card.voters,
            card_status(card),
            "\n".join(original.title for original in merged),
            local_time(snap, card.created_at),
            *language_cells(snap, card, merged),
            *trail_cells(card),
            paper_cell(card),
        ]


def _merged_sheet(book: Workbook, snap: Snapshot, taken: set[str]) -> None:
    sheet = book.create_sheet(sheet_name(_("Merged originals"), taken))
    language = default_language(snap)
    name = language_name(language)
    _write_table(
        sheet,
        [
            _("Area"),
            _("Rank"),
            _("Merged into"),
            _("Original title"),
            _("Original detail"),
            _("Original status"),
            _("Created (%(zone)s)", zone=snap.time_zone),
            _("Language"),
            _("Original title (%(language)s)", language=name),
            _("Original detail (%(language)s)", language=name),
            _("Translation"),
        ],
        (
            [
                area_label(group),
                card.rank,
                card.title,
                original.title,
                original.body,
                status_label(original.status),
                local_time(snap, original.created_at),
                language_label(original.language),
                *translation_cells(snap, original, language),
            ]
            for group, card, merged in table_rows(snap)
            for original in merged
        ),
        [40, 8, 60, 60, 80, 24, 18, 24, 60, 80, 24],
    )


def _supporters_sheet(book: Workbook, snap: Snapshot, taken: set[str]) -> None:
    """Who supports what, where the event asks: the tables one under the other, the note on
    the small-cell rule under them."""
    sections = supporter_sections(snap)
    if not sections:
        return
    sheet = book.create_sheet(sheet_name(_("Who supports what"), taken))
    row = 1
    for section in sections:
        sheet.cell(row=row, column=1, value=section.title).font = TITLE_FONT
        widths = [40] + [24] * (len(section.headers) - 1)
        _write_table(sheet, section.headers, section.rows, widths, first_row=row + 1, freeze=False)
        row += len(section.rows) + 3
    sheet.cell(row=row, column=1, value=small_cell_note()).alignment = WRAP
    # One auto filter per sheet: the tables are short, so none is needed.
    sheet.auto_filter.ref = None


def staff_label(number: int | None) -> str:
    return _("Moderation %(n)d", n=number) if number else _("System")


def _audit_sheet(book: Workbook, snap: Snapshot, taken: set[str]) -> None:
    sheet = book.create_sheet(sheet_name(_("Activity log"), taken))
    _write_table(
        sheet,
        [
            _("Time (%(zone)s)", zone=snap.time_zone),
            _("Who"),
            _("What"),
            _("Suggestion"),
            _("Details"),
        ],
        (
            _audit_row(snap, at, who, action, card_id, details)
            for at, who, action, card_id, details in snap.audit
        ),
        [18, 16, 36, 60, 80],
    )


def _audit_row(
    snap: Snapshot, at: datetime, who: int | None, action: str, card_id: int | None, details: dict
) -> list[Any]:
    """An activity log row; the title and details of a withdrawn card are left out."""
    gone = mentions_withdrawn(snap, card_id, details)
    return [
        local_time(snap, at),
        staff_label(who),
        action_label(action),
        snap.cards[card_id].title if card_id in snap.cards and not gone else None,
        json.dumps(details, ensure_ascii=False) if details and not gone else None,
    ]


#: The workbook's sheets, in order.
XLSX_SHEETS: tuple[Callable[[Workbook, Snapshot, set[str]], None], ...] = (
    _summary_sheet,
    _area_sheets,
    _merged_sheet,
    _supporters_sheet,
    _audit_sheet,
)


def to_xlsx(snap: Snapshot) -> bytes:
    """A workbook: summary with the top 10, one ranked sheet per area, the merged originals."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for write_sheet in XLSX_SHEETS:
        write_sheet(book, snap, taken)
    book.properties.title = snap.event["title"][:200]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- JSON ------------------------------------------------------------------------------------


def to_document(snap: Snapshot) -> dict:
    """The whole event in the documented format (docs/export-format.md); participants anonymised.

    Areas, cards and participants are numbered 1..n within the file, so no database id and no
    token leaves the installation, and an export of an imported event equals the original.
    """
    area_no = {area["id"]: number for number, area in enumerate(snap.areas, 1)}
    card_no = {card_id: number for number, card_id in enumerate(sorted(snap.cards), 1)}
    person_no = {pid: number for number, pid in enumerate(snap.participant_ids, 1)}
    return {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "exported_at": iso(snap.exported_at),
        "event": {
            "code": snap.event["code"],
            "title": snap.event["title"],
            "question": snap.event["question"],
            "phase": snap.event["phase"],
            "created_at": iso(snap.event["created_at"]),
            "settings": snap.event["settings"],
            "affiliations": snap.event.get("affiliations", []),
            "default_language": snap.event["default_language"],
            "board_languages": snap.event["board_languages"],
            "languages": snap.event["languages"],
            "translations": snap.event["translations"],
        },
        "areas": [
            {
                "id": area_no[area["id"]],
                "name": area["name"],
                "color": area["color"],
                "translations": area["translations"],
            }
            for area in snap.areas
        ],
        "participants": len(snap.participant_ids),
        # By participant number; null: skipped or never asked.
        "participant_affiliations": [answer or None for answer in snap.participant_affiliations],
        "affiliation_tables": _document_supporters(snap, area_no, card_no),
        "suggestions": _document_suggestions(snap, area_no, card_no),
        "votes": [
            {"participant": p, "suggestion": s, "dots": dots}
            for p, s, dots in sorted(
                (person_no[pid], card_no[sid], dots) for pid, sid, dots in snap.votes
            )
        ],
        "merge_ledger": [
            {"suggestion": s, "participant": p, "moved": moved, "before": before, "after": after}
            for s, p, moved, before, after in sorted(
                (card_no[sid], person_no[pid], moved, before, after)
                for sid, pid, moved, before, after in snap.ledger
            )
        ],
        "audit": _document_audit(snap, card_no),
    }


def _document_suggestions(
    snap: Snapshot, area_no: dict[int, int], card_no: dict[int, int]
) -> list[dict]:
    """The JSON export's cards, merged ones included, by their numbers in the file."""
    return [
        {
            "id": card_no[card.id],
            "area": area_no.get(card.area_id),
            "title": card.title,
            "body": card.body,
            "status": card.status,
            "merged_into": card_no[card.merged_into] if card.merged_into else None,
            "dots": card.dots,
            "voters": card.voters,
            "created_at": iso(card.created_at),
            "language": card.language,
            "translations": {
                code: {"title": found.title, "body": found.body, "machine": found.machine}
                for code, found in card.translations.items()
            },
            # The trail refers to cards by their ids in this installation, not in the file.
            "origin": trail_json(card.origin),
            "followed_up": [trail_json(step) for step in card.followed_up],
            # Typed in by a helper from a handwritten card; it belongs to no phone.
            "from_paper": card.from_paper,
        }
        for card in (snap.cards[card_id] for card_id in sorted(snap.cards))
    ]


def _document_supporters(
    snap: Snapshot, area_no: dict[int, int], card_no: dict[int, int]
) -> dict | None:
    """Who supports what by area and card numbers in the file; None where the event does not
    ask. Cells read "< 5" under the small-cell rule; the last column is no answer (null)."""
    found = snap.supporters
    if found is None:
        return None
    return {
        "min_people": found.min_people,
        "columns": found.columns,
        "cards": [{"area": area_no.get(a), "cells": cells} for a, cells in found.cards.items()],
        "dots": [{"area": area_no.get(a), "cells": cells} for a, cells in found.dots.items()],
        "supporting_groups": [
            {"suggestion": card_no[card], "groups": groups}
            for card, groups in found.supporters.items()
        ],
    }


def trail_json(step: tuple[str, int] | None) -> dict | None:
    return {"event": step[0], "suggestion": step[1]} if step else None


def _document_audit(snap: Snapshot, card_no: dict[int, int]) -> list[dict]:
    """The JSON export's activity log, cards by their numbers in the file."""
    return [
        {
            "at": iso(at),
            "by": who,
            "action": action,
            "suggestion": card_no.get(card_id),
            "details": details,
        }
        for at, who, action, card_id, details in snap.audit
    ]


def to_json(snap: Snapshot) -> bytes:
    return json.dumps(to_document(snap), ensure_ascii=False, indent=1).encode("utf-8")


# -- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A card's title and body as the report shows them, with their `lang` ("" when unknown)
    and `dir`."""

    title: str
    body: str
    lang: str
    dir: str


@dataclass(frozen=True)
class Shown:
    """A card in the report: in the report's language where it has a translation (`original`
    then holds the card as written, `machine` says who translated it), else as written."""

    text: Text
    original: Text | None = None
    machine: bool = False
    #: The name of the language the card is written in, for the original's label.
    language: str = ""


def report_language(snap: Snapshot) -> str:
    """The language the report shows cards in: its own where the event is translated into it,
    else the event's default language."""
    own = base(str(get_locale()))
    return (
        own if own in {base(code) for code in snap.event["languages"]} else default_language(snap)
    )


def as_written(card: Card) -> Text:
    if card.language is None:
        return Text(card.title, card.body, "", "auto")
    return Text(card.title, card.body, html_lang(card.language), writing_direction(card.language))


def shown(snap: Snapshot, card: Card, language: str) -> Shown:
    """The card in `language` with the original beside it, or as written without a translation."""
    found = translation(snap, card, language)
    if found is None:
        return Shown(as_written(card))
    text = Text(found.title, found.body, html_lang(language), writing_direction(language))
    return Shown(text, as_written(card), found.machine, language_name(card.language))


def report_texts(snap: Snapshot, language: str) -> dict[str, Any]:
    """The event's question and the area names, each with its `lang`: in `language` where staff
    translated them, else as written (in the event's default language)."""
    written = html_lang(snap.event["default_language"])

    def pick(original: str | None, translations: dict[str, str]) -> tuple[str | None, str]:
        if language != default_language(snap) and language in translations:
            return translations[language], html_lang(language)
        return original, written

    return {
        "question": pick(
            snap.event["question"],
            {code: text["question"] for code, text in snap.event["translations"].items()},
        ),
        "areas": {group.id: pick(group.name, group.names) for group in snap.groups},
    }


def _listed(snap: Snapshot, card: Card, language: str, most: int) -> dict:
    """A card as the report lists it, with its bar (one scale across areas, so that lengths
    compare between areas) and the cards merged into it."""
    return {
        "card": card,
        "shown": shown(snap, card, language),
        "bar": round(100 * card.dots / most, 2) if most else 0,
        "originals": [shown(snap, original, language) for original in originals(snap, card.id)],
        "trail": report_trail(snap, card),
    }


def trail_event(snap: Snapshot, code: str) -> dict:
    """An event on the trail as the report names it: its title (None once deleted), its code."""
    return {"title": snap.trail_titles.get(code), "code": code}


def report_trail(snap: Snapshot, card: Card) -> dict:
    """Where the card came from (event and card) and the follow-up events it went on to."""
    origin = None
    if card.origin:
        origin = {**trail_event(snap, card.origin[0]), "card": card.origin[1]}
    onward = dict.fromkeys(code for code, _copy in card.followed_up)
    return {"origin": origin, "onward": [trail_event(snap, code) for code in onward]}


def continued_events(snap: Snapshot) -> list[dict]:
    """The events this one continues (those its cards came from), for the report's first page."""
    codes = dict.fromkeys(card.origin[0] for card in snap.cards.values() if card.origin)
    return [trail_event(snap, code) for code in codes]


def _report_areas(snap: Snapshot, language: str, limit: int) -> list[dict]:
    """Each area with its ranked and unranked cards as the report shows them: at most `limit`
    in full (ranked ones first, 0: all), and how many more there are."""
    most = max((card.dots for group in snap.groups for card in group.ranked), default=0)
    names = report_texts(snap, language)["areas"]
    areas = []
    for group in snap.groups:
        ranked, unranked = group.ranked, group.unranked
        room = limit or len(ranked) + len(unranked)
        shown_ranked = ranked[:room]
        shown_unranked = unranked[: room - len(shown_ranked)]
        areas.append(
            {
                # The cards without an area are named in the report's language.
                "name": area_label(group) if group.id is None else names[group.id][0],
                "lang": html_lang() if group.id is None else names[group.id][1],
                "color": group.color,
                "ranked": [_listed(snap, card, language, most) for card in shown_ranked],
                "unranked": [_listed(snap, card, language, most) for card in shown_unranked],
                "omitted": len(ranked) + len(unranked) - len(shown_ranked) - len(shown_unranked),
            }
        )
    return areas


def _report_top(snap: Snapshot, language: str) -> list[dict]:
    """The overall top ten as the report's first page lists it: rank, card in the report's
    language, its area's name and colour."""
    names = report_texts(snap, language)["areas"]
    return [
        {
            "rank": rank,
            "card": card,
            "shown": shown(snap, card, language),
            "area": area_label(group) if group.id is None else names[group.id][0],
            "area_lang": html_lang() if group.id is None else names[group.id][1],
            "color": group.color,
        }
        for rank, group, card in top_cards(snap)
    ]


def report_context(snap: Snapshot, exported_at: str | None = None) -> dict:
    """What templates/staff/report.html shows: areas with ranked topics and bar lengths, cards
    in the report's language with the original beside them."""
    language = report_language(snap)
    limit = current_app.config.get("WORKSHOP_REPORT_DETAIL_LIMIT", REPORT_DETAIL_LIMIT)
    areas = _report_areas(snap, language, limit)
    question, question_lang = report_texts(snap, language)["question"]
    return {
        "event": snap.event,
        "question": question,
        "question_lang": question_lang,
        "date": format_date(event_date(snap), "long", rebase=False),
        "exported_at": exported_at or local_format(snap, snap.exported_at),
        "time_zone": snap.time_zone,
        "phase": phase_label(snap.event["phase"]),
        "figures": figures(snap),
        "top": _report_top(snap, language),
        "areas": [area for area in areas if area["ranked"] or area["unranked"]],
        "empty_areas": [area for area in areas if not (area["ranked"] or area["unranked"])],
        "limited": any(area["omitted"] for area in areas),
        "settings": snap.event["settings"],
        "continues": continued_events(snap),
        "supporters": supporter_sections(snap),
        "small_cell_note": small_cell_note() if snap.supporters else "",
    }


def report_html(snap: Snapshot, pdf: bool = False, exported_at: str | None = None) -> str:
    """The report page; for the PDF without links to the site (its CSS is passed separately)."""
    return render_template("staff/report.html", pdf=pdf, **report_context(snap, exported_at))


def pdf_job(snap: Snapshot) -> tuple[int, str, str, str, float]:
    """`pdf.report`'s arguments for this snapshot."""
    marked = report_html(snap, pdf=True, exported_at=pdf.EXPORT_TIME_MARK)
    export_time = str(escape(local_format(snap, snap.exported_at)))
    return snap.event["id"], str(get_locale()), marked, export_time, snap.read_at


def to_pdf(snap: Snapshot) -> bytes:
    """The report as an A4 PDF (WeasyPrint, in a child process; kept while it does not change)."""
    return pdf.report(*pdf_job(snap))


def off_hub(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` in a real thread under eventlet (engines.offhub), in this request's
    context (app, locale, user): building a file of 20,000 cards takes seconds of pure Python,
    which on the hub would stop every other connection for as long."""
    context = contextvars.copy_context()
    return offhub.run(context.run, function, *args)


def _page_and_job(rows: Rows) -> tuple[str, tuple]:
    snap = assemble(rows)
    return report_html(snap), pdf_job(snap)


def report_page(event: Event) -> str:
    """The report page; its PDF is started in the background, as a download may follow."""
    page, job = off_hub(_page_and_job, read(event))
    pdf.prepare(lambda: job, job[1])
    return page


def on_results_opened(_sender, event_id: int, language: str, **_extra) -> None:
    """The results are out: staff will soon want the report, so its PDF is made now."""

    def job() -> tuple | None:
        event = db.session.get(Event, event_id)
        if event is None:
            return None
        return off_hub(lambda rows: pdf_job(assemble(rows)), read(event))

    pdf.prepare(job, language)


# -- one entry point -------------------------------------------------------------------------

WRITERS: dict[str, Callable[[Snapshot], bytes]] = {
    "csv": to_csv,
    "xlsx": to_xlsx,
    "json": to_json,
    "pdf": to_pdf,
}


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    filename: str


def export(event: Event, fmt: Any) -> Export:
    """The event's results as a file in one of FORMATS (an unknown one is a validation error)."""
    fmt = validation.choice(fmt, "format", FORMATS)
    # Read on the hub (database sessions are not thread-safe under eventlet), build off it.
    rows = read(event, with_votes=fmt == "json", with_audit=fmt in ("json", "xlsx"))
    if fmt == "pdf":
        # The render itself waits for its child process on the hub, without blocking it.
        job, name = off_hub(_pdf_file_job, rows)
        return Export(pdf.report(*job), MEDIA_TYPES[fmt], name)
    content, name = off_hub(_build, rows, fmt)
    return Export(content, MEDIA_TYPES[fmt], name)


def _build(rows: Rows, fmt: str) -> tuple[bytes, str]:
    snap = assemble(rows)
    return WRITERS[fmt](snap), filename(snap, fmt)


def _pdf_file_job(rows: Rows) -> tuple[tuple, str]:
    snap = assemble(rows)
    return pdf_job(snap), filename(snap, "pdf")
