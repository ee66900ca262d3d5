"""Restore a JSON export (docs/export-format.md) as a new event: validate everything, then write
it in one transaction, so a refused file changes nothing."""

from __future__ import annotations

import json
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from workshop import validation
from workshop.db.engine import write_transaction
from workshop.db.models import (
    PHASES,
    STATUSES,
    Area,
    AreaTranslation,
    AuditEntry,
    CardTranslation,
    Event,
    EventTranslation,
    MergedVote,
    Participant,
    Suggestion,
    User,
    Vote,
)
from workshop.domain import affiliations, events, rules, translations
from workshop.domain.suggestions import BODY_MAX, TITLE_MAX
from workshop.errors import WorkshopError
from workshop.extensions import db
from workshop.results.exports import JSON_FORMAT, JSON_VERSION

#: Versions this installation reads: version 1 files (without languages), version 2 files
#: (without the follow-up trail) and version 3 files (without affiliations) still come in.
READABLE_VERSIONS = (1, 2, 3, JSON_VERSION)
#: Generous ceilings that still keep a hostile file from exhausting memory.
MAX_PARTICIPANTS = 1_000_000
MAX_SUGGESTIONS = 100_000
MAX_VOTES = 5_000_000

TOP_FIELDS = {
    "format",
    "version",
    "exported_at",
    "event",
    "areas",
    "participants",
    "suggestions",
    "votes",
    "merge_ledger",
    "audit",
    # Version 4: who supports what; the tables are derived, made again from the answers.
    "participant_affiliations",
    "affiliation_tables",
}
#: Fields older files lack.
LATER_TOP_FIELDS = {"participant_affiliations", "affiliation_tables"}
MAX_AUDIT = 1_000_000
#: Deepest nesting of lists and objects read: an export nests about 6 deep (an audit entry's
#: details a few more); a deeper file is refused before it can exhaust Python's stack.
MAX_DEPTH = 32
#: Dots, budgets and caps never exceed the settings' ceiling (rules.SETTINGS).
MAX_DOTS = 100
ACTION = re.compile(r"[a-z_]{1,64}")
#: The event's fields besides its settings; those about languages are optional when reading.
EVENT_FIELDS = {"code", "title", "question", "phase", "created_at", "settings"}
LANGUAGE_FIELDS = {"default_language", "board_languages", "languages", "translations"}
#: Optional event fields of later versions.
LATER_FIELDS = {"affiliations"}
#: A translation's texts: (longest, required, multiline), as staff and the engine may store them.
CARD_TEXTS = {
    "title": (translations.TITLE_MAX, True, False),
    "body": (translations.BODY_MAX, False, True),
}
QUESTION_TEXTS = {"question": (1000, True, True)}
AREA_TEXTS = {"name": (100, True, False)}


class ImportRefused(WorkshopError):
    """The file is not a valid export; nothing was written."""

    def __init__(self, where: str, problem: Any):
        super().__init__(
            "invalid_import",
            _l(
                "The file is not a valid event export (%(where)s): %(problem)s",
                where=where,
                problem=problem,
            ),
            where=where,
        )


@dataclass
class Plan:
    """A checked export, ready to write."""

    event: dict[str, Any]
    areas: list[dict[str, Any]] = field(default_factory=list)
    participants: int = 0
    #: Each participant's answer by number (None: skipped or never asked).
    answers: list[str | None] = field(default_factory=list)
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    votes: list[tuple[int, int, int]] = field(default_factory=list)
    ledger: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    #: (time, action, card number or None, details)
    audit: list[tuple[datetime, str, int | None, dict]] = field(default_factory=list)


# -- checking --------------------------------------------------------------------------------


def _checked(where: str, check, *args, **kwargs):
    """Run a `validation` check, naming the place in the file when it refuses."""
    try:
        return check(*args, **kwargs)
    except WorkshopError as exc:
        raise ImportRefused(where, exc.message) from None


def _object(value: Any, where: str, allowed: set[str], required: set[str]) -> dict:
    """An object with only known fields and all required ones; `where` "" is the file itself."""
    if not isinstance(value, dict):
        raise ImportRefused(where or "file", _l("an object was expected."))
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ImportRefused(f"{where}.{unknown[0]}".lstrip("."), _l("unknown field."))
    missing = sorted(required - set(value))
    if missing:
        raise ImportRefused(f"{where}.{missing[0]}".lstrip("."), _l("this field is missing."))
    return value


def _list(value: Any, where: str, maximum: int) -> list:
    if not isinstance(value, list):
        raise ImportRefused(where, _l("a list was expected."))
    if len(value) > maximum:
        raise ImportRefused(where, _l("too many entries (at most %(max)d).", max=maximum))
    return value


def _moment(value: Any, where: str) -> datetime:
    """An ISO 8601 time, stored as naive UTC like every time in the database."""
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    # OverflowError: a time zone that moves year 1 or 9999 out of range.
    except (TypeError, ValueError, OverflowError):
        raise ImportRefused(where, _l("a time like 2026-06-07T10:12:00Z was expected.")) from None
    return moment


def _integer(value: Any, where: str, minimum: int, maximum: int) -> int:
    return _checked(where, validation.integer, value, where, minimum=minimum, maximum=maximum)


def _number(value: Any, where: str, known: set[int] | dict[int, Any], problem: Any) -> int:
    """A number of the file naming one of `known` (a card, an area); anything else, a list or
    an object included, is refused with `problem`."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in known:
        raise ImportRefused(where, problem)
    return value


def _check_depth(document: Any) -> None:
    """Refuse lists and objects nested deeper than MAX_DEPTH (checked without recursion)."""
    level = [document]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        if not level:
            return
    raise ImportRefused("file", _l("lists and objects are nested too deeply."))


def _event(raw: Any) -> dict:
    data = _object(
        raw, "event", EVENT_FIELDS | LANGUAGE_FIELDS | LATER_FIELDS, {"title", "phase", "settings"}
    )
    settings = _object(data["settings"], "event.settings", set(rules.SETTINGS), set())
    parsed = {}
    for name, (kind, *args) in rules.SETTINGS.items():
        where = f"event.settings.{name}"
        if name not in settings:
            continue
        if kind == "int":
            parsed[name] = _integer(settings[name], where, args[0], args[1])
        elif kind == "optional_int":
            parsed[name] = _checked(
                where, validation.optional_integer, settings[name], where, args[0], args[1]
            )
        elif kind == "choice":
            parsed[name] = _checked(where, validation.choice, settings[name], name, args[0])
        else:
            parsed[name] = _checked(where, validation.boolean, settings[name], name)
    return {
        "title": _checked("event.title", validation.text, data["title"], "title", max_length=200),
        "question": _checked(
            "event.question",
            validation.text,
            data.get("question"),
            "question",
            max_length=1000,
            required=False,
            multiline=True,
        ),
        "phase": _checked("event.phase", validation.choice, data["phase"], "phase", PHASES),
        "created_at": _moment(data["created_at"], "event.created_at")
        if "created_at" in data
        else None,
        "settings": parsed,
        "languages": _event_languages(data),
        "affiliations": _checked(
            "event.affiliations", affiliations.parse, data.get("affiliations", [])
        ),
        "translations": _translations(data.get("translations", {}), "event", QUESTION_TEXTS),
    }


def _event_languages(data: dict) -> dict[str, str]:
    """The event's language settings found in the file, as the model stores them; a file
    without them (version 1) leaves the defaults."""
    offered = tuple(current_app.config["WORKSHOP_LANGUAGES"])
    found = {}
    if "default_language" in data:
        where = "event.default_language"
        found["default_language"] = _checked(
            where, validation.choice, data["default_language"], where, offered
        )
    for name in ("board_languages", "languages"):
        if name in data:
            where = f"event.{name}"
            codes = _list(data[name], where, len(offered))
            found[name] = ",".join(
                dict.fromkeys(
                    _checked(where, validation.choice, code, where, offered) for code in codes
                )
            )
    return found


def _translations(raw: Any, where: str, texts: dict[str, tuple[int, bool, bool]]) -> dict:
    """{language: {text: ..., "machine": bool}}, checked; translations are kept under a base
    language code (plain German reads the German one)."""
    where = f"{where}.translations"
    if not isinstance(raw, dict):
        raise ImportRefused(where, _l("an object was expected."))
    codes = tuple(
        dict.fromkeys(translations.base(code) for code in current_app.config["WORKSHOP_LANGUAGES"])
    )
    parsed = {}
    for code, item in raw.items():
        here = f"{where}.{code}"
        _checked(here, validation.choice, code, "language", codes)
        data = _object(
            item,
            here,
            {*texts, "machine"},
            {"machine"} | {name for name, spec in texts.items() if spec[1]},
        )
        entry = {
            "machine": _checked(f"{here}.machine", validation.boolean, data["machine"], "machine")
        }
        for name, (longest, required, multiline) in texts.items():
            entry[name] = _checked(
                f"{here}.{name}",
                validation.text,
                data.get(name),
                name,
                max_length=longest,
                required=required,
                multiline=multiline,
            )
        parsed[code] = entry
    return parsed


def _areas(raw: Any) -> list[dict]:
    areas, seen = [], set()
    for index, item in enumerate(_list(raw, "areas", events.MAX_AREAS)):
        where = f"areas[{index}]"
        data = _object(
            item, where, {"id", "name", "color", "translations"}, {"id", "name", "color"}
        )
        number = _integer(data["id"], f"{where}.id", 1, 2**31)
        if number in seen:
            raise ImportRefused(f"{where}.id", _l("this id is used twice."))
        seen.add(number)
        color = data["color"]
        if not isinstance(color, str) or not events.COLOR.match(color):
            raise ImportRefused(f"{where}.color", _l("A colour must look like #1f5fa8."))
        name = _checked(f"{where}.name", validation.text, data["name"], "name", max_length=100)
        areas.append(
            {
                "id": number,
                "name": name,
                "color": color,
                "translations": _translations(data.get("translations", {}), where, AREA_TEXTS),
            }
        )
    return areas


def _suggestions(raw: Any, area_ids: set[int]) -> list[dict]:
    cards, seen = [], set()
    fields = {"id", "area", "title", "body", "status", "merged_into", "dots", "voters"}
    for index, item in enumerate(_list(raw, "suggestions", MAX_SUGGESTIONS)):
        where = f"suggestions[{index}]"
        data = _object(
            item,
            where,
            fields
            | {"created_at", "language", "translations", "origin", "followed_up", "from_paper"},
            fields - {"body"},
        )
        number = _integer(data["id"], f"{where}.id", 1, 2**31)
        if number in seen:
            raise ImportRefused(f"{where}.id", _l("this id is used twice."))
        seen.add(number)
        if data["area"] is not None:
            _number(data["area"], f"{where}.area", area_ids, _l("there is no area with this id."))
        cards.append(_suggestion(data, where, number))
    _check_merges(cards)
    return cards


def _suggestion(data: dict, where: str, number: int) -> dict:
    """One card's checked fields; its merge target is checked once all cards are known."""
    return {
        "id": number,
        "area": data["area"],
        "title": _checked(
            f"{where}.title", validation.text, data["title"], "title", max_length=TITLE_MAX
        ),
        "body": _checked(
            f"{where}.body",
            validation.text,
            data.get("body"),
            "body",
            max_length=BODY_MAX,
            required=False,
            multiline=True,
        ),
        "status": _checked(
            f"{where}.status", validation.choice, data["status"], "status", STATUSES
        ),
        "merged_into": data["merged_into"],
        "dots": _integer(data["dots"], f"{where}.dots", 0, 2**31),
        "voters": _integer(data["voters"], f"{where}.voters", 0, 2**31),
        "created_at": _moment(data["created_at"], f"{where}.created_at")
        if "created_at" in data
        else None,
        "language": _card_language(data.get("language"), where),
        "translations": _translations(data.get("translations", {}), where, CARD_TEXTS),
        "origin": _origin(data.get("origin"), where),
        "from_paper": _checked(
            f"{where}.from_paper", validation.boolean, data.get("from_paper", False), "from_paper"
        ),
    }


def _origin(value: Any, where: str) -> tuple[str, int] | None:
    """Where a follow-up event's card came from (event code, card id), kept as it is; the
    forward trail (`followed_up`) is read from the follow-up events themselves, not the file."""
    if value is None:
        return None
    where = f"{where}.origin"
    data = _object(value, where, {"event", "suggestion"}, {"event", "suggestion"})
    code = data["event"]
    if not isinstance(code, str) or not events.CODE_FORMAT.fullmatch(code):
        raise ImportRefused(f"{where}.event", _l("this is no event code."))
    return code, _integer(data["suggestion"], f"{where}.suggestion", 1, 2**31)


def _card_language(value: Any, where: str) -> str | None:
    """The language a card is written in, one this installation offers; null: not known."""
    if value is None:
        return None
    offered = tuple(current_app.config["WORKSHOP_LANGUAGES"])
    return _checked(f"{where}.language", validation.choice, value, "language", offered)


def _check_merges(cards: list[dict]) -> None:
    """Every merge points at another card of the file, and no chain of merges loops."""
    by_id = {card["id"]: card for card in cards}
    for index, card in enumerate(cards):
        target = card["merged_into"]
        if target is None:
            continue
        others = by_id.keys() - {card["id"]}
        _number(
            target,
            f"suggestions[{index}].merged_into",
            others,
            _l("there is no other suggestion with this id."),
        )
        # Follow the chain: a loop would make both cards vanish from every view.
        seen_in_chain = {card["id"]}
        while target is not None:
            if target in seen_in_chain:
                raise ImportRefused(
                    f"suggestions[{index}].merged_into", _l("the merges form a loop.")
                )
            seen_in_chain.add(target)
            target = by_id[target]["merged_into"]


def _votes(raw: Any, plan: Plan) -> None:
    cards = {card["id"]: card for card in plan.suggestions}
    cap = plan.event["settings"].get("max_dots_per_suggestion", 2)
    budget = plan.event["settings"].get("vote_budget", 5)
    spent: Counter[int] = Counter()
    dots: Counter[int] = Counter()
    voters: Counter[int] = Counter()
    seen = set()
    for index, item in enumerate(_list(raw, "votes", MAX_VOTES)):
        where = f"votes[{index}]"
        data = _object(
            item,
            where,
            {"participant", "suggestion", "dots"},
            {"participant", "suggestion", "dots"},
        )
        person = _integer(data["participant"], f"{where}.participant", 1, max(plan.participants, 1))
        if person > plan.participants:
            raise ImportRefused(
                f"{where}.participant", _l("there is no participant with this number.")
            )
        number = _number(
            data["suggestion"],
            f"{where}.suggestion",
            cards,
            _l("there is no suggestion with this id."),
        )
        card = cards[number]
        if card["merged_into"] is not None:
            raise ImportRefused(f"{where}.suggestion", _l("a merged suggestion cannot hold dots."))
        amount = _integer(data["dots"], f"{where}.dots", 1, cap)
        if (person, card["id"]) in seen:
            raise ImportRefused(where, _l("a second vote of one participant on one suggestion."))
        seen.add((person, card["id"]))
        spent[person] += amount
        if spent[person] > budget:
            raise ImportRefused(where, _l("this participant spent more dots than the budget."))
        dots[card["id"]] += amount
        voters[card["id"]] += 1
        plan.votes.append((person, card["id"], amount))
    for index, card in enumerate(plan.suggestions):
        if card["dots"] != dots[card["id"]] or card["voters"] != voters[card["id"]]:
            raise ImportRefused(
                f"suggestions[{index}]", _l("its dots and voters do not match the votes.")
            )


def _ledger(raw: Any, plan: Plan) -> None:
    """What merges did to each participant's dots, checked to be what a merge writes (see
    `_ledger_entry` and `_check_caps`), so that undoing an imported merge restores only dots
    that were cast."""
    merged = {card["id"]: card for card in plan.suggestions if card["merged_into"] is not None}
    seen = set()
    fields = {"suggestion", "participant", "moved", "before", "after"}
    for index, item in enumerate(_list(raw, "merge_ledger", MAX_VOTES)):
        where = f"merge_ledger[{index}]"
        data = _object(item, where, fields, fields)
        card = _number(
            data["suggestion"],
            f"{where}.suggestion",
            merged,
            _l("there is no merged suggestion with this id."),
        )
        person = _integer(data["participant"], f"{where}.participant", 1, max(plan.participants, 1))
        if person > plan.participants:
            raise ImportRefused(
                f"{where}.participant", _l("there is no participant with this number.")
            )
        if (card, person) in seen:
            raise ImportRefused(where, _l("a second entry for one participant and suggestion."))
        seen.add((card, person))
        plan.ledger.append((card, person, *_ledger_entry(data, where)))
    _check_caps(plan.ledger)


def _ledger_entry(data: dict, where: str) -> tuple[int, int, int]:
    """(moved, before, after) of one entry as a merge writes them: the participant had `moved`
    dots (at least one) on the merged card and `before` on the target, which then holds
    `after` = min(before + moved, the cap then); so before <= after <= before + moved."""
    moved = _integer(data["moved"], f"{where}.moved", 1, MAX_DOTS)
    before = _integer(data["before"], f"{where}.before", 0, MAX_DOTS)
    after = _integer(data["after"], f"{where}.after", before, before + moved)
    return moved, before, after


def _check_caps(ledger: list[tuple[int, int, int, int, int]]) -> None:
    """Dots are given back (after < before + moved) only at the cap in force at that merge: one
    value for all entries of a merged card, and no entry of it held more than that cap. Without
    this a file could claim dots given back that unmerging would then hand out."""
    caps: dict[int, set[int]] = {}
    for card, _person, moved, before, after in ledger:
        if after < before + moved:
            caps.setdefault(card, set()).add(after)
    for index, (card, _person, moved, before, after) in enumerate(ledger):
        found = caps.get(card)
        if found and (len(found) > 1 or max(moved, before, after) > min(found)):
            raise ImportRefused(f"merge_ledger[{index}]", _l("no merge leaves these dots."))


def _audit(raw: Any, plan: Plan) -> None:
    """The activity log, kept as history; staff numbers are not accounts here, so not linked."""
    cards = {card["id"] for card in plan.suggestions}
    for index, item in enumerate(_list(raw, "audit", MAX_AUDIT)):
        where = f"audit[{index}]"
        fields = {"at", "by", "action", "suggestion", "details"}
        data = _object(item, where, fields, {"at", "action"})
        action = data["action"]
        if not isinstance(action, str) or not ACTION.fullmatch(action):
            raise ImportRefused(f"{where}.action", _l("an action name was expected."))
        card = data.get("suggestion")
        if card is not None:
            _number(card, f"{where}.suggestion", cards, _l("no suggestion has this number."))
        details = _details(data.get("details") or {}, f"{where}.details")
        if data.get("by") is not None:
            details = {**details, "by": _integer(data["by"], f"{where}.by", 1, 10_000)}
        plan.audit.append((_moment(data["at"], f"{where}.at"), action, card, details))


def _details(value: Any, where: str) -> dict:
    """An audit entry's details: an object that can be stored as UTF-8 JSON (a lone surrogate,
    possible in JSON text, cannot)."""
    if not isinstance(value, dict):
        raise ImportRefused(where, _l("an object was expected."))
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ImportRefused(where, _l("%(field)s is not valid text.", field="details")) from None
    return value


def _answers(raw: Any, plan: Plan) -> list[str | None]:
    """The participants' affiliations by number: each one of the event's list, or null."""
    where = "participant_affiliations"
    answers = _list(raw, where, plan.participants)
    listed = set(affiliations.listed(plan.event["affiliations"]))
    for answer in answers:
        if answer is not None and (not isinstance(answer, str) or answer not in listed):
            raise ImportRefused(where, _l("Please choose one of the listed answers."))
    return answers


def parse(document: Any) -> Plan:
    """Check a decoded export completely; raise ImportRefused naming the first problem."""
    if not isinstance(document, dict) or document.get("format") != JSON_FORMAT:
        raise ImportRefused("format", _l("this is not a workshop event export."))
    _check_depth(document)
    if document.get("version") not in READABLE_VERSIONS:
        raise ImportRefused(
            "version",
            _l(
                "version %(found)s cannot be read; this installation reads version %(known)d.",
                found=json.dumps(document.get("version")),
                known=JSON_VERSION,
            ),
        )
    data = _object(document, "", TOP_FIELDS, TOP_FIELDS - {"exported_at"} - LATER_TOP_FIELDS)
    plan = Plan(event=_event(data["event"]))
    plan.areas = _areas(data["areas"])
    plan.participants = _integer(data["participants"], "participants", 0, MAX_PARTICIPANTS)
    plan.answers = _answers(data.get("participant_affiliations", []), plan)
    if not isinstance(data.get("affiliation_tables"), dict | None):
        raise ImportRefused("affiliation_tables", _l("this must be an object or null."))
    plan.suggestions = _suggestions(data["suggestions"], {area["id"] for area in plan.areas})
    _votes(data["votes"], plan)
    _ledger(data["merge_ledger"], plan)
    _audit(data.get("audit", []), plan)
    return plan


def parse_bytes(raw: bytes) -> Plan:
    """Decode and check an export file's content."""
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportRefused("file", _l("the file is not UTF-8 text.")) from None
    except json.JSONDecodeError as exc:
        raise ImportRefused(
            f"line {exc.lineno}, column {exc.colno}", _l("the file is not valid JSON.")
        ) from None
    except RecursionError:
        raise ImportRefused("file", _l("lists and objects are nested too deeply.")) from None
    except ValueError:
        # Python refuses numbers of more than 4,300 digits while decoding.
        raise ImportRefused("file", _l("the file holds a number that is too long.")) from None
    return parse(document)


# -- writing ---------------------------------------------------------------------------------


def import_event(plan: Plan, owner: User | None = None) -> Event:
    """Write a checked export as a new event with a new code, in one transaction."""
    with write_transaction():
        event, area_ids = _insert_event(plan, owner)
        person_ids = _insert_participants(plan, event)
        card_ids = _insert_suggestions(plan, event, area_ids)
        _insert_votes(plan, person_ids, card_ids)
        _insert_audit(plan, event, card_ids)
    return event


def _insert_event(plan: Plan, owner: User | None) -> tuple[Event, dict[int, int]]:
    """The new event with its areas; also the areas' new ids by their numbers in the file."""
    event = Event(
        code=events.new_code(),  # the same readable, unused code as a new event
        title=plan.event["title"],
        question=plan.event["question"],
        phase=plan.event["phase"],
        owner_id=owner.id if owner else None,
        **plan.event["settings"],
        **plan.event["languages"],
        affiliations=plan.event["affiliations"],
    )
    if plan.event["created_at"] is not None:
        event.created_at = plan.event["created_at"]
    event.translations = [
        EventTranslation(language=code, question=text["question"], machine=text["machine"])
        for code, text in plan.event["translations"].items()
    ]
    event.areas = [
        Area(
            name=area["name"],
            color=area["color"],
            position=position,
            translations=[
                AreaTranslation(language=code, name=text["name"], machine=text["machine"])
                for code, text in area["translations"].items()
            ],
        )
        for position, area in enumerate(plan.areas)
    ]
    db.session.add(event)
    db.session.flush()
    area_ids = {area["id"]: row.id for area, row in zip(plan.areas, event.areas, strict=True)}
    return event, area_ids


def _insert_participants(plan: Plan, event: Event) -> dict[int, int]:
    """Anonymous participants with the dots they spent; their new ids by number in the file."""
    budget = plan.event["settings"].get("vote_budget", 5)
    spent: Counter[int] = Counter()
    for person, _card, dots in plan.votes:
        spent[person] += dots
    people = _insert_returning_ids(
        Participant,
        [
            # A random value that is the hash of no token: nobody can sign in as them.
            {
                "event_id": event.id,
                "token_hash": secrets.token_hex(32),
                "dots_budget": budget,
                "dots_used": spent[number],
                # The file does not say who filed which card: voters are the devices known
                # to have taken part (queries.COUNTED).
                "took_part": spent[number] > 0,
                # An imported answer stays an answer; skipped and never asked read alike.
                "affiliation": plan.answers[number - 1] if number <= len(plan.answers) else None,
            }
            for number in range(1, plan.participants + 1)
        ],
    )
    return dict(zip(range(1, plan.participants + 1), people, strict=True))


def _insert_suggestions(plan: Plan, event: Event, area_ids: dict[int, int]) -> dict[int, int]:
    """The cards, then their merges; the cards' new ids by their numbers in the file."""
    # Inserted in file order, so new ids keep the order ties are broken by.
    rows = []
    for card in plan.suggestions:
        row = {
            "event_id": event.id,
            "area_id": area_ids.get(card["area"]),
            "title": card["title"],
            "body": card["body"],
            "status": card["status"],
            "language": card["language"],
            "origin_event": card["origin"][0] if card["origin"] else None,
            "origin_suggestion": card["origin"][1] if card["origin"] else None,
            "from_paper": card["from_paper"],
            "dots": card["dots"],
            "voters": card["voters"],
        }
        if card["created_at"] is not None:
            row["created_at"] = row["updated_at"] = card["created_at"]
        rows.append(row)
    new_ids = _insert_returning_ids(Suggestion, _same_keys(rows))
    card_ids = {card["id"]: new for card, new in zip(plan.suggestions, new_ids, strict=True)}
    merges = [
        {"id": card_ids[card["id"]], "merged_into_id": card_ids[card["merged_into"]]}
        for card in plan.suggestions
        if card["merged_into"] is not None
    ]
    if merges:
        db.session.execute(sa.update(Suggestion), merges)
    _insert_card_translations(plan, card_ids)
    return card_ids


def _insert_card_translations(plan: Plan, card_ids: dict[int, int]) -> None:
    rows = [
        {
            "suggestion_id": card_ids[card["id"]],
            "language": code,
            "title": text["title"],
            "body": text["body"],
            "machine": text["machine"],
            # Made from the card as the file has it, so the engine takes it as current.
            "source_hash": translations.source_hash(SimpleNamespace(**card)),
        }
        for card in plan.suggestions
        for code, text in card["translations"].items()
    ]
    if rows:
        db.session.execute(sa.insert(CardTranslation), rows)


def _insert_votes(plan: Plan, person_ids: dict[int, int], card_ids: dict[int, int]) -> None:
    """The votes and the ledger of dots moved by merges."""
    if plan.votes:
        db.session.execute(
            sa.insert(Vote),
            [
                {"participant_id": person_ids[p], "suggestion_id": card_ids[s], "dots": dots}
                for p, s, dots in plan.votes
            ],
        )
    if plan.ledger:
        db.session.execute(
            sa.insert(MergedVote),
            [
                {
                    "suggestion_id": card_ids[s],
                    "participant_id": person_ids[p],
                    "moved": moved,
                    "before": before,
                    "after": after,
                }
                for s, p, moved, before, after in plan.ledger
            ],
        )


def _insert_audit(plan: Plan, event: Event, card_ids: dict[int, int]) -> None:
    if plan.audit:
        db.session.execute(
            sa.insert(AuditEntry),
            [
                {
                    "event_id": event.id,
                    "action": action,
                    "suggestion_id": card_ids[card] if card is not None else None,
                    "details": json.dumps(details, ensure_ascii=False),
                    "created_at": at,
                }
                for at, action, card, details in plan.audit
            ],
        )


def _same_keys(rows: list[dict]) -> list[dict]:
    """Give every row the same keys, so one executemany batch can insert them all."""
    now = datetime.now(UTC).replace(tzinfo=None)
    for row in rows:
        row.setdefault("created_at", now)
        row.setdefault("updated_at", now)
    return rows


def _insert_returning_ids(model: type, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    return list(
        db.session.scalars(sa.insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    )
