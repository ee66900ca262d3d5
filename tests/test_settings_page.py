"""The event settings page: texts, rules, languages and areas through plain forms."""

from __future__ import annotations

import re

import pytest

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@pytest.fixture
def settings(app, make_staff, make_event, submit):
    """A logged-in moderator's event with one card in its first area: (code, api, post)."""
    owner = make_staff(username="mira")
    event = make_event(areas=3, owner=owner)
    code = event["code"]
    submit(owner, code, "Sprachcafé", area_id=event["areas"][0]["id"])
    browser = app.test_client()
    token = CSRF.search(browser.get("/login").get_data(as_text=True)).group(1)
    form = {"username": "mira", "password": "password-123", "csrf_token": token}
    assert browser.post("/login", data=form).status_code == 302
    path = f"/moderate/{code}/settings"

    def post(**fields):
        token = CSRF.search(browser.get(path).get_data(as_text=True)).group(1)
        response = browser.post(path, data={"csrf_token": token, **fields})
        assert response.status_code == 302
        return browser.get(path).get_data(as_text=True)

    return code, owner, post


RULES = {
    "part": "event",
    "title": "Plenum 2026",
    "question": "Was ist wichtig?",
    "vote_budget": "7",
    "max_dots_per_suggestion": "3",
    "max_suggestions_per_participant": "4",
    "moderation": "pre",
    "default_language": "en",
    "board_languages": ["ar", "uk"],
}


def test_rules_and_languages_are_saved(settings):
    code, owner, post = settings
    post(**RULES)  # the totals checkbox is left unticked
    event = owner.get(f"/events/{code}").json
    assert (event["title"], event["question"]) == ("Plenum 2026", "Was ist wichtig?")
    assert event["settings"] == {
        "vote_budget": 7,
        "max_dots_per_suggestion": 3,
        "max_dots_per_area": None,
        "max_suggestions_per_participant": 4,
        "moderation": "pre",
        "hide_counts_while_voting": False,
        "seat_codes_required": False,
        "default_language": "en",
        "board_languages": ["ar", "uk"],
        # A form without the language lists leaves them as they were.
        "languages": ["de", "en", "ar", "fa", "uk", "ru"],
        "board_translations": ["de"],
        # Who supports what is a form of its own (test_the_list_of_groups_is_saved_one_per_line).
        "affiliations": [],
    }


def test_the_languages_and_the_board_translations_are_saved(settings):
    code, owner, post = settings
    page = post(**RULES, language_lists="1", languages=["de", "ar"], board_translations=[])
    assert 'class="flash flash-success"' in page
    settings = owner.get(f"/events/{code}").json["settings"]
    assert (settings["languages"], settings["board_translations"]) == (["de", "ar"], [])
    # The texts table now has a column for Arabic only.
    assert 'name="question-ar"' in page and 'name="question-en"' not in page


def test_the_question_and_area_names_are_saved_in_other_languages(settings):
    code, owner, post = settings
    post(**RULES)
    area = owner.get(f"/events/{code}").json["areas"][0]
    page = post(part="texts", **{"question-ar": "ما المهم؟", f"area-{area['id']}-uk": "Мова"})
    assert 'class="flash flash-success"' in page
    assert 'value="Мова"' in page
    event = owner.get(f"/events/{code}").json
    assert event["translations"] == {"ar": {"question": "ما المهم؟", "machine": False}}
    assert event["areas"][0]["translations"] == {"uk": {"name": "Мова", "machine": False}}
    # An emptied field removes the translation.
    post(part="texts", **{"question-ar": ""})
    assert owner.get(f"/events/{code}").json["translations"] == {}


def test_a_bad_value_is_explained_and_changes_nothing(settings):
    code, owner, post = settings
    page = post(**{**RULES, "vote_budget": "0"})
    assert 'class="flash flash-error"' in page
    assert owner.get(f"/events/{code}").json["settings"]["vote_budget"] == 5


def test_areas_are_renamed_reordered_added_and_removed(settings):
    code, owner, post = settings
    first, second, third = owner.get(f"/events/{code}").json["areas"]
    post(part="area", area=str(third["id"]), name="Wohnen", color="#123456", position="1")
    post(part="area_add", name="Sport")
    post(part="area", area=str(first["id"]), delete="1")
    areas = owner.get(f"/events/{code}").json["areas"]
    assert [(a["name"], a["color"]) for a in areas][:1] == [("Wohnen", "#123456")]
    assert [a["name"] for a in areas] == ["Wohnen", second["name"], "Sport"]
    cards = owner.get(f"/events/{code}/suggestions").json["suggestions"]
    assert [(card["title"], card["area_id"]) for card in cards] == [("Sprachcafé", None)]


def test_other_moderators_cannot_open_it(settings, make_staff, app):
    code, _owner, _post = settings
    make_staff(username="otto")
    browser = app.test_client()
    token = CSRF.search(browser.get("/login").get_data(as_text=True)).group(1)
    browser.post(
        "/login", data={"username": "otto", "password": "password-123", "csrf_token": token}
    )
    assert browser.get(f"/moderate/{code}/settings").status_code == 403


def test_the_list_of_groups_is_saved_one_per_line(settings, join):
    code, owner, post = settings
    page = post(part="affiliations", affiliations="Verwaltung\r\n\r\n  Bildung \r\n")
    assert owner.get(f"/events/{code}").json["settings"]["affiliations"] == [
        "Verwaltung",
        "Bildung",
    ]
    assert ">Verwaltung\nBildung</textarea>" in page
    # The suggested list travels with the button, in the page's language.
    suggested = "Verwaltung\nVerein oder Initiative\nMigrantenorganisation\nBildung\nPrivatperson"
    assert f'data-lines="{suggested}"' in page
    # A group somebody chose stays: the page says why.
    me = join(code)
    body = {"affiliation": "Bildung"}
    assert me.put(f"/events/{code}/participants/me/affiliation", json=body).status_code == 200
    page = post(part="affiliations", affiliations="Verwaltung")
    assert "„Bildung“ wurde schon von Teilnehmenden gewählt" in page
    # Groups nobody chose may go.
    post(part="affiliations", affiliations="Bildung")
    assert owner.get(f"/events/{code}").json["settings"]["affiliations"] == ["Bildung"]
