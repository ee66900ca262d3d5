"""kill -9 in the middle of a plenum: thirty phones file cards and vote against the real eventlet
server, which is killed with SIGKILL and started again on the same database and port.

Every request a phone saw acknowledged (a 2xx answer) must be stored after the restart, exactly
once; the one request each phone had under way when the server died may or may not be stored,
and sending it again (same client id, same dots) must never store it twice. Live screens that
were connected before the kill (a Socket.IO client, and Chromium showing the board and the
attendee page) must come back by themselves, without a reload, and show the true state.
"""

from __future__ import annotations

import random
import re
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
import requests
from playwright.sync_api import Page, expect

from .conftest import Server, wait_for
from .live_client import LiveClient

pytestmark = pytest.mark.e2e

PARTICIPANTS = 30
CARDS_EACH = 8
VOTES_EACH = 14
BUDGET, CAP = 5, 2
#: The server is killed once this share of the round's requests has been acknowledged.
KILL_AT = 0.4


@dataclass
class Sent:
    """One request as a phone sent it, and its answer (status None: no answer came)."""

    method: str
    path: str
    body: dict
    status: int | None = None
    answer: dict | None = None
    resent: bool = False

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Round:
    """One burst of requests with a kill in it: counts acknowledgements, and holds every phone
    whose request found no server until the test lets them send it again."""

    def __init__(self, planned: int) -> None:
        self.planned = planned
        self._state = threading.Condition()
        self.acknowledged = 0
        self.stalled = 0
        self.finished = 0
        self.resume = threading.Event()

    def acknowledge(self) -> None:
        with self._state:
            self.acknowledged += 1

    def stall(self) -> None:
        with self._state:
            self.stalled += 1
        assert self.resume.wait(120), "the test never let the phones send again"

    def finish(self) -> None:
        with self._state:
            self.finished += 1

    def reached(self, share: float) -> bool:
        with self._state:
            return self.acknowledged >= share * self.planned

    def all_held_or_done(self, phones: int) -> bool:
        with self._state:
            return self.stalled + self.finished == phones


class Phone:
    """A participant's phone on the JSON API: every request it sent, in order, with its answer."""

    def __init__(self, url: str, code: str, index: int) -> None:
        self.url = f"{url}/api/v1/events/{code}"
        self.index = index
        self.rng = random.Random(index)
        self.session = requests.Session()
        self.token: str | None = None
        self.sent: list[Sent] = []
        self.round: Round | None = None

    def join(self) -> None:
        response = self.session.post(f"{self.url}/participants", timeout=30)
        assert response.status_code == 201, response.text
        self.token = response.json()["token"]

    def send(self, method: str, path: str, body: dict, resent: bool = False) -> Sent:
        """Send once; without an answer, wait until the test allows it, then send it again."""
        sent = Sent(method, path, body, resent=resent)
        self.sent.append(sent)
        try:
            response = self.session.request(
                method,
                self.url + path,
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=30,
            )
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            # The server died before or while answering: the request may or may not be stored.
            self.round.stall()
            return self.send(method, path, body, resent=True)
        sent.status = response.status_code
        sent.answer = response.json()
        assert sent.acknowledged, (method, path, body, response.text)
        self.round.acknowledge()
        return sent

    def unanswered(self) -> Sent | None:
        """The request that was under way when the server died, if this phone had one."""
        lost = [sent for sent in self.sent if sent.status is None]
        assert len(lost) <= 1, lost
        return lost[0] if lost else None

    def answered(self) -> list[Sent]:
        return [sent for sent in self.sent if sent.acknowledged]

    def me(self) -> dict:
        response = self.session.get(
            f"{self.url}/me", headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        self.session.close()

    # -- the work of one round ------------------------------------------------------------------

    def file_cards(self, area_ids: list[int]) -> None:
        for n in range(CARDS_EACH):
            body = {
                "client_id": str(uuid.uuid4()),
                "title": f"Karte {self.index}-{n}",
                "area_id": self.rng.choice([*area_ids, None]),
            }
            self.send("POST", "/suggestions", body)

    def vote(self, cards: list[int]) -> None:
        # Two cards and at most the cap on each stay within the budget: every vote is valid.
        mine = self.rng.sample(cards, 2)
        for _ in range(VOTES_EACH):
            card = self.rng.choice(mine)
            self.send("PUT", f"/suggestions/{card}/dots", {"dots": self.rng.randint(0, CAP)})


class Staff:
    def __init__(self, server: Server) -> None:
        self.url = f"{server.url}/api/v1"
        self.token = server.staff_token()
        self.session = requests.Session()

    def call(self, method: str, path: str, json=None, expect: int = 200):
        response = self.session.request(
            method,
            self.url + path,
            json=json,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert response.status_code == expect, (method, path, response.text)
        return response.json()

    def close(self) -> None:
        self.session.close()


def run_round(
    phones: list[Phone],
    work: Callable[[Phone], None],
    planned: int,
    site: Site,
    while_down: Callable[[], None] = lambda: None,
    check_before_resend: Callable[[], None] = lambda: None,
) -> Round:
    """Let every phone do its work at once, kill -9 the server when KILL_AT of the requests are
    acknowledged, restart it once every phone waits, check what survived, and let the phones
    send what got no answer."""
    this = Round(planned)
    for phone in phones:
        phone.round = this
        phone.sent = []

    def run(phone: Phone) -> None:
        try:
            work(phone)
        finally:
            this.finish()

    with ThreadPoolExecutor(max_workers=len(phones)) as pool:
        futures = [pool.submit(run, phone) for phone in phones]
        wait_for(lambda: this.reached(KILL_AT) or this.finished == len(phones), timeout=60)
        try:
            site.kill()
            wait_for(lambda: this.all_held_or_done(len(phones)), timeout=60)
            assert this.stalled, "the kill came after every phone had finished"
            while_down()
            site.restart()
            check_before_resend()
        finally:
            this.resume.set()
        for future in futures:
            future.result()
    return this


class Site:
    """The server under test: kill -9 it, then start it again on the same port and database."""

    def __init__(self, start_server: Callable[..., Server]) -> None:
        self.start_server = start_server
        self.server = start_server()
        self.url = self.server.url

    def kill(self) -> None:
        self.server.stop(signal.SIGKILL)
        assert self.server.process.returncode == -signal.SIGKILL

    def restart(self) -> None:
        self.server = self.start_server(port=self.server.port)
        assert self.server.url == self.url


@pytest.fixture
def site(start_server) -> Site:
    return Site(start_server)


@pytest.fixture
def staff(site) -> Iterator[Staff]:
    staff = Staff(site.server)
    yield staff
    staff.close()


@pytest.fixture
def event(staff) -> dict:
    """An event in `collect` with three areas and totals visible while voting."""
    return staff.call(
        "POST",
        "/events",
        {
            "title": "Plenum",
            "areas": ["Sprache", "Arbeit", "Wohnen"],
            "settings": {
                "vote_budget": BUDGET,
                "max_dots_per_suggestion": CAP,
                "hide_counts_while_voting": False,
            },
            "phase": "collect",
        },
        expect=201,
    )


def stored_cards(staff: Staff, code: str) -> list[dict]:
    return staff.call("GET", f"/events/{code}/suggestions")["suggestions"]


def totals(staff: Staff, code: str) -> dict[int, int]:
    results = staff.call("GET", f"/events/{code}/results")
    return {card["id"]: card["dots"] for area in results["areas"] for card in area["suggestions"]}


def last_dots(sent: list[Sent]) -> dict[int, int]:
    """Dots per card as the acknowledged answers left them (dots are set, not added)."""
    dots: dict[int, int] = {}
    for request in sent:
        if request.acknowledged:
            dots[request.answer["suggestion_id"]] = request.answer["dots"]
    return {card: n for card, n in dots.items() if n}


def phones_for(stack: ExitStack, url: str, code: str) -> list[Phone]:
    """PARTICIPANTS phones on the event, closed when the stack closes; not joined yet."""
    phones = [Phone(url, code, index) for index in range(PARTICIPANTS)]
    for phone in phones:
        stack.callback(phone.close)
    return phones


def join_all(phones: list[Phone]) -> None:
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(Phone.join, phones))


def connected_screens(
    stack: ExitStack, url: str, code: str, staff: Staff
) -> tuple[LiveClient, LiveClient]:
    """A board and a moderator screen on Socket.IO, closed when the stack closes."""
    board = LiveClient(url, code, "board")
    moderator = LiveClient(url, code, "moderator", staff.token)
    for client in (board, moderator):
        stack.callback(client.close)
        client.connect()
    return board, moderator


def cards_survived(staff: Staff, code: str, phones: list[Phone], found: dict) -> None:
    """After the restart: every acknowledged card stored once, each unanswered one at most once."""
    stored = stored_cards(staff, code)
    titles = Counter(card["title"] for card in stored)
    by_id = {card["id"]: card for card in stored}
    acknowledged = [sent for phone in phones for sent in phone.answered()]
    for sent in acknowledged:
        assert titles[sent.body["title"]] == 1, sent
        assert by_id[sent.answer["id"]]["title"] == sent.body["title"]
    lost = [phone.unanswered() for phone in phones if phone.unanswered()]
    for sent in lost:
        assert titles[sent.body["title"]] <= 1, sent
        # For the check after the resend: the id it was stored with, or None.
        found[sent.body["client_id"]] = next(
            (card["id"] for card in stored if card["title"] == sent.body["title"]), None
        )
    # Nothing else: no card that no phone sent, none twice.
    stored_lost = sum(1 for card_id in found.values() if card_id)
    assert len(stored) == len(acknowledged) + stored_lost
    print(
        f"\nfiling: {len(acknowledged)} cards acknowledged before the kill, "
        f"{len(lost)} without an answer, {stored_lost} of them stored"
    )


def resent_cards_kept_once(phones: list[Phone], found: dict) -> None:
    """Each phone's cards, resent ones included, are stored once and are its own."""
    for phone in phones:
        for sent in phone.sent:
            if sent.resent:
                # Already stored: the same card again (200); not stored: a new one (201).
                earlier = found[sent.body["client_id"]]
                assert sent.status == (200 if earlier else 201), sent
                assert earlier in (None, sent.answer["id"])
        filed = sorted(sent.answer["id"] for sent in phone.answered())
        assert len(set(filed)) == CARDS_EACH
        assert sorted(phone.me()["suggestions"]) == filed


def votes_survived(staff: Staff, code: str, phones: list[Phone]) -> None:
    """After the restart: every acknowledged vote holds; an unanswered one is stored or not."""
    committed = 0
    stored_totals: Counter[int] = Counter()
    for phone in phones:
        stored = {int(card): n for card, n in phone.me()["dots"].items()}
        expected = last_dots(phone.sent)
        lost = phone.unanswered()
        if lost:
            card = int(lost.path.split("/")[2])
            assert stored.get(card, 0) in (expected.get(card, 0), lost.body["dots"])
            committed += stored.get(card, 0) != expected.get(card, 0)
            expected.pop(card, None)
            stored.pop(card, None)
        assert stored == expected, phone.index
        stored_totals.update(phone.me()["dots"])
    # The cards' counters agree with the votes the phones hold.
    counted = totals(staff, code)
    assert {int(k): v for k, v in stored_totals.items() if v} == {
        k: v for k, v in counted.items() if v
    }
    print(
        f"\nvoting: {sum(len(p.answered()) for p in phones)} votes acknowledged before "
        f"the kill, {sum(1 for p in phones if p.unanswered())} without an answer, "
        f"{committed} of them visibly stored"
    )


def last_votes_hold(staff: Staff, code: str, phones: list[Phone]) -> None:
    """Every phone's last answer holds, the resent one included, and the totals add them up."""
    expected_totals: Counter[int] = Counter()
    for phone in phones:
        mine = last_dots(phone.sent)
        assert {int(card): n for card, n in phone.me()["dots"].items()} == mine
        expected_totals.update(mine)
    assert {k: v for k, v in totals(staff, code).items() if v} == dict(expected_totals)


def test_acknowledged_writes_survive_kill_9_and_resends_never_double(site, staff, event):
    code, area_ids, url = event["code"], [area["id"] for area in event["areas"]], site.url
    with ExitStack() as stack:
        phones = phones_for(stack, url, code)
        board, moderator = connected_screens(stack, url, code, staff)
        join_all(phones)

        # Round 1: every phone files its cards; the server dies in the middle.
        found: dict[str, int | None] = {}
        run_round(
            phones,
            lambda phone: phone.file_cards(area_ids),
            PARTICIPANTS * CARDS_EACH,
            site,
            check_before_resend=lambda: cards_survived(staff, code, phones, found),
        )
        stored = stored_cards(staff, code)
        assert len(stored) == PARTICIPANTS * CARDS_EACH
        assert set(Counter(card["title"] for card in stored).values()) == {1}
        resent_cards_kept_once(phones, found)

        public = {card["id"] for card in stored}
        for client in (board, moderator):
            client.wait(lambda c: set(c.cards) == public, timeout=30)
        assert board.connects >= 2 and moderator.connects >= 2

        # Round 2: every phone votes; the server dies again.
        staff.call("PATCH", f"/events/{code}", {"phase": "vote"})
        ids = sorted(public)
        run_round(
            phones,
            lambda phone: phone.vote(ids),
            PARTICIPANTS * VOTES_EACH,
            site,
            check_before_resend=lambda: votes_survived(staff, code, phones),
        )
        last_votes_hold(staff, code, phones)

        # The live screens came back twice by themselves and show what the results say.
        counted = totals(staff, code)
        for client in (board, moderator):
            client.wait(lambda c: c.state()["totals"] == counted, timeout=30)
        assert board.connects >= 3 and moderator.connects >= 3
        assert set(board.state()["cards"]) == public


# -- open pages in Chromium ---------------------------------------------------------------------


def open_pages(stack: ExitStack, browser, url: str, code: str, cards: int) -> tuple[Page, Page]:
    """The board and an attendee page in Chromium, showing `cards` cards and connected."""
    board_context = browser.new_context(locale="de-DE", viewport={"width": 1920, "height": 1080})
    phone_context = browser.new_context(locale="de-DE", viewport={"width": 412, "height": 915})
    for context in (board_context, phone_context):
        stack.callback(context.close)
    board = board_context.new_page()
    board.goto(f"{url}/board/{code}")
    attendee = phone_context.new_page()
    attendee.goto(f"{url}/j/{code}")
    expect(board.locator(".board-card")).to_have_count(cards)
    expect(attendee.locator("#cards .card")).to_have_count(cards)
    for page in (board, attendee):
        # Gone after a reload: proves that the page caught up by itself.
        page.evaluate("window.__before_kill = true")
        expect(page.locator("#connection")).to_be_hidden()
    return board, attendee


def pages_noticed(pages: tuple[Page, ...]) -> None:
    for page in pages:
        expect(page.locator("#connection")).to_be_visible()


def pages_came_back(pages: tuple[Page, ...]) -> None:
    """Before the phones send again: the pages reconnect by themselves."""
    back = time.monotonic()
    for page in pages:
        expect(page.locator("#connection")).to_be_hidden(timeout=30_000)
    print(f"\npages connected again {time.monotonic() - back:.1f} s after the restart")


def pages_show_dots(board: Page, attendee: Page, counted: dict[int, int], skip: int) -> None:
    """Both pages show each card's dots as the results count them (but the card `skip`)."""
    for card_id, dots in counted.items():
        if card_id == skip:
            continue
        expect(board.locator(f"#card-{card_id} .badge-dots")).to_have_attribute(
            "data-dots", str(dots)
        )
        expect(attendee.locator(f"#card-{card_id} .badge-dots")).to_have_text(
            re.compile(rf"^{dots}\b")
        )


@pytest.mark.browser
def test_open_pages_catch_up_after_kill_9_without_reload(site, staff, event, browser):
    code, url = event["code"], site.url
    for n in range(6):
        body = {"client_id": f"staff-{n}", "title": f"Vorschlag {n}"}
        staff.call("POST", f"/events/{code}/suggestions", body, expect=201)
    staff.call("PATCH", f"/events/{code}", {"phase": "vote"})
    ids = sorted(card["id"] for card in stored_cards(staff, code))

    with ExitStack() as stack:
        board, attendee = open_pages(stack, browser, url, code, len(ids))
        pages = (board, attendee)
        phones = phones_for(stack, url, code)
        join_all(phones)
        run_round(
            phones,
            lambda phone: phone.vote(ids),
            PARTICIPANTS * VOTES_EACH,
            site,
            while_down=lambda: pages_noticed(pages),
            check_before_resend=lambda: pages_came_back(pages),
        )

        late = staff.call(
            "POST",
            f"/events/{code}/suggestions",
            {"client_id": "after-restart", "title": "Nach dem Neustart"},
            expect=201,
        )
        counted = totals(staff, code)
        assert sum(counted.values()) > 0
        for page in pages:
            expect(page.locator("#connection")).to_be_hidden(timeout=30_000)
            expect(page.get_by_text("Nach dem Neustart")).to_be_visible(timeout=30_000)
            assert page.evaluate("window.__before_kill") is True, "the page was reloaded"
        pages_show_dots(board, attendee, counted, skip=late["id"])
        figures = staff.call("GET", f"/events/{code}")["counts"]
        expect(board.locator("#figure-dots")).to_have_text(str(figures["dots"]))
