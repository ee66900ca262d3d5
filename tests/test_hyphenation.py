"""Soft hyphens for the board (issue 17): German words break at syllables on the projector, and
no soft hyphen ever reaches stored data, the API, the live messages or an export."""

from __future__ import annotations

import json

import pytest

from workshop.engines.hyphenation import SOFT_HYPHEN, hyphenate, hyphenate_words

LONG_WORDS = "Arbeitserlaubnis für Menschen mit Migrationsgeschichte"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Arbeitserlaubnis", "Ar-beits-er-laub-nis"),
        ("Migrationsgeschichte", "Mi-gra-ti-ons-ge-schich-te"),
        # No single letter alone on a line ("Bür-ge-r-amt").
        ("Bürgeramt", "Bür-ger-amt"),
    ],
)
def test_german_words_get_soft_hyphens_at_syllables(word, expected):
    assert hyphenate(word, "de").replace(SOFT_HYPHEN, "-") == expected
    assert hyphenate(word, "de@simple") == hyphenate(word, "de")


@pytest.mark.parametrize(
    ("word", "lang"), [("Kita", "de"), ("Arbeitserlaubnis", "ar"), ("<script>alert", "de")]
)
def test_short_words_other_languages_and_odd_input_stay_as_they_are(word, lang):
    assert hyphenate(word, lang) == word


def test_only_words_that_gain_a_break_come_back():
    assert hyphenate_words(["Kita", "Arbeitserlaubnis"], "de") == {
        "Arbeitserlaubnis": hyphenate("Arbeitserlaubnis")
    }


def test_the_board_asks_the_server_for_its_words(client):
    response = client.get("/board/hyphens?lang=de&w=Arbeitserlaubnis&w=Kita")
    assert response.status_code == 200
    assert response.json == {
        "lang": "de",
        "words": {"Arbeitserlaubnis": hyphenate("Arbeitserlaubnis")},
    }
    assert response.cache_control.public


def test_the_board_page_hands_the_hyphenation_rules_as_data(client, make_event):
    code = make_event()["code"]
    page = client.get(f"/board/{code}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '"hyphenation": {' in page and '"languages": ["de"]' in page


def test_no_soft_hyphen_in_api_live_data_or_exports(staff, make_event, join, submit, listen):
    code = make_event(areas=1)["code"]
    board = listen(code)
    person = join(code)
    submit(person, code, LONG_WORDS, body="Migrationsgeschichte und Arbeitserlaubnis")
    answers = [
        staff.get(f"/events/{code}/suggestions").get_data(as_text=True),
        *(
            staff.get(f"/events/{code}/export?format={fmt}").get_data(as_text=True)
            for fmt in ("csv", "json")
        ),
        staff.client.get(f"/events/{code}/report", headers=staff._headers()).get_data(as_text=True),
        json.dumps(board.get_received(), ensure_ascii=False, default=str),
    ]
    for answer in answers:
        assert "Arbeitserlaubnis" in answer
        # JSON may escape it: look for both spellings.
        assert SOFT_HYPHEN not in answer and "\\u00ad" not in answer.lower()


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", None), ("?columns=x", None), ("?columns=4", 4), ("?columns=1", 2), ("?columns=40", 8)],
)
def test_the_board_option_for_fewer_columns_is_clamped(client, make_event, query, expected):
    code = make_event()["code"]
    page = client.get(f"/board/{code}{query}").get_data(as_text=True)
    data = json.loads(page.split('id="page-data">', 1)[1].split("</script>", 1)[0])
    rotation = data["rotation"]
    assert (rotation and rotation["columns"]) == expected
    assert rotation is None or rotation["seconds"] == 20
