"""Every input has a bound, tested on both sides: the longest or largest value allowed is
accepted, one more is refused (test_bad_input.py has more of the refusals)."""

from __future__ import annotations

import re

import pytest

from workshop import validation
from workshop.domain.accounts import create_user
from workshop.extensions import socketio

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
LANGUAGES = ["de@simple", "en", "ar", "fa", "uk", "ru"]


def card(**fields):
    return {"client_id": "c-1", "title": "A title", **fields}


def card_field(name):
    return lambda value: card(**{name: value})


def new_event(name):
    return lambda value: {"title": "T", name: value}


def field(name):
    return lambda value: {name: value}


def setting(name):
    return lambda value: {"settings": {name: value}}


SUBMIT, EVENTS, EVENT = "/events/{code}/suggestions", "/events", "/events/{code}"
FOUR_HOURS = 4 * 3600

#: (who, method, path, body from value, field refused, the largest value, one more)
BOUNDS = [
    ("me", "post", SUBMIT, card_field("title"), "title", "x" * 140, "x" * 141),
    ("me", "post", SUBMIT, card_field("title"), "title", "👍" * 140, "👍" * 141),
    ("me", "post", SUBMIT, card_field("body"), "body", "x" * 1000, "x" * 1001),
    ("me", "post", SUBMIT, card_field("client_id"), "client_id", "c" * 64, "c" * 65),
    ("staff", "post", EVENTS, field("title"), "title", "t" * 200, "t" * 201),
    ("staff", "post", EVENTS, new_event("question"), "question", "q" * 1000, "q" * 1001),
    ("staff", "post", EVENTS, new_event("areas"), "name", ["a" * 100], ["a" * 101]),
    ("staff", "post", EVENTS, new_event("areas"), "areas", ["A"] * 30, ["A"] * 31),
    ("staff", "post", EVENT + "/areas", field("name"), "name", "n" * 100, "n" * 101),
    ("staff", "patch", EVENT, field("question"), "question", "q" * 1000, "q" * 1001),
    (
        "staff",
        "patch",
        EVENT,
        setting("board_languages"),
        "board_languages",
        LANGUAGES,
        [*LANGUAGES, "de"],
    ),
    (
        "staff",
        "patch",
        EVENT,
        setting("max_suggestions_per_participant"),
        "max_suggestions_per_participant",
        100,
        101,
    ),
    ("staff", "patch", EVENT, setting("vote_budget"), "vote_budget", 100, 101),
    (
        "staff",
        "patch",
        EVENT,
        lambda value: {"display": {"timer_seconds": value}},
        "timer_seconds",
        FOUR_HOURS,
        FOUR_HOURS + 1,
    ),
]


@pytest.mark.parametrize(("who", "method", "path", "body", "name", "at", "over"), BOUNDS)
def test_the_bound_is_allowed_and_one_more_is_not(
    make_event, staff, join, who, method, path, body, name, at, over
):
    code = make_event(areas=1)["code"]
    api = staff if who == "staff" else join(code)
    path = path.format(code=code)
    refused = getattr(api, method)(path, json=body(over))
    assert (refused.status_code, refused.json["error"]["code"]) == (400, "validation_error")
    assert refused.json["error"]["field"] == name
    accepted = getattr(api, method)(path, json=body(at))
    assert accepted.status_code in (200, 201), accepted.json


@pytest.mark.parametrize(
    ("username", "password", "status"),
    [
        ("u" * 64, "p" * 200, 401),
        ("u" * 65, "p" * 8, 400),
        ("u" * 8, "p" * 201, 400),
    ],
)
def test_login_fields_are_bounded(client, username, password, status):
    body = {"username": username, "password": password}
    assert client.post("/api/v1/auth/token", json=body).status_code == status


def test_staff_accounts_take_the_longest_name_and_password(client):
    name, password = "n" * 64, "p" * 200
    with client.application.app_context():
        create_user(name, password)
    body = {"username": name, "password": password}
    assert client.post("/api/v1/auth/token", json=body).status_code == 200


@pytest.mark.parametrize(("length", "code"), [(512, "not_joined"), (513, "invalid_token")])
def test_overlong_tokens_are_not_even_looked_up(make_event, client, length, code):
    event = make_event()["code"]
    response = client.get(
        f"/api/v1/events/{event}/me", headers={"Authorization": "Bearer " + "t" * length}
    )
    assert (response.status_code, response.json["error"]["code"]) == (401, code)


def test_tokens_are_bounded_everywhere():
    assert validation.token("t" * validation.MAX_TOKEN_LENGTH)
    for bad in ("t" * (validation.MAX_TOKEN_LENGTH + 1), "", "täst", None, 42):
        assert validation.token(bad) is None


def test_an_overlong_socket_token_is_refused(app, client, make_event, join):
    code = make_event()["code"]
    good = join(code).token
    auth = {"event": code, "role": "participant", "token": good + "x" * 600}
    assert not socketio.test_client(app, flask_test_client=client, auth=auth).is_connected()


def test_socket_messages_are_as_small_as_requests(app):
    assert socketio.server.eio.max_http_buffer_size == app.config["MAX_CONTENT_LENGTH"] == 65536


def test_an_oversized_form_gets_a_page(app, make_staff):
    make_staff(username="anna")
    browser = app.test_client()
    token = CSRF.search(browser.get("/login").get_data(as_text=True)).group(1)
    form = {"username": "anna", "password": "x" * 70_000, "csrf_token": token}
    response = browser.post("/login", data=form, headers={"Accept-Language": "en"})
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "too large" in response.get_data(as_text=True)


def test_participants_file_at_most_their_limit(make_event, join, submit):
    code = make_event(max_suggestions_per_participant=3)["code"]
    me = join(code)
    for n in range(3):
        submit(me, code, f"Card {n}")
    response = me.post(f"/events/{code}/suggestions", json=card(client_id="fourth"))
    assert (response.status_code, response.json["error"]["code"]) == (409, "limit_reached")
