"""Every staff route, found in the URL map, refuses anonymous callers, participants and the
moderators of other events. A new endpoint must be listed here as public or as checked."""

from __future__ import annotations

import re

import pytest

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')

#: Open to everyone, or to participants; their rules are tested in test_permissions.py.
PUBLIC = {
    "static",
    "healthz",
    "participant.enter_code",
    "participant.event_page",
    "board.board",
    "board.qr",
    "moderator.login",
    "moderator.logout",
    "pages.choose_language",
    "pages.privacy",
    "pages.accessibility",
    "api.create_token",
    "api.get_event",
    "api.join",
    "api.me",
    "api.list_suggestions",
    "api.results",
    "api.set_dots",
    # Participants and staff alike, each with their own rules.
    "api.submit",
    "api.update_suggestion",
}

#: Staff routes without an event: any staff account may use them.
ANY_STAFF = {"moderator.dashboard", "moderator.create_event", "api.create_event"}


def is_staff_route(rule) -> bool:
    return (
        rule.rule.startswith(("/moderate", "/admin", "/events/"))
        or rule.endpoint.startswith(("admin.", "staff."))
        or (rule.endpoint.startswith("api.") and rule.endpoint not in PUBLIC)
    )


def refused(response) -> bool:
    if response.status_code == 302:
        return response.location.startswith("/login")
    return response.status_code in (401, 403)


@pytest.fixture
def world(app, make_staff, make_event, submit, join):
    """An event of `owner` with a card, and the values to fill any URL of it."""
    owner = make_staff(username="owner")
    event = make_event(owner=owner)
    card = submit(owner, event["code"])
    join(event["code"])
    return {
        "code": event["code"],
        "suggestion_id": card["id"],
        "area_id": event["areas"][0]["id"],
        "user_id": 1,
        "filename": "css/app.css",
    }


def caller(app, kind, code, make_staff):
    """A browser as `kind`, with a CSRF token so that only permissions can refuse it."""
    client = app.test_client()
    if kind == "participant":
        assert client.get(f"/j/{code}").status_code == 200
    elif kind == "other_moderator":
        make_staff(username="stranger")
        token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
        form = {"username": "stranger", "password": "password-123", "csrf_token": token}
        assert client.post("/login", data=form).status_code == 302
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    return client, {"X-CSRFToken": token}


def test_every_endpoint_is_public_or_checked(app):
    unknown = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC and not is_staff_route(rule)
    }
    assert unknown == set()


@pytest.mark.parametrize("kind", ["anonymous", "participant", "other_moderator"])
def test_staff_routes_refuse_outsiders(app, world, make_staff, kind):
    client, headers = caller(app, kind, world["code"], make_staff)
    checked, allowed = [], []
    for rule in app.url_map.iter_rules():
        if not is_staff_route(rule):
            continue
        if kind == "other_moderator" and rule.endpoint in ANY_STAFF:
            continue
        path = rule.build({name: world[name] for name in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, json={}, headers=headers)
            checked.append(rule.endpoint)
            if not refused(response):
                allowed.append((method, path, response.status_code))
    assert allowed == []
    assert {"admin.users", "api.audit_log", "staff.export", "moderator.delete"} <= set(checked)
