"""Languages: the switcher and its cookie, `lang`/`dir` on every page, the event's languages."""

from __future__ import annotations

import json
import re

import pytest

from tests.test_moderator_pages import login

HTML = re.compile(r'<html lang="([^"]+)" dir="(ltr|rtl)">')
PAGE_DATA = re.compile(r'<script type="application/json" id="page-data">(.*?)</script>', re.S)


@pytest.fixture
def admin_pages(client, make_staff, make_event):
    """A logged-in admin's browser and the paths of every kind of page."""
    make_staff("admin", username="root")
    assert login(client, "root").status_code == 302
    code = make_event()["code"]
    return [
        "/",
        "/?code=NOPE42",
        f"/j/{code}",
        f"/board/{code}",
        "/login",
        "/moderate/",
        f"/moderate/{code}",
        f"/moderate/{code}/plain",
        f"/events/{code}/report",
        "/admin/users",
        "/privacy",
        "/accessibility",
        "/no-such-page",
    ]


@pytest.mark.parametrize(
    "language, lang, direction",
    [
        ("de", "de", "ltr"),
        ("de@simple", "de", "ltr"),
        ("en", "en", "ltr"),
        ("ar", "ar", "rtl"),
        ("fa", "fa", "rtl"),
        ("uk", "uk", "ltr"),
        ("ru", "ru", "ltr"),
    ],
)
def test_every_page_has_lang_and_dir(client, admin_pages, language, lang, direction):
    client.set_cookie("workshop_lang", language)
    for path in admin_pages:
        page = client.get(path).get_data(as_text=True)
        assert HTML.search(page).groups() == (lang, direction), path


def test_the_switcher_lists_each_language_in_its_own_name(client):
    page = client.get("/privacy").get_data(as_text=True)
    for code, name, direction in [
        ("de", "Deutsch", "ltr"),
        ("de@simple", "Einfache Sprache", "ltr"),
        ("en", "English", "ltr"),
        ("ar", "العربية", "rtl"),
        ("fa", "فارسی", "rtl"),
        ("uk", "Українська", "ltr"),
        ("ru", "Русский", "ltr"),
    ]:
        # The name carries its language and direction; the link follows the page's (issue 17).
        link = re.search(
            rf'<a href="/language/{code}\?next=/privacy"[^>]*><span([^>]*)>{name}</span></a>', page
        )
        assert link, name
        assert f'lang="{code.split("@")[0]}"' in link.group(1)
        assert f'dir="{direction}"' in link.group(1)


def test_the_choice_is_remembered_on_the_device(client):
    response = client.get("/language/ar?next=/login")
    assert (response.status_code, response.headers["Location"]) == (303, "/login")
    cookie = client.get_cookie("workshop_lang")
    assert cookie.value == "ar" and cookie.http_only
    page = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x", ""]
)
def test_the_switch_goes_back_to_local_pages_only(client, target):
    response = client.get("/language/en", query_string={"next": target})
    assert response.headers["Location"] == "/"


def test_unknown_languages_are_not_found(client):
    response = client.get("/language/xx?next=/login")
    assert response.status_code == 404
    assert client.get_cookie("workshop_lang") is None
    assert "<html" in response.get_data(as_text=True)


def test_the_browser_language_comes_before_the_default(client):
    page = client.get("/login", headers={"Accept-Language": "uk, en;q=0.5"})
    assert '<html lang="uk" dir="ltr">' in page.get_data(as_text=True)


def test_the_event_default_applies_when_nothing_else_matches(client, staff, make_event):
    code = make_event(default_language="fa")["code"]
    french = client.get(f"/j/{code}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in french
    english = client.get(f"/j/{code}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in english


def test_language_settings_are_checked(staff, make_event):
    code = make_event()["code"]
    ok = staff.patch(
        f"/events/{code}",
        json={"settings": {"default_language": "ar", "board_languages": ["uk", "ar"]}},
    )
    assert ok.status_code == 200
    assert ok.json["settings"]["default_language"] == "ar"
    assert ok.json["settings"]["board_languages"] == ["uk", "ar"]
    for settings in (
        {"default_language": "xx"},
        {"board_languages": "ar"},
        {"board_languages": ["ar", "klingon"]},
    ):
        response = staff.patch(f"/events/{code}", json={"settings": settings})
        assert response.status_code == 400, settings
        assert response.json["error"]["field"] == next(iter(settings))


def test_suggestions_keep_the_language_they_were_written_in(join, make_event, submit):
    code = make_event()["code"]
    api = join(code)
    api.client.set_cookie("workshop_lang", "ar")
    assert submit(api, code, "مقترح")["language"] == "ar"
    api.client.delete_cookie("workshop_lang")
    assert submit(api, code, "Vorschlag")["language"] == "de"
    assert submit(api, code, "Пропозиція", language="uk")["language"] == "uk"
    bad = api.post(
        f"/events/{code}/suggestions", json={"client_id": "x1", "title": "t", "language": "xx"}
    )
    assert (bad.status_code, bad.json["error"]["field"]) == (400, "language")
    listed = api.get(f"/events/{code}/suggestions").json
    cards = listed["suggestions"] if isinstance(listed, dict) else listed
    assert {card["language"] for card in cards} == {"ar", "de", "uk"}


def test_the_board_carries_its_instruction_in_every_other_language(client, make_event):
    code = make_event(board_languages=["ar"])["code"]
    page = client.get(f"/board/{code}").get_data(as_text=True)
    data = json.loads(PAGE_DATA.search(page).group(1))
    assert data["instructions"]["collect"] == "Scanne den Code und schreib deinen Vorschlag."
    others = data["languages"]["others"]
    assert set(others) == {"de@simple", "en", "ar", "fa", "uk", "ru"}
    assert others["ar"]["dir"] == "rtl" and others["ar"]["lang"] == "ar"
    assert others["en"]["instructions"]["collect"] == "Scan and write your suggestion."
    assert data["languages"]["tags"]["ar"]["tag"] == "AR"


@pytest.mark.parametrize("path", ["/privacy", "/accessibility"])
def test_the_legal_pages_name_the_contact(app, client, path):
    assert "Veranstalter" in client.get(path).get_data(as_text=True)
    app.config["WORKSHOP_CONTACT"] = "Integrationsbüro, integration@example.org"
    page = client.get(path).get_data(as_text=True)
    assert "integration@example.org" in page
    assert f'href="{path}"' in client.get("/login").get_data(as_text=True)


def test_the_accessibility_statement_names_the_standards(client):
    page = client.get("/accessibility").get_data(as_text=True)
    for words in ("Erklärung zur Barrierefreiheit", "WCAG", "BITV 2.0", "§ 16 BGG"):
        assert words in page


def test_the_privacy_page_explains_the_cookies(client):
    page = client.get("/privacy").get_data(as_text=True)
    for words in ("§ 25 Abs. 2", "TDDDG", "HttpOnly", "IP-Adressen"):
        assert words in page


@pytest.mark.parametrize(
    ("language", "forms"),
    [
        ("de", {"one", "other"}),
        ("ru", {"one", "few", "many", "other"}),
        ("ar", {"zero", "one", "two", "few", "many", "other"}),
    ],
)
def test_scripts_get_every_plural_form_of_the_language(app, language, forms):
    from flask_babel import force_locale

    from workshop.i18n import plural_forms

    with app.test_request_context(), force_locale(language):
        assert set(plural_forms("%(num)s dot", "%(num)s dots", num="{n}")) == forms
