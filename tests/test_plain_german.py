"""Plain German (de@simple) reads as Einfache Sprache: short sentences for what attendees and the
board see, no "(freiwillig)", "du" throughout, placeholders kept, and the key texts really differ
from standard German. Texts come from tools/plain_german.json (tools/apply_plain_german.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo

TRANSLATIONS = Path(__file__).resolve().parent.parent / "workshop" / "translations"
MAX_WORDS = 12
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\w+\}")
# A capitalised "Sie" after the start of a sentence addresses the reader formally.
FORMAL = re.compile(r"(?<![.!?:„“] )(?<!^)\b(Sie|Ihnen|Ihre?[mnrs]?)\b")

#: What attendees read on their phones and the hall reads on the board.
ATTENDEE = [
    "Details (optional)",
    "Your suggestion",
    "Language of this card",
    "Send suggestion",
    "Mine is different — send it",
    "Add your suggestions. You can change or withdraw them while collecting.",
    "The moderators are sorting the suggestions. Voting starts soon.",
    "Put your dots on the suggestions that matter most to you.",
    "Saved on this phone. It will be sent automatically as soon as possible.",
    "No connection to the server: kept on this phone and sent automatically when it is back.",
    "The server is busy: sending again in a moment.",
    "Thank you! Your suggestion will be shown once a moderator has approved it.",
    "This suggestion has as many of your dots as it can take.",
    "at most %(cap)s per card",
    "Noted: your draft was not sent. Give your dots to that suggestion when voting starts.",
    "That is mine too — I will give it dots in the vote",
    "Show original",
    "Machine translation",
    "To take part, you need the seat code printed on your card. Each card is for one person and "
    "works on one phone.",
    "Tip: scan the QR code on your card with your phone's camera, then you need not type anything.",
    "Please join the event first (scan the QR code or enter the code).",
    "This seat code has already been used on another phone. Please ask the organisers for a new "
    "card.",
    "This event holds the most suggestions it can take (%(n)d).",
    "You have filed the most suggestions allowed (%(n)d).",
    "Too many open connections. Please close other tabs of this page and try again.",
    "You can try again in %(num)d second.",
    "Long details are shortened on the board; the moderator can show any card in full on the "
    "screen.",
    "Each area shows its first three places here; the complete results are in the export.",
    "Full screen (F key)",
    "Scan and write your suggestion.",
    "When your phone joins an event: a short coded fingerprint of the network it joined from, not "
    "the address itself. It is made with a secret key of this server and differs from event to "
    "event, so it cannot be turned back into the address or followed from one event to the next. "
    "Staff see only how many phones joined from each network, so that one person cannot pass for "
    "many unnoticed. It is deleted with the event.",
]

#: Texts that standard German already words plainly enough are left out of this list.
REWORDED = [
    "Details (optional)",
    "Language of this card",
    "Put your dots on the suggestions that matter most to you.",
    "Saved on this phone. It will be sent automatically as soon as possible.",
    "No connection to the server: kept on this phone and sent automatically when it is back.",
    "Noted: your draft was not sent. Give your dots to that suggestion when voting starts.",
    "Tip: scan the QR code on your card with your phone's camera, then you need not type anything.",
    "Please join the event first (scan the QR code or enter the code).",
    "This seat code has already been used on another phone. Please ask the organisers for a new "
    "card.",
    "This event holds the most suggestions it can take (%(n)d).",
    "Too many open connections. Please close other tabs of this page and try again.",
    "Long details are shortened on the board; the moderator can show any card in full on the "
    "screen.",
    "Full screen (F key)",
]


def compiled(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        return read_mo(handle)


def texts(message: Message) -> list[str]:
    """Every form of a message's translation (one, or each plural form)."""
    return [message.string] if isinstance(message.string, str) else list(message.string)


def forms(catalog: Catalog, msgid: str) -> list[str]:
    message = catalog.get(msgid)
    assert message is not None, f"not in the catalogue: {msgid!r}"
    return texts(message)


def sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?:])\s+", text) if part]


@pytest.fixture(scope="module")
def simple() -> Catalog:
    return compiled("de@simple")


@pytest.mark.parametrize("msgid", ATTENDEE)
def test_attendee_texts_have_short_sentences_and_no_brackets(simple, msgid):
    for text in forms(simple, msgid):
        assert text.strip(), f"no plain German for {msgid!r}"
        long = [s for s in sentences(text) if len(s.split()) > MAX_WORDS]
        assert long == [], f"over {MAX_WORDS} words in {msgid!r}"
        assert "(" not in PLACEHOLDER.sub("", text), f"brackets in {text!r}"


def test_optional_is_said_in_common_words(simple):
    assert forms(simple, "Details (optional)") == ["Mehr dazu – wenn du willst"]
    found = [m.id for m in simple if m.id and "freiwillig" in str(m.string)]
    assert found == []


def test_placeholders_are_kept_exactly(simple):
    wrong = []
    for message in simple:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        wanted = sorted(PLACEHOLDER.findall(ids[-1]))
        found = [sorted(PLACEHOLDER.findall(text)) for text in texts(message) if text]
        wrong += [ids[0] for placeholders in found if placeholders != wanted]
    assert wrong == []


def test_plain_german_says_du(simple):
    formal = [text for message in simple if message.id for text in texts(message)]
    formal = [text for text in formal if FORMAL.search(text)]
    assert formal == []


@pytest.mark.parametrize("msgid", REWORDED)
def test_key_texts_differ_from_standard_german(simple, msgid):
    assert forms(simple, msgid) != forms(compiled("de"), msgid)
