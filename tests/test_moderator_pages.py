"""The plain moderator pages: login, dashboard, the event page and its form actions; escaping."""

from __future__ import annotations

import re

import pytest

from workshop.extensions import socketio

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(client, path):
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def login(client, username, password="password-123", next_page=""):
    token = csrf_token(client, "/login")
    form = {"username": username, "password": password, "csrf_token": token}
    return client.post(f"/login{next_page}", data=form)


@pytest.fixture
def anna(make_staff):
    """A moderator who can log in as `anna`; returns her API caller."""
    return make_staff(username="anna")


@pytest.fixture
def page(app, anna, make_event, submit):
    """Anna's event with two cards, and a browser logged in as Anna: (code, cards, browser, act)."""
    event = make_event(owner=anna)
    code = event["code"]
    cards = [submit(anna, code, f"Card {i}")["id"] for i in range(2)]
    browser = app.test_client()
    assert login(browser, "anna").status_code == 302

    def act(action, **fields):
        form = {"action": action, "csrf_token": csrf_token(browser, f"/moderate/{code}"), **fields}
        return browser.post(f"/moderate/{code}/action", data=form)

    return event, cards, browser, act


def cards_of(api, code):
    return {card["id"]: card for card in api.get(f"/events/{code}/suggestions").json["suggestions"]}


@pytest.mark.parametrize("path", ["/moderate/", "/moderate/ABCDEF"])
def test_anonymous_users_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_anonymous_actions_change_nothing(client, make_event, staff, submit):
    code = make_event()["code"]
    card = submit(staff, code)
    response = client.post(f"/moderate/{code}/action", data={"action": "hide", "card": card["id"]})
    assert response.status_code == 400  # no form token: refused before anything else
    assert cards_of(staff, code)[card["id"]]["status"] == "visible"


def test_login_leads_to_the_dashboard_with_own_events_only(app, anna, make_event):
    mine, theirs = make_event(owner=anna)["code"], make_event()["code"]
    browser = app.test_client()
    response = login(browser, "anna")
    assert (response.status_code, response.location) == (302, "/moderate/")
    html = browser.get("/moderate/").get_data(as_text=True)
    assert mine in html and theirs not in html


@pytest.mark.parametrize(
    ("next_page", "location"), [("/moderate/X", "/moderate/X"), ("//evil.example", "/moderate/")]
)
def test_login_goes_back_to_local_pages_only(app, anna, next_page, location):
    response = login(app.test_client(), "anna", next_page=f"?next={next_page}")
    assert response.location == location


def test_wrong_password(app, anna):
    browser = app.test_client()
    response = login(browser, "anna", password="wrong-password")
    assert response.status_code == 401
    assert browser.get("/moderate/").status_code == 302


def test_login_form_needs_its_csrf_token(app, anna):
    browser = app.test_client()
    browser.get("/login")
    response = browser.post("/login", data={"username": "anna", "password": "password-123"})
    assert response.status_code == 400
    assert browser.get("/moderate/").status_code == 302


def test_create_an_event_from_the_dashboard(app, anna):
    browser = app.test_client()
    login(browser, "anna")
    form = {
        "title": "Plenum",
        "areas": "Bildung\n\nArbeit\n",
        "csrf_token": csrf_token(browser, "/moderate/"),
    }
    response = browser.post("/moderate/", data=form)
    code = response.location.rsplit("/", 1)[1]
    assert [area["name"] for area in anna.get(f"/events/{code}").json["areas"]] == [
        "Bildung",
        "Arbeit",
    ]


def test_event_page_lists_cards_and_results(page):
    event, cards, browser, _ = page
    html = browser.get(f"/moderate/{event['code']}/plain").get_data(as_text=True)
    assert f'id="card-{cards[0]}"' in html and f'id="card-{cards[1]}"' in html
    results = html.split('id="results-heading"')[1]
    assert "Card 0" in results and "Card 1" in results


def test_event_page_lists_cards_without_dots_without_a_rank(page, anna, join):
    event, cards, browser, _ = page
    code = event["code"]
    anna.patch(f"/events/{code}", json={"phase": "vote"})
    join(code).put(f"/events/{code}/suggestions/{cards[1]}/dots", json={"dots": 1})
    html = browser.get(f"/moderate/{code}/plain").get_data(as_text=True)
    results = html.split('id="results-heading"')[1]
    ranked, unranked = results.split('class="ranking ranking-unranked"')
    assert '<li value="1"><span dir="auto">Card 1</span>' in ranked and "Card 0" not in ranked
    assert "Card 0" in unranked and "value=" not in unranked.split("</ul>")[0]


def test_one_merge_form_whatever_the_number_of_cards(page, anna, submit):
    event, cards, browser, _ = page
    cards += [submit(anna, event["code"], f"More {i}")["id"] for i in range(8)]
    html = browser.get(f"/moderate/{event['code']}/plain").get_data(as_text=True)
    # Each card once in "which" and once in "into" (plus the prompt): the page grows linearly.
    assert html.count('name="into"') == 1
    assert html.count('<option value="' + str(cards[-1]) + '">') == 2


def test_phase_action(page, anna):
    event, _, _, act = page
    response = act("phase", phase="vote")
    assert (response.status_code, response.location) == (302, f"/moderate/{event['code']}/plain")
    assert anna.get(f"/events/{event['code']}").json["phase"] == "vote"


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        ([("hide", {})], {"status": "hidden"}),
        ([("hide", {}), ("show", {})], {"status": "visible"}),
        ([("move", {"area_id": "{area}"})], {"area_id": "{area}"}),
        ([("move", {"area_id": "{area}"}), ("move", {"area_id": ""})], {"area_id": None}),
        ([("merge", {"into": "{other}"})], {"status": "merged", "merged_into": "{other}"}),
        (
            [("merge", {"into": "{other}"}), ("unmerge", {})],
            {"status": "visible", "merged_into": None},
        ),
    ],
)
def test_card_actions(page, anna, actions, expected):
    event, cards, _, act = page
    ids = {"{area}": event["areas"][1]["id"], "{other}": cards[1]}
    for action, fields in actions:
        assert (
            act(action, card=cards[0], **{k: ids.get(v, v) for k, v in fields.items()}).status_code
            == 302
        )
    card = cards_of(anna, event["code"])[cards[0]]
    assert {key: card[key] for key in expected} == {k: ids.get(v, v) for k, v in expected.items()}


@pytest.mark.parametrize(
    "fields",
    [
        {"action": "merge", "card": "{card}", "into": "{card}"},
        {"action": "merge", "card": "x"},
        {"action": "explode", "card": "{card}"},
        {"action": "hide", "card": "99999999999999999999"},
    ],
)
def test_refused_actions_are_flashed(page, anna, fields):
    event, cards, browser, act = page
    before = cards_of(anna, event["code"])
    response = act(**{k: str(cards[0]) if v == "{card}" else v for k, v in fields.items()})
    assert response.status_code == 302
    assert 'class="flash flash-error"' in browser.get(response.location).get_data(as_text=True)
    assert cards_of(anna, event["code"]) == before


def test_actions_need_the_csrf_token(page, anna):
    event, cards, browser, _ = page
    response = browser.post(
        f"/moderate/{event['code']}/action", data={"action": "hide", "card": cards[0]}
    )
    assert response.status_code == 400
    assert cards_of(anna, event["code"])[cards[0]]["status"] == "visible"


def test_other_moderators_events_are_forbidden(app, anna, make_event, submit, staff):
    code = make_event()["code"]
    card = submit(staff, code)
    browser = app.test_client()
    login(browser, "anna")
    assert browser.get(f"/moderate/{code}").status_code == 403
    form = {"action": "hide", "card": card["id"], "csrf_token": csrf_token(browser, "/moderate/")}
    assert browser.post(f"/moderate/{code}/action", data=form).status_code == 403
    assert cards_of(staff, code)[card["id"]]["status"] == "visible"


def test_logged_in_moderator_listens_without_a_token(app, page):
    event, _, browser, _ = page
    sio = socketio.test_client(
        app, flask_test_client=browser, auth={"event": event["code"], "role": "moderator"}
    )
    assert sio.is_connected()
    sio.disconnect()


def test_logout(page):
    _, _, browser, _ = page
    browser.post("/logout", data={"csrf_token": csrf_token(browser, "/moderate/")})
    assert browser.get("/moderate/").status_code == 302


SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("path", "staff_page"),
    [
        ("/moderate/{code}/plain", True),
        ("/events/{code}/report", True),
        ("/board/{code}", False),
        ("/j/{code}", False),
    ],
)
def test_participant_text_is_escaped_on_every_page(app, page, anna, join, submit, path, staff_page):
    event, cards, browser, _ = page
    code = event["code"]
    card = submit(join(code), code, SCRIPT, body=SCRIPT)
    anna.post(f"/events/{code}/suggestions/{cards[0]}/merge", json={"into": card["id"]})
    anna.patch(f"/events/{code}", json={"phase": "results"})
    response = (browser if staff_page else app.test_client()).get(path.format(code=code))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and SCRIPT not in html
    assert not staff_page or "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_login_form_needs_its_token_even_without_cookies(app):
    fresh = app.test_client()  # no cookie jar contents: a cross-site first POST
    response = fresh.post("/login", data={"username": "admin", "password": "admin-password-1"})
    assert response.status_code == 400
    assert fresh.get("/moderate/").status_code == 302  # still not logged in


def test_console_links_the_report_and_every_export(page):
    event, _cards, browser, _act = page
    html = browser.get(f"/moderate/{event['code']}").get_data(as_text=True)
    links = re.findall(r'href="([^"]*(?:report|export)[^"]*)"', html)
    assert len(links) == 5
    for link in links:
        response = browser.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link


def test_dashboard_opens_the_live_console_and_the_report_leads_back(page):
    event, _cards, browser, _act = page
    code = event["code"]
    dashboard = browser.get("/moderate/").get_data(as_text=True)
    assert re.search(rf'<a class="button" href="/moderate/{code}">', dashboard)
    report = browser.get(f"/events/{code}/report").get_data(as_text=True)
    assert f'href="/moderate/{code}"' in report
    assert 'href="/moderate/"' in report


def test_console_offers_the_board_in_pages(page):
    """Besides the whole board, one that turns through the areas three at a time (issue 17)."""
    event, _cards, browser, _act = page
    code = event["code"]
    html = browser.get(f"/moderate/{code}").get_data(as_text=True)
    assert f'href="/board/{code}"' in html
    link = re.search(rf'<a href="(/board/{code}\?columns=3)"[^>]*>([^<]+)</a>', html)
    # The console speaks the event's language (German here).
    assert link and link.group(2) == "Pinnwand in Seiten (3 Themenbereiche)"
    board = browser.get(link.group(1)).get_data(as_text=True)
    assert '"columns": 3' in board
