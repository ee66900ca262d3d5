"""An event in four languages for the export, import and report tests (imported as
`multilingual`, like `helpers`).

Area 1 ("Kinder"): a German card (an Arabic machine translation) with an Arabic card merged into
it (a German machine translation). Area 2 ("Sprache"): an Arabic card with machine translations
into German and English, a Persian card whose German translation staff corrected, an old card
from before languages (no language, no translation), and an English card whose German machine
translation was made from an older text (stale). The question and area 1 have English and
Arabic translations. No translation engine runs: machine translations are stored directly.
"""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa

from workshop.db.models import CardTranslation, Suggestion
from workshop.domain.translations import source_hash
from workshop.extensions import db

QUESTION = "Was soll im Viertel besser werden?"
TEXTS = {
    "question": {
        "en": "What should get better in the neighbourhood?",
        "ar": "ما الذي يجب أن يتحسن في الحي؟",
    },
    "area": {"en": "Children", "ar": "الأطفال"},
}
CARDS = {
    # name: (title, body, language, area index)
    "kita": ("Mehr Kita-Plätze", "Auch am Nachmittag", "de", 0),
    "rawda": ("روضة أطفال أكثر", "", "ar", 0),
    "cafe": ("مقهى لغوي للجيران", "كل مساء في الحي", "ar", 1),
    "kurs": ("کلاس‌های زبان آلمانی برای سالمندان", "صبح‌ها", "fa", 1),
    "old": ("Alte Karte ohne Sprache", "", None, 1),
    "bikes": ("More bike lanes", "", "en", 1),
}
#: (card, language): (title, body); all machine translations of the card's current text but
#: "bikes", whose translation is stale.
MACHINE = {
    ("kita", "ar"): ("المزيد من أماكن الحضانة", "في فترة بعد الظهر أيضًا"),
    ("rawda", "de"): ("Mehr Kindergärten", ""),
    ("cafe", "de"): ("Sprachcafé für die Nachbarschaft", "Jeden Abend im Viertel"),
    ("cafe", "en"): ("Language café for neighbours", "Every evening in the neighbourhood"),
    ("bikes", "de"): ("Veraltete Übersetzung", ""),
}
#: A person's German translation of the Persian card (machine false).
CORRECTED = {"title": "Deutschkurse für Ältere", "body": "Vormittags"}


def store_machine_translation(app, card_id: int, language: str, title: str, body: str) -> None:
    """A machine translation as the engine stores it, made from the card's current text."""
    with app.app_context():
        card = db.session.get(Suggestion, card_id)
        db.session.add(
            CardTranslation(
                suggestion_id=card_id,
                language=language,
                title=title,
                body=body,
                machine=True,
                source_hash=source_hash(card),
            )
        )
        db.session.commit()


def forget_language(app, card_id: int) -> None:
    """Make a card look as it did before cards had a language."""
    with app.app_context():
        db.session.execute(
            sa.update(Suggestion).where(Suggestion.id == card_id).values(language=None)
        )
        db.session.commit()


def make_stale(app, card_id: int) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(CardTranslation)
            .where(CardTranslation.suggestion_id == card_id)
            .values(source_hash="made-from-an-older-text")
        )
        db.session.commit()


def multilingual_event(app, staff, join, submit) -> SimpleNamespace:
    """The event above, voted and in its results: area 1 ranks kita (2 dots); area 2 ranks
    cafe (3), kurs (2), old (1); bikes has no dot."""
    response = staff.post(
        "/events",
        json={"title": "Plenum", "question": QUESTION, "areas": ["Kinder", "Sprache"]},
    )
    assert response.status_code == 201, response.json
    code = response.json["code"]
    areas = [area["id"] for area in response.json["areas"]]
    texts = {"question": TEXTS["question"], "areas": {str(areas[0]): TEXTS["area"]}}
    assert staff.put(f"/events/{code}/texts", json=texts).status_code == 200
    person = join(code)
    ids = {}
    for name, (title, body, language, area) in CARDS.items():
        fields = {"body": body, "area_id": areas[area]}
        if language:
            fields["language"] = language
        ids[name] = submit(person, code, title, **fields)["id"]
    forget_language(app, ids["old"])
    for (name, language), (title, body) in MACHINE.items():
        store_machine_translation(app, ids[name], language, title, body)
    make_stale(app, ids["bikes"])
    corrected = staff.put(
        f"/events/{code}/suggestions/{ids['kurs']}/translations/de", json=CORRECTED
    )
    assert corrected.status_code == 200, corrected.json
    merge = staff.post(
        f"/events/{code}/suggestions/{ids['rawda']}/merge", json={"into": ids["kita"]}
    )
    assert merge.status_code == 200, merge.json
    assert staff.patch(f"/events/{code}", json={"phase": "vote"}).status_code == 200
    voters = [join(code), join(code)]
    for voter, votes in zip(
        voters, [{"kita": 2, "cafe": 2}, {"cafe": 1, "kurs": 2, "old": 1}], strict=True
    ):
        for name, dots in votes.items():
            url = f"/events/{code}/suggestions/{ids[name]}/dots"
            assert voter.put(url, json={"dots": dots}).status_code == 200
    assert staff.patch(f"/events/{code}", json={"phase": "results"}).status_code == 200
    return SimpleNamespace(code=code, ids=ids, areas=areas)
