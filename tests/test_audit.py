"""The audit log: every staff write leaves an entry, kept after the card changes, sent live."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from workshop.db.models import User
from workshop.domain import accounts
from workshop.extensions import db, socketio


def log(api, code, **params):
    response = api.get(f"/events/{code}/audit", query_string=params)
    assert response.status_code == 200, response.json
    return response.json["entries"]


@pytest.fixture
def card(make_event, staff, submit):
    """An event with one staff card: (code, card, area ids)."""
    event = make_event(areas=2)
    areas = [area["id"] for area in event["areas"]]
    return event["code"], submit(staff, event["code"], "Mehr Sprachcafes"), areas


@pytest.mark.parametrize(
    ("method", "path", "body", "action"),
    [
        ("patch", "", {"phase": "cluster"}, "phase_changed"),
        ("patch", "", {"title": "Neu"}, "event_changed"),
        ("patch", "", {"settings": {"vote_budget": 7}}, "event_changed"),
        ("patch", "", {"display": {"screen": "join"}}, "display_changed"),
        ("patch", "", {"archived": True}, "event_archived"),
        ("patch", "/suggestions/{id}", {"status": "hidden"}, "card_hidden"),
        ("patch", "/suggestions/{id}", {"area_id": "{area}"}, "card_moved"),
        ("patch", "/suggestions/{id}", {"title": "Sprachcafés"}, "card_edited"),
        ("post", "/areas", {"name": "Sport"}, "area_created"),
        ("patch", "/areas/{area}", {"name": "Sport"}, "area_changed"),
        ("delete", "/areas/{area}", None, "area_deleted"),
    ],
)
def test_staff_writes_are_logged(card, staff, method, path, body, action):
    code, suggestion, areas = card
    fill = {"id": suggestion["id"], "area": areas[0]}
    if body and body.get("area_id") == "{area}":
        body = {"area_id": areas[0]}
    response = getattr(staff.client, method)(
        f"/api/v1/events/{code}{path.format(**fill)}",
        json=body,
        headers={"Authorization": f"Bearer {staff.token}"},
    )
    assert response.status_code < 300, response.json
    newest = log(staff, code)[0]
    assert newest["action"] == action
    assert newest["user"] == "moderator1"


def test_an_edit_keeps_the_original_text(card, staff):
    code, suggestion, _areas = card
    staff.patch(f"/events/{code}/suggestions/{suggestion['id']}", json={"title": "Tippfeler weg"})
    entry = log(staff, code)[0]
    assert entry["suggestion_id"] == suggestion["id"]
    assert entry["details"]["old"]["title"] == "Mehr Sprachcafes"
    assert entry["details"]["new"]["title"] == "Tippfeler weg"


@pytest.mark.parametrize(
    ("status", "actions"),
    [("hidden", ["card_hidden"]), ("visible", ["card_restored", "card_hidden"])],
)
def test_hide_and_restore(card, staff, status, actions):
    code, suggestion, _areas = card
    staff.patch(f"/events/{code}/suggestions/{suggestion['id']}", json={"status": "hidden"})
    staff.patch(f"/events/{code}/suggestions/{suggestion['id']}", json={"status": status})
    assert [entry["action"] for entry in log(staff, code)][: len(actions)] == actions


def test_approval_merge_unmerge_and_staff_cards(make_event, staff, join, submit):
    code = make_event(moderation="pre")["code"]
    pending = submit(join(code), code, "Wartet")
    staff.patch(f"/events/{code}/suggestions/{pending['id']}", json={"status": "visible"})
    other = submit(staff, code, "Von der Moderation")
    staff.post(f"/events/{code}/suggestions/{pending['id']}/merge", json={"into": other["id"]})
    staff.post(f"/events/{code}/suggestions/{pending['id']}/unmerge")
    entries = log(staff, code)
    assert [entry["action"] for entry in entries[:4]] == [
        "card_unmerged",
        "card_merged",
        "card_created",
        "card_approved",
    ]
    assert entries[1]["details"]["into"] == other["id"]


def test_participant_writes_are_not_logged(make_event, staff, join, submit):
    code = make_event()["code"]
    submit(join(code), code)
    assert [entry["action"] for entry in log(staff, code)] == ["event_created"]


@pytest.mark.parametrize(("limit", "status"), [("1", 200), ("0", 400), ("x", 400)])
def test_limit(card, staff, limit, status):
    code, _suggestion, _areas = card
    response = staff.get(f"/events/{code}/audit", query_string={"limit": limit})
    assert response.status_code == status
    if status == 200:
        assert len(response.json["entries"]) == 1


def test_entries_outlive_a_deleted_account(app, card, make_staff):
    code, suggestion, _areas = card
    chefin, admin = make_staff("admin", username="chefin"), make_staff("admin", username="boss")
    chefin.patch(f"/events/{code}/suggestions/{suggestion['id']}", json={"status": "hidden"})
    with app.app_context():
        boss = db.session.scalar(sa.select(User).where(User.username == "boss"))
        gone = db.session.scalar(sa.select(User).where(User.username == "chefin"))
        accounts.delete_user(boss, gone.id)
    entry = log(admin, code)[0]
    assert (entry["action"], entry["user"]) == ("card_hidden", None)


def audit_changes(sio):
    return [
        message["args"][0]["data"]
        for message in sio.get_received()
        if message["name"] == "change" and message["args"][0]["type"] == "audit"
    ]


def test_two_moderators_see_each_others_actions(app, client, card, staff, make_staff):
    code, suggestion, _areas = card
    admin = make_staff("admin", username="chefin")
    consoles = {
        api: socketio.test_client(
            app,
            flask_test_client=client,
            auth={"event": code, "role": "moderator", "token": api.token},
        )
        for api in (staff, admin)
    }
    for sio in consoles.values():
        sio.get_received()
    staff.patch(f"/events/{code}/suggestions/{suggestion['id']}", json={"status": "hidden"})
    seen = [(entry["action"], entry["user"]) for entry in audit_changes(consoles[admin])]
    assert seen == [("card_hidden", "moderator1")]
    consoles[staff].get_received()
    admin.patch(f"/events/{code}/suggestions/{suggestion['id']}", json={"status": "visible"})
    received = consoles[staff].get_received()
    kinds = [m["args"][0]["type"] for m in received if m["name"] == "change"]
    assert "suggestion" in kinds
    audit = [m["args"][0]["data"] for m in received if m["args"][0]["type"] == "audit"]
    assert [(entry["action"], entry["user"]) for entry in audit] == [("card_restored", "chefin")]
    for sio in consoles.values():
        sio.disconnect()
