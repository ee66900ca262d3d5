"""Who supports what: an optional, self-declared affiliation per event.

Staff set the list (`settings.affiliations`, empty: off); a participant picks one entry once or
skips the question, and cannot change it afterwards (participants.choose_affiliation). Results
show counts per affiliation only where at least MIN_CELL_PEOPLE different people stand behind a
figure (`shown`), so that nobody can be singled out.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop import validation
from workshop.db.models import Event, Participant
from workshop.errors import Conflict
from workshop.extensions import db

MAX_AFFILIATIONS = 12
MAX_LENGTH = 60
#: The small-cell rule: a figure based on fewer different people than this reads SMALL_CELL.
MIN_CELL_PEOPLE = 5
SMALL_CELL = "< 5"
#: A figure withheld only so that a lone SMALL_CELL in its row cannot be worked out from the
#: area's total (results/affiliations.py).
WITHHELD = "x"
#: What the settings page offers as a start (translated there; stored as the staff typed them).
SUGGESTED = (
    _l("Administration"),
    _l("Association or initiative"),
    _l("Migrant organisation"),
    _l("Education"),
    _l("Private person"),
)


def listed(stored: str | None) -> list[str]:
    """An event's affiliations as a list (stored one per line)."""
    return [line for line in (stored or "").split("\n") if line]


def parse(value: Any) -> str:
    """A list of affiliations from an API client, checked, stored one per line."""
    field = "affiliations"
    if not isinstance(value, list) or len(value) > MAX_AFFILIATIONS:
        raise validation.invalid(
            field,
            _l("affiliations must be a list of at most %(max)d texts.", max=MAX_AFFILIATIONS),
        )
    entries = [validation.text(item, field, max_length=MAX_LENGTH) for item in value]
    if len({entry.casefold() for entry in entries}) != len(entries):
        raise validation.invalid(field, _l("Each affiliation may appear only once."))
    return "\n".join(entries)


def check_removal(event: Event, stored: str) -> None:
    """Refuse to remove an entry somebody already chose: their answer would be lost (409)."""
    removed = set(listed(event.affiliations)) - set(listed(stored))
    if not removed:
        return
    chosen = db.session.scalar(
        sa.select(Participant.affiliation)
        .where(Participant.event_id == event.id, Participant.affiliation.in_(removed))
        .limit(1)
    )
    if chosen is not None:
        raise Conflict(
            "affiliation_in_use",
            _l(
                "“%(name)s” was already chosen by participants and cannot be removed.",
                name=chosen,
            ),
            field="affiliations",
        )


def to_ask(event: Event, participant: Participant) -> list[str]:
    """The choices to put to this participant: the event's list until it answered or skipped
    (asked once), else none."""
    return listed(event.affiliations) if participant.affiliation is None else []


def shown(value: int, people: int) -> int | str:
    """The small-cell rule, the one place every format applies it: a figure based on fewer
    than MIN_CELL_PEOPLE different people reads "< 5", never the exact number."""
    return value if people >= MIN_CELL_PEOPLE else SMALL_CELL
