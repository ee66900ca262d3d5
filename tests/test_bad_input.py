"""Bad input: every refusal is a 4xx with `{"error": {"code", "message"}}`, and changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from workshop.db.models import Event, User
from workshop.extensions import db


class Raw(bytes):
    """A request body sent as it is, not encoded as JSON."""


@pytest.fixture
def world(app, make_event, staff, join, submit):
    """An event with areas and a participant's card, a hidden card and a foreign event."""
    event, foreign = make_event(), make_event(areas=1)
    code, me = event["code"], join(event["code"])
    ids = {
        "code": code,
        "area": event["areas"][0]["id"],
        "card": submit(me, code)["id"],
        "hidden": submit(me, code, "To hide")["id"],
        "foreign_area": foreign["areas"][0]["id"],
        "foreign_card": submit(staff, foreign["code"])["id"],
    }
    staff.patch(f"/events/{code}/suggestions/{ids['hidden']}", json={"status": "hidden"})

    def state():
        with app.app_context():
            counts = [
                db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in (Event, User)
            ]
        return counts, [
            api.get(path).json
            for api, path in [
                (staff, f"/events/{code}"),
                (staff, f"/events/{code}/suggestions"),
                (staff, f"/events/{foreign['code']}/suggestions"),
                (me, f"/events/{code}/me"),
            ]
        ]

    anonymous = join(code)
    anonymous.token = None
    return ids, {"me": me, "staff": staff, "anon": anonymous}, state


def fill(value, ids):
    """Put the world's ids into a path or body: "{card}" alone becomes the id itself."""
    if isinstance(value, str) and value.startswith("{") and value[1:-1] in ids:
        return ids[value[1:-1]]
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value


SUBMIT = "/events/{code}/suggestions"
DOTS = "/events/{code}/suggestions/{card}/dots"
CARD = "/events/{code}/suggestions/{card}"


def card(**fields):
    return {"client_id": "c-1", "title": "A title", **fields}


CASES = [
    # (caller, phase, method, path, body, status, code)
    ("me", "collect", "post", SUBMIT, card(title=""), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(title="   "), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(title="x" * 141), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(title="a\x00b"), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(title="two\nlines"), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(title="bell\x07"), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(title="\ud800"), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(title="x\uffff"), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(body="\ufffe"), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(title=5), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(title=None), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(body="x" * 1001), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(body="esc\x1b[31m"), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, {"client_id": "c-1"}, 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, {"title": "No id"}, 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(client_id="with space"), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(client_id="newline\n"), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(client_id="x" * 65), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(client_id=7), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(area_id=999_999), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(area_id="{foreign_area}"), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(area_id="1"), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(area_id=True), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(area_id=2**70), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, card(colour="red"), 400, "validation_error"),
    ("me", "collect", "post", SUBMIT, ["client_id", "title"], 400, "invalid_json"),
    ("me", "collect", "post", SUBMIT, Raw(b'{"client_id": "c-1", '), 400, "invalid_json"),
    ("me", "collect", "post", SUBMIT, Raw(b"null"), 400, "invalid_json"),
    ("me", "collect", "post", SUBMIT, Raw(b"\xff\xfe{}"), 400, "invalid_json"),
    ("me", "collect", "post", SUBMIT, Raw(b"[" * 30_000 + b"]" * 30_000), 400, "invalid_json"),
    ("me", "collect", "post", SUBMIT, Raw(b" " * 70_000), 413, "too_large"),
    ("me", "cluster", "post", SUBMIT, card(), 409, "wrong_phase"),
    ("me", "collect", "post", "/events/XXXXXX/suggestions", card(), 404, "event_not_found"),
    ("me", "vote", "put", DOTS, {"dots": "2"}, 400, "validation_error"),
    ("me", "vote", "put", DOTS, {"dots": True}, 400, "validation_error"),
    ("me", "vote", "put", DOTS, {"dots": 1.0}, 400, "validation_error"),
    ("me", "vote", "put", DOTS, {"dots": -1}, 400, "validation_error"),
    ("me", "vote", "put", DOTS, {"dots": 101}, 400, "validation_error"),
    ("me", "vote", "put", DOTS, {"dots": None}, 400, "validation_error"),
    ("me", "vote", "put", DOTS, {}, 400, "validation_error"),
    ("me", "vote", "put", DOTS, {"dots": 1, "why": "because"}, 400, "validation_error"),
    ("me", "vote", "put", DOTS, [1], 400, "invalid_json"),
    ("me", "vote", "put", DOTS, Raw(b"1"), 400, "invalid_json"),
    ("me", "vote", "put", DOTS, {"dots": 3}, 409, "cap_exceeded"),
    ("me", "collect", "put", DOTS, {"dots": 1}, 409, "wrong_phase"),
    (
        "me",
        "vote",
        "put",
        "/events/{code}/suggestions/{hidden}/dots",
        {"dots": 1},
        409,
        "not_votable",
    ),
    (
        "me",
        "vote",
        "put",
        "/events/{code}/suggestions/{foreign_card}/dots",
        {"dots": 1},
        404,
        "suggestion_not_found",
    ),
    (
        "me",
        "vote",
        "put",
        "/events/{code}/suggestions/99999999999999999999999/dots",
        {"dots": 1},
        404,
        "suggestion_not_found",
    ),
    ("me", "vote", "put", "/events/{code}/suggestions/abc/dots", {"dots": 1}, 404, "not_found"),
    (
        "me",
        "vote",
        "put",
        "/events/NOCODE/suggestions/{card}/dots",
        {"dots": 1},
        404,
        "event_not_found",
    ),
    ("anon", "vote", "put", DOTS, {"dots": 1}, 401, "not_joined"),
    ("me", "collect", "patch", CARD, {"title": ""}, 400, "validation_error"),
    ("me", "collect", "patch", CARD, {"area_id": "{foreign_area}"}, 400, "validation_error"),
    ("me", "collect", "patch", CARD, {"status": "deleted"}, 400, "validation_error"),
    ("me", "collect", "patch", CARD, {"version": "1", "title": "x"}, 400, "validation_error"),
    ("me", "collect", "patch", CARD, {"client_id": "new"}, 400, "validation_error"),
    (
        "me",
        "collect",
        "patch",
        "/events/{code}/suggestions/{foreign_card}",
        {"title": "x"},
        404,
        "suggestion_not_found",
    ),
    ("staff", "collect", "patch", CARD, {"status": "pending"}, 400, "validation_error"),
    ("staff", "collect", "patch", CARD, {"area_id": "{foreign_area}"}, 400, "validation_error"),
    (
        "staff",
        "collect",
        "patch",
        "/events/{code}/suggestions/{foreign_card}",
        {"status": "hidden"},
        404,
        "suggestion_not_found",
    ),
    (
        "staff",
        "collect",
        "post",
        "/events/{code}/suggestions/{card}/merge",
        {"into": "{foreign_card}"},
        404,
        "suggestion_not_found",
    ),
    (
        "staff",
        "collect",
        "post",
        "/events/{code}/suggestions/{card}/merge",
        {"into": "1"},
        400,
        "validation_error",
    ),
    (
        "staff",
        "collect",
        "post",
        "/events/{code}/suggestions/{card}/merge",
        {},
        400,
        "validation_error",
    ),
    (
        "staff",
        "collect",
        "post",
        "/events/{code}/suggestions/{foreign_card}/unmerge",
        None,
        404,
        "suggestion_not_found",
    ),
    ("staff", "collect", "patch", "/events/{code}", {"phase": "done"}, 400, "validation_error"),
    (
        "staff",
        "collect",
        "patch",
        "/events/{code}",
        {"settings": {"vote_budget": 0}},
        400,
        "validation_error",
    ),
    (
        "staff",
        "collect",
        "patch",
        "/events/{code}",
        {"settings": {"vote_budget": "5"}},
        400,
        "validation_error",
    ),
    (
        "staff",
        "collect",
        "patch",
        "/events/{code}",
        {"settings": {"moderation": "maybe"}},
        400,
        "validation_error",
    ),
    (
        "staff",
        "collect",
        "patch",
        "/events/{code}",
        {"settings": {"hide_counts_while_voting": 1}},
        400,
        "validation_error",
    ),
    (
        "staff",
        "collect",
        "patch",
        "/events/{code}",
        {"settings": {"colour": "red"}},
        400,
        "validation_error",
    ),
    ("staff", "collect", "patch", "/events/{code}", {"settings": []}, 400, "validation_error"),
    ("staff", "collect", "patch", "/events/{code}", {"code": "ABCDEF"}, 400, "validation_error"),
    ("staff", "collect", "patch", "/events/{code}", {"title": "x" * 201}, 400, "validation_error"),
    ("staff", "collect", "post", "/events", {"title": ""}, 400, "validation_error"),
    (
        "staff",
        "collect",
        "post",
        "/events",
        {"title": "T", "areas": "Bildung"},
        400,
        "validation_error",
    ),
    (
        "staff",
        "collect",
        "post",
        "/events",
        {"title": "T", "areas": ["A"] * 31},
        400,
        "validation_error",
    ),
    ("staff", "collect", "post", "/events", {"title": "T", "areas": [""]}, 400, "validation_error"),
    (
        "staff",
        "collect",
        "post",
        "/events",
        {"title": "T", "areas": [{"name": "A", "color": "red"}]},
        400,
        "validation_error",
    ),
    (
        "staff",
        "collect",
        "post",
        "/events",
        {"title": "T", "areas": [{"color": "#123456"}]},
        400,
        "validation_error",
    ),
    (
        "staff",
        "collect",
        "post",
        "/events",
        {"title": "T", "phase": "done"},
        400,
        "validation_error",
    ),
    (
        "staff",
        "collect",
        "post",
        "/events",
        {"title": "T", "settings": {"vote_budget": 101}},
        400,
        "validation_error",
    ),
    ("staff", "collect", "patch", "/events/NOCODE", {"phase": "vote"}, 404, "event_not_found"),
    ("anon", "collect", "get", "/events/NOCODE", None, 404, "event_not_found"),
    ("anon", "collect", "post", "/events/NOCODE/participants", None, 404, "event_not_found"),
    ("anon", "collect", "get", "/events/{code}/me", None, 401, "not_joined"),
    (
        "anon",
        "collect",
        "post",
        "/auth/token",
        {"username": "moderator1", "password": "wrong-password"},
        401,
        "invalid_credentials",
    ),
    (
        "anon",
        "collect",
        "post",
        "/auth/token",
        {"username": "nobody", "password": "password-123"},
        401,
        "invalid_credentials",
    ),
    (
        "anon",
        "collect",
        "post",
        "/auth/token",
        {"username": "\ud800", "password": "password-123"},
        400,
        "validation_error",
    ),
    (
        "anon",
        "collect",
        "post",
        "/auth/token",
        {"username": "moderator1", "password": "\ud800"},
        400,
        "validation_error",
    ),
    (
        "anon",
        "collect",
        "post",
        "/auth/token",
        {"username": "moderator1", "password": 123},
        400,
        "validation_error",
    ),
    ("anon", "collect", "post", "/auth/token", {"username": "moderator1"}, 400, "validation_error"),
    ("anon", "collect", "get", "/events/{code}/participants", None, 405, "method_not_allowed"),
]


@pytest.mark.parametrize(("caller", "phase", "method", "path", "body", "status", "code"), CASES)
def test_refused_without_change(world, staff, caller, phase, method, path, body, status, code):
    ids, callers, state = world
    staff.patch(f"/events/{ids['code']}", json={"phase": phase})
    before = state()
    kwargs = (
        {"data": bytes(body), "content_type": "application/json"}
        if isinstance(body, Raw)
        else {"json": fill(body, ids)}
    )
    response = getattr(callers[caller], method)(fill(path, ids), **kwargs)
    assert (response.status_code, response.json["error"]["code"]) == (status, code), response.json
    assert isinstance(response.json["error"]["message"], str) and response.json["error"]["message"]
    assert state() == before


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        (None, 401, "login_required"),
        ("Bearer", 401, "invalid_token"),
        ("Basic bW9kZXJhdG9yOnB3", 401, "invalid_token"),
        ("Bearer staff.forged", 401, "invalid_token"),
        ("Bearer {participant}", 401, "login_required"),
        ("Bearer {staff}x", 401, "invalid_token"),
    ],
)
def test_staff_token_refused(world, staff, header, status, code):
    ids, callers, state = world
    before = state()
    header = header and header.format(participant=callers["me"].token, staff=staff.token)
    response = staff.client.patch(
        f"/api/v1/events/{ids['code']}",
        json={"phase": "vote"},
        headers={"Authorization": header} if header else {},
    )
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    assert state() == before


def test_expired_staff_token(app, world, staff):
    ids, _, state = world
    before = state()
    app.config["WORKSHOP_TOKEN_MAX_AGE"] = -1
    response = staff.patch(f"/events/{ids['code']}", json={"phase": "vote"})
    assert (response.status_code, response.json["error"]["code"]) == (401, "token_expired")
    app.config["WORKSHOP_TOKEN_MAX_AGE"] = 3600
    assert state() == before


@pytest.mark.parametrize(
    ("token", "code"),
    [(None, "not_joined"), ("not-a-token", "not_joined"), ("staff.forged", "invalid_token")],
)
def test_participant_token_refused(app, world, token, code):
    ids, _, state = world
    before = state()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = app.test_client().post(
        f"/api/v1/events/{ids['code']}/suggestions", json=card(), headers=headers
    )
    assert (response.status_code, response.json["error"]["code"]) == (401, code)
    assert state() == before
