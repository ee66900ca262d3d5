"""The German catalogue is complete and compiled; pages and API errors speak German by default."""

import subprocess
import sys
from pathlib import Path

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
