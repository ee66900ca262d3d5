"""Merging cards: dots move with the card, capped per participant; unmerge puts them back."""

from __future__ import annotations

import pytest


class Board:
    """An event with cards a, b, c, d (filed by one participant) and helpers to act on them."""

    def __init__(self, code, cards, staff, author):
        self.code, self.cards, self.staff, self.author = code, cards, staff, author

    def path(self, name, action=""):
        return f"/events/{self.code}/suggestions/{self.cards[name]}{action}"

    def merge(self, source, into):
        return self.staff.post(self.path(source, "/merge"), json={"into": self.cards[into]})

    def unmerge(self, source):
        return self.staff.post(self.path(source, "/unmerge"))

    def phase(self, name):
        assert self.staff.patch(f"/events/{self.code}", json={"phase": name}).status_code == 200

    def vote(self, api, name, dots):
        response = api.put(self.path(name, "/dots"), json={"dots": dots})
        assert response.status_code == 200, response.json
        return response.json

    def totals(self):
        cards = self.staff.get(f"/events/{self.code}/suggestions").json["suggestions"]
        ids = {card_id: name for name, card_id in self.cards.items()}
        return {ids[card["id"]]: card["dots"] for card in cards}

    def mine(self, api):
        """A participant's dots per card name and the dots they have left."""
        me = api.get(f"/events/{self.code}/me").json
        ids = {str(card_id): name for name, card_id in self.cards.items()}
        return {ids[card_id]: dots for card_id, dots in me["dots"].items()}, me["dots_left"]


@pytest.fixture
def board(make_event, staff, join, submit):
    code = make_event()["code"]
    author = join(code)
    cards = {name: submit(author, code, f"Card {name}")["id"] for name in "abcd"}
    return Board(code, cards, staff, author)


@pytest.fixture
def voting(board):
    board.phase("vote")
    return board


def test_merge_moves_card_and_dots(voting, join):
    alice, bob = join(voting.code), join(voting.code)
    voting.vote(alice, "a", 2)
    voting.vote(bob, "b", 1)
    target = voting.merge("a", "b").json
    assert (target["id"], target["merged_from"], target["dots"]) == (
        voting.cards["b"],
        [voting.cards["a"]],
        3,
    )
    assert voting.totals() == {"a": 0, "b": 3, "c": 0, "d": 0}
    assert voting.mine(alice) == ({"b": 2}, 3)


def test_merged_card_leaves_the_public_view(voting, join):
    voting.merge("a", "b")
    public = join(voting.code).get(f"/events/{voting.code}/suggestions").json["suggestions"]
    assert [card["id"] for card in public] == [voting.cards[name] for name in "bcd"]
    assert public[0]["merged_originals"] == [
        {"id": voting.cards["a"], "title": "Card a", "body": ""}
    ]
    staff_view = voting.staff.get(f"/events/{voting.code}/suggestions").json["suggestions"]
    assert (staff_view[0]["status"], staff_view[0]["merged_into"]) == ("merged", voting.cards["b"])


def test_merge_caps_and_returns_the_excess(voting, join):
    alice = join(voting.code)
    voting.vote(alice, "a", 2)
    voting.vote(alice, "b", 1)
    voting.merge("a", "b")
    assert voting.mine(alice) == ({"b": 2}, 3)
    assert voting.totals()["b"] == 2


def test_no_dots_on_a_merged_card(voting, join):
    voting.merge("a", "b")
    response = join(voting.code).put(voting.path("a", "/dots"), json={"dots": 1})
    assert (response.status_code, response.json["error"]["code"]) == (409, "not_votable")


def test_unmerge_restores_both_cards_exactly(voting, join):
    alice, bob = join(voting.code), join(voting.code)
    for api, votes in ((alice, {"a": 2, "b": 1, "c": 1}), (bob, {"a": 1, "b": 2})):
        for name, dots in votes.items():
            voting.vote(api, name, dots)
    before = voting.totals(), voting.mine(alice), voting.mine(bob)
    voting.merge("a", "b")
    assert voting.unmerge("a").json["status"] == "visible"
    assert (voting.totals(), voting.mine(alice), voting.mine(bob)) == before


def test_unmerge_shrinks_the_restored_card_when_returned_dots_were_spent(voting, join):
    alice = join(voting.code)
    voting.vote(alice, "a", 2)
    voting.vote(alice, "b", 1)
    voting.merge("a", "b")
    voting.vote(alice, "c", 2)
    voting.vote(alice, "d", 1)
    voting.unmerge("a")
    assert voting.mine(alice) == ({"a": 1, "b": 1, "c": 2, "d": 1}, 0)
    assert voting.totals() == {"a": 1, "b": 1, "c": 2, "d": 1}


def test_dots_put_on_the_target_after_the_merge_stay_there(voting, join):
    alice, bob = join(voting.code), join(voting.code)
    voting.vote(alice, "a", 1)
    voting.merge("a", "b")
    voting.vote(alice, "b", 2)
    voting.vote(bob, "b", 2)
    voting.unmerge("a")
    assert voting.mine(alice) == ({"a": 1, "b": 1}, 3)
    assert voting.totals() == {"a": 1, "b": 3, "c": 0, "d": 0}


def test_dots_taken_off_the_target_come_off_the_merged_share_first(voting, join):
    alice = join(voting.code)
    voting.vote(alice, "a", 2)
    voting.vote(alice, "b", 1)
    voting.merge("a", "b")  # b holds 1 of alice's own and 1 of a's; 1 went back to her budget
    voting.vote(alice, "b", 0)
    voting.unmerge("a")
    # Both dots taken off b are gone; a gets back the one that had returned to her budget.
    assert voting.mine(alice) == ({"a": 1}, 4)


def test_nested_merges_undo_from_the_outside_in(voting, join):
    alice = join(voting.code)
    for name, dots in {"a": 2, "b": 1, "c": 2}.items():
        voting.vote(alice, name, dots)
    before = voting.totals(), voting.mine(alice)
    voting.merge("a", "b")
    voting.merge("b", "c")
    assert voting.totals()["c"] == 2
    voting.unmerge("b")
    voting.unmerge("a")
    assert (voting.totals(), voting.mine(alice)) == before


@pytest.mark.parametrize("phase", ["draft", "collect", "cluster", "vote"])
def test_merge_works_in_every_phase_before_results(board, phase):
    board.phase(phase)
    assert board.merge("a", "b").status_code == 200
    assert board.unmerge("a").status_code == 200


@pytest.mark.parametrize(
    ("steps", "action", "error"),
    [
        ([], ("merge", "a", "a"), "merge_into_self"),
        ([("merge", "a", "b")], ("merge", "c", "a"), "already_merged"),
        ([("merge", "a", "b")], ("merge", "a", "c"), "already_merged"),
        ([("withdraw", "a")], ("merge", "a", "b"), "withdrawn"),
        ([("withdraw", "b")], ("merge", "a", "b"), "withdrawn"),
        ([], ("unmerge", "a"), "not_merged"),
        ([("merge", "a", "b"), ("merge", "b", "c")], ("unmerge", "a"), "unmerge_outer_first"),
        ([("merge", "a", "b"), ("phase", "results")], ("unmerge", "a"), "wrong_phase"),
        ([("phase", "results")], ("merge", "a", "b"), "wrong_phase"),
    ],
)
def test_merge_conflicts(board, steps, action, error):
    for name, *args in steps:
        if name == "withdraw":
            board.author.patch(board.path(args[0]), json={"status": "withdrawn"})
        else:
            getattr(board, name)(*args)
    before = board.staff.get(f"/events/{board.code}/suggestions").json
    response = getattr(board, action[0])(*action[1:])
    assert (response.status_code, response.json["error"]["code"]) == (409, error)
    assert board.staff.get(f"/events/{board.code}/suggestions").json == before


def test_merge_into_a_card_of_another_event(board, make_event, staff, submit):
    foreign = submit(staff, make_event()["code"])
    response = staff.post(board.path("a", "/merge"), json={"into": foreign["id"]})
    assert (response.status_code, response.json["error"]["code"]) == (404, "suggestion_not_found")
    assert board.totals() == {"a": 0, "b": 0, "c": 0, "d": 0}
