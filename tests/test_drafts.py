"""A draft event is its staff's only: for participants and anonymous callers its code answers
like a code that does not exist (pages, API, sockets), and nobody joins it; look-ups of unknown
codes are throttled per address."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from workshop.domain import participants
from workshop.extensions import socketio

UNKNOWN = "ZZZZZZ"


def same_as_unknown(response, unknown) -> None:
    assert response.status_code == unknown.status_code == 404
    if unknown.is_json:
        assert response.json == unknown.json


@pytest.fixture
def draft(make_event):
    return make_event(phase="draft")["code"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events/{code}",
        "/api/v1/events/{code}/suggestions",
        "/api/v1/events/{code}/results",
        "/api/v1/events/{code}/me",
        "/j/{code}",
        "/board/{code}",
        "/board/{code}/qr.svg",
        "/?code={code}",
    ],
)
def test_a_draft_reads_like_an_unknown_code(client, draft, path):
    same_as_unknown(client.get(path.format(code=draft)), client.get(path.format(code=UNKNOWN)))


def test_nobody_joins_a_draft(app, client, staff, draft):
    for caller in (Api(app.test_client()), staff):
        response = caller.post(f"/events/{draft}/participants")
        assert response.status_code == 404
        assert response.json["error"]["code"] == "event_not_found"
    # The event page of a first visit would join: it answers 404 and hands out no cookie.
    page = client.get(f"/j/{draft}")
    assert page.status_code == 404
    cookie = participants.cookie_name(draft)
    assert not any(h.startswith(cookie) for h in page.headers.getlist("Set-Cookie"))


def test_a_participant_of_an_event_put_back_to_draft_sees_nothing(staff, make_event, join):
    code = make_event()["code"]
    me = join(code)
    assert staff.patch(f"/events/{code}", json={"phase": "draft"}).status_code == 200
    assert me.get(f"/events/{code}").status_code == 404
    response = me.post(f"/events/{code}/suggestions", json={"client_id": "x", "title": "T"})
    assert response.json["error"]["code"] == "event_not_found"


def test_staff_see_their_draft(staff, make_staff, draft):
    assert staff.get(f"/events/{draft}").json["phase"] == "draft"
    assert staff.get(f"/events/{draft}/suggestions").status_code == 200
    assert staff.client.get(f"/board/{draft}", headers=staff._headers()).status_code == 200
    # Another moderator is not this event's staff.
    assert make_staff("moderator").get(f"/events/{draft}").status_code == 404


def test_board_and_phone_sockets_are_refused_for_a_draft(app, client, draft):
    for role in ("board", "participant"):
        listener = socketio.test_client(
            app, flask_test_client=client, auth={"event": draft, "role": role}
        )
        assert not listener.is_connected()


def test_the_console_socket_connects_to_a_draft(app, staff, draft):
    listener = socketio.test_client(
        app,
        flask_test_client=app.test_client(),
        auth={"event": draft, "role": "moderator", "token": staff.token},
    )
    assert listener.is_connected()


def test_unknown_code_lookups_are_throttled_per_address(app, client, make_event):
    app.config["WORKSHOP_RATELIMIT_CODE_LOOKUP"] = "3 per minute"
    code = make_event()["code"]
    # Known codes are not counted: a hall opening the board and joining uses none of it.
    for _ in range(5):
        assert client.get(f"/api/v1/events/{code}").status_code == 200
    statuses = [client.get(f"/api/v1/events/{UNKNOWN}").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert client.get(f"/j/{UNKNOWN}").status_code == 429
    # Another address is not held up.
    other = client.get(f"/api/v1/events/{UNKNOWN}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 404
