"""Events: creation, copies, settings, phases, the board's display, archiving and deletion."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from workshop import validation
from workshop.clock import utcnow
from workshop.db.engine import WriteTransaction, write_transaction
from workshop.db.models import (
    BOARD_LAYOUTS,
    BOARD_THEMES,
    PHASES,
    SCREENS,
    Area,
    Event,
    Participant,
    Suggestion,
    User,
    Vote,
)
from workshop.domain import affiliations, audit
from workshop.domain.rules import LANGUAGE_SETTINGS, SETTINGS, counts_visible
from workshop.domain.schemas import card_messages, event_messages
from workshop.errors import Conflict, Forbidden, NotFound
from workshop.extensions import db
from workshop.live import publisher
from workshop.signals import event_deleted, results_opened

#: Readable codes: no 0/O, 1/I/L, 2/Z, 5/S, 8/B pairs to confuse on a projector or by ear.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6

#: Areas of the Rostock integration concept of 2014, the template the first plenum uses.
TEMPLATE_INTEGRATION_2014 = (
    "Willkommensstruktur und interkulturelle Öffnung",
    "Bildung und Ausbildung",
    "Sprachförderung",
    "Qualifizierung und Arbeit",
    "Gesundheit und Soziales",
    "Politik und Gesellschaft",
    "Interreligiöser Dialog",
    "Integration im Stadtteil",
)

#: Area lists a new event can start from (`"template"` in `POST /events`).
TEMPLATES = {"integration-2014": TEMPLATE_INTEGRATION_2014, "empty": ()}

#: Colours that keep white text above 4.5:1 contrast.
PALETTE = (
    "#1f5fa8",
    "#a23b72",
    "#2e7d32",
    "#b3541e",
    "#6a1b9a",
    "#00695c",
    "#8d4f00",
    "#c62828",
    "#37474f",
    "#4e5d94",
    "#7b5e00",
    "#ad1457",
)

MAX_BOARD_LANGUAGES = 6
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
CODE_FORMAT = re.compile(r"[A-Z0-9]{1,12}")
MAX_AREAS = 30


def normalise_code(code: str) -> str:
    return str(code).strip().upper()


def event_not_found() -> NotFound:
    return NotFound("event_not_found", _l("There is no event with this code."))


def checked_code(code: str) -> str:
    """The code as stored, or a 404 error for text that cannot be one."""
    code = normalise_code(code)
    # Checked first: a socket's auth data may hold any text, even what SQLite cannot encode.
    if not CODE_FORMAT.fullmatch(code):
        raise event_not_found()
    return code


def get_event(code: str) -> Event:
    """The event with this join code, or a 404 error."""
    event = db.session.scalar(sa.select(Event).where(Event.code == checked_code(code)))
    if event is None:
        raise event_not_found()
    return event


#: Where an app keeps its event ids by code: codes never change, so an id is read once (a
#: deleted event's code may name a new event later: callers that find no event read again).
_EVENT_IDS = "workshop.events.ids"
#: The most codes an app remembers; then it starts again (a few bytes each).
_EVENT_IDS_MAX = 10_000
_EVENT_ID = sa.select(Event.id).where(Event.code == sa.bindparam("code"))


def remembered_id(code: str) -> int | None:
    """The id this app last knew for the event with this (stored) code; no database read."""
    return current_app.extensions.get(_EVENT_IDS, {}).get(code)


def remember_id(code: str, event_id: int | None) -> None:
    """Note (or, with None, forget) the id of the event with this code."""
    known: dict[str, int] = current_app.extensions.setdefault(_EVENT_IDS, {})
    if event_id is None:
        known.pop(code, None)
        return
    if len(known) >= _EVENT_IDS_MAX:
        known.clear()
    known[code] = event_id


def event_id(code: str, fresh: bool = False) -> int:
    """The id of the event with this (stored) code: remembered, or read (`fresh`: always read).
    A 404 error when there is none."""
    found = None if fresh else remembered_id(code)
    if found is None:
        found = db.session.scalar(_EVENT_ID, {"code": code})
        # Hand the connection back: hundreds of votes wait for their batch, holding none.
        db.session.rollback()
        remember_id(code, found)
        if found is None:
            raise event_not_found()
    return found


def can_manage(user: User | None, event: Event) -> bool:
    # A helper never manages, not even an event they owned before an admin made them a helper.
    return user is not None and not user.is_helper and (user.is_admin or event.owner_id == user.id)


def can_help(user: User | None, event: Event) -> bool:
    """Whether this account may use the paper lane of this event: helpers on any open event
    (neither in preparation nor archived), and the event's own staff."""
    if user is None or event.phase == "draft" or event.archived_at is not None:
        return False
    return user.is_helper or can_manage(user, event)


def helpable_events(user: User) -> list[Event]:
    """The open events this account may help with, newest first (the helper's start page)."""
    query = sa.select(Event).where(Event.phase != "draft", Event.archived_at.is_(None))
    if not user.is_helper and not user.is_admin:
        query = query.where(Event.owner_id == user.id)
    return list(db.session.scalars(query.order_by(Event.created_at.desc())))


def require_visible(event: Event, user: User | None) -> Event:
    """The event, if this caller may see it: a draft is only its staff's; anyone else gets the
    same 404 as for a code that does not exist (nothing tells them the code is taken)."""
    if event.phase == "draft" and not can_manage(user, event):
        raise event_not_found()
    return event


def require_manager(user: User | None, event: Event) -> None:
    if not can_manage(user, event):
        raise Forbidden("forbidden", _l("You may not manage this event."))


def require_open(event: Event) -> None:
    """Refuse a participant's write to an archived event."""
    if event.archived_at is not None:
        raise archived()


def archived() -> Conflict:
    return Conflict("archived", _l("This event is archived; nothing can be changed any more."))


def _languages(value: Any, field: str) -> str:
    """A list of offered language codes, stored as one comma-separated string."""
    # The board cycles through at most six instructions; an event may work in every language.
    offered = len(current_app.config["WORKSHOP_LANGUAGES"])
    most = offered if field == "languages" else MAX_BOARD_LANGUAGES
    if not isinstance(value, list) or len(value) > most:
        raise validation.invalid(
            field, _l("%(field)s must be a list of language codes.", field=field)
        )
    codes = [validation.language(code, field) for code in value]
    return ",".join(dict.fromkeys(codes))


def new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(sa.select(Event.id).where(Event.code == code)) is None:
            return code


def _parse_areas(raw: Any) -> list[tuple[str, str | None]]:
    if not isinstance(raw, list):
        raise validation.invalid("areas", _l("areas must be a list."))
    if len(raw) > MAX_AREAS:
        raise validation.invalid("areas", _l("At most %(max)d areas.", max=MAX_AREAS))
    areas = []
    for item in raw:
        color = None
        if isinstance(item, dict):
            validation.check_fields(item, {"name", "color"}, {"name"})
            color = item.get("color")
            if color is not None and (not isinstance(color, str) or not COLOR.match(color)):
                raise validation.invalid("color", _l("A colour must look like #1f5fa8."))
            item = item["name"]
        areas.append((validation.text(item, "name", max_length=100), color))
    return areas


def _parse_settings(raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise validation.invalid("settings", _l("settings must be an object."))
    validation.check_fields(raw, set(SETTINGS) | set(LANGUAGE_SETTINGS) | {"affiliations"})
    parsed = {}
    for name, value in raw.items():
        if name == "affiliations":
            parsed[name] = affiliations.parse(value)
            continue
        kind, *args = SETTINGS.get(name) or LANGUAGE_SETTINGS[name]
        if kind == "language":
            parsed[name] = validation.language(value, name)
        elif kind == "languages":
            parsed[name] = _languages(value, name)
        elif kind == "int":
            parsed[name] = validation.integer(value, name, minimum=args[0], maximum=args[1])
        elif kind == "optional_int":
            parsed[name] = validation.optional_integer(value, name, args[0], args[1])
        elif kind == "choice":
            parsed[name] = validation.choice(value, name, args[0])
        else:
            parsed[name] = validation.boolean(value, name)
    return parsed


def create_event(owner: User | None, data: Any) -> Event:
    """Create an event with its areas (a list, or a template's name) from an API-shaped dict."""
    validation.check_fields(
        data, {"title", "question", "areas", "template", "settings", "phase"}, {"title"}
    )
    title = validation.text(data["title"], "title", max_length=200)
    question = validation.text(
        data.get("question"), "question", max_length=1000, required=False, multiline=True
    )
    if "template" in data:
        if "areas" in data:
            raise validation.invalid("template", _l("Give either areas or a template, not both."))
        template = validation.choice(data["template"], "template", tuple(TEMPLATES))
        areas = [(name, None) for name in TEMPLATES[template]]
    else:
        areas = _parse_areas(data.get("areas", []))
    settings = _parse_settings(data.get("settings", {}))
    phase = validation.choice(data.get("phase", "collect"), "phase", PHASES)
    with write_transaction() as tx:
        event = Event(
            code=new_code(),
            title=title,
            question=question,
            phase=phase,
            owner_id=owner.id if owner else None,
            **settings,
        )
        event.areas = [
            Area(name=name, color=color or PALETTE[i % len(PALETTE)], position=i)
            for i, (name, color) in enumerate(areas)
        ]
        db.session.add(event)
        db.session.flush()
        audit.record(tx, event.id, owner, "event_created", title=title)
    return event


def duplicate_event(event: Event, user: User | None) -> Event:
    """A new event in preparation with this one's texts, areas and rules; no cards, no people."""
    event_id = event.id
    with write_transaction() as tx:
        source = db.session.get(Event, event_id)
        copy = Event(
            code=new_code(),
            title=_copy_title(source.title),
            question=source.question,
            phase="draft",
            owner_id=user.id if user else source.owner_id,
            **{name: getattr(source, name) for name in (*SETTINGS, *LANGUAGE_SETTINGS)},
            affiliations=source.affiliations,
        )
        copy.areas = [
            Area(name=area.name, color=area.color, position=i)
            for i, area in enumerate(source.areas)
        ]
        db.session.add(copy)
        db.session.flush()
        audit.record(tx, copy.id, user, "event_duplicated", source=source.code)
    return copy


def _copy_title(title: str, max_length: int = 200) -> str:
    """ "Plenum (copy)" in the caller's language, shortened to fit the title's limit."""
    result = str(_l("%(title)s (copy)", title=title))
    over = len(result) - max_length
    if over > 0:
        result = str(_l("%(title)s (copy)", title=title[: -(over + 1)] + "…"))
    return result


def delete_event(event: Event) -> None:
    """Delete an event with every card, participant, dot and audit entry (database cascade)."""
    event_id = event.id
    with write_transaction(event_id):
        db.session.execute(sa.delete(Event).where(Event.id == event_id))
    event_deleted.send(None, event_id=event_id)


#: The longest countdown the board shows (4 hours), set at once or by adding to it.
TIMER_MAX_SECONDS = 4 * 3600
#: The key under which _parse_display hands `timer_add_seconds` on to _extend_timer.
TIMER_ADD = "timer_add_seconds"

#: Columns of the board's display state, by the names the API gives them.
DISPLAY_FIELDS = {
    "screen": "screen",
    "spotlight_id": "spotlight",
    "timer_ends_at": "timer_ends_at",
    "board_layout": "layout",
    "board_theme": "theme",
}


def update_event(event: Event, data: Any, user: User | None = None) -> Event:
    """Change the phase, texts, rules, display or archive state of an event; tell every screen."""
    changes = _parse_changes(data)
    archive = validation.boolean(data["archived"], "archived") if "archived" in data else None
    event_id = event.id
    with write_transaction(event_id) as tx:
        event = db.session.get(Event, event_id)
        _check_changes(event, changes)
        _extend_timer(event, changes)
        public_counts_before = counts_visible(event, staff=False)
        changed = {
            name: (getattr(event, name), value)
            for name, value in changes.items()
            if getattr(event, name) != value
        }
        for name, value in changes.items():
            setattr(event, name, value)
        if archive is not None and archive != (event.archived_at is not None):
            event.archived_at = utcnow() if archive else None
            audit.record(tx, event_id, user, "event_archived" if archive else "event_unarchived")
        results_now = changed.get("phase", (None, None))[1] == "results"
        trail_changed = bool({"phase", "title"} & changed.keys())  # before the audit takes them
        _audit_changes(tx, event_id, user, changed)
        db.session.flush()
        totals_turned = counts_visible(event, staff=False) != public_counts_before
        messages = event_messages(event, totals_turned=totals_turned)
        tx.on_commit(lambda: publisher.publish(event_id, messages))
        if trail_changed:
            _resend_origins(tx, event)
        if results_now:
            language = event.default_language
            tx.on_commit(lambda: results_opened.send(None, event_id=event_id, language=language))
    return event


def _resend_origins(tx: WriteTransaction, event: Event) -> None:
    """A follow-up event's phase and title are part of its source cards' public trail (once it
    is open: its code and title; as a draft: neither), so those cards are sent again there."""
    origins: dict[str, list[int]] = {}
    for code, card_id in db.session.execute(
        sa.select(Suggestion.origin_event, Suggestion.origin_suggestion).where(
            Suggestion.event_id == event.id, Suggestion.origin_event.is_not(None)
        )
    ):
        origins.setdefault(code, []).append(card_id)
    for code, ids in origins.items():
        source = db.session.scalar(sa.select(Event).where(Event.code == code))
        if source is None:
            continue  # deleted since: the trail is kept as plain values
        cards = db.session.scalars(
            sa.select(Suggestion).where(Suggestion.event_id == source.id, Suggestion.id.in_(ids))
        ).all()
        tx.on_commit(partial(publisher.publish, source.id, card_messages(source, *cards)))


def _parse_changes(data: Any) -> dict[str, Any]:
    """The columns a PATCH of the event sets, checked (the archive flag aside)."""
    validation.check_fields(data, {"phase", "title", "question", "settings", "display", "archived"})
    changes: dict[str, Any] = {}
    if "phase" in data:
        changes["phase"] = validation.choice(data["phase"], "phase", PHASES)
    if "title" in data:
        changes["title"] = validation.text(data["title"], "title", max_length=200)
    if "question" in data:
        changes["question"] = validation.text(
            data["question"], "question", max_length=1000, required=False, multiline=True
        )
    if "settings" in data:
        changes.update(_parse_settings(data["settings"]))
    if "display" in data:
        changes.update(_parse_display(data["display"]))
    return changes


def _check_changes(event: Event, changes: dict[str, Any]) -> None:
    """Refuse what the event's state does not allow: a spotlight on a card nobody may see, and a
    budget or cap below what people have already spent."""
    if changes.get("spotlight_id") is not None:
        _check_spotlight(event, changes["spotlight_id"])
    if "vote_budget" in changes:
        _check_budget(event, changes["vote_budget"])
    if "max_dots_per_suggestion" in changes:
        _check_cap(event, changes["max_dots_per_suggestion"])
    if changes.get("max_dots_per_area") is not None:
        _check_area_cap(event, changes["max_dots_per_area"])
    if "affiliations" in changes:
        affiliations.check_removal(event, changes["affiliations"])


def _audit_changes(
    tx: WriteTransaction, event_id: int, user: User | None, changed: dict[str, tuple]
) -> None:
    """One entry for a phase change, one for texts and rules, one for the board's display."""
    if "phase" in changed:
        old, new = changed.pop("phase")
        # The board as it stood, for the handover package's protocol (results/handover.py).
        board = {audit.BOARD: audit.board_state(event_id)}
        audit.record(tx, event_id, user, "phase_changed", **{"from": old, "to": new}, **board)
    display = {
        DISPLAY_FIELDS[name]: changed.pop(name) for name in list(changed) if name in DISPLAY_FIELDS
    }
    for action, group in (("event_changed", changed), ("display_changed", display)):
        if group:
            audit.record(
                tx,
                event_id,
                user,
                action,
                old={name: old for name, (old, _new) in group.items()},
                new={name: new for name, (_old, new) in group.items()},
            )


def _parse_display(raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise validation.invalid("display", _l("display must be an object."))
    validation.check_fields(
        raw, {"screen", "spotlight", "timer_seconds", "timer_add_seconds", "layout", "theme"}
    )
    parsed: dict[str, Any] = {}
    if "screen" in raw:
        parsed["screen"] = validation.choice(raw["screen"], "screen", SCREENS)
    if "spotlight" in raw:
        parsed["spotlight_id"] = validation.optional_id(raw["spotlight"], "spotlight")
    if "timer_seconds" in raw:
        # 0 or null stops the countdown.
        seconds = raw["timer_seconds"] or 0
        seconds = validation.integer(seconds, "timer_seconds", minimum=0, maximum=TIMER_MAX_SECONDS)
        parsed["timer_ends_at"] = utcnow() + timedelta(seconds=seconds) if seconds else None
    if "timer_add_seconds" in raw:
        # Applied in _extend_timer, once the event's running countdown is known.
        parsed[TIMER_ADD] = validation.integer(
            raw["timer_add_seconds"], "timer_add_seconds", minimum=1, maximum=TIMER_MAX_SECONDS
        )
    if "layout" in raw:
        parsed["board_layout"] = validation.choice(raw["layout"], "layout", BOARD_LAYOUTS)
    if "theme" in raw:
        parsed["board_theme"] = validation.choice(raw["theme"], "theme", BOARD_THEMES)
    return parsed


def _extend_timer(event: Event, changes: dict[str, Any]) -> None:
    """Turn a `timer_add_seconds` into a new end: later than the running countdown's (or the one
    set in the same request), or a fresh countdown when none runs; never past the longest one."""
    if TIMER_ADD not in changes:
        return
    seconds = changes.pop(TIMER_ADD)
    now = utcnow()
    ends_at = changes.get("timer_ends_at", event.timer_ends_at)
    start = ends_at if ends_at is not None and ends_at > now else now
    latest = now + timedelta(seconds=TIMER_MAX_SECONDS)
    changes["timer_ends_at"] = min(start + timedelta(seconds=seconds), latest)


def _check_spotlight(event: Event, suggestion_id: int) -> None:
    card = db.session.get(Suggestion, suggestion_id)
    if card is None or card.event_id != event.id or not card.is_public:
        raise validation.invalid("spotlight", _l("Only a visible card of this event can be shown."))


def _check_budget(event: Event, budget: int) -> None:
    spent = db.session.scalar(
        sa.select(sa.func.max(Participant.dots_used)).where(Participant.event_id == event.id)
    )
    if spent and spent > budget:
        raise Conflict(
            "budget_below_spent",
            _l("Someone has already spent %(n)d dots; the budget cannot be lower.", n=spent),
        )
    db.session.execute(
        sa.update(Participant).where(Participant.event_id == event.id).values(dots_budget=budget)
    )


def _check_cap(event: Event, cap: int) -> None:
    highest = db.session.scalar(
        sa.select(sa.func.max(Vote.dots))
        .join(Suggestion, Suggestion.id == Vote.suggestion_id)
        .where(Suggestion.event_id == event.id)
    )
    if highest and highest > cap:
        raise Conflict(
            "cap_below_spent",
            _l(
                "Someone has already put %(n)d dots on one card; the cap cannot be lower.",
                n=highest,
            ),
        )


def _check_area_cap(event: Event, area_cap: int) -> None:
    """Balanced voting may not start below what someone already has in one area."""
    per_area = (
        sa.select(sa.func.sum(Vote.dots).label("dots"))
        .join(Suggestion, Suggestion.id == Vote.suggestion_id)
        .where(Suggestion.event_id == event.id)
        .group_by(Vote.participant_id, Suggestion.area_id)
        .subquery()
    )
    highest = db.session.scalar(sa.select(sa.func.max(per_area.c.dots)))
    if highest and highest > area_cap:
        raise Conflict(
            "area_cap_below_spent",
            _l(
                "Someone has already put %(n)d dots on one area; the cap cannot be lower.",
                n=highest,
            ),
        )


def create_demo_event(owner: User | None) -> Event:
    """The demo event a fresh installation opens with: the 2014 concept's eight areas."""
    return create_event(
        owner,
        {
            "title": "Plenum des Kommunalen Netzwerks für Integration und Migration",
            "question": (
                "Welche Themen und Anregungen sollen in die Fortschreibung des "
                "Integrationskonzepts aufgenommen werden?"
            ),
            "areas": list(TEMPLATE_INTEGRATION_2014),
        },
    )


def events_for(user: User) -> list[Event]:
    query = sa.select(Event).order_by(Event.created_at.desc())
    if user.is_helper:
        return []
    if not user.is_admin:
        query = query.where(Event.owner_id == user.id)
    return list(db.session.scalars(query))
