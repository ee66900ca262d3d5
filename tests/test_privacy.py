"""Privacy: no IP address (nor raw token) in the database, the limiter's counters or the logs;
deleting an event leaves no row anywhere that points at it or its participants."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from workshop.extensions import db
from workshop.web.limits import limiter

ADDRESS = "203.0.113.77"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def from_address(app):
    """A test client whose requests come from ADDRESS."""

    def factory():
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = ADDRESS
        return client

    return factory


def every_value(app) -> list[str]:
    """Every value of every row of every table, as text."""
    with app.app_context():
        return [
            str(value)
            for table in db.metadata.sorted_tables
            for row in db.session.execute(sa.select(table))
            for value in row
        ]


def use_everything(app, from_address, make_event, staff, code=None):
    """A phone at ADDRESS joins, files, votes, is throttled; a login attempt fails there too."""
    code = code or make_event()["code"]
    phone = from_address()
    token = phone.post(f"/api/v1/events/{code}/participants").json["token"]
    auth = {"Authorization": f"Bearer {token}"}
    card = phone.post(
        f"/api/v1/events/{code}/suggestions",
        json={"client_id": "privacy", "title": "Mine"},
        headers=auth,
    ).json
    staff.patch(f"/events/{code}", json={"phase": "vote"})
    app.config["WORKSHOP_RATELIMIT_DOTS"] = "1 per minute"
    dots = f"/api/v1/events/{code}/suggestions/{card['id']}/dots"
    assert phone.put(dots, json={"dots": 1}, headers=auth).status_code == 200
    assert phone.put(dots, json={"dots": 2}, headers=auth).status_code == 429
    body = {"username": "someone", "password": "wrong-password"}
    assert from_address().post("/api/v1/auth/token", json=body).status_code == 401
    return code, token


def test_no_column_is_meant_for_addresses(app):
    suspicious = {"ip", "addr", "address", "remote", "agent", "forwarded", "host"}
    columns = [
        f"{table.name}.{column.name}"
        for table in db.metadata.sorted_tables
        for column in table.columns
        if suspicious & set(column.name.lower().split("_"))
    ]
    assert columns == []


def test_the_database_holds_no_address_and_no_raw_token(app, from_address, make_event, staff):
    _code, token = use_everything(app, from_address, make_event, staff)
    values = every_value(app)
    assert len(values) > 50
    assert [value for value in values if ADDRESS in value or token in value] == []


def test_rate_limit_counters_are_keyed_by_hashes(app, from_address, make_event, staff):
    _code, token = use_everything(app, from_address, make_event, staff)
    storage = limiter.storage
    keys = [*storage.storage, *storage.expirations]
    assert len(keys) >= 5
    for secret in (ADDRESS, token, "someone"):
        assert [key for key in keys if secret in key] == []


def test_logs_hold_no_address(app, from_address, make_event, staff, caplog):
    with caplog.at_level(logging.DEBUG):
        use_everything(app, from_address, make_event, staff)
    assert any("exceeded" in record.getMessage() for record in caplog.records)
    assert [r.getMessage() for r in caplog.records if ADDRESS in r.getMessage()] == []


def test_the_production_access_log_has_no_client_address():
    """The eventlet server's access log (workshop/ops/serve.py, which run.py and `workshop serve`
    call)."""
    tree = ast.parse((ROOT / "workshop" / "ops" / "serve.py").read_text())
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
    }
    assert "%(date_time)s" in constants["LOG_FORMAT"]
    assert "client_ip" not in constants["LOG_FORMAT"]
    keywords = {
        kw.arg: kw.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for kw in node.keywords
    }
    assert keywords["log_x_forwarded_for"].value is False


# -- Deleting an event -------------------------------------------------------------------------


def referenced(table: sa.Table, column: sa.Column) -> set[str]:
    """The tables a column points at: by foreign key, as a primary key, or by name (x_id)."""
    targets = {key.column.table.name for key in column.foreign_keys}
    if column.primary_key and column.name == "id":
        targets.add(table.name)
    if column.name.endswith("_id"):
        targets.add(column.name.removesuffix("_id") + "s")
    if column.name in ("spotlight_id", "merged_into_id"):
        targets.add("suggestions")
    return targets


def traces(app, ids: dict[str, set[int]]) -> dict[str, int]:
    """Rows in any table that point at one of these ids, by table.column."""
    found = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                for target in referenced(table, column) & set(ids):
                    n = db.session.scalar(
                        sa.select(sa.func.count()).select_from(table).where(column.in_(ids[target]))
                    )
                    if n:
                        found[f"{table.name}.{column.name}"] = (
                            found.get(f"{table.name}.{column.name}", 0) + n
                        )
    return found


def ids_of(app, code: str) -> dict[str, set[int]]:
    from workshop.db.models import Area, AuditEntry, Event, Participant, Suggestion

    with app.app_context():
        event_id = db.session.scalar(sa.select(Event.id).where(Event.code == code))

        def of(model):
            return set(db.session.scalars(sa.select(model.id).where(model.event_id == event_id)))

        return {
            "events": {event_id},
            "participants": of(Participant),
            "suggestions": of(Suggestion),
            "areas": of(Area),
            "audit_entries": of(AuditEntry),
        }


@pytest.fixture
def busy_event(make_event, staff, join, submit):
    """An event with every kind of row: cards, dots, a merge with moved dots, a spotlight,
    audit entries, a withdrawn card."""

    def factory() -> str:
        code = make_event(phase="collect")["code"]
        people = [join(code) for _ in range(3)]
        cards = [submit(person, code, f"Card {i}")["id"] for i, person in enumerate(people)]
        people[2].patch(f"/events/{code}/suggestions/{cards[2]}", json={"status": "withdrawn"})
        staff.patch(f"/events/{code}", json={"phase": "vote"})
        for person in people:
            for card in cards[:2]:
                person.put(f"/events/{code}/suggestions/{card}/dots", json={"dots": 1})
        staff.post(f"/events/{code}/suggestions/{cards[1]}/merge", json={"into": cards[0]})
        staff.patch(f"/events/{code}", json={"display": {"spotlight": cards[0]}})
        return code

    return factory


def test_deleting_an_event_leaves_no_trace_in_any_table(app, busy_event, staff):
    gone, kept = busy_event(), busy_event()
    gone_ids, kept_ids = ids_of(app, gone), ids_of(app, kept)
    before = traces(app, kept_ids)
    assert {"votes.participant_id", "merged_votes.participant_id", "audit_entries.event_id"} <= set(
        traces(app, gone_ids)
    )
    response = staff.client.delete(f"/api/v1/events/{gone}", headers=staff._headers())
    assert response.status_code == 204
    assert traces(app, gone_ids) == {}
    # The other event is untouched.
    assert traces(app, kept_ids) == before
