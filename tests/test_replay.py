"""Replay test of the live protocol (docs/api.md, "Live updates"), the way Zulip tests its event
system (zerver/tests/test_events.py): for every operation and every audience (participant, board,
moderator), the snapshot taken before the operation plus the `change` messages it published,
applied the way static/js/live.js applies them, must equal a fresh snapshot asked for with
`resync` afterwards, and that snapshot must be what the HTTP API reads then. The changes must be
numbered one by one, without a gap.

Every operation goes through the public JSON API; nothing here reaches into the app's modules
but `create_app`, which makes the template database. To stay fast, each operation runs once on
one event with all three audiences listening, and its three tests check one audience each.
"""

from __future__ import annotations

import copy
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from workshop import create_app

ROLES = ("participant", "board", "moderator")
STAFF_NAME, STAFF_PASSWORD = "replay-moderator", "replay-password-1"
#: How long the changes of one operation may take to arrive: dots and figures go out up to
#: WORKSHOP_DOTS_INTERVAL (100 ms) later, from a background task.
DEADLINE = 5.0
#: A flush still to come follows the last message within 100 ms; after this long without any,
#: a state that has not converged will not.
QUIET = 1.0


# -- a port of static/js/live.js ---------------------------------------------------------------


@dataclass
class State:
    """live.js's `state`: `{event, cards: Map(id -> card), me}`."""

    event: dict | None = None
    cards: dict[int, dict] = field(default_factory=dict)
    me: dict | None = None


def apply(state: State, change: dict) -> dict | None:
    """live.js `apply`: apply one change to the state; return what it replaced."""
    kind, data = change["type"], change["data"]
    if kind == "suggestion":
        previous = state.cards.get(data["id"])
        state.cards[data["id"]] = data
        return previous
    if kind == "removed":
        return state.cards.pop(data["id"], None)
    if kind == "dots":
        # `data.totals ?? {}`: totals may be missing; keys are strings, `Number(id)` in JS.
        for key, dots in (data.get("totals") or {}).items():
            card = state.cards.get(int(key))
            if card:
                state.cards[card["id"]] = {**card, "dots": dots}
        # `if (!data.counts)`: only a missing counts returns; an empty object is truthy in JS.
        if data.get("counts") is None:
            return None
        previous = state.event
        state.event = {**(state.event or {}), "counts": data["counts"]}
        return previous
    if kind == "event":
        previous = state.event
        state.event = data
        return previous
    # `audit` and anything else: not part of the state.
    return None


class Follower:
    """live.js `follow()`'s handling of `snapshot` and `change` (sockets and timers left out): a
    gap is recorded where live.js would ask for a resync."""

    def __init__(self) -> None:
        self.state = State()
        self.seq: int | None = None
        self.waiting: list[dict] = []
        self.gaps: list[tuple[int | None, int]] = []
        #: (type, data, previous) of every applied change, as passed to `onUpdate`.
        self.updates: list[tuple[str, dict, dict | None]] = []

    def snapshot(self, snapshot: dict) -> None:
        self.seq = snapshot["seq"]
        self.state.event = snapshot["event"]
        self.state.cards = {card["id"]: card for card in snapshot["suggestions"]}
        if snapshot.get("me"):
            self.state.me = snapshot["me"]
        buffered = sorted(self.waiting, key=lambda change: change["seq"])
        self.waiting = []
        for change in buffered:
            self.receive(change)

    def receive(self, change: dict) -> None:
        if self.seq is None:
            self.waiting.append(change)
            return
        if change["seq"] <= self.seq:
            return  # already part of the snapshot
        if change["seq"] != self.seq + 1:
            # A message was lost: live.js starts again from a snapshot.
            self.gaps.append((self.seq, change["seq"]))
            self.seq = None
            self.waiting = [change]
            return
        self.seq = change["seq"]
        previous = apply(self.state, change)
        self.updates.append((change["type"], change["data"], previous))


# -- what the participant page does with `me` (static/js/participant.js) -------------------------


def needs_me(update: tuple[str, dict, dict | None], me: dict) -> bool:
    """participant.js `needsMe`: whether a change makes the page re-read GET /me."""
    kind, change, previous = update
    if kind == "event":
        return (previous or {}).get("settings", {}).get("vote_budget") != change["settings"][
            "vote_budget"
        ]
    if kind not in ("suggestion", "removed"):
        return False
    if me["dots"].get(str(change["id"]), 0) > 0:
        return True
    # A merge or unmerge moves dots and may give some back; without dots nothing can move.
    merged = kind == "suggestion" and (previous or {}).get("merged_from", []) != change.get(
        "merged_from"
    )
    return merged and any(n > 0 for n in me["dots"].values())


def page_me(follower: Follower, answers: list, read_me: Callable[[], dict]) -> dict | None:
    """live.js takes `me` from snapshots only; participant.js keeps it current itself: it notes
    the answers to its own requests (`remember`, `applyDots`) and re-reads GET /me when a change
    may have moved its dots (`needsMe`). That is what the page holds once it settled."""
    me = copy.deepcopy(follower.state.me)
    if me is None:
        return None
    for kind, answer in answers:
        if kind == "card" and answer["id"] not in me["suggestions"]:
            me["suggestions"].append(answer["id"])
        elif kind == "dots":
            me["dots"][str(answer["suggestion_id"])] = answer["dots"]
            me["dots_left"] = answer["dots_left"]
    # Asked with `me` as the snapshot gave it: the answers noted above concern Alice's own new
    # cards and dots, which no change of these operations asks about.
    if any(needs_me(update, follower.state.me) for update in follower.updates):
        me = read_me()
    return me


# -- comparing ---------------------------------------------------------------------------------


def normalised(event: dict | None, cards: dict[int, dict], me: dict | None) -> dict:
    """The parts of the state the pages use, with what legitimately differs taken out."""
    event = copy.deepcopy(event)
    if event is not None:
        timer = event["display"]["timer"]
        if timer is not None:
            # Seconds left as of when the JSON was made; the screens count down from ends_at.
            del timer["seconds_left"]
        # Staff only: `figures` comes with event messages but is not updated by `dots` or card
        # messages, so it ages in every console. The console reads `counts` (the staff's counts
        # carry `voted` and `not_voted`, kept current by `dots` messages) and falls back to
        # `figures.not_voted` only when counts lack it; `per_area` is not read from live state.
        event.pop("figures", None)
    if me is not None:
        # participant.js reads `me.dots[id] ?? 0`: an entry of 0 (applyDots after taking dots
        # back) and no entry (GET /me, the snapshot) mean the same.
        me = {**me, "dots": {key: n for key, n in me["dots"].items() if n}}
    return {"event": event, "cards": cards, "me": me}


def differences(left, right, path: str = "") -> list[str]:
    """Where two states differ, one line each (pytest's own diff of nested dicts is cut short)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return [
            line
            for key in sorted(left.keys() | right.keys(), key=str)
            for line in differences(
                left.get(key, "<missing>"), right.get(key, "<missing>"), f"{path}/{key}"
            )
        ]
    return [] if left == right else [f"{path}: {left!r} != {right!r}"]


def from_snapshot(snapshot: dict) -> dict:
    cards = {card["id"]: card for card in snapshot["suggestions"]}
    return normalised(snapshot["event"], cards, snapshot.get("me"))


# -- the scenario ------------------------------------------------------------------------------


class Caller:
    """The JSON API with a bearer token (the same calls as conftest's `Api`)."""

    def __init__(self, client, token: str | None = None):
        self.client, self.token = client, token

    def call(self, method: str, path: str, json=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.client.open(f"/api/v1{path}", method=method, json=json, headers=headers)

    def get(self, path: str):
        return self.call("GET", path)

    def post(self, path: str, json=None):
        return self.call("POST", path, json)

    def patch(self, path: str, json=None):
        return self.call("PATCH", path, json)

    def put(self, path: str, json=None):
        return self.call("PUT", path, json)

    def delete(self, path: str):
        return self.call("DELETE", path)


def ok(response, status: int = 200):
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()


@dataclass
class World:
    """One event while collecting: three areas; cards A (filed by the participant Alice, in area
    1), B (staff, area 2) and C (staff, area 1). Alice's phone is the participant socket, and she
    is the one who files, edits and votes."""

    code: str
    staff: Caller
    alice: Caller
    join: Callable[[str], object] | None
    areas: list[int]
    cards: dict[str, int] = field(default_factory=dict)
    #: Answers to Alice's own requests, which participant.js notes in `me`.
    answers: list[tuple[str, dict]] = field(default_factory=list)
    #: Whether cards, dots or participants changed: a coalesced `dots` flush follows then.
    flushes: bool = False

    def path(self, rest: str = "") -> str:
        return f"/events/{self.code}{rest}"

    def file(self, name: str, by_alice: bool, area: int | None = 0) -> None:
        self.flushes = True
        body = {"client_id": str(uuid.uuid4()), "title": name}
        body["area_id"] = None if area is None else self.areas[area]
        card = ok(
            (self.alice if by_alice else self.staff).post(self.path("/suggestions"), body), 201
        )
        self.cards[name] = card["id"]
        if by_alice:
            self.answers.append(("card", card))

    def card(self, name: str, **body) -> None:
        self.flushes = True
        ok(self.staff.patch(self.path(f"/suggestions/{self.cards[name]}"), body))

    def author(self, name: str, **body) -> None:
        self.flushes = True
        card = ok(self.alice.patch(self.path(f"/suggestions/{self.cards[name]}"), body))
        self.answers.append(("card", card))

    def merge(self, name: str, into: str) -> None:
        self.flushes = True
        body = {"into": self.cards[into]}
        ok(self.staff.post(self.path(f"/suggestions/{self.cards[name]}/merge"), body))

    def unmerge(self, name: str) -> None:
        self.flushes = True
        ok(self.staff.post(self.path(f"/suggestions/{self.cards[name]}/unmerge")))

    def dots(self, name: str, dots: int) -> None:
        self.flushes = True
        path = self.path(f"/suggestions/{self.cards[name]}/dots")
        self.answers.append(("dots", ok(self.alice.put(path, {"dots": dots}))))

    def event(self, **body) -> None:
        ok(self.staff.patch(self.path(), body))

    def phase(self, phase: str) -> None:
        self.event(phase=phase)

    def settings(self, **settings) -> None:
        self.event(settings=settings)

    def display(self, **display) -> None:
        self.event(display=display)

    def area(self, index: int, **body) -> None:
        ok(self.staff.patch(self.path(f"/areas/{self.areas[index]}"), body))


# -- the event every test starts from ------------------------------------------------------------


@pytest.fixture(scope="module")
def base() -> dict:
    """The event every test starts from: its code, area and card ids and Alice's token (filled
    by `migrated_db` below; every test's database is a copy, so they hold in all of them)."""
    return {}


@pytest.fixture(scope="module")
def migrated_db(migrated_db, tmp_path_factory, base):
    """conftest's migrated template plus a moderator account and the event of `World`, made
    once for this module: scrypt and the setup requests then do not run again in every test."""
    path = tmp_path_factory.mktemp("replay") / "template.sqlite3"
    shutil.copy(migrated_db, path)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "template-only",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "WORKSHOP_ASYNC_MODE": "threading",
            # Figures go out within each request, so that no background flush of this app reads
            # the file after it was closed.
            "WORKSHOP_DOTS_INTERVAL": 0,
        }
    )
    command = ["user", "create", STAFF_NAME, "--password", STAFF_PASSWORD]
    result = app.test_cli_runner().invoke(args=command)
    assert result.exit_code == 0, result.output
    staff = Caller(app.test_client())
    staff.token = ok(
        staff.post("/auth/token", {"username": STAFF_NAME, "password": STAFF_PASSWORD})
    )["token"]
    event = ok(
        staff.post("/events", {"title": "Plenum", "areas": ["Area 1", "Area 2", "Area 3"]}), 201
    )
    alice = Caller(app.test_client())
    alice.token = ok(alice.post(f"/events/{event['code']}/participants"), 201)["token"]
    w = World(event["code"], staff, alice, join=None, areas=[a["id"] for a in event["areas"]])
    w.file("A", by_alice=True)
    w.file("B", by_alice=False, area=1)
    w.file("C", by_alice=False)
    base.update(code=w.code, areas=w.areas, cards=w.cards, alice=alice.token)
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()
    return path


@pytest.fixture(scope="module")
def staff_token() -> dict:
    """The moderator's token in the tests' apps (they sign with another key than the template's),
    fetched by the first test that needs it."""
    return {}


@pytest.fixture
def moderator(app, staff_token) -> Caller:
    client = app.test_client()
    if "token" not in staff_token:
        body = {"username": STAFF_NAME, "password": STAFF_PASSWORD}
        staff_token["token"] = ok(client.post("/api/v1/auth/token", json=body))["token"]
    return Caller(client, staff_token["token"])


# -- the operations ----------------------------------------------------------------------------

Step = Callable[[World], object]


@dataclass(frozen=True)
class Op:
    """One operation: settings changed first and further steps (`prep`), both before the sockets
    listen, then the operation itself (`act`)."""

    name: str
    act: Step
    prep: tuple[Step, ...] = ()
    settings: dict = field(default_factory=dict)
    #: Who listens: a draft is its staff's only (phones and boards cannot connect to one).
    roles: tuple[str, ...] = ROLES


PUBLIC = ("participant", "board")


def cluster(w: World) -> None:
    w.phase("cluster")


def vote(w: World) -> None:
    w.phase("vote")


def alice_votes(w: World) -> None:
    """Alice puts 2 dots on C and 1 on B (the cap is 2, the budget 5)."""
    w.dots("C", 2)
    w.dots("B", 1)


def merge_c_into_b(w: World) -> None:
    w.merge("C", into="B")


def joined(w: World) -> None:
    w.flushes = True
    w.join(w.code)


OPS = [
    Op("card_filed_by_participant", lambda w: w.file("D", by_alice=True)),
    Op("card_filed_by_staff", lambda w: w.file("D", by_alice=False, area=2)),
    Op("card_filed_pending", lambda w: w.file("D", by_alice=True), settings={"moderation": "pre"}),
    Op(
        "card_approved",
        lambda w: w.card("P", status="visible"),
        prep=(lambda w: w.file("P", by_alice=True),),
        settings={"moderation": "pre"},
    ),
    Op("card_edited_by_author", lambda w: w.author("A", title="A, reworded", body="Why")),
    Op(
        "card_edited_by_author_pending_again",
        lambda w: w.author("A", title="A, reworded"),
        settings={"moderation": "pre"},
    ),
    Op("card_edited_by_staff", lambda w: w.card("B", title="B, reworded", body="Why")),
    Op("card_withdrawn", lambda w: w.author("A", status="withdrawn")),
    Op("card_hidden", lambda w: w.card("B", status="hidden")),
    Op(
        "card_restored",
        lambda w: w.card("B", status="visible"),
        prep=(lambda w: w.card("B", status="hidden"),),
    ),
    Op("card_moved", lambda w: w.card("B", area_id=w.areas[2])),
    Op("card_moved_to_no_area", lambda w: w.card("B", area_id=None)),
    Op("cards_merged", merge_c_into_b, prep=(cluster,)),
    Op("cards_unmerged", lambda w: w.unmerge("C"), prep=(cluster, merge_c_into_b)),
    Op("cards_merged_while_voting", merge_c_into_b, prep=(vote, alice_votes)),
    Op(
        "cards_unmerged_while_voting",
        lambda w: w.unmerge("C"),
        prep=(vote, alice_votes, merge_c_into_b),
    ),
    Op(
        "merged_card_edited",
        lambda w: w.card("C", title="C, reworded"),
        prep=(cluster, merge_c_into_b),
    ),
    Op(
        "merged_card_hidden",
        lambda w: w.card("C", status="hidden"),
        prep=(cluster, merge_c_into_b),
    ),
    Op(
        "merged_card_restored",
        lambda w: w.card("C", status="visible"),
        prep=(cluster, merge_c_into_b, lambda w: w.card("C", status="hidden")),
    ),
    Op("phase_draft", lambda w: w.phase("draft"), roles=("moderator",)),
    Op(
        "phase_collect_from_draft",
        lambda w: w.phase("collect"),
        prep=(lambda w: w.phase("draft"),),
        roles=("moderator",),
    ),
    Op("phase_collect", lambda w: w.phase("collect"), prep=(cluster,)),
    Op("phase_cluster", cluster),
    Op("phase_vote", vote, prep=(cluster,)),
    Op(
        "phase_vote_totals_shown",
        vote,
        prep=(cluster,),
        settings={"hide_counts_while_voting": False},
    ),
    Op("phase_results", lambda w: w.phase("results"), prep=(vote, alice_votes)),
    Op("phase_back_from_vote_to_cluster", cluster, prep=(vote, alice_votes)),
    Op(
        "phase_back_from_results_to_vote",
        vote,
        prep=(vote, alice_votes, lambda w: w.phase("results")),
    ),
    Op("dots_set", lambda w: w.dots("B", 2), prep=(vote,)),
    Op(
        "dots_set_totals_shown",
        lambda w: w.dots("B", 2),
        prep=(vote,),
        settings={"hide_counts_while_voting": False},
    ),
    Op("dots_taken_back", lambda w: w.dots("C", 0), prep=(vote, alice_votes)),
    Op("participant_joined", joined),
    Op("area_added", lambda w: ok(w.staff.post(w.path("/areas"), {"name": "Area 4"}), 201)),
    Op("area_renamed", lambda w: w.area(1, name="Renamed")),
    Op("area_recoloured", lambda w: w.area(1, color="#123456")),
    Op("area_reordered", lambda w: w.area(2, position=0)),
    Op("area_removed", lambda w: ok(w.staff.delete(w.path(f"/areas/{w.areas[0]}")), 204)),
    Op("settings_vote_budget", lambda w: w.settings(vote_budget=7), prep=(vote, alice_votes)),
    Op("settings_cap", lambda w: w.settings(max_dots_per_suggestion=3), prep=(vote, alice_votes)),
    Op(
        "settings_totals_shown_while_voting",
        lambda w: w.settings(hide_counts_while_voting=False),
        prep=(vote, alice_votes),
    ),
    Op(
        "settings_totals_hidden_while_voting",
        lambda w: w.settings(hide_counts_while_voting=True),
        prep=(vote, alice_votes),
        settings={"hide_counts_while_voting": False},
    ),
    Op("settings_moderation", lambda w: w.settings(moderation="pre")),
    Op("settings_languages", lambda w: w.settings(default_language="en", board_languages=["ar"])),
    Op("texts_changed", lambda w: w.event(title="Plenum 2", question="What now?")),
    Op("event_archived", lambda w: w.event(archived=True)),
    Op("display_screen", lambda w: w.display(screen="join")),
    Op("display_spotlight", lambda w: w.display(spotlight=w.cards["B"])),
    Op(
        "display_spotlight_off",
        lambda w: w.display(spotlight=None),
        prep=(lambda w: w.display(spotlight=w.cards["B"]),),
    ),
    Op("display_timer_started", lambda w: w.display(timer_seconds=300)),
    Op(
        "display_timer_stopped",
        lambda w: w.display(timer_seconds=0),
        prep=(lambda w: w.display(timer_seconds=300),),
    ),
    Op("display_layout_and_theme", lambda w: w.display(layout="condense", theme="dark")),
]


def cases():
    for op in OPS:
        for role in op.roles:
            yield pytest.param(op, role, id=f"{op.name}-{role}")


# -- the test ----------------------------------------------------------------------------------


@pytest.fixture
def world(app, moderator, join, base, request) -> World:
    op = request.node.callspec.params["op"]
    alice = Caller(app.test_client(), base["alice"])
    w = World(base["code"], moderator, alice, join, base["areas"], dict(base["cards"]))
    if op.settings:
        w.settings(**op.settings)
    for step in op.prep:
        step(w)
    w.answers.clear()
    w.flushes = False
    return w


@dataclass
class Outcome:
    """What one audience's socket got around an operation, and the state read over HTTP after."""

    #: Everything in order: the first snapshot, the changes, the snapshot asked for after.
    messages: list[dict]
    expected: dict
    #: Participant only: the answers to Alice's requests, and GET /me after the operation.
    answers: list[tuple[str, dict]]
    me: dict | None

    def replay(self) -> tuple[Follower, dict | None]:
        """Feed the first snapshot and every change to a Follower; return it with the snapshot
        that came for `resync` (None before), which the replay leaves out."""
        return replay(self.messages)

    def state(self, follower: Follower) -> dict:
        me = page_me(follower, self.answers, lambda: self.me)
        return normalised(follower.state.event, follower.state.cards, me)


def replay(messages: list[dict]) -> tuple[Follower, dict | None]:
    follower, fresh = Follower(), None
    for message in messages:
        if message["name"] == "snapshot" and follower.seq is None and not follower.gaps:
            follower.snapshot(message["args"][0])
        elif message["name"] == "snapshot":
            fresh = message["args"][0]
        elif message["name"] == "change":
            follower.receive(message["args"][0])
    return follower, fresh


def http_state(w: World, roles: tuple[str, ...] = ROLES) -> dict[str, dict]:
    """The state each audience (of `roles`) reads over HTTP now."""
    public = Caller(w.staff.client)
    reads = {}
    for reader in (w.staff, public) if set(roles) & set(PUBLIC) else (w.staff,):
        event = ok(reader.get(w.path()))
        suggestions = ok(reader.get(w.path("/suggestions")))["suggestions"]
        reads[reader] = (event, {card["id"]: card for card in suggestions})
    state = {"moderator": normalised(*reads[w.staff], None)}
    if public in reads:
        me = ok(w.alice.get(w.path("/me")))
        state["participant"] = normalised(*reads[public], me)
        state["board"] = normalised(*reads[public], None)
    return state


def settle(sockets: dict, outcomes: Callable[[], dict[str, Outcome]], flushes: bool) -> None:
    """Wait until every replay converged, or until nothing more can come: at once when all of
    the operation's messages went out before its request returned; when it changed cards, dots
    or participants, a `dots` flush follows up to 100 ms later from a background task, so only
    after QUIET seconds without a new message (or after DEADLINE)."""
    deadline = time.monotonic() + DEADLINE
    count, since = -1, time.monotonic()
    while True:
        results = outcomes().values()
        if all(o.state(o.replay()[0]) == o.expected for o in results):
            return
        now = time.monotonic()
        if not flushes or now > deadline:
            return
        received = sum(len(sio.queue) for sio in sockets.values())
        if received != count:
            count, since = received, now
        elif now - since > QUIET:
            return
        time.sleep(0.01)


def run(op: Op, w: World, listen) -> dict[str, Outcome]:
    """One event, all three audiences listening: the operation, then a fresh snapshot each."""
    tokens = {"participant": w.alice.token, "board": None, "moderator": w.staff.token}
    sockets = {role: listen(w.code, role, tokens[role]) for role in op.roles}
    op.act(w)
    expected = http_state(w, op.roles)
    me = expected.get("participant", {}).get("me")

    def outcomes() -> dict[str, Outcome]:
        return {
            role: Outcome(list(sio.queue), expected[role], w.answers, me)
            for role, sio in sockets.items()
        }

    settle(sockets, outcomes, w.flushes)
    for sio in sockets.values():
        sio.emit("resync")
    return outcomes()


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, Outcome]]:
    """Each operation runs once, with all three audiences listening; its three tests share it."""
    return {}


@pytest.mark.parametrize(("op", "role"), list(cases()))
def test_replay(op, role, runs, request):
    if op.name not in runs:
        runs[op.name] = run(op, request.getfixturevalue("world"), request.getfixturevalue("listen"))
    outcome = runs[op.name][role]
    follower, fresh = outcome.replay()
    assert fresh is not None, "no snapshot came for resync"
    diverged = differences(outcome.state(follower), from_snapshot(fresh))
    assert not diverged, "replayed != fresh snapshot:\n" + "\n".join(diverged)
    stale = differences(from_snapshot(fresh), outcome.expected)
    assert not stale, "fresh snapshot != the HTTP API's reading:\n" + "\n".join(stale)
    # Numbered by one without a gap; nothing lost between the first snapshot and the first
    # change, nor up to the fresh snapshot; nothing but snapshots and changes came.
    messages = outcome.messages
    first = next(m["args"][0] for m in messages if m["name"] == "snapshot")
    numbers = [m["args"][0]["seq"] for m in messages if m["name"] == "change"]
    if numbers:
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        assert numbers[0] <= first["seq"] + 1
    assert follower.gaps == [] and follower.seq >= fresh["seq"]
    assert {m["name"] for m in messages} <= {"snapshot", "change"}
