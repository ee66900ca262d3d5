"""What the projected board shows: screen, spotlight, countdown, layout and theme."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from workshop.clock import utcnow
from workshop.db.models import Event
from workshop.extensions import db


def display(staff, code, **changes):
    response = staff.patch(f"/events/{code}", json={"display": changes})
    assert response.status_code == 200, response.json
    return response.json["display"]


def test_defaults(make_event):
    assert make_event()["display"] == {
        "screen": "board",
        "spotlight": None,
        "timer": None,
        "layout": "scroll",
        "theme": "light",
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"screen": "join"}, {"screen": "join"}),
        ({"screen": "results"}, {"screen": "results"}),
        ({"layout": "condense", "theme": "dark"}, {"layout": "condense", "theme": "dark"}),
    ],
)
def test_screen_layout_and_theme(make_event, staff, changes, expected):
    shown = display(staff, make_event()["code"], **changes)
    assert {key: shown[key] for key in expected} == expected


def test_spotlight_a_visible_card_and_back(make_event, staff, submit):
    code = make_event()["code"]
    card = submit(staff, code)["id"]
    assert display(staff, code, spotlight=card)["spotlight"] == card
    assert display(staff, code, spotlight=None)["spotlight"] is None


def test_spotlight_refuses_hidden_and_foreign_cards(make_event, staff, submit):
    code, other = make_event()["code"], make_event()["code"]
    hidden = submit(staff, code, "Hidden")["id"]
    staff.patch(f"/events/{code}/suggestions/{hidden}", json={"status": "hidden"})
    foreign = submit(staff, other)["id"]
    for card in (hidden, foreign):
        response = staff.patch(f"/events/{code}", json={"display": {"spotlight": card}})
        assert (response.status_code, response.json["error"]["field"]) == (400, "spotlight")
    assert staff.get(f"/events/{code}").json["display"]["spotlight"] is None


def test_countdown_counts_from_the_server(make_event, staff):
    code = make_event()["code"]
    timer = display(staff, code, timer_seconds=300)["timer"]
    assert 298 <= timer["seconds_left"] <= 300
    assert display(staff, code, timer_seconds=0)["timer"] is None


def test_adding_a_minute_extends_a_running_countdown(make_event, staff):
    code = make_event()["code"]
    display(staff, code, timer_seconds=120)
    timer = display(staff, code, timer_add_seconds=60)["timer"]
    assert 178 <= timer["seconds_left"] <= 180


def test_adding_a_minute_without_a_countdown_starts_one(make_event, staff):
    code = make_event()["code"]
    timer = display(staff, code, timer_add_seconds=60)["timer"]
    assert 58 <= timer["seconds_left"] <= 60


def test_adding_to_a_finished_countdown_counts_from_now(make_event, staff, app):
    code = make_event()["code"]
    display(staff, code, timer_seconds=60)
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.code == code))
        event.timer_ends_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    timer = display(staff, code, timer_add_seconds=60)["timer"]
    assert 58 <= timer["seconds_left"] <= 60


def test_adding_never_goes_past_the_longest_countdown(make_event, staff):
    code = make_event()["code"]
    display(staff, code, timer_seconds=4 * 3600)
    timer = display(staff, code, timer_add_seconds=600)["timer"]
    assert timer["seconds_left"] <= 4 * 3600


@pytest.mark.parametrize(
    "changes",
    [
        {"screen": "wall"},
        {"timer_seconds": -1},
        {"timer_seconds": "60"},
        {"timer_add_seconds": 0},
        {"timer_add_seconds": -60},
        {"timer_add_seconds": "60"},
        {"timer_add_seconds": 4 * 3600 + 1},
        {"layout": 3},
        {"x": 1},
    ],
)
def test_bad_display_changes_are_refused(make_event, staff, changes):
    code = make_event()["code"]
    response = staff.patch(f"/events/{code}", json={"display": changes})
    assert response.status_code == 400
    assert staff.get(f"/events/{code}").json["display"]["screen"] == "board"


def test_participants_cannot_change_the_display(make_event, join):
    code = make_event()["code"]
    response = join(code).patch(f"/events/{code}", json={"display": {"screen": "join"}})
    assert response.status_code in (401, 403)
