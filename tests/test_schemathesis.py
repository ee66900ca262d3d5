"""Fuzz the JSON API against its OpenAPI description (workshop/openapi.json) with Schemathesis.

Every operation gets generated requests, valid and invalid, as the events' staff, as a
participant and with made-up or no credentials, aimed at real events (collecting, voting,
results) and mostly at their real areas and cards. Every answer must be a documented status with
a documented content type and body, and never a 5xx. Each operation starts from a fresh copy of
the same prepared database.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from workshop import create_app
from workshop.domain.accounts import create_user, issue_token
from workshop.extensions import db
from workshop.web.views.api import OPENAPI_PATH

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
#: Examples per operation and role; 21 operations x 3 roles must stay well under a minute.
#: WORKSHOP_FUZZ_EXAMPLES=500 explores further, with new random requests on every run.
EXPLORE = int(os.environ.get("WORKSHOP_FUZZ_EXAMPLES", 0))
MAX_EXAMPLES = EXPLORE or 12
CONFIG = schemathesis.Config.from_dict({"generation": {"database": "none"}})
SPEC = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
OPERATIONS = [
    (method.upper(), path)
    for path, item in SPEC["paths"].items()
    for method in item
    if method in {"get", "put", "post", "patch", "delete"}
]


@dataclass
class World:
    """Events in three phases, each with areas, a participant, cards, dots and a merge."""

    staff_token: str = ""
    #: Per event code: its participant's token, its area ids and its card ids.
    participant_tokens: dict[str, str] = field(default_factory=dict)
    areas: dict[str, list[int]] = field(default_factory=dict)
    cards: dict[str, list[int]] = field(default_factory=dict)


def make_app(path: Path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "WORKSHOP_ASYNC_MODE": "threading",
            "WORKSHOP_PUBLIC_URL": "http://workshop.test",
        }
    )
    with app.app_context():
        # Many small writes that need not survive a power cut: let SQLite skip fsync.
        sa.event.listen(
            db.engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA synchronous=OFF")
        )
    return app


def build_world(app) -> World:
    world = World()
    with app.app_context():
        world.staff_token = issue_token(create_user("fuzzer", "password-123", "moderator"))
    client = app.test_client()

    def call(method, path, token=world.staff_token, expected=200, **body):
        response = getattr(client, method)(
            f"/api/v1{path}", json=body or None, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == expected, response.json
        return response.json

    for phase in ("collect", "vote", "results"):
        event = call("post", "/events", expected=201, title=phase, areas=["One", "Two", "Three"])
        path = f"/events/{event['code']}"
        token = call("post", f"{path}/participants", expected=201)["token"]
        cards = [
            call(
                "post",
                f"{path}/suggestions",
                token if i % 2 else world.staff_token,
                201,
                client_id=f"{phase}-{i}",
                title=f"Card {i}",
                area_id=area["id"],
            )["id"]
            for i, area in enumerate(event["areas"] * 2)
        ]
        call("post", f"{path}/suggestions/{cards[0]}/merge", into=cards[1])
        call("patch", f"{path}/suggestions/{cards[2]}", status="hidden")
        if phase != "collect":
            call("patch", path, phase="vote")
            for card_id in cards[3:5]:
                call("put", f"{path}/suggestions/{card_id}/dots", token, dots=1)
            call("patch", path, phase=phase)
        world.participant_tokens[event["code"]] = token
        world.areas[event["code"]] = [area["id"] for area in event["areas"]]
        world.cards[event["code"]] = cards
    return world


@pytest.fixture(scope="module")
def prepared(migrated_db, tmp_path_factory) -> tuple[Path, World]:
    """A database holding the world, built once; each test works on a copy of the file."""
    path = tmp_path_factory.mktemp("fuzz") / "world.sqlite3"
    shutil.copy(migrated_db, path)
    app = make_app(path)
    world = build_world(app)
    with app.app_context():
        db.engine.dispose()
    return path, world


@pytest.fixture
def world_app(prepared, tmp_path):
    template, world = prepared
    path = tmp_path / "workshop.sqlite3"
    shutil.copy(template, path)
    app = make_app(path)
    yield app, world
    with app.app_context():
        db.engine.dispose()


def known(data, generated, choices: list[int]):
    """Mostly a real id of the event, sometimes what Schemathesis generated."""
    return data.draw(st.sampled_from([*choices, generated]))


def aim(case, data, world: World) -> str | None:
    """Point the case at one of the world's events, and mostly at its real areas and cards."""
    if "code" not in (case.path_parameters or {}):
        return None
    code = data.draw(st.sampled_from(list(world.cards)))
    case.path_parameters["code"] = code
    for name, choices in (("suggestion_id", world.cards), ("area_id", world.areas)):
        if name in case.path_parameters:
            case.path_parameters[name] = known(data, case.path_parameters[name], choices[code])
    if isinstance(case.body, dict):
        for name, choices in (("into", world.cards), ("area_id", world.areas)):
            if name in case.body:
                case.body[name] = known(data, case.body[name], choices[code])
    return code


@pytest.mark.parametrize("role", ["staff", "participant", "anonymous"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_keeps_to_the_description(world_app, method, path, role):
    app, world = world_app
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)[path][
        method
    ]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        # The same requests on every run, so that CI never fails by chance.
        derandomize=not EXPLORE,
        # Shrinking a failure can take minutes; the report shows the failing request as it is.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, data=st.data())
    def check(case, data):
        code = aim(case, data, world)
        tokens = {"staff": world.staff_token, "participant": world.participant_tokens.get(code)}
        token = tokens.get(role)
        # Without a token of ours, whatever credentials Schemathesis made up are sent. Bodies
        # uncompressed: the WSGI transport does not decode brotli or gzip.
        headers = {"Accept-Encoding": "identity"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


def test_throttled_login_keeps_to_the_description(app):
    """The 429 of the login throttle, with its Retry-After header, is what the description says."""
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)[
        "/auth/token"
    ]["POST"]
    case = operation.Case(body={"username": "someone", "password": "wrong-password"})
    client = app.test_client()
    for _ in range(100):
        response = client.post("/api/v1/auth/token", json=case.body)
        if response.status_code == 429:
            break
    assert response.status_code == 429
    case.validate_response(response, checks=[*CHECKS, response_headers_conformance])
