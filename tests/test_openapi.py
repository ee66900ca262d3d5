"""The OpenAPI description (workshop/openapi.json): served, valid, and covering every API route."""

from __future__ import annotations

import json
import re

import pytest
from openapi_spec_validator import validate

from workshop.web.views.api import OPENAPI_PATH

PREFIX = "/api/v1"
METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def spec() -> dict:
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


def api_routes(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route the app serves under /api/v1."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
        routes |= {(method.lower(), path) for method in rule.methods if method.lower() in METHODS}
    return routes


def test_served_to_anyone_as_json(client, spec):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == spec


def test_is_a_valid_openapi_3_1_description(spec):
    assert spec["openapi"].startswith("3.1.")
    validate(spec)


def test_every_api_route_is_described_and_nothing_else(app, spec):
    assert spec["servers"] == [{"url": PREFIX}]
    described = {
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }
    assert described == api_routes(app)


def test_every_operation_documents_its_errors_with_the_error_shape(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    assert response["$ref"].startswith("#/components/responses/"), (path, status)
    for name, response in spec["components"]["responses"].items():
        schema = response["content"]["application/json"]["schema"]
        assert schema["$ref"] == "#/components/schemas/Error", name


def test_writes_that_take_a_body_document_400_and_413(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS and "requestBody" in operation:
                assert {"400", "413"} <= set(operation["responses"]), (method, path)


def test_every_error_code_in_the_description_is_explained_in_the_docs(spec):
    docs = (OPENAPI_PATH.parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    codes = set()
    for response in spec["components"]["responses"].values():
        code = response["content"]["application/json"]["schema"]["properties"]["error"]
        code = code["properties"]["code"]
        codes |= set(code.get("enum", [])) | ({code["const"]} if "const" in code else set())
    assert codes
    assert sorted(code for code in codes if f"`{code}`" not in docs) == []
