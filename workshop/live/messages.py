"""The catalogue of live messages: every change message is built here, by type and audience.

A message is (audience, type, data): `staff` is the moderators' room (every card, with its
status), `public` the board's and the phones' (public cards only). docs/api.md ("Live updates")
describes each type; static/js/live.js applies them.
"""

from __future__ import annotations

STAFF = "staff"
PUBLIC = "public"
AUDIENCES = (STAFF, PUBLIC)

Message = tuple[str, str, dict]


def card(staff_card: dict, public_card: dict, public: bool) -> list[Message]:
    """One card changed: staff see it as it is, the public see it or are told to drop it."""
    if public:
        return [(STAFF, "suggestion", staff_card), (PUBLIC, "suggestion", public_card)]
    return [(STAFF, "suggestion", staff_card), (PUBLIC, "removed", {"id": public_card["id"]})]


def event(staff_event: dict, public_event: dict, totals: dict | None = None) -> list[Message]:
    """Phase, texts, rules, areas or display changed; `totals` holds every public card's total
    when totals have just become public (or null for each when they have just become hidden)."""
    messages = [(STAFF, "event", staff_event), (PUBLIC, "event", public_event)]
    if totals is not None:
        messages.append((PUBLIC, "dots", {"totals": totals}))
    return messages


def dots(
    staff_totals: dict[str, int],
    public_totals: dict[str, int],
    staff_counts: dict | None,
    public_counts: dict | None,
) -> list[Message]:
    """Totals and figures of one flush: one message per audience, the cost that grows with the
    room (nothing is sent to an audience with nothing new)."""
    messages = []
    for audience, totals, counts in (
        (STAFF, staff_totals, staff_counts),
        (PUBLIC, public_totals, public_counts),
    ):
        data: dict = {"totals": totals} if totals else {}
        if counts is not None:
            data["counts"] = counts
        if data:
            messages.append((audience, "dots", data))
    return messages


def audit(entry: dict) -> list[Message]:
    """A staff action was logged: the console's activity log grows."""
    return [(STAFF, "audit", entry)]


def similarity(pending: int) -> list[Message]:
    """Cards were analysed (or wait to be): the console asks for possible duplicates again."""
    return [(STAFF, "similarity", {"pending": pending})]


def pair_dismissed(a: int, b: int) -> list[Message]:
    """A moderator said two cards are not duplicates: every console drops the pair."""
    return [(STAFF, "pair_dismissed", {"a": a, "b": b})]
