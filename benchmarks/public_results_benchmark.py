"""Time the public results as phones reload them: /j/<code> and GET /events/<code>/results.

    python benchmarks/public_results_benchmark.py [--cards 120] [--phones 120] [--language de]

Builds one event through the API in a temporary SQLite file (each phone files cards, gives its
dots, the event goes to `results`), then every phone loads the results page and the results
JSON once, each with its own cookie or token, as a room full of phones reloading at once. Prints
the milliseconds per view and the views per second of each; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade

from workshop import create_app
from workshop.domain.accounts import create_user

PASSWORD = "benchmark-password-1"


def make_app(folder: Path):
    app = create_app(
        {
            "SECRET_KEY": "benchmark",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
            "WORKSHOP_EMBEDDINGS": "off",
            "WORKSHOP_ASYNC_MODE": "threading",
            "WORKSHOP_REPORT_CACHE": str(folder / "reports"),
            "WORKSHOP_PREPARE_REPORTS": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        create_user("bench", PASSWORD)
    return app


def call(client, method: str, path: str, token: str | None = None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.open(f"/api/v1{path}", method=method, json=body, headers=headers)
    assert response.status_code < 300, (path, response.status_code, response.get_data())
    return response.get_json()


def build(app, cards: int, phones: int) -> tuple[str, list[str]]:
    """An event in `results` with `cards` cards filed by `phones` phones that all gave dots."""
    client = app.test_client()
    staff = call(client, "POST", "/auth/token", body={"username": "bench", "password": PASSWORD})
    staff = staff["token"]
    areas = [f"Bereich {number}" for number in range(1, 7)]
    event = call(client, "POST", "/events", staff, {"title": "Plenum", "areas": areas})
    code, area_ids = event["code"], [area["id"] for area in event["areas"]]
    call(client, "PATCH", f"/events/{code}", staff, {"phase": "collect"})
    tokens = [call(client, "POST", f"/events/{code}/participants")["token"] for _ in range(phones)]
    ids = []
    for number in range(cards):
        body = {
            "client_id": uuid.uuid4().hex,
            "title": f"Vorschlag {number} für mehr Begegnung im Stadtteil",
            "area_id": area_ids[number % len(area_ids)],
        }
        card = call(client, "POST", f"/events/{code}/suggestions", tokens[number % phones], body)
        ids.append(card["id"])
    call(client, "PATCH", f"/events/{code}", staff, {"phase": "vote"})
    for number, token in enumerate(tokens):
        card = ids[(number * 7) % len(ids)]
        call(client, "PUT", f"/events/{code}/suggestions/{card}/dots", token, {"dots": 1})
    call(client, "PATCH", f"/events/{code}", staff, {"phase": "results"})
    return code, tokens


def timed(label: str, views: list) -> None:
    start = time.perf_counter()
    for view in views:
        response = view()
        assert response.status_code == 200, response.status_code
    seconds = time.perf_counter() - start
    each, rate = 1000 * seconds / len(views), len(views) / seconds
    print(f"{label:<28} {each:7.1f} ms per view  {rate:7.1f} views/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=120)
    parser.add_argument("--phones", type=int, default=120)
    parser.add_argument("--language", default="de")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        code, tokens = build(app, args.cards, args.phones)
        print(f"{args.cards} cards, {args.phones} phones, language {args.language}")
        language = {"Accept-Language": args.language}

        def page(token: str):
            client = app.test_client()
            client.set_cookie(f"workshop_{code}", token)
            return lambda: client.get(f"/j/{code}", headers=language)

        def api(token: str):
            client = app.test_client()
            headers = {**language, "Authorization": f"Bearer {token}"}
            return lambda: client.get(f"/api/v1/events/{code}/results", headers=headers)

        timed("/j/<code> (results page)", [page(token) for token in tokens])
        timed("GET …/results (JSON)", [api(token) for token in tokens])


if __name__ == "__main__":
    main()
