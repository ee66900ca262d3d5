"""Every staff route, found in the URL map, and every Socket.IO event, found in the server's
handler table, refuses whoever may not use it: anonymous callers, participants (cookie or token),
moderators of other events (session or token), moderators on admin pages, and logins or tokens
that have run out. A refused call changes nothing. A new endpoint or socket event must be listed
here as public, or it is tested as a staff one."""

from __future__ import annotations

import re
import time

import itsdangerous
import pytest
import sqlalchemy as sa

from workshop.extensions import db, socketio
from workshop.web.auth import HELPER_ENDPOINTS

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')

#: Open to everyone, or to participants; their rules are tested in test_permissions.py.
PUBLIC = {
    "static",
    "healthz",
    "participant.enter_code",
    "participant.event_page",
    "board.board",
    "board.qr",
    "board.hyphens",
    "moderator.login",
    "moderator.logout",
    "pages.choose_language",
    "pages.privacy",
    "pages.accessibility",
    "api.create_token",
    # The description of the API itself, for anyone who writes a client.
    "api.openapi",
    "api.get_event",
    "api.join",
    "api.me",
    "api.list_suggestions",
    "api.results",
    "api.set_dots",
    # A participant's one answer to "who do you belong to?" (tests/test_affiliations.py).
    "api.choose_affiliation",
    # Participants and staff alike, each with their own rules.
    "api.submit",
    "api.update_suggestion",
    # Similar cards: participants of the event for public cards (tests/test_similarity.py).
    "api.similar_cards",
    "api.similar_to_text",
}

#: Staff routes without an event: any staff account may use them (but a helper).
ANY_STAFF = {"moderator.dashboard", "moderator.create_event", "api.create_event"}

#: The paper lane: a helper's own routes (and those of the event's staff).
PAPER_LANE = {
    "helper.home",
    "helper.paper_page",
    "api.paper_submit",
    "api.paper_withdraw",
    "api.desk_seat",
    "api.desk_dots",
}

#: Every Socket.IO handler, and what guards it (tested below).
SOCKET_EVENTS = {
    "connect": "decides the room: staff rooms need the event's staff",
    "resync": "sends the snapshot of the room the connection was let into",
    "*": "refuses every other event",
    "disconnect": "forgets the connection",
}

#: Callers that must not get past any staff route of the owner's event.
OUTSIDERS = [
    "anonymous",
    "participant",
    "participant_token",
    "other_moderator",
    "other_moderator_token",
    "expired_login",
    "expired_token",
]
LIFETIME = 12 * 3600


def is_staff_route(rule) -> bool:
    return (
        rule.rule.startswith(("/moderate", "/admin", "/events/", "/helper"))
        or rule.endpoint.startswith(("admin.", "staff."))
        or (rule.endpoint.startswith("api.") and rule.endpoint not in PUBLIC)
    )


def refused(response) -> bool:
    if response.status_code == 302:
        return response.location.startswith("/login")
    return response.status_code in (401, 403)


def login(client, username) -> None:
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    form = {"username": username, "password": "password-123", "csrf_token": token}
    assert client.post("/login", data=form).status_code == 302


def expire_logins(monkeypatch) -> None:
    """Move the clock that sessions and tokens are checked against past their lifetime."""
    later = int(time.time()) + LIFETIME + 60
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: later)


def all_rows(app) -> dict:
    """Every row of every table: what a refused call must leave as it was."""
    with app.app_context():
        return {
            table.name: sorted(map(tuple, db.session.execute(sa.select(table)).all()), key=repr)
            for table in db.metadata.sorted_tables
        }


@pytest.fixture
def world(app, make_staff, make_event, submit, join):
    """An event of `owner` with a card, a hidden card and a participant, and the values to fill
    any URL of it."""
    owner = make_staff(username="owner")
    event = make_event(owner=owner)
    card = submit(owner, event["code"])
    hidden = submit(owner, event["code"], "Hidden")
    owner.patch(f"/events/{event['code']}/suggestions/{hidden['id']}", json={"status": "hidden"})
    participant = join(event["code"])
    return {
        "code": event["code"],
        "suggestion_id": card["id"],
        "hidden_id": hidden["id"],
        "area_id": event["areas"][0]["id"],
        "language": "en",
        "user_id": 1,
        "filename": "css/app.css",
        "version": "0",
        "owner": owner,
        "stranger": make_staff(username="stranger"),
        "helper": make_staff("helper", username="helper"),
        "participant": participant,
    }


def caller(app, kind, world, monkeypatch):
    """A browser as `kind`, with a CSRF token so that only permissions can refuse it."""
    client = app.test_client()
    headers = {}
    if kind == "participant":
        assert client.get(f"/j/{world['code']}").status_code == 200
    elif kind == "participant_token":
        headers["Authorization"] = f"Bearer {world['participant'].token}"
    elif kind == "other_moderator":
        login(client, "stranger")
    elif kind == "other_moderator_token":
        headers["Authorization"] = f"Bearer {world['stranger'].token}"
    elif kind == "helper":
        login(client, "helper")
    elif kind == "helper_token":
        headers["Authorization"] = f"Bearer {world['helper'].token}"
    elif kind in ("expired_login", "moderator_on_admin"):
        login(client, "owner")
    elif kind == "expired_token":
        headers["Authorization"] = f"Bearer {world['owner'].token}"
    if kind.startswith("expired"):
        expire_logins(monkeypatch)
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    return client, {"X-CSRFToken": token, **headers}


def staff_routes(app, world, only=lambda rule: True):
    yield from every_route(app, world, lambda rule: is_staff_route(rule) and only(rule))


def every_route(app, world, only=lambda rule: True):
    for rule in app.url_map.iter_rules():
        if only(rule):
            path = rule.build({name: world[name] for name in rule.arguments})[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.endpoint, method, path


def test_every_endpoint_is_public_or_checked(app):
    unknown = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC and not is_staff_route(rule)
    }
    assert unknown == set()
    # The public list holds no route that no longer exists.
    assert {rule.endpoint for rule in app.url_map.iter_rules()} >= PUBLIC


@pytest.mark.parametrize("kind", OUTSIDERS)
def test_staff_routes_refuse_outsiders(app, world, monkeypatch, kind):
    client, headers = caller(app, kind, world, monkeypatch)
    before = all_rows(app)
    checked, allowed = [], []
    for endpoint, method, path in staff_routes(app, world):
        if kind.startswith("other_moderator") and endpoint in ANY_STAFF | {"helper.home"}:
            continue
        response = client.open(path, method=method, json={}, headers=headers)
        checked.append(endpoint)
        if not refused(response):
            allowed.append((method, path, response.status_code))
    assert allowed == []
    assert {"admin.users", "api.audit_log", "staff.export", "moderator.delete"} <= set(checked)
    assert all_rows(app) == before


def test_admin_pages_refuse_moderators(app, world, monkeypatch):
    client, headers = caller(app, "moderator_on_admin", world, monkeypatch)
    before = all_rows(app)
    responses = {
        (method, path): client.open(path, method=method, data={}, headers=headers).status_code
        for _, method, path in staff_routes(
            app, world, lambda rule: rule.endpoint.startswith("admin.")
        )
    }
    assert len(responses) >= 5 and set(responses.values()) == {403}
    assert all_rows(app) == before


@pytest.mark.parametrize("credential", ["session", "token"])
def test_the_owner_gets_through(app, world, monkeypatch, credential):
    """The control: the same calls succeed for the event's staff, so refusals above are real."""
    client, headers = caller(app, "moderator_on_admin", world, monkeypatch)
    if credential == "token":
        client = app.test_client()
        headers = {"Authorization": f"Bearer {world['owner'].token}"}
    not_admin = staff_routes(app, world, lambda rule: not rule.endpoint.startswith("admin."))
    responses = {
        path: client.get(path, headers=headers)
        for _, method, path in not_admin
        if method == "GET" and (credential == "session" or path.startswith(("/api/", "/events/")))
    }
    assert len(responses) >= 4
    assert [path for path, response in responses.items() if refused(response)] == []


@pytest.mark.parametrize("kind", ["helper", "helper_token"])
def test_a_helper_gets_only_the_paper_lane(app, world, monkeypatch, kind):
    """Every route of the URL map, public ones included: a helper account is refused all but
    the paper lane and the few pages any visitor needs (auth.HELPER_ENDPOINTS)."""
    client, headers = caller(app, kind, world, monkeypatch)
    before = all_rows(app)
    allowed, lane = [], []
    for endpoint, method, path in every_route(app, world):
        if endpoint in HELPER_ENDPOINTS:
            if endpoint in PAPER_LANE:
                lane.append((endpoint, method, path))
            continue
        response = client.open(path, method=method, json={}, headers=headers)
        if not refused(response):
            allowed.append((method, path, response.status_code))
    assert allowed == []
    assert all_rows(app) == before
    # The paper lane itself lets the helper in (a 400 for the empty body is past the door).
    assert {endpoint for endpoint, _, _ in lane} == PAPER_LANE
    for endpoint, method, path in lane:
        if kind == "helper_token" and endpoint.startswith("helper."):
            continue  # pages work with a login session, not with a bearer token
        response = client.open(path, method=method, json={}, headers=headers)
        error = (response.json or {}).get("error", {}) if response.is_json else {}
        assert response.status_code not in (302, 401), (endpoint, response.status_code)
        assert error.get("code") in (None, "validation_error", "not_your_paper_card")


def test_helper_endpoints_exist(app):
    assert {rule.endpoint for rule in app.url_map.iter_rules()} >= HELPER_ENDPOINTS


@pytest.mark.parametrize("credential", ["session", "token"])
def test_helpers_get_no_staff_room(app, world, monkeypatch, credential):
    client, _headers = caller(app, "helper", world, monkeypatch)
    auth = {"event": world["code"], "role": "moderator"}
    if credential == "token":
        client = app.test_client()
        auth["token"] = world["helper"].token
    sio = socketio.test_client(app, flask_test_client=client, auth=auth)
    assert not sio.is_connected()


@pytest.mark.parametrize("kind", ["anonymous", "participant", "participant_token"])
def test_public_routes_show_outsiders_no_staff_data(app, world, monkeypatch, kind):
    client, headers = caller(app, kind, world, monkeypatch)
    code = world["code"]
    event = client.get(f"/api/v1/events/{code}", headers=headers).json
    assert "figures" not in event and "archived" not in event
    cards = client.get(f"/api/v1/events/{code}/suggestions", headers=headers).json["suggestions"]
    assert [card["id"] for card in cards] == [world["suggestion_id"]]
    results = client.get(f"/api/v1/events/{code}/results", headers=headers)
    assert results.status_code == 403


# -- Socket.IO ----------------------------------------------------------------------------------


def test_every_socket_event_is_known(app):
    assert set(socketio.server.handlers["/"]) == set(SOCKET_EVENTS)


def socket_auth(kind, world) -> dict:
    auth = {"event": world["code"], "role": "moderator"}
    token = {
        "participant_token": world["participant"].token,
        "other_moderator_token": world["stranger"].token,
        "expired_token": world["owner"].token,
    }.get(kind)
    return {**auth, "token": token} if token else auth


@pytest.mark.parametrize("kind", OUTSIDERS)
def test_staff_rooms_refuse_outsiders(app, world, monkeypatch, kind):
    client, _headers = caller(app, kind, world, monkeypatch)
    sio = socketio.test_client(app, flask_test_client=client, auth=socket_auth(kind, world))
    assert not sio.is_connected()


@pytest.mark.parametrize("credential", ["session", "token"])
def test_the_events_staff_get_the_staff_room(app, world, monkeypatch, credential):
    client = app.test_client()
    auth = {"event": world["code"], "role": "moderator"}
    if credential == "session":
        login(client, "owner")
    else:
        auth["token"] = world["owner"].token
    sio = socketio.test_client(app, flask_test_client=client, auth=auth)
    assert sio.is_connected()
    snapshot = sio.get_received()[0]["args"][0]
    assert world["hidden_id"] in [card["id"] for card in snapshot["suggestions"]]
    sio.disconnect()


@pytest.mark.parametrize("role", ["board", "participant"])
def test_public_rooms_never_get_staff_data(app, world, role):
    client = app.test_client()
    auth = {"event": world["code"], "role": role}
    if role == "participant":
        auth["token"] = world["participant"].token
    sio = socketio.test_client(app, flask_test_client=client, auth=auth)
    sio.emit("resync")
    snapshots = [m["args"][0] for m in sio.get_received() if m["name"] == "snapshot"]
    assert len(snapshots) == 2
    for snapshot in snapshots:
        assert [card["id"] for card in snapshot["suggestions"]] == [world["suggestion_id"]]
        assert "figures" not in snapshot["event"]
    sio.disconnect()
