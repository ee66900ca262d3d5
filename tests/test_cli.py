"""Command line: creating staff accounts that can then log in; a server that refuses to start."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.mark.e2e
@pytest.mark.parametrize(
    "command",
    [
        ["run.py"],
        # What the installed `workshop` script runs, on this checkout's code.
        ["-c", "from workshop.ops.command import main; main()", "serve"],
    ],
    ids=["run.py", "workshop serve"],
)
def test_short_admin_password_stops_the_server_with_one_line(tmp_path, command):
    env = {
        **os.environ,
        "WORKSHOP_ADMIN_PASSWORD": "short",
        "WORKSHOP_DATABASE_URL": f"sqlite:///{tmp_path / 'workshop.sqlite3'}",
        "WORKSHOP_SECRET_KEY": "cli-test-secret",
    }
    env.pop("WORKSHOP_ASYNC_MODE", None)  # the default: eventlet, monkey-patched first
    completed = subprocess.run(
        [sys.executable, *command, "--host", "127.0.0.1", "--port", "9", "--no-demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stdout == ""
    # Before it, only the log of the migrations; no traceback, and no complaint from eventlet
    # about modules imported before its monkey-patching.
    assert "Traceback" not in completed.stderr
    assert "monkey_patch" not in completed.stderr
    *_, last = completed.stderr.splitlines()
    assert last == (
        "workshop: WORKSHOP_ADMIN_PASSWORD: The password must have at least 8 characters."
    )
    assert completed.stderr.count("WORKSHOP_ADMIN_PASSWORD") == 1
