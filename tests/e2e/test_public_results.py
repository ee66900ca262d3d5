"""Public results at the event's link (issue 18): once voting has ended, /j/<code> shows the top
ten, the ranking per area and what became of the phone's own cards, in German and Arabic at
390×844, printable, and an open phone reloads into it when the phase changes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

from .test_accessibility import axe_source, axe_violations
from .test_board import Api

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

__all__ = ["axe_source"]  # the fixture, shared with test_accessibility

PHONE = {"width": 390, "height": 844}

#: Staff cards (area index, title, dots): enough for a top ten with a tie.
STAFF_CARDS = [
    (0, "Sprachkurse mit Kinderbetreuung", 6),
    (0, "Dolmetschpool für Behördengänge", 4),
    (1, "Beratungsstellen im Stadtteil vernetzen", 3),
    (2, "Mehrsprachige Elternabende", 5),
    (3, "Ausbildungspaten für junge Geflüchtete", 4),
    (4, "Interkulturelle Öffnung der Vereine", 2),
    (5, "Wohnungsbörse ohne Diskriminierung", 2),
    (6, "Migrationsgeschichte im Stadtmuseum", 1),
    (7, "Sprechstunde der Ausländerbehörde im Quartier", 1),
    (2, "Hausaufgabenhilfe in der Bibliothek", 0),
]


@pytest.fixture
def api(server) -> Api:
    return Api(server)


def vote(api: Api, code: str, totals: dict[int, int]) -> None:
    """Give each card its total in ballots of at most 5 dots and 2 per card."""
    left = {card: n for card, n in totals.items() if n}
    while left:
        ballot = {}
        for card in list(left):
            give = min(2, left[card], 5 - sum(ballot.values()))
            if give:
                ballot[card] = give
                left[card] -= give
                if not left[card]:
                    del left[card]
        api.vote(code, ballot)


@pytest.fixture
def ended(api, server) -> dict:
    """The demo event in `results`, with a phone whose cards met every fate: ranked, merged,
    hidden, without dots, and one written in Arabic."""
    code = server.demo_code
    areas = [area["id"] for area in api.event(code)["areas"]]
    api.patch(code, phase="collect")
    phone = api.call("POST", f"/events/{code}/participants", status=201)["token"]
    own = {
        "ranked": api.card(code, "Abendkurse für Berufstätige", phone, area_id=areas[0]),
        "merged": api.card(code, "Beratung vor Ort", phone, area_id=areas[1]),
        "hidden": api.card(code, "Werbung für meinen Laden", phone, area_id=areas[0]),
        "zero": api.card(code, "Ein Straßenfest für alle", phone, area_id=areas[4]),
        "arabic": api.card(code, "دورات لغة للأمهات", phone, area_id=areas[2]),
    }
    totals = {own["ranked"]["id"]: 3, own["merged"]["id"]: 1, own["arabic"]["id"]: 2}
    staff_cards = {}
    for area, title, dots in STAFF_CARDS:
        card = api.card(code, title, area_id=areas[area])
        staff_cards[title] = card
        totals[card["id"]] = dots
    api.patch(code, phase="vote")
    vote(api, code, totals)
    into = staff_cards["Beratungsstellen im Stadtteil vernetzen"]["id"]
    path = f"/events/{code}/suggestions"
    api.call("POST", f"{path}/{own['merged']['id']}/merge", json={"into": into}, status=200)
    api.call("PATCH", f"{path}/{own['hidden']['id']}", json={"status": "hidden"}, status=200)
    api.patch(code, phase="results")
    return {"code": code, "token": phone, "own": own}


@contextmanager
def phone(browser, server, language: str, token: str | None) -> Iterator[Page]:
    """A 390×844 phone holding the participant cookie `token`, on the event's link."""
    locale = {"de": "de-DE", "ar": "ar"}[language]
    context = browser.new_context(locale=locale, viewport=PHONE)
    cookies = [{"name": "workshop_lang", "value": language, "url": server.url}]
    if token:
        cookies.append({"name": f"workshop_{server.demo_code}", "value": token, "url": server.url})
    context.add_cookies(cookies)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/j/{server.demo_code}")
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_link_shows_the_results_and_my_cards_fate(
    server, browser, ended, artifacts, axe_source, language
):
    with phone(browser, server, language, ended["token"]) as page:
        expect(page.locator("#top-ten")).to_be_visible()
        assert page.evaluate("document.documentElement.dir") == (
            "rtl" if language == "ar" else "ltr"
        )
        top = page.locator("#top-ten .ranking > li")
        expect(top.first).to_contain_text("Sprachkurse mit Kinderbetreuung")
        assert 10 <= top.count() <= 11  # a tie at the last place stays in
        expect(page.locator("#per-area .area-results")).not_to_have_count(0)

        own = ended["own"]
        fates = page.locator("#own-results .fate")
        expect(fates).to_have_count(5)
        fate = page.locator(f'.fate[data-id="{own["merged"]["id"]}"]')
        expect(fate).to_have_class("fate fate-merged")
        expect(fate).to_contain_text("Beratungsstellen im Stadtteil vernetzen")
        expect(page.locator(f'.fate[data-id="{own["ranked"]["id"]}"] .place')).to_be_visible()
        expect(page.locator(f'.fate[data-id="{own["hidden"]["id"]}"]')).to_have_class(
            "fate fate-hidden"
        )
        expect(page.locator(f'.fate[data-id="{own["zero"]["id"]}"]')).to_have_class(
            "fate fate-unranked"
        )
        # Hidden cards stay out of the public ranking.
        expect(page.locator("#per-area")).not_to_contain_text("Werbung für meinen Laden")

        # Right to left mirrors: the rank stands at the start of the line, the right in Arabic.
        rank, entry = top.first.locator(".rank"), top.first.locator(".entry")
        rank_x, entry_x = rank.bounding_box()["x"], entry.bounding_box()["x"]
        assert (rank_x > entry_x) if language == "ar" else (rank_x < entry_x)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.locator("script[src]").count() == 0  # the page needs no JavaScript
        page.screenshot(path=artifacts / f"issue18-public-results-{language}.png", full_page=True)
        assert axe_violations(page, axe_source) == []


def test_the_language_switch_works_on_the_results_page(server, browser, ended):
    with phone(browser, server, "de", ended["token"]) as page:
        page.locator(".site-header .language-menu summary").click()
        page.locator('.site-header .language-menu a[hreflang="ar"]').click()
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("#top-ten")).to_be_visible()


def test_the_results_print_without_the_site_around_them(server, browser, ended, artifacts):
    with phone(browser, server, "de", ended["token"]) as page:
        page.emulate_media(media="print")
        expect(page.locator(".site-header")).to_be_hidden()
        expect(page.locator("#top-ten")).to_be_visible()
        page.screenshot(path=artifacts / "issue18-public-results-print.png", full_page=True)
        pdf = page.pdf(path=artifacts / "issue18-public-results.pdf", format="A4")
        assert pdf.startswith(b"%PDF")


def test_anonymous_readers_see_the_ranking_only(server, browser, ended):
    with phone(browser, server, "de", None) as page:
        expect(page.locator("#top-ten")).to_be_visible()
        expect(page.locator("#own-results")).to_have_count(0)


def test_an_open_phone_reloads_into_the_results(server, browser, api):
    code = server.demo_code
    api.patch(code, phase="vote")
    with phone(browser, server, "de", None) as page:
        expect(page.locator("#cards")).to_have_attribute("aria-busy", "false")
        expect(page.locator("#top-ten")).to_have_count(0)
        api.patch(code, phase="results")
        expect(page.locator("#top-ten")).to_be_visible()


@pytest.mark.parametrize("language", ["de", "ar"])
def test_a_card_names_its_working_group_once_it_is_open(
    server, browser, api, ended, artifacts, language
):
    """A draft follow-up event is only "a working group" on the public page (its code would lead
    nowhere); once it is open, the page names it by its title, right to left in Arabic too."""
    code = ended["code"]
    cards = api.call("GET", f"/events/{code}/suggestions", status=200)["suggestions"]
    top = next(card for card in cards if card["title"] == STAFF_CARDS[0][1])  # 6 dots: first
    body = {"title": "AG Sprachkurse", "suggestions": [top["id"]]}
    new = api.call("POST", f"/events/{code}/follow-up", json=body, status=201)
    group = "AG Sprachkurse"
    with phone(browser, server, language, ended["token"]) as page:
        first = page.locator("#top-ten .ranking > li").first
        expect(first.locator(".onward")).to_have_count(1)
        expect(first.locator(".onward")).not_to_contain_text(group)
        assert new["code"] not in page.content()
        api.patch(new["code"], phase="collect")
        page.reload()
        onward = first.locator(".onward")
        expect(onward).to_contain_text(group)
        if language == "de":
            expect(onward).to_have_text("Geht weiter in der Arbeitsgruppe „AG Sprachkurse“")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        first.scroll_into_view_if_needed()
        page.screenshot(path=artifacts / f"issue18-working-group-named-{language}.png")
