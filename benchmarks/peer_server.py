"""The coalescing peer on workshop's own stack: `peer_server.mjs` in Python.

The same routes, JSON and live protocol as the Node peer (see its header), kept in memory, with
totals sent at most ten times a second; served the way workshop serves (Flask, Flask-SocketIO,
eventlet's WSGI server, websockets without compression) and broadcasting with workshop's
`live/fanout.py`. No database, no durability, no permissions beyond the tokens, no limits.

It answers what the stack costs before workshop does anything: `loadgen.py --peer python` puts
workshop beside it (what our own code costs) and `--peer node --peer python` puts both beside the
Node peer (what the customer's stack costs against Node's).

Usage: python peer_server.py PORT ADMIN_PASSWORD
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import secrets  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import eventlet.wsgi  # noqa: E402
from flask import Flask, request  # noqa: E402
from flask_socketio import ConnectionRefusedError, SocketIO, emit, join_room  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workshop.live.fanout import Broadcaster  # noqa: E402
from workshop.ops.serve import (  # noqa: E402
    LISTEN_BACKLOG,
    MAX_CONNECTIONS,
    tune_garbage_collector,
    without_websocket_compression,
)

INTERVAL = 0.1  # totals at most ten times a second, per event
AREAS = 8


@dataclass
class Event:
    code: str
    title: str
    question: str
    phase: str
    areas: list = field(
        default_factory=lambda: [{"id": i, "name": f"Area {i}"} for i in range(1, AREAS + 1)]
    )
    budget: int = 5
    cap: int = 2
    seq: int = 0
    participants: dict = field(default_factory=dict)  # token -> {"id", "dots", "left"}
    cards: dict = field(default_factory=dict)  # id -> card
    next_card: int = 1
    dirty: set = field(default_factory=set)
    last_flush: float = 0.0
    flushing: bool = False

    def public(self) -> dict:
        return {
            "code": self.code,
            "title": self.title,
            "question": self.question,
            "phase": self.phase,
            "areas": self.areas,
            "budget": self.budget,
            "cap": self.cap,
        }

    def counts(self) -> dict:
        dots = sum(card["dots"] for card in self.cards.values())
        return {
            "participants": len(self.participants),
            "suggestions": len(self.cards),
            "dots": dots,
        }

    def snapshot(self) -> dict:
        return {"seq": self.seq, "event": self.public(), "suggestions": list(self.cards.values())}


app = Flask(__name__)
socketio = SocketIO(app, async_mode="eventlet", cors_allowed_origins="*", http_compression=False)
staff_tokens: set[str] = set()
events: dict[str, Event] = {}
broadcaster: Broadcaster | None = None


def change(event: Event, kind: str, data: dict) -> None:
    event.seq += 1
    broadcaster.emit("change", {"seq": event.seq, "type": kind, "data": data}, event.code)


def schedule_flush(event: Event) -> None:
    """Totals of the cards voted on since the last flush, at most once per INTERVAL."""
    if event.flushing:
        return
    event.flushing = True
    wait = max(0.0, event.last_flush + INTERVAL - time.monotonic())

    def flush() -> None:
        socketio.sleep(wait)
        event.flushing = False
        event.last_flush = time.monotonic()
        totals = {str(card_id): event.cards[card_id]["dots"] for card_id in event.dirty}
        event.dirty.clear()
        change(event, "dots", {"totals": totals, "counts": event.counts()})

    socketio.start_background_task(flush)


def fail(status: int, code: str):
    return {"error": {"code": code, "message": code}}, status


def bearer() -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ")


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/api/v1/auth/token")
def token():
    if (request.get_json(silent=True) or {}).get("password") != app.config["ADMIN_PASSWORD"]:
        return fail(401, "unauthorized")
    value = secrets.token_hex(16)
    staff_tokens.add(value)
    return {"token": value}


@app.post("/api/v1/events")
def create_event():
    if bearer() not in staff_tokens:
        return fail(401, "unauthorized")
    body = request.get_json(silent=True) or {}
    code = secrets.token_hex(4).upper()
    event = events[code] = Event(
        code, body.get("title", ""), body.get("question", ""), body.get("phase", "collect")
    )
    return event.public(), 201


def event_or_404(code: str) -> Event | None:
    return events.get(code)


@app.route("/api/v1/events/<code>", methods=["GET", "PATCH"])
def event_view(code: str):
    event = event_or_404(code)
    if event is None:
        return fail(404, "not_found")
    if request.method == "PATCH":
        if bearer() not in staff_tokens:
            return fail(401, "unauthorized")
        phase = (request.get_json(silent=True) or {}).get("phase")
        if phase:
            event.phase = phase
        change(event, "event", event.public())
    return event.public()


@app.post("/api/v1/events/<code>/participants")
def join(code: str):
    event = event_or_404(code)
    if event is None:
        return fail(404, "not_found")
    value = secrets.token_hex(16)
    event.participants[value] = {
        "id": len(event.participants) + 1,
        "dots": {},
        "left": event.budget,
    }
    return {"token": value, "dots_left": event.budget}, 201


@app.post("/api/v1/events/<code>/suggestions")
def suggest(code: str):
    event = event_or_404(code)
    if event is None:
        return fail(404, "not_found")
    if bearer() not in event.participants:
        return fail(401, "unauthorized")
    body = request.get_json(silent=True) or {}
    card = {
        "id": event.next_card,
        "area_id": body.get("area_id"),
        "title": str(body.get("title", "")),
        "body": str(body.get("body", "")),
        "status": "visible",
        "language": "de",
        "merged_into": None,
        "merged_from": [],
        "merged_originals": [],
        "dots": 0,
        "version": 1,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    event.next_card += 1
    event.cards[card["id"]] = card
    change(event, "suggestion", card)
    return card, 201


@app.put("/api/v1/events/<code>/suggestions/<int:card_id>/dots")
def vote(code: str, card_id: int):
    event = event_or_404(code)
    if event is None:
        return fail(404, "not_found")
    participant = event.participants.get(bearer())
    card = event.cards.get(card_id)
    if participant is None:
        return fail(401, "unauthorized")
    if card is None:
        return fail(404, "not_found")
    if event.phase != "vote":
        return fail(409, "wrong_phase")
    dots = (request.get_json(silent=True) or {}).get("dots")
    before = participant["dots"].get(card_id, 0)
    if not isinstance(dots, int) or not 0 <= dots <= event.cap:
        return fail(422, "budget")
    left = participant["left"] + before - dots
    if left < 0:
        return fail(422, "budget")
    participant["dots"][card_id] = dots
    participant["left"] = left
    card["dots"] += dots - before
    event.dirty.add(card_id)
    schedule_flush(event)
    return {"suggestion_id": card_id, "dots": dots, "dots_left": left}


@app.get("/api/v1/events/<code>/results")
def results(code: str):
    event = event_or_404(code)
    if event is None:
        return fail(404, "not_found")
    cards = list(event.cards.values())
    areas = [
        {**area, "suggestions": [card for card in cards if card["area_id"] == area["id"]]}
        for area in event.areas
    ]
    return {"areas": areas, "totals": event.counts()}


@socketio.on("connect")
def on_connect(auth=None):
    auth = auth if isinstance(auth, dict) else {}
    event = events.get(auth.get("event"))
    if event is None:
        raise ConnectionRefusedError("not_found")
    if auth.get("role") == "participant" and auth.get("token") not in event.participants:
        raise ConnectionRefusedError("unauthorized")
    join_room(event.code)
    emit("snapshot", event.snapshot())


@socketio.on("resync")
def on_resync(_data=None):
    for code in socketio.server.rooms(request.sid):
        if code in events:
            emit("snapshot", events[code].snapshot())


def main() -> None:
    global broadcaster
    port, password = int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else ""
    app.config["ADMIN_PASSWORD"] = password
    broadcaster = Broadcaster(socketio.server)
    # Served as workshop serves (ops/serve.py), less its guard and limits.
    tune_garbage_collector()
    listener = eventlet.listen(("127.0.0.1", port), backlog=LISTEN_BACKLOG)
    eventlet.wsgi.server(
        listener, without_websocket_compression(app), log_output=False, max_size=MAX_CONNECTIONS
    )


if __name__ == "__main__":
    main()
