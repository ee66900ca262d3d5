"""Translations (domain/translations.py) through the JSON API, against a stand-in LibreTranslate
server: a card's language, cards translated in the background, corrections, the event's texts,
and an engine that is down, slow, failing or talking nonsense."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import _config
from tests.helpers import wait_for
from tests.standin_libretranslate import translated
from workshop import create_app
from workshop.extensions import db

OTHERS = {"en", "ar", "fa", "uk", "ru"}


@pytest.fixture
def app(request, migrated_db, tmp_path, standin):
    """conftest's app, with the stand-in as its translation engine (`app_config` may change
    that, e.g. `WORKSHOP_TRANSLATE_URL=None`)."""
    path = tmp_path / "workshop.sqlite3"
    shutil.copy(migrated_db, path)
    marker = request.node.get_closest_marker("app_config")
    config = {
        **_config(path, tmp_path),
        "WORKSHOP_TRANSLATE_URL": standin.url,
        "WORKSHOP_TRANSLATE_TIMEOUT": 1,
        **(marker.kwargs if marker else {}),
    }
    app = create_app(config)
    yield app
    with app.app_context():
        db.engine.dispose()


def card_of(api, code: str, card_id: int) -> dict:
    cards = api.get(f"/events/{code}/suggestions").json["suggestions"]
    return next(card for card in cards if card["id"] == card_id)


def translated_into(staff, code: str, card_id: int, languages: set[str]) -> dict:
    """The card once it has machine translations into all of `languages`."""
    found = {}

    def done():
        found.update(card_of(staff, code, card_id))
        return languages <= set(found["translations"])

    wait_for(done, timeout=30, interval=0.2)
    return found


@pytest.fixture
def room(make_event, join):
    event = make_event(areas=2)
    return {"code": event["code"], "areas": event["areas"], "phone": join(event["code"])}


# -- a card's language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "language"),
    [
        ("دورات اللغة الألمانية مع رعاية الأطفال", "ar"),
        ("Більше житла для біженців у місті", "uk"),
        ("Больше жилья для беженцев в городе", "ru"),
        ("کلاس‌های زبان آلمانی برای سالمندان", "fa"),
        ("More affordable housing for families", "en"),
        ("Deutschkurse mit Kinderbetreuung am Vormittag", "de"),
    ],
)
def test_a_cards_language_is_detected_from_its_text(room, submit, title, language):
    # The phone's interface is German; the card is not.
    card = submit(room["phone"], room["code"], title)
    assert card["language"] == language


def test_a_text_too_short_to_tell_keeps_the_interface_language(room, submit):
    room["phone"].client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "uk"
    assert submit(room["phone"], room["code"], "OK")["language"] == "uk"


def test_the_author_names_or_corrects_the_language(room, submit, staff):
    code, phone = room["code"], room["phone"]
    card = submit(phone, code, "Sprachcafé", language="de")
    assert card["language"] == "de"
    changed = phone.patch(f"/events/{code}/suggestions/{card['id']}", json={"language": "en"})
    assert changed.status_code == 200 and changed.json["language"] == "en"
    bad = phone.patch(f"/events/{code}/suggestions/{card['id']}", json={"language": "xx"})
    assert bad.status_code == 400
    staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"language": "de"})
    log = staff.get(f"/events/{code}/audit").json["entries"]
    assert log[0]["action"] == "language_changed"
    assert (log[0]["details"]["from"], log[0]["details"]["to"]) == ("en", "de")


# -- cards translated in the background -------------------------------------------------------


def test_a_card_is_translated_into_every_language_of_the_event(room, submit, staff, listen):
    code = room["code"]
    board = listen(code, "board")
    board.get_received()
    card = submit(room["phone"], code, "Deutschkurse mit Kinderbetreuung", body="Am Vormittag")
    assert card["translations"] == {}, "filing never waits for the engine"
    done = translated_into(staff, code, card["id"], OTHERS)
    assert set(done["translations"]) == OTHERS
    arabic = done["translations"]["ar"]
    assert arabic == {
        "title": translated("Deutschkurse mit Kinderbetreuung", "de", "ar"),
        "body": translated("Am Vormittag", "de", "ar"),
        "machine": True,
    }
    # The board heard the translations as changes of the card.
    heard = [
        m["args"][0]["data"]
        for m in board.get_received()
        if m["name"] == "change" and m["args"][0]["type"] == "suggestion"
    ]
    assert any(set(change["translations"]) == OTHERS for change in heard)
    assert card_of(room["phone"], code, card["id"])["translations"]["ar"] == arabic


def test_only_the_events_languages_are_translated(room, submit, staff):
    code = room["code"]
    staff.patch(f"/events/{code}", json={"settings": {"languages": ["de", "de@simple", "en"]}})
    assert staff.get(f"/events/{code}/translations").json == {
        "on": True,
        "pending": 0,
        "languages": ["de", "en"],
    }
    card = submit(room["phone"], code, "Deutschkurse mit Kinderbetreuung")
    done = translated_into(staff, code, card["id"], {"en"})
    assert set(done["translations"]) == {"en"}
    bad = staff.patch(f"/events/{code}", json={"settings": {"languages": ["de", "klingon"]}})
    assert bad.status_code == 400


def test_an_edited_card_is_translated_again(room, submit, staff):
    code = room["code"]
    card = submit(room["phone"], code, "Deutschkurse mit Kinderbetreuung")
    translated_into(staff, code, card["id"], OTHERS)
    staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"title": "Deutschkurse am Abend"})

    def again():
        english = card_of(staff, code, card["id"])["translations"]["en"]["title"]
        return english == translated("Deutschkurse am Abend", "de", "en")

    wait_for(again, timeout=30, interval=0.2)


def test_a_corrected_translation_is_kept_and_never_overwritten(room, submit, staff):
    code = room["code"]
    card = submit(room["phone"], code, "Deutschkurse mit Kinderbetreuung")
    translated_into(staff, code, card["id"], OTHERS)
    path = f"/events/{code}/suggestions/{card['id']}/translations/en"
    fixed = staff.put(path, json={"title": "German classes with childcare"})
    assert fixed.status_code == 200
    assert fixed.json["translations"]["en"] == {
        "title": "German classes with childcare",
        "body": "",
        "machine": False,
    }
    log = staff.get(f"/events/{code}/audit").json["entries"]
    assert log[0]["action"] == "translation_corrected"
    assert log[0]["details"]["old"]["title"] == translated(
        "Deutschkurse mit Kinderbetreuung", "de", "en"
    )
    staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"title": "Deutschkurse!"})

    def others_redone():
        card_now = card_of(staff, code, card["id"])
        return card_now["translations"]["ar"]["title"] == translated("Deutschkurse!", "de", "ar")

    wait_for(others_redone, timeout=30, interval=0.2)
    assert card_of(staff, code, card["id"])["translations"]["en"]["machine"] is False


@pytest.mark.parametrize(
    ("language", "body", "status"),
    [
        ("de", {"title": "x"}, 409),
        ("xx", {"title": "x"}, 400),
        ("en", {"title": ""}, 400),
        ("en", {"body": "no title"}, 400),
        ("en", {"title": "x" * 401}, 400),
    ],
)
def test_bad_corrections_are_refused(room, submit, staff, language, body, status):
    card = submit(room["phone"], room["code"], "Deutschkurse mit Kinderbetreuung")
    path = f"/events/{room['code']}/suggestions/{card['id']}/translations/{language}"
    response = staff.put(path, json=body)
    assert response.status_code == status
    assert "error" in response.json


def test_participants_may_not_correct_translations(room, submit):
    card = submit(room["phone"], room["code"], "Deutschkurse mit Kinderbetreuung")
    path = f"/events/{room['code']}/suggestions/{card['id']}/translations/en"
    assert room["phone"].put(path, json={"title": "x"}).status_code in (401, 403)


# -- an engine that is down, slow, failing or talking nonsense ---------------------------------


@pytest.mark.parametrize("mode", ["down", "error", "nonsense", "slow"])
def test_cards_flow_while_the_engine_fails_and_catch_up_after(room, submit, staff, standin, mode):
    standin.mode, standin.delay = mode, 1.5  # slow: over the 1 s time-out
    code = room["code"]
    card = submit(room["phone"], code, "Deutschkurse mit Kinderbetreuung")
    wait_for(lambda: standin.translations_asked() >= 1, timeout=30)
    assert card_of(staff, code, card["id"])["translations"] == {}
    assert staff.get(f"/events/{code}/translations").json["pending"] == len(OTHERS)
    standin.mode = "ok"
    translated_into(staff, code, card["id"], OTHERS)


# -- the event's texts ------------------------------------------------------------------------


def test_the_question_and_area_names_in_other_languages(room, staff, listen):
    code, area = room["code"], room["areas"][0]["id"]
    board = listen(code, "board")
    board.get_received()
    body = {
        "question": {"en": "What should the city do?", "ar": "ماذا يجب أن تفعل المدينة؟"},
        "areas": {str(area): {"en": "Language and education"}},
    }
    response = staff.put(f"/events/{code}/texts", json=body)
    assert response.status_code == 200
    event = staff.get(f"/events/{code}").json
    assert event["translations"]["ar"] == {
        "question": "ماذا يجب أن تفعل المدينة؟",
        "machine": False,
    }
    assert event["areas"][0]["translations"] == {
        "en": {"name": "Language and education", "machine": False}
    }
    heard = [m["args"][0]["type"] for m in board.get_received() if m["name"] == "change"]
    assert "event" in heard
    # An empty text removes a translation.
    staff.put(f"/events/{code}/texts", json={"question": {"en": ""}})
    assert set(staff.get(f"/events/{code}").json["translations"]) == {"ar"}
    assert staff.get(f"/events/{code}/audit").json["entries"][0]["action"] == "texts_translated"


@pytest.mark.parametrize(
    "body",
    [
        {"question": "text"},
        {"question": {"xx": "text"}},
        {"areas": {"999999": {"en": "x"}}},
        {"areas": {"abc": {"en": "x"}}},
        {"areas": []},
        {"title": {}},
        {"question": {"en": "x" * 1001}},
    ],
)
def test_bad_texts_are_refused(room, staff, body):
    response = staff.put(f"/events/{room['code']}/texts", json=body)
    assert response.status_code == 400
    assert "error" in response.json


def test_machine_suggestions_for_the_events_texts(room, staff, standin):
    code = room["code"]
    staff.patch(f"/events/{code}", json={"question": "Was soll die Stadt tun?"})
    suggested = staff.post(f"/events/{code}/texts/suggest").json
    assert suggested["question"]["en"] == translated("Was soll die Stadt tun?", "de", "en")
    first = room["areas"][0]
    assert suggested["areas"][str(first["id"])]["uk"] == translated(first["name"], "de", "uk")
    assert "de" not in suggested["question"]
    # Nothing was stored: staff accept them with PUT /texts.
    assert staff.get(f"/events/{code}").json["translations"] == {}
    standin.mode = "down"
    down = staff.post(f"/events/{code}/texts/suggest")
    assert down.status_code == 503
    assert down.json["error"]["code"] == "engine_unavailable"


# -- without an engine ------------------------------------------------------------------------


@pytest.mark.app_config(WORKSHOP_TRANSLATE_URL=None)
def test_without_an_engine_nothing_is_translated_and_nothing_breaks(room, submit, staff):
    code = room["code"]
    card = submit(room["phone"], code, "دورات اللغة الألمانية مع رعاية الأطفال")
    assert card["language"] == "ar"
    assert staff.get(f"/events/{code}/translations").json == {
        "on": False,
        "pending": 0,
        "languages": ["de", "en", "ar", "fa", "uk", "ru"],
    }
    assert staff.post(f"/events/{code}/texts/suggest").json == {"question": {}, "areas": {}}
    assert card_of(staff, code, card["id"])["translations"] == {}


@pytest.mark.app_config(WORKSHOP_TRANSLATE_URL=None)
def test_staff_may_still_type_translations_without_an_engine(room, staff):
    code = room["code"]
    response = staff.put(f"/events/{code}/texts", json={"question": {"fa": "چه باید کرد؟"}})
    assert response.status_code == 200
    assert response.json["translations"]["fa"]["question"] == "چه باید کرد؟"
