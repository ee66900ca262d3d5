"""Which language a text is written in, offline (lingua: statistical models inside the wheel).

Low-accuracy mode: its trigram models load in a tenth of a second and take ~30 MB, and on card
titles of the room's languages it picks the same language as the full models (tested); the full
models hold the GIL for seconds while they load, which would stall eventlet's hub.
"""

from __future__ import annotations

from functools import lru_cache

try:  # optional: without it, a card's language is its author's interface language
    from lingua import Language, LanguageDetectorBuilder
except ImportError:  # pragma: no cover - depends on the installation
    Language = LanguageDetectorBuilder = None

#: Our language codes (the base of a variant: `de@simple` is German) and lingua's names.
NAMES = {
    "de": "GERMAN",
    "en": "ENGLISH",
    "ar": "ARABIC",
    "fa": "PERSIAN",
    "uk": "UKRAINIAN",
    "ru": "RUSSIAN",
    "tr": "TURKISH",
    "fr": "FRENCH",
    "es": "SPANISH",
    "it": "ITALIAN",
    "pl": "POLISH",
    "ro": "ROMANIAN",
}
#: Below this confidence (0 to 1) the detector's guess is not taken.
MIN_CONFIDENCE = 0.6


def available() -> bool:
    return LanguageDetectorBuilder is not None


@lru_cache(maxsize=16)
def _detector(codes: tuple[str, ...]):
    """One detector per set of languages, kept for the process (immutable and thread-safe)."""
    languages = [getattr(Language, NAMES[code]) for code in codes]
    return (
        LanguageDetectorBuilder.from_languages(*languages)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def detect(text: str, candidates: list[str]) -> str | None:
    """The code among `candidates` that `text` is written in, or None when unsure."""
    codes = tuple(sorted({code.split("@")[0] for code in candidates} & set(NAMES)))
    if not available() or not text.strip() or not codes:
        return None
    if len(codes) == 1:
        return codes[0]
    best = _detector(codes).compute_language_confidence_values(text)[0]
    if best.value < MIN_CONFIDENCE:
        return None
    return next(code for code in codes if NAMES[code] == best.language.name)
