"""Soft hyphens for display: where a long word may break, for the board's narrow columns.

Chromium on Linux ships no hyphenation dictionary and a venue may have no internet, so
`hyphens: auto` does nothing for German there. The board asks for its long words here and shows
them with U+00AD (soft hyphen) at the syllables pyphen finds. Display only: nothing stored, no
export, no API answer about cards ever carries a soft hyphen.
"""

from __future__ import annotations

import functools
import re

try:  # pyphen comes with weasyprint; without it words are simply not hyphenated.
    import pyphen
except ImportError:  # pragma: no cover - the dependency is declared
    pyphen = None

SOFT_HYPHEN = "\u00ad"
#: The languages hyphenated (page language codes) and pyphen's dictionary for each.
DICTIONARIES = {"de": "de_DE", "de@simple": "de_DE"}
#: Shorter words fit any column; a request names at most this many words of at most this length.
MIN_LENGTH = 7
MAX_WORDS = 200
MAX_WORD_LENGTH = 64
WORD = re.compile(r"^[^\W\d_]+$")


def languages() -> list[str]:
    """The page languages whose words the board hyphenates (`html_lang` form: "de")."""
    return sorted({code.split("@")[0] for code in DICTIONARIES}) if pyphen else []


@functools.cache
def _dictionary(name: str):
    return pyphen.Pyphen(lang=name)


@functools.lru_cache(maxsize=20_000)
def hyphenate(word: str, lang: str = "de") -> str:
    """`word` with soft hyphens where it may break; unchanged for other languages or odd input."""
    name = DICTIONARIES.get(lang)
    if not (pyphen and name and MIN_LENGTH <= len(word) <= MAX_WORD_LENGTH and WORD.match(word)):
        return word
    parts = _dictionary(name).inserted(word, SOFT_HYPHEN).split(SOFT_HYPHEN)
    # A single letter on its own ("Bür-ge-r-amt") reads badly: it joins the syllable before it.
    merged: list[str] = []
    for part in parts:
        if merged and (len(part) < 2 or len(merged[-1]) < 2):
            merged[-1] += part
        else:
            merged.append(part)
    return SOFT_HYPHEN.join(merged)


def warm() -> None:
    """Load the dictionaries (seconds for German) before a board first asks for its words."""
    if pyphen:
        for name in set(DICTIONARIES.values()):
            _dictionary(name)


def hyphenate_words(words: list[str], lang: str) -> dict[str, str]:
    """The words (at most MAX_WORDS) that gain a break point, each with its soft hyphens."""
    found = {}
    for word in words[:MAX_WORDS]:
        marked = hyphenate(word, lang)
        if marked != word:
            found[word] = marked
    return found
