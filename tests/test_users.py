"""Staff accounts: the admin page, login throttling, and logout closing live connections."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from workshop.db.models import User
from workshop.extensions import db, socketio

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def login(client, username, password="password-123"):
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    form = {"username": username, "password": password, "csrf_token": token}
    return client.post("/login", data=form)


@pytest.fixture
def admin_browser(app, make_staff):
    """A browser logged in as admin `root`: post(path, **form) sends a form with its CSRF token."""
    make_staff("admin", username="root")
    client = app.test_client()
    assert login(client, "root").status_code == 302

    def post(path, **fields):
        page = client.get("/admin/users").get_data(as_text=True)
        return client.post(path, data={"csrf_token": CSRF.search(page).group(1), **fields})

    post.client = client
    return post


def user(app, username):
    with app.app_context():
        found = db.session.scalar(sa.select(User).where(User.username == username))
        return (found.id, found.role, found.password_hash) if found else None


def test_admins_create_change_and_delete_accounts(app, admin_browser):
    assert admin_browser("/admin/users", username="berta", password="geheim-123").status_code == 302
    berta_id, role, password_hash = user(app, "berta")
    assert role == "moderator" and check_password_hash(password_hash, "geheim-123")
    admin_browser(f"/admin/users/{berta_id}/role", role="admin")
    assert user(app, "berta")[1] == "admin"
    admin_browser(f"/admin/users/{berta_id}/password", password="anderes-456")
    assert check_password_hash(user(app, "berta")[2], "anderes-456")
    admin_browser(f"/admin/users/{berta_id}/delete")
    assert user(app, "berta") is None
    assert "berta" not in admin_browser.client.get("/admin/users").get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/admin/users", {"username": "x", "password": "short"}),
        ("/admin/users", {"username": "root", "password": "password-123"}),
        ("/admin/users/{root}/role", {"role": "moderator"}),
        ("/admin/users/{root}/delete", {}),
        ("/admin/users/{root}/password", {"password": "kurz"}),
        ("/admin/users/999/role", {"role": "admin"}),
    ],
)
def test_refused_account_changes_change_nothing(app, admin_browser, path, form):
    before = user(app, "root")
    response = admin_browser(path.format(root=before[0]), **form)
    assert response.status_code == 302
    assert user(app, "root") == before
    html = admin_browser.client.get("/admin/users").get_data(as_text=True)
    assert 'class="flash flash-error"' in html


def test_moderators_may_not_manage_accounts(app, make_staff):
    make_staff(username="mia")
    client = app.test_client()
    login(client, "mia")
    assert client.get("/admin/users").status_code == 403


def test_anonymous_callers_are_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_logins_are_throttled_per_user_name(client, make_staff):
    make_staff(username="tom")
    for _ in range(10):
        assert login(client, "tom", "wrong-password").status_code == 401
    assert login(client, "tom").status_code == 429
    # Another account from the same address is not locked out.
    make_staff(username="ute")
    assert login(client, "ute").status_code == 302


@pytest.mark.parametrize(("language", "message"), [("de", "Zu viele"), ("en", "Too many")])
def test_token_requests_are_throttled_with_json(client, language, message):
    body = {"username": "nobody", "password": "wrong-password"}
    for _ in range(10):
        assert client.post("/api/v1/auth/token", json=body).status_code == 401
    response = client.post("/api/v1/auth/token", json=body, headers={"Accept-Language": language})
    assert response.status_code == 429
    assert response.json["error"]["code"] == "rate_limited"
    assert response.json["error"]["message"].startswith(message)
    assert "Retry-After" in response.headers


def test_logout_disconnects_the_users_live_connections(app, make_staff, make_event):
    anna, other = make_staff(username="anna"), make_staff(username="otto")
    browser = app.test_client()
    assert login(browser, "anna").status_code == 302
    code = make_event(owner=anna)["code"]
    other_code = make_event(owner=other)["code"]
    mine = socketio.test_client(
        app, flask_test_client=browser, auth={"event": code, "role": "moderator"}
    )
    theirs = socketio.test_client(
        app,
        flask_test_client=app.test_client(),
        auth={"event": other_code, "role": "moderator", "token": other.token},
    )
    assert mine.is_connected() and theirs.is_connected()
    token = CSRF.search(browser.get("/moderate/").get_data(as_text=True)).group(1)
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not mine.is_connected()
    assert theirs.is_connected()
    theirs.disconnect()
