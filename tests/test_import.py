"""JSON export -> `flask import` -> export gives the same event; malformed files change nothing;
`flask export` writes German files."""

from __future__ import annotations

import contextlib
import copy
import json
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from multilingual import multilingual_event

from workshop.db.models import (
    Area,
    CardTranslation,
    Event,
    MergedVote,
    Participant,
    Suggestion,
    User,
    Vote,
)
from workshop.domain.translations import source_hash
from workshop.extensions import db
from workshop.results import importer
from workshop.results.exports import table_headers

BOM = "\ufeff".encode()


@pytest.fixture
def merged_event(staff, make_event, join, submit):
    """Votes on three cards, then "dup" merged into "cafe" (a ledger to undo), then results."""
    event = make_event(areas=2, vote_budget=4)
    code = event["code"]
    first, second = (area["id"] for area in event["areas"])
    people = [join(code) for _ in range(3)]
    ids = {
        "cafe": submit(people[0], code, "Sprachcafé", area_id=first, body="Abends")["id"],
        "dup": submit(people[1], code, "Sprachcafé am Abend", area_id=first)["id"],
        "kita": submit(people[2], code, "مقهى لغوي 🙂", area_id=second)["id"],
        "zero": submit(people[2], code, "Ohne Punkte")["id"],
    }
    assert staff.patch(f"/events/{code}", json={"phase": "vote"}).status_code == 200
    for person, votes in zip(
        people, [{"cafe": 2, "dup": 1}, {"dup": 2, "kita": 1}, {"kita": 2}], strict=True
    ):
        for name, dots in votes.items():
            url = f"/events/{code}/suggestions/{ids[name]}/dots"
            assert person.put(url, json={"dots": dots}).status_code == 200
    merge = staff.post(f"/events/{code}/suggestions/{ids['dup']}/merge", json={"into": ids["cafe"]})
    assert merge.status_code == 200
    assert staff.patch(f"/events/{code}", json={"phase": "results"}).status_code == 200
    return code


def export_json(api, code: str) -> dict:
    response = api.get(f"/events/{code}/export?format=json")
    assert response.status_code == 200
    return json.loads(response.data)


def comparable(document: dict) -> dict:
    """An export without what differs between an event and its imported copy."""
    document = copy.deepcopy(document)
    del document["exported_at"], document["event"]["code"]
    return document


def results_without_ids(api, code: str) -> list:
    results = api.get(f"/events/{code}/results").json
    return [
        (
            area["name"],
            [(c["title"], c["rank"], c["dots"], c["voters"]) for c in area["suggestions"]],
        )
        for area in results["areas"]
    ] + [results["totals"]]


def import_file(runner, path) -> str:
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    return re.search(r"as event (\w+)", result.output).group(1)


def table_counts(app) -> list[int]:
    with app.app_context():
        return [
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Event, Area, Participant, Suggestion, Vote, MergedVote)
        ]


def test_export_import_export_is_identical(app, runner, make_staff, staff, merged_event, tmp_path):
    original = export_json(staff, merged_event)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(original), encoding="utf-8")
    code = import_file(runner, path)
    assert code != merged_event
    admin = make_staff("admin")  # the copy has no owner, so an admin reads it
    assert comparable(export_json(admin, code)) == comparable(original)
    assert results_without_ids(admin, code) == results_without_ids(staff, merged_event)


def test_an_imported_merge_can_be_undone(app, runner, make_staff, staff, merged_event, tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(export_json(staff, merged_event)), encoding="utf-8")
    copy_code = import_file(runner, path)
    admin = make_staff("admin")
    for code in (merged_event, copy_code):
        assert admin.patch(f"/events/{code}", json={"phase": "cluster"}).status_code == 200
        cards = admin.get(f"/events/{code}/suggestions").json["suggestions"]
        dup = next(card for card in cards if card["merged_into"])
        response = admin.post(f"/events/{code}/suggestions/{dup['id']}/unmerge")
        assert response.status_code == 200, response.json
    assert results_without_ids(admin, copy_code) == results_without_ids(admin, merged_event)


def test_import_can_name_an_owner(app, runner, staff, merged_event, tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(export_json(staff, merged_event)), encoding="utf-8")
    with app.app_context():
        owner = db.session.scalar(
            sa.select(User.username)
            .join(Event, Event.owner_id == User.id)
            .where(Event.code == merged_event)
        )
    result = runner.invoke(args=["import", str(path), "--owner", owner])
    assert result.exit_code == 0, result.output
    code = re.search(r"as event (\w+)", result.output).group(1)
    assert staff.get(f"/events/{code}/export?format=csv").status_code == 200


def _set(path: str, value):
    """A change to a valid export: set the value at a dotted path ("votes.0.dots")."""

    def change(document: dict) -> None:
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _drop(key: str):
    return lambda document: document.pop(key)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("format", "something-else"), "format"),
        (_set("version", 5), "version"),
        (_drop("votes"), "votes"),
        (_set("surprise", 1), "surprise"),
        (_set("event.phase", "party"), "event.phase"),
        (_set("event.settings.vote_budget", 0), "event.settings.vote_budget"),
        (_set("areas.0.color", "red"), "areas[0].color"),
        (_set("suggestions.0.title", "Zeile\x07"), "suggestions[0].title"),
        (_set("suggestions.0.title", "x" * 141), "suggestions[0].title"),
        (_set("suggestions.0.area", 99), "suggestions[0].area"),
        (_set("suggestions.0.merged_into", 2), "suggestions[0].merged_into"),  # a loop
        (_set("suggestions.0.dots", 99), "suggestions[0]"),
        (_set("votes.0.suggestion", 99), "votes[0].suggestion"),
        (_set("votes.0.participant", 4), "votes[0].participant"),
        (_set("votes.0.dots", 3), "votes[0].dots"),  # over the cap of 2
        (_set("merge_ledger.0.suggestion", 1), "merge_ledger[0].suggestion"),
        (_set("participants", -1), "participants"),
        (_set("event.default_language", "xx"), "event.default_language"),
        (_set("event.languages", ["de", "xx"]), "event.languages"),
        (_set("event.languages", "de,en"), "event.languages"),
        (
            _set("event.translations", {"en": {"question": "", "machine": False}}),
            "event.translations.en.question",
        ),
        (
            _set("areas.0.translations", {"en": {"name": "x" * 101, "machine": False}}),
            "areas[0].translations.en.name",
        ),
        (_set("suggestions.0.language", "xx"), "suggestions[0].language"),
        (
            _set("suggestions.0.translations", {"xx": {"title": "T", "machine": True}}),
            "suggestions[0].translations.xx",
        ),
        (
            _set("suggestions.0.translations", {"en": {"title": "T", "machine": "yes"}}),
            "suggestions[0].translations.en.machine",
        ),
        (
            _set("suggestions.0.translations", {"en": {"title": "T", "by": "me", "machine": True}}),
            "suggestions[0].translations.en.by",
        ),
        (
            _set("suggestions.0.translations", {"en": {"title": "x" * 401, "machine": True}}),
            "suggestions[0].translations.en.title",
        ),
    ],
)
def test_malformed_files_are_refused_and_change_nothing(
    app, runner, staff, merged_event, tmp_path, change, message
):
    document = export_json(staff, merged_event)
    change(document)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = table_counts(app)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert f"({message}" in result.output
    assert table_counts(app) == before


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b"\xff\xfe\x00", b'"text"'])
def test_files_that_are_no_export_are_refused(app, runner, tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    before = table_counts(app)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert table_counts(app) == before


def test_cli_export_writes_a_german_csv(app, runner, staff, merged_event, tmp_path):
    path = tmp_path / "out.csv"
    result = runner.invoke(
        args=["export", merged_event.lower(), "--format", "csv", "--output", str(path)]
    )
    assert result.exit_code == 0, result.output
    content = path.read_bytes()
    assert content.startswith(BOM)
    with app.app_context(), force_locale("de"):
        headers = ";".join(table_headers("de"))
    assert content.decode("utf-8-sig").splitlines()[0] == headers


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "NOCODE", "--format", "csv"], "Error:"),
        (["export", "NOCODE", "--format", "docx"], "docx"),
    ],
)
def test_cli_export_refuses(runner, tmp_path, args, message):
    result = runner.invoke(args=[*args, "--output", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert message in result.output


# -- languages and translations ----------------------------------------------------------------


def test_translations_and_languages_come_back_with_an_import(
    app, runner, make_staff, staff, join, submit, tmp_path
):
    event = multilingual_event(app, staff, join, submit)
    original = export_json(staff, event.code)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(original), encoding="utf-8")
    code = import_file(runner, path)
    copied = export_json(make_staff("admin"), code)
    assert comparable(copied) == comparable(original)
    assert copied["event"]["translations"] and copied["areas"][0]["translations"]
    with app.app_context():
        rows = db.session.execute(
            sa.select(CardTranslation, Suggestion)
            .join(Suggestion, Suggestion.id == CardTranslation.suggestion_id)
            .join(Event, Event.id == Suggestion.event_id)
            .where(Event.code == code)
        ).all()
        # Made from the cards as they are, so an engine takes them as current; a person's
        # correction stays a person's.
        assert len(rows) == 5
        assert all(row.source_hash == source_hash(card) for row, card in rows)
        assert [row.title for row, _card in rows if not row.machine] == ["Deutschkurse für Ältere"]


def as_version_1(document: dict) -> dict:
    """An export as this installation wrote it before languages (version 1)."""
    document = copy.deepcopy(document)
    document["version"] = 1
    for name in ("default_language", "board_languages", "languages", "translations"):
        del document["event"][name]
    for item in document["areas"] + document["suggestions"]:
        item.pop("language", None)
        del item["translations"]
    return document


def test_files_of_version_1_are_still_imported(
    app, runner, make_staff, staff, merged_event, tmp_path
):
    original = export_json(staff, merged_event)
    path = tmp_path / "old.json"
    path.write_text(json.dumps(as_version_1(original)), encoding="utf-8")
    code = import_file(runner, path)
    admin = make_staff("admin")
    copied = export_json(admin, code)
    assert results_without_ids(admin, code) == results_without_ids(staff, merged_event)
    assert copied["event"]["languages"] == ["de", "en", "ar", "fa", "uk", "ru"]
    assert {card["language"] for card in copied["suggestions"]} == {None}
    assert all(card["translations"] == {} for card in copied["suggestions"])
    assert comparable(as_version_1(copied)) == comparable(as_version_1(original))


def refused(app, runner, tmp_path, content: bytes) -> str:
    """Import `content`; assert it is refused with a message (no traceback) and changes nothing."""
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    before = table_counts(app)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert table_counts(app) == before
    return result.output


def _append(path: str, value):
    """A change to a valid export: append `value` to the list at a dotted path."""

    def change(document: dict) -> None:
        target = document
        for part in path.split("."):
            target = target[int(part)] if isinstance(target, list) else target[part]
        target.append(value)

    return change


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (_set("suggestions.0.area", [1]), "suggestions[0].area"),
        (_set("suggestions.0.area", {"id": 1}), "suggestions[0].area"),
        (_set("suggestions.0.area", True), "suggestions[0].area"),
        (_set("suggestions.1.merged_into", [1]), "suggestions[1].merged_into"),
        (_set("suggestions.0.dots", "2"), "suggestions[0].dots"),
        (_set("suggestions.0.title", ["T"]), "suggestions[0].title"),
        (_set("suggestions.0.created_at", {}), "suggestions[0].created_at"),
        (
            _set("suggestions.0.created_at", "0001-01-01T00:00:00+05:00"),
            "suggestions[0].created_at",
        ),
        (_set("votes.0.suggestion", {}), "votes[0].suggestion"),
        (_set("votes.0.participant", [1]), "votes[0].participant"),
        (_set("votes.0.dots", 1.5), "votes[0].dots"),
        (_set("merge_ledger.0.suggestion", {}), "merge_ledger[0].suggestion"),
        (_set("merge_ledger.0.moved", None), "merge_ledger[0].moved"),
        (_set("audit.0.suggestion", []), "audit[0].suggestion"),
        (_set("audit.0.details", [1]), "audit[0].details"),
        (_set("event.settings", []), "event.settings"),
        (_set("event.title", 5), "event.title"),
        (_set("areas.0.id", "1"), "areas[0].id"),
        (_set("areas.0.translations", []), "areas[0].translations"),
        (_set("participants", "3"), "participants"),
        (_set("votes", {}), "votes"),
        (_set("suggestions", None), "suggestions"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(
    app, runner, staff, merged_event, tmp_path, change, where
):
    document = export_json(staff, merged_event)
    change(document)
    output = refused(app, runner, tmp_path, json.dumps(document).encode())
    assert f"({where})" in output


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deep_nesting_is_refused(app, runner, staff, merged_event, tmp_path, depth):
    document = export_json(staff, merged_event)
    document["audit"][0]["details"] = {"x": "DEEP"}
    text = json.dumps(document).replace('"DEEP"', "[" * depth + "]" * depth)
    assert "(file)" in refused(app, runner, tmp_path, text.encode())


def test_a_number_too_long_to_read_is_refused(app, runner, tmp_path):
    output = refused(app, runner, tmp_path, b'{"format": ' + b"9" * 5000 + b"}")
    assert "(file)" in output


def ledger_of(document: dict) -> dict:
    """The ledger by participant number (the fixture: 1 had 2 dots on the target before, moved
    1, kept 2 at the cap of 2; 2 moved 2 onto an empty target)."""
    return {entry["participant"]: entry for entry in document["merge_ledger"]}


def forge_dots_given_back(document: dict) -> None:
    """Participant 3, who never voted for either card, claims the merge gave dots back."""
    merged = ledger_of(document)[2]["suggestion"]
    document["merge_ledger"].append(
        {"suggestion": merged, "participant": 3, "moved": 2, "before": 0, "after": 0}
    )


def forge_a_different_cap(document: dict) -> None:
    ledger_of(document)[2]["after"] = 1  # 2 moved onto nothing, 1 "given back"


def forge_more_than_moved(document: dict) -> None:
    ledger_of(document)[2]["after"] = 3  # more dots on the target than were moved there


def forge_over_the_cap(document: dict) -> None:
    ledger_of(document)[2]["moved"] = ledger_of(document)[2]["after"] = 5


def forge_nothing_moved(document: dict) -> None:
    ledger_of(document)[2].update(moved=0, after=0)


@pytest.mark.parametrize(
    "forge",
    [
        forge_dots_given_back,
        forge_a_different_cap,
        forge_more_than_moved,
        forge_over_the_cap,
        forge_nothing_moved,
    ],
)
def test_a_forged_merge_ledger_is_refused(app, runner, staff, merged_event, tmp_path, forge):
    """A ledger entry must be what a merge writes: before <= after <= before + moved, moved >= 1,
    and dots given back only at one cap per merge that no entry exceeds."""
    document = export_json(staff, merged_event)
    assert sorted(ledger_of(document)) == [1, 2]
    forge(document)
    output = refused(app, runner, tmp_path, json.dumps(document).encode())
    assert "(merge_ledger[" in output


def leaf_paths(value, path=()):
    """Every place in a document: each object field and list entry, nested ones included."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield (*path, key)
        yield from leaf_paths(child, (*path, key))


def test_no_wrong_value_anywhere_crashes_the_check(app, staff, merged_event):
    """Every place of a real export, set to values of every JSON type: the check refuses or
    accepts, and never fails with anything but ImportRefused."""
    document = export_json(staff, merged_event)
    wrong = [[1], {}, {"id": 1}, None, True, "x", 1.5, -1, 2**70, "\ud800"]
    with app.test_request_context():
        for path in leaf_paths(document):
            for value in wrong:
                changed = copy.deepcopy(document)
                target = changed
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = value
                with contextlib.suppress(importer.ImportRefused):
                    importer.parse(changed)


def test_text_that_cannot_be_stored_is_refused(app, runner, staff, merged_event, tmp_path):
    document = export_json(staff, merged_event)
    document["audit"][0]["details"] = {"title": "\ud800"}
    output = refused(app, runner, tmp_path, json.dumps(document).encode())
    assert "(audit[0].details" in output
