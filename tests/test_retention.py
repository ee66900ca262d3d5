"""Retention: ended events past WORKSHOP_RETENTION_DAYS are purged with all they hold, on the
real SQLite file; the CLI command, the start-up purge and the daily loop."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from workshop.db.models import AuditEntry, Event, Participant, Suggestion, Vote, utcnow
from workshop.extensions import db, socketio
from workshop.ops import retention
from workshop.ops.bootstrap import prepare

NOW = datetime(2026, 6, 1, 12, 0, 0)
DAY = timedelta(days=1)


@pytest.fixture
def aged(app, make_event, staff, join, submit):
    """Make an event with a card, a participant's dots and audit entries; then set its phase,
    archive state and last change `days` before NOW."""

    def factory(days: float, archived: bool = False, phase: str = "results", title="Plenum"):
        event = make_event(phase="collect")
        code = event["code"]
        staff.patch(f"/events/{code}", json={"title": title})
        me = join(code)
        card = submit(me, code, "Frau Beispiel fragt nach Kita-Plätzen")
        staff.patch(f"/events/{code}", json={"phase": "vote"})
        assert me.put(f"/events/{code}/suggestions/{card['id']}/dots", json={"dots": 1}).json
        staff.patch(f"/events/{code}", json={"phase": phase})
        changed = NOW - timedelta(days=days)
        with app.app_context():
            db.session.execute(
                sa.update(Event)
                .where(Event.code == code)
                .values(updated_at=changed, archived_at=changed if archived else None)
            )
            db.session.commit()
        return code

    return factory


def rows(app, only: set[str] | None = None) -> dict[str, int]:
    """Rows per table that belong to the events with these codes (default: to any event)."""
    with app.app_context():
        ids = sa.select(Event.id)
        if only is not None:
            ids = ids.where(Event.code.in_(only))
        people = sa.select(Participant.id).where(Participant.event_id.in_(ids))
        return {
            "events": db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery())),
            "participants": db.session.scalar(
                sa.select(sa.func.count()).select_from(people.subquery())
            ),
            **{
                model.__tablename__: db.session.scalar(
                    sa.select(sa.func.count()).select_from(model).where(column.in_(selection))
                )
                for model, column, selection in (
                    (Suggestion, Suggestion.event_id, ids),
                    (Vote, Vote.participant_id, people),
                    (AuditEntry, AuditEntry.event_id, ids),
                )
            },
        }


def total(app) -> dict[str, int]:
    """Rows per table, whatever they belong to."""
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Event, Participant, Suggestion, Vote, AuditEntry)
        }


def codes(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(sa.select(Event.code)))


def purge(app, **kwargs) -> retention.Purge:
    with app.app_context():
        return retention.purge_expired(NOW, **kwargs)


def test_ended_events_past_the_retention_are_purged(app, aged):
    app.config["WORKSHOP_RETENTION_DAYS"] = 30
    old_archived = aged(31, archived=True, phase="cluster")
    old_results = aged(45)
    recent_archived = aged(29, archived=True)
    old_but_running = aged(400, phase="vote")
    old_draft = aged(400, phase="draft")
    kept = {recent_archived, old_but_running, old_draft}
    before = rows(app, kept)
    result = purge(app)
    assert [code for code, _ in result.events] == [old_results, old_archived]
    assert result.cutoff == NOW - 30 * DAY
    assert codes(app) == kept
    # The kept events lost nothing, and every row left belongs to one of them.
    assert before["votes"] == 3 and before["audit_entries"] > 3
    assert rows(app, kept) == before == total(app)


def test_the_day_of_the_cutoff_is_kept(app, aged):
    app.config["WORKSHOP_RETENTION_DAYS"] = 10
    on_the_day = aged(10)
    a_second_older = aged(10 + 1 / 86400)
    assert [code for code, _ in purge(app).events] == [a_second_older]
    assert codes(app) == {on_the_day}


def test_zero_days_keeps_everything(app, aged):
    app.config["WORKSHOP_RETENTION_DAYS"] = 0
    aged(10_000, archived=True)
    result = purge(app)
    assert (result.cutoff, result.events) == (None, [])
    assert total(app)["events"] == 1


def test_a_dry_run_lists_and_keeps(app, aged):
    app.config["WORKSHOP_RETENTION_DAYS"] = 30
    code = aged(60, archived=True)
    before = total(app)
    result = purge(app, dry_run=True)
    assert ([c for c, _ in result.events], result.dry_run) == ([code], True)
    assert total(app) == before


def test_each_purge_is_logged_without_personal_data(app, aged, caplog):
    app.config["WORKSHOP_RETENTION_DAYS"] = 30
    code = aged(60, archived=True, title="Plenum bei Familie Muster")
    with caplog.at_level(logging.INFO, logger="workshop.retention"):
        purge(app)
        purge(app)
    first, second = (r.getMessage() for r in caplog.records if r.name == "workshop.retention")
    assert "purged 1 event(s)" in first and code in first
    assert "purged 0 event(s)" in second
    assert "Muster" not in first and "Kita" not in first


def test_live_screens_of_a_purged_event_are_closed(app, client, aged):
    app.config["WORKSHOP_RETENTION_DAYS"] = 30
    code = aged(60, archived=True)
    board = socketio.test_client(app, flask_test_client=client, auth={"event": code})
    assert board.is_connected()
    purge(app)
    assert not board.is_connected()


def test_the_cli_lists_then_deletes(app, runner, aged):
    app.config["WORKSHOP_RETENTION_DAYS"] = 30
    code = aged(400, archived=True)
    listed = runner.invoke(args=["purge", "--dry-run"])
    assert listed.exit_code == 0, listed.output
    assert code in listed.output and "Would delete 1 event(s)" in listed.output
    assert codes(app) == {code}
    deleted = runner.invoke(args=["purge"])
    assert deleted.exit_code == 0 and "Deleted 1 event(s)" in deleted.output
    assert codes(app) == set()


def test_the_cli_says_when_retention_is_off(app, runner, aged):
    app.config["WORKSHOP_RETENTION_DAYS"] = 0
    aged(400, archived=True)
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "Retention is off" in result.output
    assert len(codes(app)) == 1


def test_the_server_purges_at_start_up(app, aged):
    app.config["WORKSHOP_RETENTION_DAYS"] = 30
    # The real clock decides at start-up: make the event older than that.
    code = aged((NOW - utcnow()).days + 400, archived=True)
    kept = aged(0, archived=False, phase="collect")
    assert prepare(app, demo=False).purged == 1
    assert code not in codes(app) and kept in codes(app)


def test_the_daily_loop_purges_and_survives_a_failure(app, monkeypatch):
    app.config["WORKSHOP_RETENTION_DAYS"] = 30
    calls, sleeps = [], []

    def fake_purge(now=None, dry_run=False):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return retention.Purge(None)

    class Stop(Exception):
        pass

    def fake_sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) > 3:
            raise Stop

    monkeypatch.setattr(retention, "purge_expired", fake_purge)
    monkeypatch.setattr(retention.socketio, "sleep", fake_sleep)
    with pytest.raises(Stop):
        retention.run_daily(app)
    assert sleeps == [retention.INTERVAL] * 4
    assert len(calls) == 3


@pytest.mark.parametrize(("days", "started"), [(30, 1), (0, 0)])
def test_the_daily_task_starts_only_when_retention_is_on(app, monkeypatch, days, started):
    app.config["WORKSHOP_RETENTION_DAYS"] = days
    tasks = []
    monkeypatch.setattr(
        retention.socketio, "start_background_task", lambda *args: tasks.append(args)
    )
    retention.start(app)
    assert len(tasks) == started
