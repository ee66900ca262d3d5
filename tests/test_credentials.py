"""Staff credentials: revocation (password reset, role change, deactivation, logout on all
devices) ends sessions, tokens and live connections; deactivation; the login's hashing (same work
for unknown names, off eventlet's hub); local redirects after login; CSRF with an Authorization
header; deep JSON on the token route."""

from __future__ import annotations

import re

import pytest
from helpers import hub_ticks
from werkzeug.security import generate_password_hash

from workshop.domain import accounts
from workshop.extensions import socketio

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(client, path="/login") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def login(client, username, password="password-123", query=""):
    form = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    return client.post(f"/login{query}", data=form)


def logged_in(client) -> bool:
    return client.get("/moderate/").status_code == 200


def user_id(app, username) -> int:
    with app.app_context():
        return accounts.authenticate(username, "password-123").id


@pytest.fixture
def root(app, make_staff):
    """An admin's browser: post(path, **form) sends a form with its CSRF token."""
    make_staff("admin", username="root")
    browser = app.test_client()
    assert login(browser, "root").status_code == 302

    def post(path, **fields):
        return browser.post(
            path, data={"csrf_token": csrf_token(browser, "/admin/users"), **fields}
        )

    post.client = browser
    return post


@pytest.fixture
def mia(app, make_staff):
    """Moderator mia: her bearer token (Api) and a logged-in browser (`.browser`)."""
    api = make_staff(username="mia")
    api.browser = app.test_client()
    assert login(api.browser, "mia").status_code == 302
    api.id = user_id(app, "mia")
    return api


# -- Revocation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("password", {"password": "new-password-1"}),
        ("role", {"role": "admin"}),
        ("active", {"active": "0"}),
    ],
)
def test_an_admins_change_ends_the_accounts_sessions_tokens_and_sockets(
    app, root, mia, make_event, path, form
):
    code = make_event(owner=mia)["code"]
    copied = mia.browser.get_cookie("session").value
    console = socketio.test_client(
        app, flask_test_client=mia.browser, auth={"event": code, "role": "moderator"}
    )
    assert console.is_connected() and mia.get(f"/events/{code}/audit").status_code == 200
    assert root(f"/admin/users/{mia.id}/{path}", **form).status_code == 302
    assert not console.is_connected()
    assert not logged_in(mia.browser)
    response = mia.get(f"/events/{code}/audit")
    assert (response.status_code, response.json["error"]["code"]) == (401, "token_revoked")
    # The session cookie copied before the change opens nothing either.
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert not logged_in(thief)
    refused = socketio.test_client(
        app, flask_test_client=thief, auth={"event": code, "role": "moderator"}
    )
    assert not refused.is_connected()


def test_logout_ends_the_session_on_every_device(app, mia, make_event):
    code = make_event(owner=mia)["code"]
    other_device = app.test_client()
    assert login(other_device, "mia").status_code == 302
    copied = mia.browser.get_cookie("session").value
    page = mia.browser.get("/moderate/").get_data(as_text=True)
    assert "Auf allen Geräten abmelden" in page  # German: the default language
    response = mia.browser.post(
        "/logout", data={"csrf_token": csrf_token(mia.browser, "/moderate/")}
    )
    assert response.status_code == 302
    assert "auf allen Geräten abgemeldet" in mia.browser.get("/login").get_data(as_text=True)
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert not logged_in(thief) and not logged_in(other_device)
    assert mia.get(f"/events/{code}/audit").status_code == 401
    # A new login works as before.
    assert login(mia.browser, "mia").status_code == 302 and logged_in(mia.browser)


def test_an_admin_who_changes_their_own_password_stays_logged_in_here(app, root):
    root_id = user_id(app, "root")
    elsewhere = app.test_client()
    assert login(elsewhere, "root").status_code == 302
    assert root(f"/admin/users/{root_id}/password", password="new-password-1").status_code == 302
    assert logged_in(root.client) and not logged_in(elsewhere)


def test_sessions_and_tokens_from_before_versions_count_as_version_0(app, mia, make_event):
    audit = f"/api/v1/events/{make_event(owner=mia)['code']}/audit"
    serializer = app.session_interface.get_signing_serializer(app)
    with app.app_context():
        old_token = accounts.TOKEN_PREFIX + accounts.token_serializer().dumps({"user": mia.id})
    old_session = serializer.dumps({"_user_id": str(mia.id), "_fresh": True})
    browser = app.test_client()
    browser.set_cookie("session", old_session)
    headers = {"Authorization": f"Bearer {old_token}"}
    assert logged_in(browser) and mia.client.get(audit, headers=headers).status_code == 200
    with app.app_context():
        accounts.revoke_credentials(mia.id)
    assert not logged_in(browser)
    assert mia.client.get(audit, headers=headers).status_code == 401


@pytest.mark.parametrize(
    "value", ["7:x", "x:1", ":", "", "7:1:2", "99999999999999999999:0", "²:0", "7:٣"]
)
def test_malformed_session_ids_name_nobody(app, value):
    with app.app_context():
        assert accounts.user_from_session(value) is None


# -- Deactivation -------------------------------------------------------------------------------


def test_a_deactivated_account_cannot_log_in_until_reactivated(app, root, mia):
    assert root(f"/admin/users/{mia.id}/active", active="0").status_code == 302
    page = root.client.get("/admin/users").get_data(as_text=True)
    assert "(deaktiviert)" in page and "Wieder aktivieren" in page
    assert login(app.test_client(), "mia").status_code == 401
    body = {"username": "mia", "password": "password-123"}
    response = app.test_client().post("/api/v1/auth/token", json=body)
    assert (response.status_code, response.json["error"]["code"]) == (401, "invalid_credentials")
    assert root(f"/admin/users/{mia.id}/active", active="1").status_code == 302
    assert login(app.test_client(), "mia").status_code == 302


def test_admins_cannot_deactivate_themselves_nor_leave_no_active_admin(app, root, make_staff):
    root_id = user_id(app, "root")
    make_staff("admin", username="ada")
    ada_id = user_id(app, "ada")
    assert root(f"/admin/users/{root_id}/active", active="0").status_code == 302
    assert logged_in(root.client), "not deactivated"
    assert root(f"/admin/users/{ada_id}/active", active="0").status_code == 302
    # With ada deactivated, root is the last active admin and must stay one.
    root(f"/admin/users/{root_id}/role", role="moderator")
    assert root.client.get("/admin/users").status_code == 200


# -- Hashing ------------------------------------------------------------------------------------


def test_unknown_names_cost_the_same_scrypt_work(app, mia, monkeypatch):
    checked = []
    real_check = accounts.check_password_hash
    monkeypatch.setattr(
        accounts,
        "check_password_hash",
        lambda stored, password: checked.append(stored) or real_check(stored, password),
    )
    with app.app_context():
        for name in ("mia", "nobody"):
            with pytest.raises(accounts.Unauthorized):
                accounts.authenticate(name, "wrong-password")
    assert len(checked) == 2 and checked[1] == accounts.DUMMY_HASH
    # The dummy hash has the method and parameters of every stored one.
    method = checked[0].split("$")[0]
    assert method == accounts.DUMMY_HASH.split("$")[0] == generate_password_hash("x").split("$")[0]


def test_every_hash_and_check_goes_off_the_hub(app, monkeypatch):
    ran = []
    real_run = accounts.offhub.run
    monkeypatch.setattr(
        accounts.offhub,
        "run",
        lambda function, *args: ran.append(function) or real_run(function, *args),
    )
    with app.app_context():
        user = accounts.create_user("root", "password-123", role="admin")
        accounts.authenticate("root", "password-123")
        accounts.reset_password(user, user.id, "password-456")
    assert ran == [
        accounts.generate_password_hash,
        accounts.check_password_hash,
        accounts.generate_password_hash,
    ]


def test_the_hub_keeps_running_while_a_password_is_checked():
    seen = hub_ticks(
        "from workshop.domain import accounts",
        'results = [accounts.verify_password(accounts.DUMMY_HASH, f"guess-{i}") for i in range(3)]',
        "results",
    )
    assert seen["patched"] is True and seen["result"] == [False, False, False]
    # Three scrypt checks take a good part of a second; a hub that ran them itself would not
    # tick meanwhile (every green thread waits for the C call), off the hub it ticks all along.
    assert seen["ticks"] >= 10, seen


# -- Redirect after login -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_",
    [
        "/%09/evil.example/phish",
        "/%0a/x",
        "/%0d%0a/x",
        "//evil.example",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "%5C%5Cevil.example",
        "/%5C/evil.example",
        "/x%5C..%5C..%5Cevil",
        "https://evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/%20/evil.example",
        "%20//evil.example",
        "/%7F/evil.example",
        "/%E3%80%80/evil.example",
        "///evil.example",
    ],
)
def test_login_never_redirects_to_another_site(app, make_staff, next_):
    make_staff(username="anna")
    response = login(app.test_client(), "anna", query=f"?next={next_}")
    assert (response.status_code, response.location) == (302, "/moderate/")


@pytest.mark.parametrize("next_", ["/moderate/ABC123", "/moderate/?x=1&y=%2F%2F", "/%252F%252Fx"])
def test_login_redirects_to_local_paths(app, make_staff, next_):
    make_staff(username="anna")
    response = login(app.test_client(), "anna", query=f"?next={next_.replace('&', '%26')}")
    assert response.status_code == 302
    assert response.location == next_.replace("%2F", "/").replace("%252F", "%2F")


# -- CSRF and the Authorization header ----------------------------------------------------------


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic YTpi", "bearer \t"])
def test_a_cookie_login_with_a_hollow_authorization_header_is_refused(app, mia, make_event, header):
    code = make_event(owner=mia)["code"]
    response = mia.browser.patch(
        f"/api/v1/events/{code}",
        json={"title": "Hijacked"},
        headers={"Authorization": header, "Origin": "https://evil.example"},
    )
    assert (response.status_code, response.json["error"]["code"]) == (401, "invalid_token")
    assert mia.get(f"/api/v1/events/{code}".removeprefix("/api/v1")).json["title"] == "Plenum"


def test_a_cookie_login_needs_the_csrf_token_on_the_api(app, mia, make_event):
    code = make_event(owner=mia)["code"]
    refused = mia.browser.patch(f"/api/v1/events/{code}", json={"title": "No token"})
    assert (refused.status_code, refused.json["error"]["code"]) == (400, "csrf_failed")
    token = csrf_token(mia.browser, "/moderate/")
    headers = {"X-CSRFToken": token}
    done = mia.browser.patch(f"/api/v1/events/{code}", json={"title": "Fine"}, headers=headers)
    assert done.status_code == 200 and done.json["title"] == "Fine"


def test_a_bearer_token_is_judged_alone(app, mia, make_staff, make_event):
    """A real token needs no CSRF token, and the browser's cookie adds nothing to it."""
    other = make_staff(username="otto")
    code = make_event(owner=mia)["code"]
    headers = {"Authorization": f"Bearer {other.token}"}
    response = mia.browser.patch(f"/api/v1/events/{code}", json={"title": "X"}, headers=headers)
    assert response.status_code == 403
    headers = {"Authorization": f"Bearer {mia.token}"}
    response = mia.browser.patch(f"/api/v1/events/{code}", json={"title": "X"}, headers=headers)
    assert response.status_code == 200


# -- Bad input on the token route ---------------------------------------------------------------


def test_deeply_nested_json_on_the_token_route_is_a_400(client):
    for body in ("[" * 30_000, '{"username": ' + "[" * 30_000):
        response = client.post(
            "/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"}
        )
        assert (response.status_code, response.json["error"]["code"]) == (400, "invalid_json")
