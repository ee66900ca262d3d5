"""Checks for what people and API clients send: types, lengths and characters."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from workshop.errors import WorkshopError

CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Largest id accepted from outside; SQLite integers are 64-bit.
MAX_ID = 2**62
#: Longest bearer token or token cookie looked at: ours are 43 (participant) and about 80
#: (staff) characters; anything much longer is refused before it is hashed or parsed.
MAX_TOKEN_LENGTH = 512

#: Invisible characters removed from every text: they make a text read differently than it is
#: stored. Bidi embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069) reorder
#: what follows them (a report line "\u202ereversed" shows reversed); the others are invisible
#: and make "Free\u200b coffee" a different text that looks like "Free coffee": zero width
#: space, word joiner and invisible operators (U+2060-U+2064), deprecated format characters
#: (U+206A-U+206F), the byte order mark, Mongolian vowel separator, interlinear annotations.
#: Kept: LRM/RLM/ALM (U+200E, U+200F, U+061C), marks that only place neutral characters such as
#: punctuation and cannot reverse a run; Persian and Arabic writers use them.
INVISIBLE = frozenset(
    "\u180e\u200b\ufeff\ufff9\ufffa\ufffb"
    + "".join(map(chr, range(0x202A, 0x202F)))
    + "".join(map(chr, range(0x2060, 0x2065)))
    + "".join(map(chr, range(0x2066, 0x2070)))
)
#: Zero width non-joiner and joiner: needed inside words (Persian "می\u200cخواهم") and emoji
#: sequences (👩\u200d💻), so kept between two visible characters and removed elsewhere (at an
#: edge, beside a space or another invisible character they only hide a difference).
JOINERS = frozenset("\u200c\u200d")


def invalid(field: str, message: Any) -> WorkshopError:
    return WorkshopError("validation_error", message, field=field)


def check_fields(data: Any, allowed: set[str], required: set[str] = frozenset()) -> dict:
    """Refuse a body that is not an object, lacks a required field or has an unknown one."""
    if not isinstance(data, dict):
        raise WorkshopError("invalid_json", _l("The request body must be a JSON object."))
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise invalid(unknown[0], _l("Unknown field: %(field)s", field=unknown[0]))
    for field in sorted(required):
        if field not in data:
            raise invalid(field, _l("This field is required: %(field)s", field=field))
    return data


def text(
    value: Any, field: str, *, max_length: int, required: bool = True, multiline: bool = False
) -> str:
    """Normalise a text field; refuse wrong types, control characters and bad lengths."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise invalid(field, _l("%(field)s must be text.", field=field))
    value = unicodedata.normalize("NFC", visible(value.replace("\r\n", "\n"))).strip()
    allowed_controls = {"\n", "\t"} if multiline else set()
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc" and char not in allowed_controls:
            raise invalid(field, _l("%(field)s contains a control character.", field=field))
        # A lone surrogate (possible in JSON) cannot be stored as UTF-8; U+FFFE and U+FFFF are
        # not allowed in XML, and one of them would make the XLSX export a corrupt file.
        if category == "Cs" or char in "\ufffe\uffff":
            raise invalid(field, _l("%(field)s is not valid text.", field=field))
    if required and not value:
        raise invalid(field, _l("%(field)s must not be empty.", field=field))
    if len(value) > max_length:
        raise invalid(
            field,
            _l("%(field)s is too long (at most %(max)d characters).", field=field, max=max_length),
        )
    return value


def _shows(char: str) -> bool:
    """Whether a character has a visible glyph a joiner can join (not a space, control or
    format character)."""
    return not (char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"))


def visible(value: str) -> str:
    """The text without the invisible characters that change how it reads (`INVISIBLE`), and
    without joiners that join nothing visible."""
    kept = [char for char in value if char not in INVISIBLE]
    return "".join(
        char
        for i, char in enumerate(kept)
        if char not in JOINERS
        or (0 < i < len(kept) - 1 and _shows(kept[i - 1]) and _shows(kept[i + 1]))
    )


def comparable(value: str) -> str:
    """The form in which two texts count as the same: NFKC (full-width and compatibility forms
    as their plain letters), case folded, without any format character, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    kept = "".join(char for char in folded if unicodedata.category(char) != "Cf")
    return " ".join(kept.split())


def integer(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    # bool is an int in Python; JSON true is not a number of dots.
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, _l("%(field)s must be a whole number.", field=field))
    if not minimum <= value <= maximum:
        raise invalid(
            field,
            _l(
                "%(field)s must be between %(min)d and %(max)d.",
                field=field,
                min=minimum,
                max=maximum,
            ),
        )
    return value


def optional_integer(value: Any, field: str, minimum: int, maximum: int) -> int | None:
    """A limit that may be off: null or 0 turn it off (None), else a whole number in range."""
    if value is None or (value == 0 and not isinstance(value, bool)):
        return None
    return integer(value, field, minimum=minimum, maximum=maximum)


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(field, _l("%(field)s must be true or false.", field=field))
    return value


def language(value: Any, field: str = "language") -> str:
    """A language code this installation offers (`WORKSHOP_LANGUAGES`)."""
    return choice(value, field, tuple(current_app.config["WORKSHOP_LANGUAGES"]))


def choice(value: Any, field: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise invalid(
            field,
            _l("%(field)s must be one of: %(options)s", field=field, options=", ".join(options)),
        )
    return value


def token(value: Any) -> str | None:
    """A token from a header, cookie or socket: ASCII and of a sane length, else None (it then
    matches nobody)."""
    if isinstance(value, str) and value.isascii() and 0 < len(value) <= MAX_TOKEN_LENGTH:
        return value
    return None


def client_id(value: Any) -> str:
    if not isinstance(value, str) or not CLIENT_ID.fullmatch(value):
        raise invalid("client_id", _l("client_id must be 1 to 64 letters, digits, '-' or '_'."))
    return value


def known_id(value: Any) -> bool:
    """Whether an id from outside can name a row: ids out of range (a URL may carry any number
    of digits) would overflow SQLite's integers, so they match nothing."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def optional_id(value: Any, field: str) -> int | None:
    if value is None:
        return None
    return integer(value, field, minimum=1, maximum=MAX_ID)


def credentials(username: Any, password: Any) -> tuple[str, str]:
    """A login's user name and password, normalised as `accounts.create_user` stored them."""
    return (
        text(username, "username", max_length=64),
        text(password, "password", max_length=200),
    )
