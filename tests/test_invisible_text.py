"""Text that reads differently than stored: bidi controls and invisible characters are removed
from every user text at input (validation.text), joiners are kept where a script needs them, and
texts are compared in NFKC and case folded where duplicates are judged."""

from __future__ import annotations

import pytest
from test_report import page, pdf_text

from workshop import validation
from workshop.db.models import User
from workshop.domain.accounts import create_user
from workshop.extensions import db

RLO, ZWSP, ZWNJ, ZWJ = "\u202e", "\u200b", "\u200c", "\u200d"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (RLO + "reversed text", "reversed text"),
        ("Free" + ZWSP + " coffee", "Free coffee"),
        ("\u2067isolated\u2069 \u202aembedded\u202c", "isolated embedded"),
        ("\ufeffBOM\u2060joined\u180e", "BOMjoined"),
        # Persian: the non-joiner inside a word is spelling; emoji sequences need the joiner.
        ("می" + ZWNJ + "خواهم", "می" + ZWNJ + "خواهم"),
        ("👩" + ZWJ + "💻 ❤️" + ZWJ + "🔥", "👩" + ZWJ + "💻 ❤️" + ZWJ + "🔥"),
        # A joiner that joins nothing visible only hides a difference.
        (ZWJ + "edge" + ZWNJ, "edge"),
        ("a" + ZWNJ + " " + ZWJ + "b", "a b"),
        # Decided on the text without the removed characters: this joiner now stands between
        # two letters (harmless; duplicates are compared without it, see `comparable`).
        ("a" + ZWSP + ZWJ + "b", "a" + ZWJ + "b"),
        # Marks that only place punctuation in right-to-left text stay.
        ("\u200fسلام!\u200e", "\u200fسلام!\u200e"),
    ],
)
def test_invisible_characters_are_removed(app, sent, stored):
    with app.test_request_context():
        assert validation.text(sent, "title", max_length=140) == stored


def test_a_text_of_only_invisible_characters_is_empty(app):
    with app.test_request_context(), pytest.raises(validation.WorkshopError) as error:
        validation.text(ZWSP + RLO + "\u2069", "title", max_length=140)
    assert error.value.code == "validation_error"


def test_comparable_texts():
    assert validation.comparable("Free coffee") == validation.comparable("ＦＲＥＥ  Coffee")
    assert validation.comparable("Free\u200ecoffee") == validation.comparable("freecoffee")
    assert validation.comparable("Straße") == validation.comparable("STRASSE")
    assert validation.comparable("Free coffee") != validation.comparable("Free tea")


def test_cards_are_stored_without_overrides(join, make_event, submit):
    code = make_event()["code"]
    card = submit(join(code), code, RLO + "reversed text", body="Free" + ZWSP + " coffee")
    assert (card["title"], card["body"]) == ("reversed text", "Free coffee")


def test_every_staff_text_is_cleaned(app, staff, make_event):
    body = {"title": RLO + "Plenum", "question": "Why" + ZWSP + "?", "areas": ["\u2066A\u2069"]}
    event = staff.post("/events", json=body).json
    assert (event["title"], event["question"]) == ("Plenum", "Why?")
    assert event["areas"][0]["name"] == "A"
    area = staff.post(f"/events/{event['code']}/areas", json={"name": "B" + RLO}).json
    assert area["name"] == "B"
    with app.app_context():
        create_user(RLO + "evil" + ZWSP, "password-123", "moderator")
        assert db.session.scalar(db.select(User).where(User.username == "evil")) is not None


def test_the_report_shows_no_override(staff, make_event, join, submit, tmp_path):
    """The text is cleaned at input, so neither the HTML report nor the PDF can show it."""
    code = make_event(areas=1)["code"]
    submit(join(code), code, RLO + "reversed text")
    assert staff.patch(f"/events/{code}", json={"phase": "results"}).status_code == 200
    html = page(staff, f"/events/{code}/report").get_data(as_text=True)
    assert "reversed text" in html and RLO not in html
    pdf = page(staff, f"/events/{code}/report.pdf")
    assert pdf.status_code == 200
    assert "reversed text" in pdf_text(pdf.data, tmp_path)
