"""Command line: creating staff accounts that can then log in."""

from __future__ import annotations

import re

import pytest


def create(runner, name, password, role="moderator"):
    """`flask --app workshop user create NAME --role ROLE`, typing the password twice."""
    args = ["user", "create", name, "--role", role]
    return runner.invoke(args=args, input=f"{password}\n{password}\n")


def token_status(client, name, password):
    body = {"username": name, "password": password}
    return client.post("/api/v1/auth/token", json=body).status_code


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_created_user_can_log_in(runner, client, role):
    result = create(runner, "carla", "long-enough-1", role)
    assert result.exit_code == 0, result.output
    assert f"Created {role} carla." in result.output
    assert token_status(client, "carla", "long-enough-1") == 200
    assert token_status(client, "carla", "wrong-password") == 401


def test_created_moderator_can_use_the_login_form(runner, client):
    create(runner, "carla", "long-enough-1")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": "carla", "password": "long-enough-1", "csrf_token": token}
    assert client.post("/login", data=form).location == "/moderate/"


def test_password_with_spaces_around_it(runner, client):
    create(runner, "carla", "  spaced out  ")
    assert token_status(client, "carla", "  spaced out  ") == 200


@pytest.mark.parametrize(
    ("name", "password"),
    [("carla", "short"), ("", "long-enough-1"), ("carla\x07", "long-enough-1")],
)
def test_refused_accounts(runner, client, name, password):
    result = create(runner, name, password)
    assert result.exit_code == 1 and "Error:" in result.output
    assert token_status(client, name, password) in (400, 401)


def test_user_names_are_unique(runner, client):
    create(runner, "carla", "long-enough-1")
    result = create(runner, "carla", "another-password")
    assert result.exit_code == 1 and "Error:" in result.output
    assert token_status(client, "carla", "long-enough-1") == 200
