"""Who supports what, as the report and exports show it: areas × affiliation for cards and for
dots, and how many different groups gave each ranked card dots.

Pure functions over plain rows. Every figure goes through `domain.affiliations.shown`, the one
place of the small-cell rule, so a figure based on fewer than five people reads "< 5" in every
format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from workshop.domain.affiliations import MIN_CELL_PEOPLE, SMALL_CELL, WITHHELD, shown

#: The column of people who skipped the question or were never asked (and of staff's cards).
NO_ANSWER = None

Cell = int | str


@dataclass
class Tables:
    """The tables of one event; `groups` are the event's affiliations in order, the last
    column (NO_ANSWER) comes on top in `columns`."""

    groups: list[str]
    #: Rows by area id (None: cards without an area), each a cell per column.
    cards: dict[int | None, list[Cell]] = field(default_factory=dict)
    dots: dict[int | None, list[Cell]] = field(default_factory=dict)
    #: Ranked card id -> how many different groups gave it dots (no answer not counted).
    supporters: dict[int, Cell] = field(default_factory=dict)
    min_people: int = MIN_CELL_PEOPLE

    @property
    def columns(self) -> list[str | None]:
        return [*self.groups, NO_ANSWER]


def _column(groups: list[str], affiliation: str | None) -> str | None:
    """The column a stored answer counts in: "" (skipped) and unknown values are no answer."""
    return affiliation if affiliation in groups else NO_ANSWER


def _table(
    groups: list[str],
    areas: list[int | None],
    rows: Iterable[tuple[int | None, int, str | None, int]],
) -> dict[int | None, list[Cell]]:
    """Sum of `amount` and the different people per (area, column), each cell shown under the
    small-cell rule. Rows: (area id, person, affiliation, amount)."""
    sums: dict[tuple, int] = {}
    people: dict[tuple, set[int]] = {}
    for area, person, affiliation, amount in rows:
        key = (area, _column(groups, affiliation))
        sums[key] = sums.get(key, 0) + amount
        people.setdefault(key, set()).add(person)
    return {
        area: _guarded(
            [
                (sums.get((area, column), 0), len(people.get((area, column), ())))
                for column in [*groups, NO_ANSWER]
            ]
        )
        for area in areas
    }


def _guarded(row: list[tuple[int, int]]) -> list[Cell]:
    """A row's cells under the small-cell rule, (amount, people) each. The report also gives each
    area's total, so a row with exactly one "< 5" would give it away by subtraction: then the
    smallest other figure is withheld too (WITHHELD)."""
    cells = [shown(amount, people) for amount, people in row]
    hidden = [cell == SMALL_CELL for cell in cells]
    if hidden.count(True) == 1 and len(cells) > 1:
        smallest = min((amount, i) for i, (amount, _people) in enumerate(row) if not hidden[i])
        cells[smallest[1]] = WITHHELD
    return cells


def tables(
    groups: list[str],
    areas: list[int | None],
    authors: list[tuple[int | None, int, str | None]],
    votes: list[tuple[int, int | None, int, str | None, int]],
    ranked: Iterable[int],
) -> Tables:
    """The tables from plain rows: `authors` (card's area, author, affiliation) for each card
    filed on a phone; `votes` (card id, card's area, voter, affiliation, dots); `ranked` card
    ids."""
    result = Tables(groups=list(groups))
    result.cards = _table(groups, areas, ((a, p, g, 1) for a, p, g in authors))
    result.dots = _table(groups, areas, ((a, p, g, dots) for _c, a, p, g, dots in votes))
    voters: dict[int, set[int]] = {}
    kinds: dict[int, set[str]] = {}
    for card, _area, person, affiliation, _dots in votes:
        voters.setdefault(card, set()).add(person)
        column = _column(groups, affiliation)
        if column is not NO_ANSWER:
            kinds.setdefault(card, set()).add(column)
    result.supporters = {
        card: shown(len(kinds.get(card, ())), len(voters.get(card, ()))) for card in ranked
    }
    return result
