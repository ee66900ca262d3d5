"""Areas: add, rename, recolour, reorder and remove; the cards of a removed area are kept."""

from __future__ import annotations

import pytest

from workshop.extensions import socketio


def area_names(api, code):
    return [area["name"] for area in api.get(f"/events/{code}").json["areas"]]


def test_an_area_is_added_at_the_end(make_event, staff):
    code = make_event(areas=2)["code"]
    response = staff.post(f"/events/{code}/areas", json={"name": "Sport", "color": "#123456"})
    assert response.status_code == 201
    assert (response.json["position"], response.json["color"]) == (2, "#123456")
    assert area_names(staff, code) == ["Area 1", "Area 2", "Sport"]


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x", "color": "red"}, {"name": "x", "extra": 1}, {"name": 3}],
)
def test_bad_areas_are_refused(make_event, staff, body):
    code = make_event()["code"]
    response = staff.post(f"/events/{code}/areas", json=body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    ("moved", "position", "order"),
    [
        (0, 2, ["Area 2", "Area 3", "Area 1"]),
        (2, 0, ["Area 3", "Area 1", "Area 2"]),
        (1, 1, ["Area 1", "Area 2", "Area 3"]),
        (0, 30, ["Area 2", "Area 3", "Area 1"]),
    ],
)
def test_reordering_shifts_the_others(make_event, staff, moved, position, order):
    event = make_event(areas=3)
    area = event["areas"][moved]
    response = staff.patch(
        f"/events/{event['code']}/areas/{area['id']}", json={"position": position}
    )
    assert response.status_code == 200
    areas = staff.get(f"/events/{event['code']}").json["areas"]
    assert [a["name"] for a in areas] == order
    assert [a["position"] for a in areas] == [0, 1, 2]


def test_rename_and_recolour(make_event, staff):
    event = make_event(areas=1)
    area_id = event["areas"][0]["id"]
    body = {"name": "Bildung", "color": "#00695c"}
    response = staff.patch(f"/events/{event['code']}/areas/{area_id}", json=body)
    assert (response.json["name"], response.json["color"]) == ("Bildung", "#00695c")


def test_removing_an_area_keeps_its_cards_without_area(app, client, make_event, staff, submit):
    event = make_event(areas=2)
    code, area_id = event["code"], event["areas"][0]["id"]
    card = submit(staff, code, area_id=area_id)
    sio = socketio.test_client(app, flask_test_client=client, auth={"event": code, "role": "board"})
    sio.get_received()
    assert (
        staff.client.delete(
            f"/api/v1/events/{code}/areas/{area_id}",
            headers={"Authorization": f"Bearer {staff.token}"},
        ).status_code
        == 204
    )
    cards = staff.get(f"/events/{code}/suggestions").json["suggestions"]
    assert [(c["id"], c["area_id"]) for c in cards] == [(card["id"], None)]
    assert area_names(staff, code) == ["Area 2"]
    assert staff.get(f"/events/{code}").json["areas"][0]["position"] == 0
    changes = [m["args"][0] for m in sio.get_received() if m["name"] == "change"]
    kinds = {(c["type"], c["data"].get("area_id", "-")) for c in changes}
    assert ("suggestion", None) in kinds
    assert any(c["type"] == "event" for c in changes)
    sio.disconnect()


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_areas_of_another_event_are_not_found(make_event, staff, method):
    mine, other = make_event()["code"], make_event()
    area_id = other["areas"][0]["id"]
    response = getattr(staff.client, method)(
        f"/api/v1/events/{mine}/areas/{area_id}",
        json={"name": "x"},
        headers={"Authorization": f"Bearer {staff.token}"},
    )
    assert response.status_code == 404
    assert response.json["error"]["code"] == "area_not_found"


def test_at_most_thirty_areas(make_event, staff):
    code = make_event(areas=30)["code"]
    response = staff.post(f"/events/{code}/areas", json={"name": "one more"})
    assert (response.status_code, response.json["error"]["code"]) == (409, "too_many_areas")
