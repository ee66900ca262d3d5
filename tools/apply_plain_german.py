"""Apply the plain-language texts in tools/plain_german.json to the plain German catalogue.

The JSON maps an English message id to its new Einfache Sprache text (a plural entry to the list
of its forms). Ids that the catalogue does not hold (yet, or any more) are skipped and named; a
text whose placeholders differ from its message id's is refused. Every entry changed here gets
the translator comment "review: plain language" until a plain-language reviewer has checked it.

Run from the project root, in the venv:

    python tools/apply_plain_german.py

It rewrites workshop/translations/de@simple/LC_MESSAGES/messages.po (Babel's default width) and
compiles messages.mo next to it, as `pybabel compile -d workshop/translations -l de@simple` does.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ROOT / "tools" / "plain_german.json"
FOLDER = ROOT / "workshop" / "translations" / "de@simple" / "LC_MESSAGES"
REVIEW = "review: plain language"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\w+\}")


def placeholders(text: str) -> list[str]:
    """The placeholders of a text, sorted: `%(num)s`, `{title}` …"""
    return sorted(PLACEHOLDER.findall(text))


def problem(message: Message, text: str | list[str]) -> str | None:
    """Why `text` cannot replace the message's translation, or None when it can."""
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    forms = [text] if isinstance(text, str) else list(text)
    if message.pluralizable != isinstance(text, list):
        return "a plural entry needs a list of forms, a single one a string"
    if message.pluralizable and len(forms) != len(message.string):
        return f"{len(message.string)} plural forms expected"
    wanted = placeholders(ids[-1])
    if any(not form.strip() or placeholders(form) != wanted for form in forms):
        return f"empty, or placeholders differ from {wanted}"
    return None


def apply(catalog: Catalog, texts: dict[str, str | list[str]]) -> tuple[int, list[str]]:
    """Put the texts into the catalogue: how many changed, and what was skipped and why."""
    changed, skipped = 0, []
    for msgid, text in texts.items():
        message = catalog.get(msgid)
        if message is None:
            skipped.append(f"not in the catalogue: {msgid!r}")
            continue
        if why := problem(message, text):
            skipped.append(f"{why}: {msgid!r}")
            continue
        new = tuple(text) if isinstance(text, list) else text
        if message.string == new and not message.fuzzy:
            continue
        message.string = new
        message.flags.discard("fuzzy")
        if REVIEW not in message.user_comments:
            message.user_comments.insert(0, REVIEW)
        changed += 1
    return changed, skipped


def main() -> int:
    texts = json.loads(TEXTS.read_text(encoding="utf-8"))
    with (FOLDER / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    changed, skipped = apply(catalog, texts)
    with (FOLDER / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    with (FOLDER / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    for line in skipped:
        print("skipped,", line, file=sys.stderr)
    print(f"{changed} plain German texts applied, {len(skipped)} skipped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
