"""Events: creation with areas and settings, join codes, phases and what each audience sees."""

from __future__ import annotations

import pytest

from workshop.domain.events import CODE_ALPHABET, PALETTE


def test_defaults(make_event):
    event = make_event()
    assert event["phase"] == "collect"
    assert event["settings"] == {
        "vote_budget": 5,
        "max_dots_per_suggestion": 2,
        "max_dots_per_area": None,
        "max_suggestions_per_participant": 10,
        "moderation": "post",
        "hide_counts_while_voting": True,
        "seat_codes_required": False,
        "default_language": "de",
        "board_languages": [],
        "languages": ["de", "en", "ar", "fa", "uk", "ru"],
        "board_translations": ["de"],
        # Who supports what: off unless staff set a list.
        "affiliations": [],
    }


def test_areas_keep_their_order_and_get_colours(staff):
    body = {
        "title": "Plenum",
        "areas": ["Bildung", {"name": "Arbeit", "color": "#123abc"}, "Sport"],
    }
    areas = staff.post("/events", json=body).json["areas"]
    assert [(a["name"], a["position"]) for a in areas] == [
        ("Bildung", 0),
        ("Arbeit", 1),
        ("Sport", 2),
    ]
    assert [a["color"] for a in areas] == [PALETTE[0], "#123abc", PALETTE[2]]


def test_settings_and_phase_at_creation(staff):
    settings = {"vote_budget": 7, "moderation": "pre", "hide_counts_while_voting": False}
    body = {"title": "Vorbereitung", "phase": "draft", "settings": settings}
    event = staff.post("/events", json=body).json
    assert event["phase"] == "draft"
    assert event["settings"] == {
        **settings,
        "max_dots_per_suggestion": 2,
        "max_suggestions_per_participant": 10,
        "max_dots_per_area": None,
        "seat_codes_required": False,
        "default_language": "de",
        "board_languages": [],
        "languages": ["de", "en", "ar", "fa", "uk", "ru"],
        "board_translations": ["de"],
        # Who supports what: off unless staff set a list.
        "affiliations": [],
    }


def test_codes_are_readable_and_case_insensitive(make_event, client):
    code = make_event()["code"]
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    assert client.get(f"/api/v1/events/{code.lower()}").json["code"] == code
    assert client.get(f"/api/v1/events/{code.lower()}/").status_code == 404


def test_staff_move_between_phases_in_any_direction(make_event, staff):
    code = make_event()["code"]
    for phase in ["results", "draft", "vote", "collect", "cluster", "collect", "results"]:
        response = staff.patch(f"/events/{code}", json={"phase": phase})
        assert (response.status_code, response.json["phase"]) == (200, phase)


def test_update_texts_and_settings(make_event, staff, client):
    code = make_event()["code"]
    body = {
        "title": "Plenum 2",
        "question": "Was fehlt?\nUnd was noch?",
        "settings": {"vote_budget": 9},
    }
    assert staff.patch(f"/events/{code}", json=body).status_code == 200
    event = client.get(f"/api/v1/events/{code}").json
    assert (event["title"], event["question"]) == ("Plenum 2", "Was fehlt?\nUnd was noch?")
    assert (
        event["settings"]["vote_budget"] == 9 and event["settings"]["max_dots_per_suggestion"] == 2
    )


def test_joining_gives_the_event_budget(make_event, join):
    code = make_event(vote_budget=8)["code"]
    me = join(code)
    assert me.get(f"/events/{code}/me").json == {
        "dots_left": 8,
        "dots_budget": 8,
        "dots": {},
        "suggestions": [],
        # Not asked yet (tests/test_affiliations.py).
        "affiliation": None,
        "affiliation_answered": False,
    }


def test_counts(make_event, staff, join, submit, client):
    code = make_event(moderation="pre")["code"]
    me = join(code)
    submit(me, code)
    visible = submit(me, code)
    staff.patch(f"/events/{code}/suggestions/{visible['id']}", json={"status": "visible"})
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    me.put(f"/events/{code}/suggestions/{visible['id']}/dots", json={"dots": 2})
    assert client.get(f"/api/v1/events/{code}").json["counts"] == {
        "participants": 1,
        "suggestions": 1,
        "dots": 2,
    }


@pytest.mark.parametrize(
    ("phase", "hide", "public"),
    # A draft is hidden from participants (test_drafts.py).
    [("collect", True, True), ("vote", True, False), ("vote", False, True)],
)
def test_counts_visible(make_event, staff, client, phase, hide, public):
    code = make_event(phase=phase, hide_counts_while_voting=hide)["code"]
    assert client.get(f"/api/v1/events/{code}").json["counts_visible"] is public
    assert staff.get(f"/events/{code}").json["counts_visible"] is True


def test_health(client):
    assert client.get("/healthz").json == {"status": "ok"}
