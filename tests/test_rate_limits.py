"""Request limits with the limiter on: per device, per address, the participant writes, joins,
the 429 answers (JSON and page), and the token buckets for socket events."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Api, new_client_id
from workshop import create_app
from workshop.web.limits import Buckets

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def submit_status(api: Api, code: str, **headers) -> int:
    body = {"client_id": new_client_id(), "title": "A card"}
    return api.client.post(
        f"/api/v1/events/{code}/suggestions",
        json=body,
        headers={**api._headers(), **headers},
    ).status_code


def assert_rate_limited(response, language: str = "de") -> int:
    """The API's 429: one error shape, a translated message and when to come back."""
    assert response.status_code == 429
    error = response.json["error"]
    assert error["code"] == "rate_limited"
    assert error["message"].startswith({"en": "Too many", "de": "Zu viele"}[language])
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 60 and error["retry_after"] == seconds
    return seconds


# -- Participant writes, per device ------------------------------------------------------------


def test_submits_are_limited_per_device_not_per_address(app, make_event, join):
    app.config["WORKSHOP_RATELIMIT_SUBMIT"] = "2 per minute"
    code = make_event()["code"]
    phones = [join(code) for _ in range(5)]
    # Five phones behind one address: each gets its own two.
    assert [submit_status(phone, code) for phone in phones for _ in range(2)] == [201] * 10
    response = phones[0].post(
        f"/events/{code}/suggestions", json={"client_id": "third", "title": "Third"}
    )
    assert_rate_limited(response)
    assert len(phones[0].get(f"/events/{code}/me").json["suggestions"]) == 2


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_refusal_speaks_the_callers_language(app, make_event, join, language):
    app.config["WORKSHOP_RATELIMIT_SUBMIT"] = "1 per minute"
    code = make_event()["code"]
    me = join(code)
    assert submit_status(me, code) == 201
    response = me.client.post(
        f"/api/v1/events/{code}/suggestions",
        json={"client_id": "again", "title": "Again"},
        headers={**me._headers(), "Accept-Language": language},
    )
    assert_rate_limited(response, language)


def test_edits_count_as_writes(app, make_event, join, submit):
    app.config["WORKSHOP_RATELIMIT_SUBMIT"] = "2 per minute"
    code = make_event()["code"]
    me = join(code)
    card = submit(me, code)
    assert (
        me.patch(f"/events/{code}/suggestions/{card['id']}", json={"title": "B"}).status_code == 200
    )
    response = me.patch(f"/events/{code}/suggestions/{card['id']}", json={"title": "C"})
    assert_rate_limited(response)
    assert me.get(f"/events/{code}/suggestions").json["suggestions"][0]["title"] == "B"


def test_staff_moderation_is_not_held_to_the_participant_limit(app, make_event, staff, join):
    app.config["WORKSHOP_RATELIMIT_SUBMIT"] = "1 per minute"
    code = make_event()["code"]
    assert [submit_status(staff, code) for _ in range(4)] == [201] * 4


def test_dot_changes_are_limited_per_device(app, make_event, staff, join, submit):
    app.config["WORKSHOP_RATELIMIT_DOTS"] = "3 per minute"
    code = make_event()["code"]
    card = submit(staff, code)
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    me, neighbour = join(code), join(code)
    path = f"/events/{code}/suggestions/{card['id']}/dots"
    assert [me.put(path, json={"dots": n % 2}).status_code for n in range(3)] == [200] * 3
    assert_rate_limited(me.put(path, json={"dots": 1}))
    assert me.get(f"/events/{code}/me").json["dots_left"] == 5
    assert neighbour.put(path, json={"dots": 2}).status_code == 200


def test_the_cookie_is_the_device_on_the_attendee_page(app, make_event):
    app.config["WORKSHOP_RATELIMIT_SUBMIT"] = "1 per minute"
    code = make_event()["code"]
    phones = []
    for _ in range(2):
        phone = app.test_client()
        csrf = CSRF.search(phone.get(f"/j/{code}").get_data(as_text=True)).group(1)
        phones.append((phone, {"X-CSRFToken": csrf}))
    statuses = [
        phone.post(
            f"/api/v1/events/{code}/suggestions",
            json={"client_id": new_client_id(), "title": "Via cookie"},
            headers=headers,
        ).status_code
        for phone, headers in (phones[0], phones[1], phones[0])
    ]
    assert statuses == [201, 201, 429]


# -- Every request, per device and per address -------------------------------------------------


def test_every_request_counts_per_device(app, make_event, join):
    app.config["WORKSHOP_RATELIMIT_DEVICE"] = "4 per minute"
    code = make_event()["code"]
    me, other = join(code), join(code)
    assert [me.get(f"/events/{code}/me").status_code for _ in range(4)] == [200] * 4
    assert_rate_limited(me.get(f"/events/{code}/me"))
    assert other.get(f"/events/{code}/me").status_code == 200


def test_every_request_counts_per_address(app, make_event):
    code = make_event()["code"]
    app.config["WORKSHOP_RATELIMIT_ADDRESS"] = "3 per minute"
    venue = app.test_client()
    elsewhere = app.test_client()
    venue.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.8"
    assert [venue.get(f"/api/v1/events/{code}").status_code for _ in range(3)] == [200] * 3
    assert_rate_limited(venue.get(f"/api/v1/events/{code}"))
    assert elsewhere.get(f"/api/v1/events/{code}").status_code == 200
    # Static files are not counted.
    with venue.get("/static/css/app.css") as static:
        assert static.status_code == 200


def test_joins_are_counted_per_address_and_only_when_they_create_someone(app, make_event):
    app.config["WORKSHOP_RATELIMIT_JOIN"] = "2 per minute"
    code = make_event()["code"]
    first, second, third = (app.test_client() for _ in range(3))
    assert first.get(f"/j/{code}").status_code == 200
    assert second.get(f"/j/{code}").status_code == 200
    # A phone that already joined comes back as often as it likes.
    assert [first.get(f"/j/{code}").status_code for _ in range(3)] == [200] * 3
    page = third.get(f"/j/{code}", headers={"Accept-Language": "en"})
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert third.get_cookie(f"workshop_{code}") is None
    assert_rate_limited(third.post(f"/api/v1/events/{code}/participants"))


def test_a_hall_of_150_phones_behind_one_address_is_not_blocked(app, make_event, staff):
    """Normal use with the default limits: everyone joins at once, files a card, votes."""
    code = make_event(max_dots_per_suggestion=5)["code"]
    card = staff.post(
        f"/events/{code}/suggestions", json={"client_id": "c", "title": "Shared topic"}
    ).json
    statuses = []
    phones = []
    for _ in range(150):
        response = app.test_client().post(f"/api/v1/events/{code}/participants")
        statuses.append(response.status_code)
        phones.append(Api(app.test_client(), response.json.get("token")))
    for phone in phones:
        statuses.append(submit_status(phone, code))
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    path = f"/events/{code}/suggestions/{card['id']}/dots"
    for phone in phones:
        for dots in (1, 3, 2):
            statuses.append(phone.put(path, json={"dots": dots}).status_code)
    assert 429 not in statuses
    assert set(statuses) == {200, 201}
    assert staff.get(f"/events/{code}").json["counts"]["participants"] == 150


# -- The answers -------------------------------------------------------------------------------


def login_form(client) -> dict:
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    return {"username": "nobody", "password": "wrong-password", "csrf_token": token}


def test_forms_get_a_page_that_says_how_long_to_wait(app):
    app.config["WORKSHOP_RATELIMIT_LOGIN"] = "1 per minute"
    browser = app.test_client()
    form = login_form(browser)
    assert browser.post("/login", data=form).status_code == 401
    response = browser.post(
        "/login?next=/moderate/",
        data=form,
        headers={"Accept-Language": "en", "Referer": "http://localhost/login?next=/moderate/"},
    )
    assert response.status_code == 429 and response.mimetype == "text/html"
    seconds = int(response.headers["Retry-After"])
    html = response.get_data(as_text=True)
    assert "Too many requests" in html
    assert f"You can try again in {seconds} second" in html
    assert 'href="/login?next=/moderate/"' in html


def test_the_way_back_never_leaves_the_site(app):
    app.config["WORKSHOP_RATELIMIT_LOGIN"] = "1 per minute"
    browser = app.test_client()
    form = login_form(browser)
    browser.post("/login", data=form)
    response = browser.post("/login", data=form, headers={"Referer": "https://evil.example/x"})
    assert response.status_code == 429
    assert "evil.example" not in response.get_data(as_text=True)


@pytest.mark.app_config(WORKSHOP_TRUSTED_PROXIES=1, WORKSHOP_RATELIMIT_ADDRESS="2 per minute")
def test_trusted_proxies_tell_clients_apart(app, client):
    def status(client_address):
        headers = {"X-Forwarded-For": client_address}
        return client.get("/healthz", headers=headers).status_code

    assert [status("192.0.2.1"), status("192.0.2.1"), status("192.0.2.1")] == [200, 200, 429]
    assert status("192.0.2.2") == 200


def test_a_limit_that_cannot_be_read_stops_the_start(migrated_db, tmp_path):
    with pytest.raises(ValueError, match="WORKSHOP_RATELIMIT_DOTS"):
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "x",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                "WORKSHOP_RATELIMIT_DOTS": "sixty a minute",
            }
        )


@pytest.mark.app_config(RATELIMIT_ENABLED=False, WORKSHOP_RATELIMIT_ADDRESS="1 per minute")
def test_limits_can_be_switched_off(client):
    assert {client.get("/healthz").status_code for _ in range(5)} == {200}


# -- Socket events -----------------------------------------------------------------------------


@pytest.fixture
def sockets(app, listen):
    """Connect test clients with small socket limits; `sockets(auth)` returns one."""
    app.config.update(
        WORKSHOP_RATELIMIT_SOCKET_BURST=2,
        WORKSHOP_RATELIMIT_SOCKET_PER_MINUTE=1,
        WORKSHOP_RATELIMIT_SOCKET_FLOOD=4,
    )
    return lambda auth: listen(None, auth=auth)


def names(sio) -> list[str]:
    return [message["name"] for message in sio.get_received()]


def refusal(sio, name="resync", *args) -> str | None:
    """Send an event asking for an ack: the refusal's code, or None when it went through."""
    ack = sio.emit(name, *args, callback=True)
    return ack["error"]["code"] if ack else None


def test_resync_beyond_the_burst_is_refused_with_a_message(make_event, sockets):
    board = sockets({"event": make_event()["code"], "role": "board"})
    assert names(board) == ["snapshot"]
    assert refusal(board) is None
    assert refusal(board) is None
    assert names(board) == ["snapshot", "snapshot"]
    ack = board.emit("resync", callback=True)
    assert ack["error"]["code"] == "rate_limited" and ack["error"]["message"]
    [message] = board.get_received()
    assert (message["name"], message["args"][0]) == ("error", ack["error"])
    assert board.is_connected()


def test_a_flood_is_disconnected(make_event, sockets):
    board = sockets({"event": make_event()["code"], "role": "board"})
    for _ in range(2 + 3):
        board.emit("resync")
    assert board.is_connected()
    board.emit("resync")
    assert not board.is_connected()


def test_unknown_events_are_refused_and_counted(make_event, sockets):
    board = sockets({"event": make_event()["code"], "role": "board"})
    assert refusal(board, "vote", {"dots": 99}) == "unknown_event"
    assert refusal(board, "vote") == "unknown_event"
    assert refusal(board, "vote") == "rate_limited"


def test_a_device_shares_one_budget_over_its_connections(make_event, join, sockets):
    code = make_event()["code"]
    me = join(code)
    auth = {"event": code, "role": "participant", "token": me.token}
    # The device may spend 3 × 2 tokens; each connection is one of them.
    first, second, third = sockets(auth), sockets(auth), sockets(auth)
    assert [refusal(first), refusal(first), refusal(second)] == [None] * 3
    # `second` has a token of its own left, but the device has none.
    assert refusal(second) == "rate_limited"
    assert refusal(third) == "rate_limited"
    # Others are not affected.
    neighbour = sockets({"event": code, "role": "participant", "token": join(code).token})
    assert refusal(neighbour) is None


def test_reconnecting_in_a_loop_is_refused(make_event, join, sockets):
    code = make_event()["code"]
    auth = {"event": code, "role": "participant", "token": join(code).token}
    connected = []
    for _ in range(7):
        sio = sockets(auth)
        connected.append(sio.is_connected())
        if sio.is_connected():
            sio.disconnect()
    assert connected == [True] * 6 + [False]
    assert sockets({"event": code, "role": "board"}).is_connected()


def test_socket_limits_follow_the_switch(app, make_event, sockets):
    app.config["RATELIMIT_ENABLED"] = False
    board = sockets({"event": make_event()["code"], "role": "board"})
    assert [refusal(board) for _ in range(8)] == [None] * 8
    assert board.is_connected()


def test_buckets_refill_and_forget_full_ones():
    buckets = Buckets(burst=2, per_minute=60)
    assert [buckets.take("a", now=0.0) for _ in range(3)] == [True, True, False]
    assert buckets.take("a", now=1.0) is True
    assert buckets.take("a", now=1.0) is False
    buckets.SWEEP_AT = 2
    buckets.take("b", now=1.0)
    buckets.take("c", now=100.0)
    assert len(buckets) == 1


def test_a_device_holds_a_few_live_connections_at_most(app, make_event, join, listen):
    app.config["WORKSHOP_SOCKETS_PER_DEVICE"] = 2
    code = make_event()["code"]
    auth = {"event": code, "role": "participant", "token": join(code).token}
    first, second, third = (listen(None, auth=auth) for _ in range(3))
    assert [first.is_connected(), second.is_connected(), third.is_connected()] == [
        True,
        True,
        False,
    ]
    # Another phone is not affected; a closed connection makes room again.
    other = {"event": code, "role": "participant", "token": join(code).token}
    assert listen(None, auth=other).is_connected()
    first.disconnect()
    assert listen(None, auth=auth).is_connected()


def test_an_address_holds_only_so_many_live_connections(app, make_event, listen):
    app.config["WORKSHOP_SOCKETS_PER_ADDRESS"] = 3
    code = make_event()["code"]
    boards = [listen(code) for _ in range(4)]
    assert [board.is_connected() for board in boards] == [True, True, True, False]
    boards[0].disconnect()
    assert listen(code).is_connected()
