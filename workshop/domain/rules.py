"""The rules of the card method as data: what each phase allows, and what each card status allows.

The domain checks them; the pages get them as data (`as_data`) and show what the server allows
instead of deciding it again.
"""

from __future__ import annotations

from workshop.db.models import MODERATION_MODES, PHASES, STATUSES, Event

#: An event's rules, with their kinds and bounds (`POST /events` and `PATCH /events/<code>`
#: take them under "settings"; exports copy them verbatim).
SETTINGS = {
    "vote_budget": ("int", 1, 100),
    "max_dots_per_suggestion": ("int", 1, 100),
    "max_suggestions_per_participant": ("int", 1, 100),
    # Balanced voting (voting.py): null or 0 is no limit, stored as null.
    "max_dots_per_area": ("optional_int", 1, 100),
    "moderation": ("choice", MODERATION_MODES),
    "hide_counts_while_voting": ("bool",),
    "seat_codes_required": ("bool",),
}
#: Language settings, validated against WORKSHOP_LANGUAGES: the language a device gets when its
#: browser asks for none we offer, the languages the board shows its instruction in besides
#: German, the languages the event works in (cards and texts are translated into each), and the
#: languages the board shows under a card written in another one (lists stored comma-separated).
#: Kept apart from SETTINGS, whose values exports copy verbatim.
LANGUAGE_SETTINGS = {
    "default_language": ("language",),
    "board_languages": ("languages",),
    "languages": ("languages",),
    "board_translations": ("languages",),
}

#: What a participant may do in each phase.
PARTICIPANT_ACTIONS: dict[str, frozenset[str]] = {
    "draft": frozenset(),
    "collect": frozenset({"file", "edit", "withdraw"}),
    "cluster": frozenset(),
    "vote": frozenset({"vote"}),
    "results": frozenset(),
}

#: What staff may do in each phase: the results are final, so no new, merged or split cards.
STAFF_ACTIONS: dict[str, frozenset[str]] = {
    phase: frozenset({"edit", "move", "moderate"})
    | (frozenset() if phase == "results" else frozenset({"file", "merge", "unmerge"}))
    for phase in PHASES
}

#: What staff may do to a card in each status ("merged": merged into another card); a withdrawn
#: card is its author's decision and stays as it is.
CARD_ACTIONS: dict[str, tuple[str, ...]] = {
    "pending": ("approve", "hide", "edit", "move", "merge"),
    "visible": ("hide", "edit", "move", "merge"),
    "hidden": ("restore", "edit", "move", "merge"),
    "withdrawn": (),
    "merged": ("unmerge", "edit", "move"),
}

#: Statuses a participant's own card can still be changed in (while collecting).
AUTHOR_EDITABLE = ("visible", "pending")

#: Phases in which totals are hidden from the public if the event says so.
COUNTS_HIDDEN_IN = frozenset({"vote"})

#: Phases in which everyone may read the ranked results (staff always may).
RESULTS_PUBLIC_IN = frozenset({"results"})

#: Phases in which an event has ended (so has an archived one): retention counts from then.
ENDED_IN = frozenset({"results"})

#: Phases in which a card without dots still shows its total (0) to the public.
TOTALS_SHOWN_IN = frozenset({"vote", "results"})

assert set(PARTICIPANT_ACTIONS) == set(PHASES)
assert set(CARD_ACTIONS) == {*STATUSES, "merged"}


def participant_may(event: Event, action: str) -> bool:
    return action in PARTICIPANT_ACTIONS[event.phase]


def staff_may(event: Event, action: str) -> bool:
    return action in STAFF_ACTIONS[event.phase]


def counts_visible(event: Event, staff: bool) -> bool:
    """Whether totals may be shown to this audience in the event's current phase."""
    return staff or not (event.phase in COUNTS_HIDDEN_IN and event.hide_counts_while_voting)


def results_public(event: Event) -> bool:
    return event.phase in RESULTS_PUBLIC_IN


def as_data() -> dict:
    """The rules for the pages' scripts (lists, since JSON has no sets)."""
    return {
        "participant": {phase: sorted(actions) for phase, actions in PARTICIPANT_ACTIONS.items()},
        "staff": {phase: sorted(actions) for phase, actions in STAFF_ACTIONS.items()},
        "card": {status: list(actions) for status, actions in CARD_ACTIONS.items()},
        "author_editable": list(AUTHOR_EDITABLE),
        # A card's JSON says "merged" when it is merged away, so "visible" is a public card.
        "public": ["visible"],
        "counts_hidden_in": sorted(COUNTS_HIDDEN_IN),
        "totals_shown_in": sorted(TOTALS_SHOWN_IN),
        "results_public_in": sorted(RESULTS_PUBLIC_IN),
    }
