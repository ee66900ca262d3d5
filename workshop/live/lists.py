"""Each event's card list, encoded as JSON once per change and shared by every reader.

A room's seq names its state (every change an audience may see is published to its room), so
the list encoded at seq N serves every reader until N+1. A new seq re-encodes only the cards
whose content changed: each card's JSON is kept by its content (`Fragment`).

API (for views and the Socket.IO snapshot):

    cards = encoded_lists(app).current(event_id, code, audience, seq, build)
    cards.body        # b"[...]": the list as JSON, the same bytes object for every reader
    cards.fragments   # one b"{...}" per card, oldest first, in step with `cards.ids`
    cards.seq         # the seq it was encoded at (may be newer than asked for, never older)
    cards.tag         # unique per list made (the API's ETag)
    cards.marked({card_id: b"{...}"})  # the public list for one phone: its own cards replaced
    cards.shared(key, make)  # bytes made once from this list, e.g. compressed (`compress`)

`build(kept)` is the domain's (domain/schemas.py `card_list`): it reads the cards, reuses
`kept[card_id]` where the content is unchanged and returns the new `{card_id: Fragment}` in order.
"""

from __future__ import annotations

import gzip
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import brotli
from flask import Flask

from workshop.engines import offhub

EXTENSION = "workshop.encoded_lists"

#: The content codings a list goes out in, best first. Shared bytes are compressed once per list
#: (brotli 5: a third of the time of 6, a few per cent larger); one reader's bytes quickly.
CODINGS: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
    "br": (
        lambda data: brotli.compress(data, quality=5),
        lambda data: brotli.compress(data, quality=1),
    ),
    "gzip": (
        lambda data: gzip.compress(data, 6, mtime=0),
        lambda data: gzip.compress(data, 1, mtime=0),
    ),
}


def compress(data: bytes, coding: str, quick: bool = False) -> bytes:
    """`data` in a content coding of CODINGS, compressed in a real thread under eventlet: the 7 MB
    list of 20,000 cards takes 0.1 to 0.3 s, which would hold every other connection."""
    return offhub.run(CODINGS[coding][quick], data)


@dataclass(frozen=True)
class Fragment:
    """One card's JSON object, and the content it was encoded from."""

    content: Any
    json: bytes
    #: The same object with the reader's marks for a card that is not theirs and holds none of
    #: their dots (the public list for phones, see `CardList.personal`).
    unmarked: bytes = b""


@dataclass(frozen=True, eq=False)
class CardList:
    """One audience's cards as JSON at one seq."""

    seq: int
    code: str
    #: Names this list among all lists this process made (an ETag, say): a new list, a new tag.
    tag: str
    ids: tuple[int, ...]
    fragments: tuple[bytes, ...]
    unmarked: tuple[bytes, ...]
    body: bytes
    made: float = field(default_factory=time.monotonic)
    #: The event's tally version it was read at (`EncodedLists.touch`).
    touched: int = 0
    _kept: dict[Any, bytes] = field(default_factory=dict, repr=False)
    _lock: Any = field(default_factory=threading.Lock, repr=False)

    def shared(self, key: Any, make: Callable[[], bytes]) -> bytes:
        """Bytes made from this list once and shared by every reader (a document around `body`,
        compressed), e.g. `cards.shared(("api", "br"), lambda: compress(document, "br"))`."""
        with self._lock:
            if key not in self._kept:
                self._kept[key] = make()
            return self._kept[key]

    @cached_property
    def index(self) -> dict[int, int]:
        """Each card's position in the list."""
        return {card_id: position for position, card_id in enumerate(self.ids)}

    def fragment(self, card_id: int) -> bytes | None:
        position = self.index.get(card_id)
        return None if position is None else self.fragments[position]

    def marked(self, replaced: dict[int, bytes]) -> bytes:
        """The list for one reader: every card's `unmarked` JSON, but `replaced[card_id]` for the
        reader's few own cards (only those are encoded per reader)."""
        parts = list(self.unmarked)
        for card_id, data in replaced.items():
            position = self.index.get(card_id)
            if position is not None:
                parts[position] = data
        return b"[" + b",".join(parts) + b"]"


Build = Callable[[dict[int, Fragment]], dict[int, Fragment]]


class EncodedLists:
    """The encoded list per event and audience, built by one reader while the others wait.

    `MAX_AGE` bounds what a write that publishes nothing (none should) could leave behind.
    `builds` counts lists made (a new seq with the same cards keeps the list, bytes and tag) and
    `encoded` the cards encoded: tests read them.
    """

    MAX_AGE = 5.0

    def __init__(self) -> None:
        self._lists: dict[tuple[int, str], CardList] = {}
        self._fragments: dict[tuple[int, str], dict[int, Fragment]] = {}
        self._locks: dict[tuple[int, str], threading.Lock] = {}
        self._guard = threading.Lock()
        #: Per event: tallies committed in this process (a vote, say) whose message has not gone
        #: out yet; a list read before one is not current, although the seq is the same.
        self._touched: dict[int, int] = {}
        self.builds = 0
        self.encoded = 0
        #: Tags of another process (several behind Redis) never equal this one's.
        self._process = secrets.token_hex(4)

    def touch(self, event_id: int) -> None:
        """Tallies of the event changed in the database (their message follows later)."""
        with self._guard:
            self._touched[event_id] = self._touched.get(event_id, 0) + 1

    def _fresh(self, key: tuple[int, str], code: str, seq: int) -> CardList | None:
        kept = self._lists.get(key)
        if kept is None or kept.code != code or kept.seq < seq:
            return None
        if kept.touched != self._touched.get(key[0], 0):
            return None
        return kept if time.monotonic() - kept.made <= self.MAX_AGE else None

    def current(self, event_id: int, code: str, audience: str, seq: int, build: Build) -> CardList:
        """The list at `seq` or newer; built once however many readers ask at the same time."""
        key = (event_id, audience)
        kept = self._fresh(key, code, seq)
        if kept is not None:
            return kept
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            # Another reader may have built it while this one waited.
            kept = self._fresh(key, code, seq)
            if kept is not None:
                return kept
            old = self._lists.get(key)
            if old is None or old.code != code:
                old = None
            # Read before the cards: a vote committed meanwhile makes this list stale again.
            touched = self._touched.get(event_id, 0)
            fragments = build(self._fragments.get(key, {}) if old else {})
            made = self._store(key, code, seq, fragments, old, touched)
        return made

    def _store(
        self,
        key: tuple[int, str],
        code: str,
        seq: int,
        fragments: dict[int, Fragment],
        old: CardList | None,
        touched: int = 0,
    ) -> CardList:
        kept = self._fragments.get(key, {}) if old else {}
        fresh = sum(
            1 for card_id, fragment in fragments.items() if kept.get(card_id) is not fragment
        )
        self.encoded += fresh
        if old is not None and not fresh and old.ids == tuple(fragments):
            # A change this audience does not see in the cards (a timer, the figures): the same
            # list, bytes, compressed copies and tag, now for this seq.
            made = replace(old, seq=seq, made=time.monotonic(), touched=touched)
        else:
            self.builds += 1
            parts = tuple(fragment.json for fragment in fragments.values())
            made = CardList(
                seq=seq,
                code=code,
                tag=f"{self._process}.{self.builds}",
                ids=tuple(fragments),
                fragments=parts,
                unmarked=tuple(fragment.unmarked for fragment in fragments.values()),
                body=b"[" + b",".join(parts) + b"]",
                touched=touched,
            )
        self._lists[key], self._fragments[key] = made, fragments
        return made

    def forget(self, event_id: int) -> None:
        for key in [key for key in self._lists if key[0] == event_id]:
            self._lists.pop(key, None)
            self._fragments.pop(key, None)
        self._touched.pop(event_id, None)


def encoded_lists(app: Flask) -> EncodedLists:
    """The app's encoded lists (made on first use)."""
    lists = app.extensions.get(EXTENSION)
    if lists is None:
        lists = app.extensions.setdefault(EXTENSION, EncodedLists())
    return lists
