"""Fixtures: an app on a real SQLite file (schema built by the Alembic migrations), clients,
and factories for staff, events and participants."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.standin_libretranslate import StandIn
from workshop import create_app
from workshop.domain.accounts import create_user
from workshop.extensions import db, socketio

ADMIN_PASSWORD = "admin-password-1"


def _config(path: Path, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        # Similar cards: on only in the tests about them (`app_config(WORKSHOP_EMBEDDINGS=...)`).
        "WORKSHOP_EMBEDDINGS": "off",
        "WORKSHOP_ASYNC_MODE": "threading",
        "WORKSHOP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "WORKSHOP_PUBLIC_URL": "http://workshop.test",
        "WORKSHOP_REPORT_CACHE": str(instance / "reports"),
        # Tests that want the PDF made in the background after the report page switch it on.
        "WORKSHOP_PREPARE_REPORTS": False,
    }


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory) -> Path:
    """One database upgraded by the real migrations; each test gets a copy of the file."""
    from flask_migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    app = create_app(_config(path, path.parent))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture
def app(request, migrated_db, tmp_path):
    path = tmp_path / "workshop.sqlite3"
    shutil.copy(migrated_db, path)
    # `@pytest.mark.app_config(NAME=value)` changes settings that are read when the app is made.
    marker = request.node.get_closest_marker("app_config")
    app = create_app({**_config(path, tmp_path), **(marker.kwargs if marker else {})})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def listen(app, client):
    """Connect Socket.IO test clients to an event as `board`, `participant` or `moderator`
    (or with `auth` as given); all are disconnected afterwards."""
    connected = []

    def factory(code, role="board", token=None, auth=None):
        auth = auth or {"event": code, "role": role, **({"token": token} if token else {})}
        sio = socketio.test_client(app, flask_test_client=client, auth=auth)
        connected.append(sio)
        return sio

    yield factory
    for sio in connected:
        if sio.is_connected():
            sio.disconnect()


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """A stand-in LibreTranslate server on a loopback port (tests/standin_libretranslate.py)."""
    server = StandIn()
    yield server
    server.close()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Api:
    """A JSON API caller that holds a bearer token; every call returns the Flask response."""

    def __init__(self, client, token: str | None = None):
        self.client = client
        self.token = token

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, headers: dict | None = None, **kwargs):
        headers = {**self._headers(), **(headers or {})}
        return self.client.get(f"/api/v1{path}", headers=headers, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(f"/api/v1{path}", json=json, headers=self._headers(), **kwargs)

    def patch(self, path: str, json=None, **kwargs):
        return self.client.patch(f"/api/v1{path}", json=json, headers=self._headers(), **kwargs)

    def put(self, path: str, json=None, **kwargs):
        return self.client.put(f"/api/v1{path}", json=json, headers=self._headers(), **kwargs)

    def delete(self, path: str, **kwargs):
        return self.client.delete(f"/api/v1{path}", headers=self._headers(), **kwargs)


@pytest.fixture
def make_staff(app, client) -> Callable[..., Api]:
    """Create a staff account and return an Api logged in with its bearer token."""
    counter = iter(range(1, 10_000))

    def factory(role: str = "moderator", username: str | None = None) -> Api:
        name = username or f"{role}{next(counter)}"
        with app.app_context():
            create_user(name, "password-123", role)
        response = client.post(
            "/api/v1/auth/token", json={"username": name, "password": "password-123"}
        )
        assert response.status_code == 200, response.json
        return Api(app.test_client(), response.json["token"])

    return factory


@pytest.fixture
def staff(make_staff) -> Api:
    return make_staff("moderator")


@pytest.fixture
def make_event(staff) -> Callable[..., dict]:
    """Create an event owned by `staff` (or `owner`) and return its JSON."""

    def factory(areas: int = 3, owner: Api | None = None, phase: str | None = None, **settings):
        body = {"title": "Plenum", "areas": [f"Area {i + 1}" for i in range(areas)]}
        if settings:
            body["settings"] = settings
        api = owner or staff
        response = api.post("/events", json=body)
        assert response.status_code == 201, response.json
        event = response.json
        if phase:
            assert api.patch(f"/events/{event['code']}", json={"phase": phase}).status_code == 200
        return event

    return factory


@pytest.fixture
def join(app) -> Callable[[str], Api]:
    """Join an event as a new participant; returns an Api holding the participant's token."""

    def factory(code: str) -> Api:
        api = Api(app.test_client())
        response = api.post(f"/events/{code}/participants")
        assert response.status_code == 201, response.json
        api.token = response.json["token"]
        return api

    return factory


def new_client_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def submit() -> Callable[..., dict]:
    """File a suggestion through the API and return its JSON (asserting success)."""

    def factory(api: Api, code: str, title: str = "A suggestion", **fields) -> dict:
        body = {"client_id": new_client_id(), "title": title, **fields}
        response = api.post(f"/events/{code}/suggestions", json=body)
        assert response.status_code == 201, response.json
        return response.json

    return factory
