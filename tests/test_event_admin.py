"""Events: templates, copies, archive, deletion, and the figures staff see."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from workshop.db.models import AuditEntry, Participant, Suggestion, Vote
from workshop.domain.events import TEMPLATE_INTEGRATION_2014
from workshop.extensions import db

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def delete(api, path):
    return api.client.delete(f"/api/v1{path}", headers={"Authorization": f"Bearer {api.token}"})


@pytest.mark.parametrize(
    ("template", "areas"),
    [("integration-2014", list(TEMPLATE_INTEGRATION_2014)), ("empty", [])],
)
def test_events_start_from_a_template(staff, template, areas):
    response = staff.post("/events", json={"title": "Plenum", "template": template})
    assert response.status_code == 201
    assert [area["name"] for area in response.json["areas"]] == areas


@pytest.mark.parametrize(
    "body",
    [{"title": "x", "template": "nope"}, {"title": "x", "template": "empty", "areas": ["a"]}],
)
def test_bad_templates_are_refused(staff, body):
    assert staff.post("/events", json=body).status_code == 400


@pytest.mark.parametrize(("language", "title"), [("de", "Plenum (Kopie)"), ("en", "Plenum (copy)")])
def test_a_copy_has_texts_areas_and_rules_but_no_people(
    make_event, staff, join, submit, language, title
):
    event = make_event(areas=2, phase="vote", vote_budget=9)
    submit(staff, event["code"])
    join(event["code"])
    response = staff.client.post(
        f"/api/v1/events/{event['code']}/duplicate",
        headers={"Authorization": f"Bearer {staff.token}", "Accept-Language": language},
    )
    assert response.status_code == 201
    copy = response.json
    assert copy["code"] != event["code"]
    assert (copy["title"], copy["phase"]) == (title, "draft")
    assert [a["name"] for a in copy["areas"]] == ["Area 1", "Area 2"]
    assert copy["settings"] == event["settings"] | {"vote_budget": 9}
    assert copy["counts"] == {
        "participants": 0,
        "suggestions": 0,
        "dots": 0,
        "voted": 0,
        "not_voted": 0,
        "dots_unspent": 0,
    }
    assert staff.get(f"/events/{copy['code']}/suggestions").json["suggestions"] == []


def test_a_long_title_is_shortened_for_the_copy(staff):
    code = staff.post("/events", json={"title": "x" * 200}).json["code"]
    copy = staff.post(f"/events/{code}/duplicate").json
    assert len(copy["title"]) == 200 and copy["title"].endswith("(Kopie)")


@pytest.fixture
def archived(make_event, staff, join, submit):
    """An archived event in which a participant had joined and filed a card before."""
    code = make_event(phase="collect")["code"]
    participant = join(code)
    card = submit(participant, code)
    response = staff.patch(f"/events/{code}", json={"archived": True})
    assert response.json["archived"] is True
    return code, participant, card


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/participants", None),
        ("post", "/suggestions", {"client_id": "a1", "title": "Neu"}),
        ("patch", "/suggestions/{card}", {"title": "Anders"}),
        ("put", "/suggestions/{card}/dots", {"dots": 1}),
    ],
)
def test_archived_events_are_read_only_for_participants(archived, method, path, body):
    code, participant, card = archived
    response = getattr(participant, method)(
        f"/events/{code}{path.format(card=card['id'])}", json=body
    )
    assert (response.status_code, response.json["error"]["code"]) == (409, "archived")


def test_archived_events_stay_readable_and_can_come_back(archived, staff):
    code, participant, _card = archived
    assert participant.get(f"/events/{code}/suggestions").status_code == 200
    assert "archived" not in participant.get(f"/events/{code}").json
    assert staff.patch(f"/events/{code}", json={"archived": False}).json["archived"] is False
    assert participant.patch(f"/events/{code}/suggestions/1", json={"title": "B"}).status_code in (
        200,
        403,
        404,
    )


def test_deleting_an_event_removes_every_trace(app, make_event, staff, join, submit):
    code = make_event(phase="collect")["code"]
    participant = join(code)
    card = submit(participant, code)
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    participant.put(f"/events/{code}/suggestions/{card['id']}/dots", json={"dots": 1})
    assert delete(staff, f"/events/{code}").status_code == 204
    assert staff.get(f"/events/{code}").status_code == 404
    with app.app_context():
        for table in (Participant, Suggestion, Vote, AuditEntry):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(table)) == 0


def test_figures_are_for_staff_only(make_event, staff, join, submit):
    event = make_event(areas=2, phase="collect")
    code, area = event["code"], event["areas"][0]["id"]
    voter, idle = join(code), join(code)
    card = submit(voter, code, area_id=area)
    submit(idle, code)
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    voter.put(f"/events/{code}/suggestions/{card['id']}/dots", json={"dots": 1})
    figures = staff.get(f"/events/{code}").json["figures"]
    assert figures == {
        "participants": 2,
        "voted": 1,
        "not_voted": 1,
        # Both filed, so both count; the voter has one dot of the budget spent.
        "dots_unspent": 2 * event["settings"]["vote_budget"] - 1,
        "per_area": {str(area): 1, str(event["areas"][1]["id"]): 0, "none": 1},
    }
    assert "figures" not in voter.get(f"/events/{code}").json


# -- the plain dashboard ---------------------------------------------------------------------


@pytest.fixture
def browser(app, make_staff):
    """A browser logged in as moderator `anna`: (client, post(path, **form))."""
    anna = make_staff(username="anna")
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    form = {"username": "anna", "password": "password-123", "csrf_token": token}
    assert client.post("/login", data=form).status_code == 302

    def post(path, **fields):
        page = client.get("/moderate/").get_data(as_text=True)
        fields["csrf_token"] = CSRF.search(page).group(1)
        return client.post(path, data=fields)

    return client, post, anna


def test_dashboard_creates_from_a_template(browser):
    _client, post, anna = browser
    response = post("/moderate/", title="Plenum", template="empty", areas="ignored")
    code = response.location.rsplit("/", 1)[-1]
    assert anna.get(f"/events/{code}").json["areas"] == []


def test_dashboard_copies_archives_and_lists_archived_events_apart(browser, make_event):
    client, post, anna = browser
    code = make_event(owner=anna)["code"]
    copy_location = post(f"/moderate/{code}/duplicate").location
    assert copy_location.startswith("/moderate/") and code not in copy_location
    post(f"/moderate/{code}/archive", archived="1")
    html = client.get("/moderate/").get_data(as_text=True)
    active, archived_part = html.split("Archivierte Veranstaltungen")
    assert code in archived_part and code not in active.split("<h1>")[1]
    post(f"/moderate/{code}/archive", archived="0")
    assert anna.get(f"/events/{code}").json["archived"] is False


@pytest.mark.parametrize(("typed", "deleted"), [("", False), ("WRONG", False), ("ok", True)])
def test_dashboard_deletes_only_after_the_code_is_typed(browser, make_event, typed, deleted):
    _client, post, anna = browser
    code = make_event(owner=anna)["code"]
    post(f"/moderate/{code}/delete", confirm=code.lower() if typed == "ok" else typed)
    assert (anna.get(f"/events/{code}").status_code == 404) is deleted


@pytest.mark.parametrize(("fields", "phase"), [({}, "draft"), ({"open_now": "1"}, "collect")])
def test_dashboard_creates_events_in_preparation_unless_opened_now(browser, fields, phase):
    """Issue 17: an event made from the form shows nothing to attendees until it is opened."""
    _client, post, anna = browser
    response = post("/moderate/", title="Plenum", template="empty", **fields)
    code = response.location.rsplit("/", 1)[-1]
    assert anna.get(f"/events/{code}").json["phase"] == phase


def test_the_api_still_creates_events_in_collect(staff):
    """The form's default changed; the API's stays, for the clients that rely on it."""
    response = staff.post("/events", json={"title": "Plenum", "areas": ["Bildung"]})
    assert response.json["phase"] == "collect"
