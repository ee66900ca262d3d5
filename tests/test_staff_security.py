"""Staff security: cookie flags, when logins and tokens run out (pages, API and live
connections), login throttling, and what the session cookie holds."""

from __future__ import annotations

import re
import time

import itsdangerous
import pytest

from workshop import config
from workshop.extensions import socketio
from workshop.live import listeners
from workshop.web import sockets

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
HOUR = 3600
LIFETIME = 12 * HOUR


def login(client, username="anna", password="password-123"):
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def cookie_headers(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def flags(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


@pytest.fixture
def anna(make_staff):
    return make_staff(username="anna")


def later(monkeypatch, seconds: float) -> None:
    """Move the clock that signed cookies and tokens are checked against."""
    now = time.time() + seconds
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: int(now))
    monkeypatch.setattr(sockets.time, "time", lambda: now)


# -- Cookie flags ------------------------------------------------------------------------------


def test_the_login_cookie_is_httponly_samesite_and_ends_with_the_browser(client, anna):
    response = login(client)
    assert response.status_code == 302
    cookies = cookie_headers(response)
    assert set(cookies) == {"session"}, "no remember-me cookie"
    assert flags(cookies["session"]) == {"httponly", "path", "samesite"}
    assert "SameSite=Lax" in cookies["session"]


@pytest.mark.parametrize(
    ("environment", "secure"),
    [
        ({}, False),
        ({"WORKSHOP_PUBLIC_URL": "http://192.168.1.20:5000"}, False),
        ({"WORKSHOP_PUBLIC_URL": "https://plenum.example.org"}, True),
        ({"WORKSHOP_SECURE_COOKIES": "1"}, True),
        (
            {"WORKSHOP_PUBLIC_URL": "https://plenum.example.org", "WORKSHOP_SECURE_COOKIES": "0"},
            False,
        ),
    ],
)
def test_cookies_are_secure_behind_https(monkeypatch, tmp_path, environment, secure):
    for name in ("WORKSHOP_PUBLIC_URL", "WORKSHOP_SECURE_COOKIES", "WORKSHOP_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = config.from_environment(tmp_path)
    assert (settings["SESSION_COOKIE_SECURE"], settings["REMEMBER_COOKIE_SECURE"]) == (
        secure,
        secure,
    )


@pytest.mark.app_config(SESSION_COOKIE_SECURE=True)
def test_every_cookie_is_secure_when_configured(app, client):
    with app.app_context():
        from workshop.domain.accounts import create_user
        from workshop.domain.events import create_demo_event

        create_user("anna", "password-123")
        code = create_demo_event(None).code
    headers = {
        **cookie_headers(login(client)),
        **cookie_headers(app.test_client().get(f"/j/{code}")),
        **cookie_headers(app.test_client().get("/language/en?next=/")),
    }
    assert set(headers) == {"session", f"workshop_{code}", "workshop_lang"}
    for name, header in headers.items():
        assert {"secure", "httponly", "samesite"} <= flags(header), name


def test_the_session_holds_no_address_fingerprint(app, client, anna):
    login(client)
    cookie = client.get_cookie("session").value
    data = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert data["_user_id"] and "_id" not in data


# -- Expiry -------------------------------------------------------------------------------------


def test_the_login_lasts_the_configured_lifetime(app, client, anna, monkeypatch):
    assert app.permanent_session_lifetime.total_seconds() == LIFETIME
    login(client)
    later(monkeypatch, LIFETIME - 60)
    assert client.get("/moderate/").status_code == 200


def test_an_expired_login_gets_the_login_page(app, client, anna, monkeypatch):
    login(client)
    later(monkeypatch, LIFETIME + 60)
    response = client.get("/moderate/")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_an_expired_login_gets_401_from_the_api(app, client, anna, make_event, monkeypatch):
    code = make_event(owner=anna)["code"]
    login(client)
    assert client.get(f"/api/v1/events/{code}/audit").status_code == 200
    later(monkeypatch, LIFETIME + 60)
    response = client.get(f"/api/v1/events/{code}/audit")
    assert (response.status_code, response.json["error"]["code"]) == (401, "login_required")


def test_the_lifetime_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKSHOP_SESSION_LIFETIME", "3600")
    monkeypatch.delenv("WORKSHOP_SECRET_KEY", raising=False)
    assert config.from_environment(tmp_path)["PERMANENT_SESSION_LIFETIME"] == 3600


@pytest.mark.parametrize("credential", ["session", "token"])
def test_a_live_staff_connection_ends_with_its_login(
    app, client, anna, make_event, monkeypatch, credential
):
    code = make_event(owner=anna)["code"]
    auth = {"event": code, "role": "moderator"}
    if credential == "session":
        login(client)
    else:
        auth["token"] = anna.token
    console = socketio.test_client(app, flask_test_client=client, auth=auth)
    board = socketio.test_client(app, flask_test_client=client, auth={"event": code})
    assert console.is_connected() and board.is_connected()
    console.get_received()
    later(monkeypatch, LIFETIME - 60)
    with app.app_context():
        listeners.close_expired()
    console.emit("resync")
    assert console.is_connected() and [m["name"] for m in console.get_received()] == ["snapshot"]
    later(monkeypatch, LIFETIME + 60)
    # Asking for anything closes it, without an answer ...
    console.emit("resync")
    assert not console.is_connected()
    assert [message["name"] for message in console.queue] == []
    # ... and so does the server's sweep for connections that stay silent.
    quiet = socketio.test_client(
        app,
        flask_test_client=client,
        auth={"event": code, "role": "moderator", "token": anna.token},
    )
    assert not quiet.is_connected(), "an expired token opens nothing"
    board.disconnect()


def test_the_sweep_closes_silent_expired_connections(app, client, anna, make_event, monkeypatch):
    code = make_event(owner=anna)["code"]
    console = socketio.test_client(
        app,
        flask_test_client=client,
        auth={"event": code, "role": "moderator", "token": anna.token},
    )
    board = socketio.test_client(app, flask_test_client=client, auth={"event": code})
    with app.app_context():
        listeners.close_expired(now=time.time() + LIFETIME - 60)
        assert console.is_connected()
        listeners.close_expired(now=time.time() + LIFETIME + 60)
    assert not console.is_connected() and board.is_connected()
    board.disconnect()


# -- Login throttling --------------------------------------------------------------------------


def test_guessing_one_password_is_throttled_on_both_login_routes(app, client, anna):
    app.config["WORKSHOP_RATELIMIT_LOGIN"] = "3 per minute"
    assert login(client, password="guess-1").status_code == 401
    wrong = {"username": "anna", "password": "guess-2"}
    assert client.post("/api/v1/auth/token", json=wrong).status_code == 401
    assert login(client, password="guess-3").status_code == 401
    # Even the right password waits now, on either route.
    assert login(client).status_code == 429
    right = {"username": "anna", "password": "password-123"}
    assert client.post("/api/v1/auth/token", json=right).status_code == 429


def test_one_address_trying_many_accounts_is_throttled(app, client, make_staff):
    make_staff(username="ute")
    app.config["WORKSHOP_RATELIMIT_LOGIN_ADDRESS"] = "3 per minute"
    for name in ("a", "b", "c"):
        assert login(client, name, "guess").status_code == 401
    assert login(client, "ute").status_code == 429
    # Another address is not affected.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    assert login(elsewhere, "ute").status_code == 302
