"""Property-based tests of the dot rules (docs/api.md, "Rules").

Several participants vote while staff merge, unmerge, hide and restore cards, authors withdraw
them and the phase changes, in random order. After every step the database must agree with a
small model of the documented rules and keep the invariants: no budget or per-card cap is
exceeded, card totals are the sum of the votes, results carry competition ranks, and an unmerge
right after a merge restores everything. A second test aims straight at the unmerge rule: dots
changed on the merged card and returned dots spent elsewhere before the merge is undone.

Each example works on its own new event in one app on a real SQLite file (Hypothesis examples
and pytest's function-scoped fixtures do not mix, so the app is made once per test).
"""

from __future__ import annotations

from typing import ClassVar

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from workshop.db.models import Participant, Suggestion, Vote
from workshop.domain.accounts import create_user, issue_token
from workshop.domain.participants import hash_token
from workshop.domain.queries import competition_ranks
from workshop.extensions import db

PEOPLE = 3
CARDS = 5
person = st.integers(0, PEOPLE - 1)
card = st.integers(0, CARDS - 1)
Refusal = tuple[int, str] | None
NO_FSYNC = "PRAGMA synchronous=OFF"


# Hundreds of requests a minute from one staff token are the point here, not the rate limits.
pytestmark = pytest.mark.app_config(RATELIMIT_ENABLED=False)


def bounded(max_examples: int, **kwargs) -> settings:
    """Few examples, the same ones on every run (CI must not fail by chance), no shrinking
    (it can take minutes here; the failing steps are printed as they ran)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
        **kwargs,
    )


def staff_headers(app) -> dict:
    """A staff account in the app, with SQLite's fsync off: many small writes, no power cut."""
    with app.app_context():
        sa.event.listen(db.engine, "connect", lambda dbapi, _: dbapi.execute(NO_FSYNC))
        db.engine.dispose()
        token = issue_token(create_user("moderator", "password-123", "moderator"))
    return {"Authorization": f"Bearer {token}"}


class Model:
    """What docs/api.md says the state must be; cards and participants are numbered from 0."""

    def __init__(self, budget: int, cap: int, authors: list[int | None], areas: list[int | None]):
        self.budget, self.cap = budget, cap
        self.author, self.area = authors, areas
        self.phase = "vote"
        self.status = ["visible"] * len(authors)
        self.merged_into: list[int | None] = [None] * len(authors)
        #: (participant, card) -> dots; no entry for zero.
        self.votes: dict[tuple[int, int], int] = {}
        #: Per merged card: per participant (moved, before, after), as the merge left them.
        self.ledger: dict[int, dict[int, tuple[int, int, int]]] = {}

    def used(self, p: int) -> int:
        return sum(dots for (who, _c), dots in self.votes.items() if who == p)

    def public(self, c: int) -> bool:
        return self.status[c] == "visible" and self.merged_into[c] is None

    def put(self, p: int, c: int, dots: int) -> None:
        if dots:
            self.votes[p, c] = dots
        else:
            self.votes.pop((p, c), None)

    def dots_refusal(self, p: int, c: int, dots: int) -> Refusal:
        """Dots are set, not added; never over budget or cap; raised only on public cards."""
        current = self.votes.get((p, c), 0)
        if self.phase != "vote":
            return 409, "wrong_phase"
        if dots > current and not self.public(c):
            return 409, "not_votable"
        if dots > self.cap:
            return 409, "cap_exceeded"
        if dots - current > self.budget - self.used(p):
            return 409, "budget_exceeded"
        return None

    def merge_refusal(self, source: int, target: int) -> Refusal:
        if self.phase == "results":
            return 409, "wrong_phase"
        if source == target:
            return 409, "merge_into_self"
        for c in (source, target):
            if self.merged_into[c] is not None:
                return 409, "already_merged"
            if self.status[c] == "withdrawn":
                return 409, "withdrawn"
        return None

    def unmerge_refusal(self, source: int) -> Refusal:
        if self.phase == "results":
            return 409, "wrong_phase"
        if self.merged_into[source] is None:
            return 409, "not_merged"
        if self.merged_into[self.merged_into[source]] is not None:
            return 409, "unmerge_outer_first"
        return None

    def settings_refusal(self, budget: int, cap: int) -> Refusal:
        """Neither may go below what someone already spent."""
        if budget < max((self.used(p) for p in range(PEOPLE)), default=0):
            return 409, "budget_below_spent"
        if cap < max(self.votes.values(), default=0):
            return 409, "cap_below_spent"
        return None

    def withdraw_refusal(self, p: int, c: int) -> Refusal:
        if self.author[c] != p:
            return 403, "not_author"
        if self.phase != "collect":
            return 409, "wrong_phase"
        if self.merged_into[c] is not None or self.status[c] != "visible":
            return 409, "not_editable"
        return None

    def merge(self, source: int, target: int) -> None:
        """A's dots move to B; where someone had dots on both, B keeps at most the cap and the
        rest returns to their budget."""
        self.ledger[source] = {}
        for p in sorted({who for (who, c) in self.votes if c == source}):
            moved = self.votes.pop((p, source))
            before = self.votes.get((p, target), 0)
            after = min(before + moved, self.cap)
            self.ledger[source][p] = (moved, before, after)
            self.put(p, target, after)
        self.merged_into[source] = target

    def unmerge(self, source: int) -> None:
        """Both come back as they were when nothing changed since; dots put on B after the merge
        stay on B, dots taken off B come off A's share first, and if someone spent the returned
        dots meanwhile, their dots on A shrink (then B's) until budget and cap hold."""
        target = self.merged_into[source]
        for p, (moved, before, after) in self.ledger.pop(source).items():
            now = self.votes.get((p, target), 0)
            if now >= after:
                on_a, on_b = moved, before + (now - after)
            else:
                taken = after - now
                from_a = min(taken, after - before)
                on_a, on_b = moved - from_a, before - (taken - from_a)
            on_a, on_b = min(on_a, self.cap), min(on_b, self.cap)
            over = self.used(p) - now + on_a + on_b - self.budget
            if over > 0:
                cut = min(over, on_a)
                on_a, on_b = on_a - cut, on_b - (over - cut)
            self.put(p, source, on_a)
            self.put(p, target, on_b)
        self.merged_into[source] = None


class Workshop:
    """One event in the app, driven through the API: the staff, participants and cards."""

    def __init__(self, app, staff: dict, model: Model):
        self.app, self.staff, self.model = app, staff, model
        self.client = app.test_client()
        event = self.call(
            "post",
            "/events",
            staff,
            {
                "title": "Dots",
                "areas": ["A", "B"],
                "settings": {"vote_budget": model.budget, "max_dots_per_suggestion": model.cap},
            },
            201,
        )
        self.code = event["code"]
        self.area_ids = [area["id"] for area in event["areas"]]
        tokens = [
            self.call("post", self.path("/participants"), {}, None, 201)["token"]
            for _ in range(PEOPLE)
        ]
        self.people = [{"Authorization": f"Bearer {token}"} for token in tokens]
        with app.app_context():
            self.person_ids = [
                db.session.scalar(
                    sa.select(Participant.id).where(Participant.token_hash == hash_token(token))
                )
                for token in tokens
            ]
        self.cards = []
        for i, (author, area) in enumerate(zip(model.author, model.area, strict=True)):
            body = {
                "client_id": f"{self.code}-{i}",
                "title": f"Card {i}",
                "area_id": None if area is None else self.area_ids[area],
            }
            headers = staff if author is None else self.people[author]
            self.cards.append(
                self.call("post", self.path("/suggestions"), headers, body, 201)["id"]
            )
        self.call("patch", self.path(), staff, {"phase": model.phase}, 200)

    def path(self, tail: str = "") -> str:
        return f"/events/{self.code}{tail}"

    def card_path(self, c: int, tail: str = "") -> str:
        return self.path(f"/suggestions/{self.cards[c]}{tail}")

    def call(self, method, path, headers, body, expected):
        """Send a request; `expected` is a status, or (status, error code) for a refusal."""
        response = getattr(self.client, method)(f"/api/v1{path}", json=body, headers=headers)
        if isinstance(expected, tuple):
            assert (response.status_code, response.json["error"]["code"]) == expected
        else:
            assert response.status_code == expected, response.json
        return response.json

    # -- operations, each checked against the model and applied to it -------------------------

    def set_dots(self, p: int, c: int, dots: int) -> None:
        refusal = self.model.dots_refusal(p, c, dots)
        path = self.card_path(c, "/dots")
        answer = self.call("put", path, self.people[p], {"dots": dots}, refusal or 200)
        if refusal is None:
            self.model.put(p, c, dots)
            left = self.model.budget - self.model.used(p)
            assert answer == {"suggestion_id": self.cards[c], "dots": dots, "dots_left": left}

    def merge(self, source: int, target: int) -> bool:
        refusal = self.model.merge_refusal(source, target)
        body = {"into": self.cards[target]}
        self.call("post", self.card_path(source, "/merge"), self.staff, body, refusal or 200)
        if refusal is None:
            self.model.merge(source, target)
        return refusal is None

    def unmerge(self, source: int) -> None:
        refusal = self.model.unmerge_refusal(source)
        self.call("post", self.card_path(source, "/unmerge"), self.staff, None, refusal or 200)
        if refusal is None:
            self.model.unmerge(source)

    def moderate(self, c: int, status: str) -> None:
        refusal = (409, "withdrawn") if self.model.status[c] == "withdrawn" else None
        self.call("patch", self.card_path(c), self.staff, {"status": status}, refusal or 200)
        if refusal is None:
            self.model.status[c] = status

    def withdraw(self, p: int, c: int) -> None:
        refusal = self.model.withdraw_refusal(p, c)
        body = {"status": "withdrawn"}
        self.call("patch", self.card_path(c), self.people[p], body, refusal or 200)
        if refusal is None:
            self.model.status[c] = "withdrawn"

    def change_settings(self, budget: int, cap: int) -> None:
        refusal = self.model.settings_refusal(budget, cap)
        body = {"settings": {"vote_budget": budget, "max_dots_per_suggestion": cap}}
        self.call("patch", self.path(), self.staff, body, refusal or 200)
        if refusal is None:
            self.model.budget, self.model.cap = budget, cap

    def change_phase(self, phase: str) -> None:
        self.call("patch", self.path(), self.staff, {"phase": phase}, 200)
        self.model.phase = phase

    # -- what the database holds ---------------------------------------------------------------

    def stored(self) -> dict:
        """Votes, cards and dots spent as the database holds them, by the model's numbers."""
        card_no = {card_id: c for c, card_id in enumerate(self.cards)}
        person_no = {person_id: p for p, person_id in enumerate(self.person_ids)}
        with self.app.app_context():
            votes = db.session.execute(
                sa.select(Vote.participant_id, Vote.suggestion_id, Vote.dots).where(
                    Vote.participant_id.in_(self.person_ids)
                )
            )
            cards = db.session.execute(
                sa.select(
                    Suggestion.id,
                    Suggestion.dots,
                    Suggestion.voters,
                    Suggestion.status,
                    Suggestion.merged_into_id,
                ).where(Suggestion.id.in_(self.cards))
            )
            people = db.session.execute(
                sa.select(Participant.id, Participant.dots_used, Participant.dots_budget).where(
                    Participant.id.in_(self.person_ids)
                )
            )
            return {
                "votes": {(person_no[p], card_no[c]): dots for p, c, dots in votes},
                "cards": {
                    card_no[c]: (dots, voters, status, card_no.get(into))
                    for c, dots, voters, status, into in cards
                },
                "people": {person_no[p]: (used, budget) for p, used, budget in people},
            }

    def check(self) -> None:
        """The invariants, and the state the documented rules lead to."""
        state, model = self.stored(), self.model
        for dots in state["votes"].values():
            assert 1 <= dots <= model.cap, "the per-card cap was exceeded"
        for p, (used, budget) in state["people"].items():
            assert budget == model.budget
            assert 0 <= used <= budget, "a budget was exceeded"
            assert used == sum(n for (who, _c), n in state["votes"].items() if who == p)
        for c, (dots, voters, _status, _into) in state["cards"].items():
            on_card = [n for (_p, where), n in state["votes"].items() if where == c]
            assert (dots, voters) == (sum(on_card), len(on_card)), "totals are not the votes"
        assert state["votes"] == model.votes
        for c, (_dots, _voters, status, into) in state["cards"].items():
            assert (status, into) == (model.status[c], model.merged_into[c])

    def check_results(self) -> None:
        """Visible, unmerged cards per area (in order, no area last), by dots with competition
        ranks; the top list likewise over all areas, cards with dots only."""
        results = self.call("get", self.path("/results"), self.staff, None, 200)
        model = self.model
        totals: dict[int, int] = {}
        for (_p, c), dots in model.votes.items():
            totals[c] = totals.get(c, 0) + dots
        card_no = {card_id: c for c, card_id in enumerate(self.cards)}
        public = [c for c in range(len(self.cards)) if model.public(c)]
        groups: list[int | None] = list(self.area_ids)
        if any(model.area[c] is None for c in public):
            groups.append(None)
        assert [group["id"] for group in results["areas"]] == groups
        for group in results["areas"]:
            area = None if group["id"] is None else self.area_ids.index(group["id"])
            listed = group["suggestions"]
            dots = [item["dots"] for item in listed]
            assert dots == sorted(dots, reverse=True)
            assert [item["rank"] for item in listed] == competition_ranks(dots)
            assert sorted(card_no[item["id"]] for item in listed) == sorted(
                c for c in public if model.area[c] == area
            )
            for item in listed:
                assert item["dots"] == totals.get(card_no[item["id"]], 0)
        top = results["top"]
        assert [item["rank"] for item in top] == competition_ranks([i["dots"] for i in top])
        assert sorted(card_no[i["id"]] for i in top) == sorted(c for c in public if totals.get(c))


class DotRules(RuleBasedStateMachine):
    """Random sequences of operations on one new event per example."""

    app: ClassVar = None
    staff: ClassVar[dict] = {}

    @initialize(
        budget=st.integers(2, 6),
        cap=st.integers(1, 3),
        authors=st.lists(st.sampled_from([None, *range(PEOPLE)]), min_size=CARDS, max_size=CARDS),
        areas=st.lists(st.sampled_from([0, 1, None]), min_size=CARDS, max_size=CARDS),
        ballots=st.lists(st.tuples(person, card, st.integers(1, 3)), max_size=8),
    )
    def create_event(self, budget, cap, authors, areas, ballots):
        self.model = Model(budget, cap, authors, areas)
        self.workshop = Workshop(self.app, self.staff, self.model)
        # Dots from the start, so that merges have something to move.
        for p, c, dots in ballots:
            self.workshop.set_dots(p, c, min(dots, cap))

    def voted_cards(self) -> list[int]:
        return sorted({c for (_p, c) in self.model.votes}) or list(range(CARDS))

    @rule(p=person, c=card, dots=st.integers(0, 4))
    def vote(self, p, c, dots):
        self.workshop.set_dots(p, c, dots)

    @rule(p=person, data=st.data())
    def vote_on_a_merged_card(self, p, data):
        """Change dots on a card others were merged into: what unmerge must take into account."""
        targets = sorted(set(self.model.merged_into) - {None})
        if targets:
            c = data.draw(st.sampled_from(targets))
            self.workshop.set_dots(p, c, data.draw(st.integers(0, self.model.cap)))

    @rule(data=st.data())
    def merge(self, data):
        """Mostly cards with dots on them, since those are what the rules are about."""
        voted = st.sampled_from(self.voted_cards())
        self.workshop.merge(data.draw(st.one_of(voted, card)), data.draw(st.one_of(voted, card)))

    @rule(data=st.data())
    def unmerge(self, data):
        merged = [c for c in range(CARDS) if self.model.merged_into[c] is not None]
        self.workshop.unmerge(
            data.draw(st.one_of(st.sampled_from(merged), card) if merged else card)
        )

    @rule(data=st.data())
    def merge_and_undo_at_once(self, data):
        """An unmerge right after a merge (where one is allowed) gives everything back."""
        voted = st.sampled_from(self.voted_cards())
        source, target = data.draw(voted), data.draw(st.one_of(voted, card))
        before = self.workshop.stored()
        if self.workshop.merge(source, target):
            self.workshop.unmerge(source)
            assert self.workshop.stored() == before

    @rule(c=card, status=st.sampled_from(["hidden", "visible"]))
    def moderate(self, c, status):
        self.workshop.moderate(c, status)

    @rule(p=person, c=card)
    def withdraw(self, p, c):
        self.workshop.withdraw(p, c)

    @rule(budget=st.integers(1, 6), cap=st.integers(1, 3))
    def change_settings(self, budget, cap):
        """A smaller cap or budget later must still hold when a merge is undone."""
        self.workshop.change_settings(budget, cap)

    @rule(phase=st.sampled_from(["vote", "vote", "collect", "cluster", "results"]))
    def change_phase(self, phase):
        self.workshop.change_phase(phase)

    @rule()
    def results_are_ranked(self):
        self.workshop.check_results()

    # Not checked before `create_event` has run (check_during_init is False by default).
    @invariant()
    def database_keeps_the_rules(self):
        self.workshop.check()


def test_dot_rules_hold_in_any_order(app):
    class Machine(DotRules):
        pass

    Machine.app = app
    Machine.staff = staff_headers(app)
    run_state_machine_as_test(Machine, settings=bounded(20, stateful_step_count=25))


def test_unmerge_gives_dots_back_by_the_documented_rule(app):
    """Two cards that share voters are merged (capped), people change their dots on the merged
    card and spend what came back on a third card, then the merge is undone."""
    staff = staff_headers(app)
    levels = st.integers(0, 4)

    @bounded(40)
    @given(
        budget=st.integers(1, 8),
        cap=st.integers(1, 4),
        on_a=st.lists(levels, min_size=PEOPLE, max_size=PEOPLE),
        on_b=st.lists(levels, min_size=PEOPLE, max_size=PEOPLE),
        on_b_later=st.lists(levels, min_size=PEOPLE, max_size=PEOPLE),
        on_c_later=st.lists(levels, min_size=PEOPLE, max_size=PEOPLE),
    )
    def scenario(budget, cap, on_a, on_b, on_b_later, on_c_later):
        model = Model(budget, cap, authors=[None, None, None], areas=[0, 0, 1])
        workshop = Workshop(app, staff, model)
        a, b, c = 0, 1, 2
        for p in range(PEOPLE):
            workshop.set_dots(p, a, min(on_a[p], cap, budget))
            workshop.set_dots(p, b, min(on_b[p], cap, budget - model.used(p)))
        assert workshop.merge(a, b)
        workshop.check()
        for p in range(PEOPLE):
            workshop.set_dots(p, b, on_b_later[p])
            workshop.set_dots(p, c, on_c_later[p])
        workshop.unmerge(a)
        workshop.check()
        workshop.check_results()

    scenario()
