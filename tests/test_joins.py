"""Joins by network: each join's address bucket, the counts staff see, the rate warning, and
requiring seat codes in one step (domain/joins.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from workshop.db.models import Participant
from workshop.domain import joins
from workshop.extensions import db
from workshop.hashing import keyed_hash


def join_from(app, code: str, address: str):
    """Join over the API from `address`; the response."""
    client = app.test_client()
    return client.post(f"/api/v1/events/{code}/participants", environ_base={"REMOTE_ADDR": address})


def buckets(app) -> list[str | None]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Participant.join_bucket).order_by(Participant.id)))


def stats(staff, code: str) -> dict:
    response = staff.get(f"/events/{code}/joins")
    assert response.status_code == 200, response.json
    return response.json


def test_an_api_join_stores_a_short_keyed_bucket_not_the_address(app, make_event):
    code = make_event()["code"]
    for address in ("203.0.113.7", "203.0.113.7", "198.51.100.1"):
        assert join_from(app, code, address).status_code == 201
    first, again, other = buckets(app)
    assert first == again != other
    with app.app_context():
        event_id = db.session.scalar(sa.select(Participant.event_id))
        assert first == keyed_hash(f"join:{event_id}:203.0.113.7")[:16]  # never the address


def test_the_event_page_first_visit_stores_the_bucket(app, make_event):
    code = make_event()["code"]
    client = app.test_client()
    assert client.get(f"/j/{code}", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 200
    assert client.get(f"/j/{code}", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 200
    with app.app_context():
        event_id = db.session.scalar(sa.select(Participant.event_id))
        assert buckets(app) == [joins.bucket(event_id, "192.0.2.9")]


def test_buckets_are_per_event_and_ipv6_counts_by_its_64(app):
    with app.app_context():
        a = joins.bucket(1, "2001:db8:1:2:aaaa::1")
        assert a == joins.bucket(1, "2001:db8:1:2:bbbb::9")  # one /64: one network
        assert a != joins.bucket(1, "2001:db8:1:3::1")
        assert a != joins.bucket(2, "2001:db8:1:2:aaaa::1")  # not linkable across events
        assert joins.bucket(1, "::ffff:192.0.2.1") == joins.bucket(1, "192.0.2.1")
        assert joins.bucket(1, None) is None


def test_staff_see_joins_by_network_participants_do_not(app, make_event, staff, join):
    code = make_event()["code"]
    for _ in range(3):
        join_from(app, code, "203.0.113.7")
    join_from(app, code, "198.51.100.1")
    figures = stats(staff, code)
    assert figures["participants"] == 4
    assert [(b["total"], b["recent"]) for b in figures["buckets"]] == [(3, 3), (1, 1)]
    assert all(len(b["label"]) == 4 for b in figures["buckets"])
    assert figures["window_seconds"] == 120 and figures["warning"] is None
    assert figures["seats"] == {"total": 0, "used": 0, "unused": 0}
    assert join(code).get(f"/events/{code}/joins").status_code in (401, 403)


def test_the_warning_is_about_the_rate_of_one_network(app, make_event, staff):
    app.config["WORKSHOP_JOIN_WARNING"] = 3
    code = make_event()["code"]
    for _ in range(4):
        join_from(app, code, "203.0.113.7")
    warning = stats(staff, code)["warning"]
    assert warning["recent"] == 4 and warning == stats(staff, code)["buckets"][0]
    # The same joins spread over more than the window are a hall arriving, not a burst.
    with app.app_context():
        earlier = sa.func.coalesce(Participant.created_at, sa.func.current_timestamp())
        db.session.execute(sa.update(Participant).values(created_at=earlier - timedelta(minutes=3)))
        db.session.commit()
    figures = stats(staff, code)
    assert figures["warning"] is None and figures["buckets"][0]["total"] == 4
    app.config["WORKSHOP_JOIN_WARNING"] = 0
    for _ in range(5):
        join_from(app, code, "203.0.113.7")
    assert stats(staff, code)["warning"] is None  # 0: never


def test_requiring_seat_codes_in_one_step_keeps_joined_phones(app, make_event, staff, join, submit):
    code = make_event()["code"]
    joined = join(code)
    response = staff.patch(f"/events/{code}", json={"settings": {"seat_codes_required": True}})
    assert response.status_code == 200, response.json
    assert stats(staff, code)["seat_codes_required"] is True
    entry = staff.get(f"/events/{code}/audit").json["entries"][0]
    assert entry["action"] == "event_changed"
    assert entry["details"]["new"] == {"seat_codes_required": True}
    # Phones that joined before keep their place; a new one needs a code.
    assert joined.post(f"/events/{code}/suggestions", json=card()).status_code == 201
    assert join_from(app, code, "203.0.113.7").status_code in (400, 403)


def card() -> dict:
    return {"title": "Still here", "client_id": str(uuid.uuid4())}


@pytest.mark.parametrize("address", ["not-an-address", ""])
def test_odd_addresses_still_join(app, make_event, address):
    code = make_event()["code"]
    assert join_from(app, code, address).status_code == 201
