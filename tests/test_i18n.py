"""The German catalogue is complete and compiled; pages and API errors speak German by default."""

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "workshop" / "translations"


def extracted(tmp_path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "_nl:1,2",
            "-k",
            "plural_forms:1,2",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as handle:
        return {
            message.id if isinstance(message.id, str) else message.id[0]
            for message in read_po(handle)
            if message.id
        }


def as_tuple(value) -> tuple:
    """Plural entries come as lists or tuples of forms, the others as one string."""
    return (value,) if isinstance(value, str) else tuple(value)


def test_every_message_has_a_german_translation(tmp_path):
    with (TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    missing = [
        msgid
        for msgid in sorted(extracted(tmp_path))
        if not (message := catalogue.get(msgid))
        or not all(as_tuple(message.string))
        or message.fuzzy
    ]
    assert missing == []


def test_compiled_catalogue_matches_the_po_file():
    folder = TRANSLATIONS / "de" / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        po = {as_tuple(m.id): as_tuple(m.string) for m in read_po(handle) if m.id and not m.fuzzy}
    with (folder / "messages.mo").open("rb") as handle:
        mo = {as_tuple(m.id): as_tuple(m.string) for m in read_mo(handle) if m.id}
    assert mo == po


def test_api_errors_follow_the_browser_language(client):
    german = client.get("/api/v1/events/NOPE42", headers={"Accept-Language": "de-DE"})
    english = client.get("/api/v1/events/NOPE42", headers={"Accept-Language": "en"})
    assert german.status_code == english.status_code == 404
    assert german.json["error"]["message"] == "Es gibt keine Veranstaltung mit diesem Code."
    assert english.json["error"]["message"] == "There is no event with this code."


def test_pages_default_to_german(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in page
    assert "Anmelden" in page


# -- every language folder ------------------------------------------------------------------

#: Languages whose catalogue may leave entries empty: plain German falls back to German.
MAY_FALL_BACK = {"de@simple"}
LANGUAGES = sorted(
    folder.name for folder in TRANSLATIONS.iterdir() if (folder / "LC_MESSAGES").is_dir()
)


@pytest.fixture(scope="module")
def extracted_ids(tmp_path_factory) -> set[str]:
    return extracted(tmp_path_factory.mktemp("pot"))


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code not in MAY_FALL_BACK])
def test_every_message_is_translated_in_every_language(language, extracted_ids):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    missing = [
        msgid
        for msgid in sorted(extracted_ids)
        if not (message := catalogue.get(msgid))
        or not all(as_tuple(message.string))
        or message.fuzzy
    ]
    assert missing == [], f"{language}: {len(missing)} messages untranslated"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_compiled_catalogue_matches_its_po_file(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        po = {
            as_tuple(m.id): as_tuple(m.string)
            for m in read_po(handle)
            if m.id and not m.fuzzy and all(as_tuple(m.string))
        }
    assert (folder / "messages.mo").exists(), f"{language}: run pybabel compile"
    with (folder / "messages.mo").open("rb") as handle:
        mo = {as_tuple(m.id): as_tuple(m.string) for m in read_mo(handle) if m.id}
    assert mo == po


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_survive_translation(language):
    """A translation keeps every %(name)s of its message id, or formatting would fail."""
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    broken = []
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        wanted = set(PLACEHOLDER.findall(as_tuple(message.id)[-1]))
        for form in as_tuple(message.string):
            # A singular form may spell out "one" instead of %(num)s.
            if (form and not set(PLACEHOLDER.findall(form)) <= wanted | {"num"}) or (
                form and len(as_tuple(message.id)) == 1 and set(PLACEHOLDER.findall(form)) != wanted
            ):
                broken.append(as_tuple(message.id)[0])
    assert broken == []


# -- no user-facing text outside the catalogue ----------------------------------------------

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
#: Blocks that fill an attribute (the body's classes), not text.
ATTRIBUTE_BLOCKS = re.compile(r"\{% block body_class %\}.*?\{% endblock %\}", re.DOTALL)
LETTER = re.compile(r"[^\W\d_]")
#: Attributes people read or hear; the others (class, id, href, data-*) are for machines.
READ_ATTRIBUTES = {"title", "alt", "aria-label", "placeholder", "aria-description", "label"}
#: Text that is meant to stay as it is in every language.
TEMPLATE_ALLOWLIST: set[str] = set()


class TextFinder(HTMLParser):
    """Collect letters a page would show that did not come from a Jinja expression."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and LETTER.search(value):
                self.found.append(f"{tag}[{name}]={value!r}")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data):
        text = data.strip()
        if not self.skip and LETTER.search(text) and text not in TEMPLATE_ALLOWLIST:
            self.found.append(text)


TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_templates_have_no_text_outside_the_catalogue(template):
    source = JINJA.sub(" ", ATTRIBUTE_BLOCKS.sub(" ", template.read_text()))
    finder = TextFinder()
    finder.feed(source)
    assert finder.found == [], f"untranslated text in {template.relative_to(ROOT)}"


#: String literals in scripts that look like words but are not shown to people.
SCRIPT_ALLOWLIST: set[str] = set()
SCRIPTS = sorted((ROOT / "static" / "js").glob("*.js"))


def string_literals(source: str) -> list[str]:
    """The string literals of a script, skipping comments and regular expressions."""
    literals, i, previous = [], 0, ""
    while i < len(source):
        char = source[i]
        comment_end = _comment_end(source, i)
        if comment_end is not None:
            i = comment_end
            continue
        if char == "/" and previous in "(,=:[!&|?{};+":
            i, previous = _regex_end(source, i), "/"
            continue
        if char in "\"'`":
            text, end = _string_literal(source, i)
            literals.append(text)
            i, previous = end + 1, "x"
            continue
        if not char.isspace():
            previous = char
        i += 1
    return literals


def _comment_end(source: str, i: int) -> int | None:
    """Where the comment starting at i ends, or None if no comment starts there."""
    if source.startswith("//", i):
        end = source.find("\n", i)
        return len(source) if end < 0 else end
    if source.startswith("/*", i):
        return source.find("*/", i + 2) + 2
    return None


def _regex_end(source: str, i: int) -> int:
    """The index just past the regular expression literal whose opening slash is at i."""
    i += 1
    in_class = False
    # A slash inside a character class does not close the literal.
    while i < len(source) and (source[i] != "/" or in_class):
        if source[i] == "\\":
            i += 1
        elif source[i] == "[":
            in_class = True
        elif source[i] == "]":
            in_class = False
        i += 1
    return i + 1


def _string_literal(source: str, i: int) -> tuple[str, int]:
    """The text of the string literal opening at i, and the index of its closing quote."""
    quote, end, text = source[i], i + 1, []
    while end < len(source) and source[end] != quote:
        if source[end] == "\\":
            text.append(source[end : end + 2])
            end += 2
            continue
        if quote == "`" and source.startswith("${", end):
            # A template substitution is code, not text: it stands as one space.
            end = _substitution_end(source, end)
            text.append(" ")
            continue
        text.append(source[end])
        end += 1
    return "".join(text), end


def _substitution_end(source: str, start: int) -> int:
    """The index just past the `}` closing the `${` at start."""
    depth, end = 1, start + 2
    while end < len(source) and depth:
        depth += {"{": 1, "}": -1}.get(source[end], 0)
        end += 1
    return end


def looks_user_facing(text: str) -> bool:
    """Words with a space between them, that are not selectors, class lists, event names or URLs."""
    text = text.strip()
    if " " not in text or not LETTER.search(text):
        return False
    if text.startswith((".", "#", "[", ":", "/", "http")) or ":scope" in text:
        return False
    # CSS functions, e.g. "translateY(0) scale(0.94)".
    if re.fullmatch(r"(\s*[\w-]+\([^)]*\))+\s*", text):
        return False
    # Class lists, event names, CSS values and selectors: lower-case identifiers only.
    return not re.fullmatch(r"[a-z0-9_\-.#:>()\[\]=\"', %*/+]+", text)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_scripts_take_their_texts_from_the_page(script):
    found = [
        text
        for text in string_literals(script.read_text())
        if looks_user_facing(text) and text not in SCRIPT_ALLOWLIST
    ]
    assert found == [], f"{script.name} has text that the catalogue does not translate"
