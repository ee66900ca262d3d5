"""Socket.IO handlers: who may listen to which room, and the snapshots they start from."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, has_app_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, user_logged_out

# python-socketio's exception, not the builtin one: only it takes its data to the client.
from flask_socketio import ConnectionRefusedError, emit, join_room
from itsdangerous import BadSignature

from . import accounts, events, participants, validation
from .errors import WorkshopError
from .extensions import db, socketio
from .models import Event, Participant
from .publish import publisher, room
from .suggestions import list_json
from .throttle import SocketLimits


@dataclass
class Listener:
    event_id: int
    audience: str
    participant_id: int | None = None
    #: The staff account a moderator connection was opened with.
    user_id: int | None = None
    #: Events refused in a row for going too fast; a flood closes the connection.
    refused: int = 0
    #: Staff only: when the login or token the connection was opened with runs out (epoch
    #: seconds); the connection is closed then, like the HTTP session it came from.
    expires_at: float | None = None

    @property
    def device(self) -> tuple[str, int] | None:
        """Whom this connection's events count against besides itself (boards: nobody)."""
        if self.participant_id is not None:
            return ("participant", self.participant_id)
        if self.user_id is not None:
            return ("user", self.user_id)
        return None


listeners: dict[str, Listener] = {}


def _disconnect(sids: list[str]) -> None:
    server = publisher().server
    for sid in sids:
        # Listeners of other apps in the same process (tests) are not this server's to close.
        if server.manager.is_connected(sid, "/"):
            server.disconnect(sid, namespace="/")


def disconnect_user(user_id: int) -> None:
    """Close every live connection a staff account opened (logout, deletion, new role)."""
    _disconnect([sid for sid, item in list(listeners.items()) if item.user_id == user_id])


def disconnect_event(event_id: int) -> None:
    """Close every live connection to an event that no longer exists."""
    _disconnect([sid for sid, item in list(listeners.items()) if item.event_id == event_id])


@user_logged_out.connect
def _on_logout(_app, user=None, **_extra) -> None:
    if user is not None and getattr(user, "id", None) is not None:
        disconnect_user(user.id)


@accounts.access_changed.connect
def _on_access_changed(_sender, user_id: int, **_extra) -> None:
    disconnect_user(user_id)


@events.event_deleted.connect
def _on_event_deleted(_sender, event_id: int, **_extra) -> None:
    if has_app_context():
        PublicStates.of(current_app).forget(event_id)
    disconnect_event(event_id)


@dataclass
class PublicState:
    """The public part of an event's snapshot as it was at `seq`."""

    seq: int
    made: float
    event: dict
    suggestions: list[dict]
    timer_ends_at: datetime | None


class PublicStates:
    """The last public state of each event, handed to every board and phone that connects while
    the public room's seq stands (at most `MAX_AGE` seconds): a thousand phones joining at once
    read the event once, not a thousand times.

    Every change the public may see is published to the public room, so an unchanged seq means an
    unchanged state; the age bounds what a write that publishes nothing (none should) could leave.
    """

    MAX_AGE = 1.0
    EXTENSION = "workshop.public_states"

    def __init__(self) -> None:
        self._states: dict[int, PublicState] = {}

    @classmethod
    def of(cls, app: Flask) -> PublicStates:
        if cls.EXTENSION not in app.extensions:
            app.extensions[cls.EXTENSION] = cls()
        return app.extensions[cls.EXTENSION]

    def get(self, event_id: int, seq: int) -> PublicState | None:
        state = self._states.get(event_id)
        if state is None or state.seq != seq or time.monotonic() - state.made > self.MAX_AGE:
            return None
        return state

    def put(self, event_id: int, state: PublicState) -> None:
        self._states[event_id] = state

    def forget(self, event_id: int) -> None:
        self._states.pop(event_id, None)


def snapshot(listener: Listener) -> dict:
    """The full state an audience sees, numbered with the room's current seq."""
    # Read seq before the state: a change committed in between arrives again, harmlessly.
    seq = publisher().current_seq(room(listener.event_id, listener.audience))
    db.session.rollback()
    if listener.audience == "public":
        data = _public_snapshot(listener.event_id, seq)
    else:
        event = db.session.get(Event, listener.event_id)
        data = {
            "seq": seq,
            "event": events.event_json(event, staff=True),
            "suggestions": list_json(event, staff=True),
        }
    if listener.participant_id:
        participant = db.session.get(Participant, listener.participant_id)
        data["me"] = participants.me_json(participant)
    return data


def _public_snapshot(event_id: int, seq: int) -> dict:
    states = PublicStates.of(current_app)
    state = states.get(event_id, seq)
    if state is None:
        event = db.session.get(Event, event_id)
        state = PublicState(
            seq=seq,
            made=time.monotonic(),
            event=events.event_json(event),
            suggestions=list_json(event),
            timer_ends_at=event.timer_ends_at,
        )
        states.put(event_id, state)
    # The countdown as of now, not as of when the state was read.
    display = {**state.event["display"], "timer": events.timer_json(state.timer_ends_at)}
    event = {**state.event, "display": display}
    return {"seq": seq, "event": event, "suggestions": state.suggestions}


def _refuse(error: WorkshopError) -> ConnectionRefusedError:
    """Refuse a connection; the client's `connect_error` gets `{"code", "message"}` as its data."""
    data = error.to_json()["error"]
    return ConnectionRefusedError(data["message"], data)


def _identify(auth: dict) -> Listener:
    """Decide which room a new connection may join, or refuse it."""
    if not isinstance(auth, dict):
        auth = {}
    code = auth.get("event") or request.args.get("event")
    role = auth.get("role") or request.args.get("role") or "board"
    # Real tokens are short ASCII; anything else (even text UTF-8 cannot encode) matches nobody.
    token = validation.token(auth.get("token"))
    if not isinstance(code, str) or role not in ("participant", "board", "moderator"):
        raise _refuse(WorkshopError("bad_request", "event and role needed"))
    try:
        event = events.get_event(code)
        if role == "board":
            return Listener(event.id, "public")
        if role == "participant":
            cookie = request.cookies.get(participants.cookie_name(event.code))
            token = token or validation.token(cookie)
            participant = participants.require(event, token)
            return Listener(event.id, "public", participant.id)
        if token:
            user = accounts.user_from_token(token)
        else:
            user = current_user if current_user.is_authenticated else None
        events.require_manager(user, event)
        return Listener(event.id, "staff", user_id=user.id, expires_at=_expires(token))
    except WorkshopError as error:
        raise _refuse(error) from error


def _expires(token: str | None) -> float:
    """When the staff token, else the login session, of this connection runs out."""
    config = current_app.config
    if token:
        serializer = accounts.token_serializer()
        value = token.removeprefix(accounts.TOKEN_PREFIX)
        lifetime = config["WORKSHOP_TOKEN_MAX_AGE"]
    else:
        serializer = current_app.session_interface.get_signing_serializer(current_app)
        value = request.cookies.get(config["SESSION_COOKIE_NAME"], "")
        lifetime = current_app.permanent_session_lifetime.total_seconds()
    try:
        _data, issued = serializer.loads(value, return_timestamp=True)
    except BadSignature:
        # Not signed by us after all (it was accepted a moment ago): allow no time.
        return time.time()
    return issued.timestamp() + lifetime


def close_expired(now: float | None = None) -> None:
    """Close the staff connections whose login or token has run out."""
    now = time.time() if now is None else now
    _disconnect(
        [sid for sid, item in list(listeners.items()) if item.expires_at and item.expires_at <= now]
    )


def run_sweeps(app: Flask, interval: float = 60) -> None:
    """Close expired staff connections every minute, for as long as the server runs."""
    while True:
        socketio.sleep(interval)
        with app.app_context():
            close_expired()


def start(app: Flask) -> None:
    """Start the running server's background sweeps of live connections."""
    socketio.start_background_task(run_sweeps, app)


def _rate_limited() -> WorkshopError:
    return WorkshopError("rate_limited", _l("Too many requests. Please wait a moment."), status=429)


def _throttled(listener: Listener) -> dict | None:
    """Spend a token for this event; when the connection or its device has none left, tell the
    client (an `error` message, and the ack if it asked for one) and return that error. A client
    that goes on sending regardless is disconnected."""
    limits = SocketLimits.for_app(current_app)
    if limits is None:
        return None
    device = listener.device
    if limits.connections.take(request.sid) and (device is None or limits.devices.take(device)):
        listener.refused = 0
        return None
    listener.refused += 1
    error = _rate_limited().to_json()["error"]
    emit("error", error)
    if listener.refused >= limits.flood:
        _disconnect([request.sid])
    return {"error": error}


@socketio.on("connect")
def on_connect(auth=None):
    listener = _identify(auth)
    limits = SocketLimits.for_app(current_app)
    # Every connection starts with a full snapshot: a device that reconnects in a loop pays.
    if limits is not None and listener.device and not limits.devices.take(listener.device):
        raise _refuse(_rate_limited())
    listeners[request.sid] = listener
    join_room(room(listener.event_id, listener.audience))
    # Straight to this connection, never through the message queue: a snapshot is large, and
    # only this process holds the connection.
    emit("snapshot", snapshot(listener), ignore_queue=True)


def _expired(listener: Listener) -> bool:
    """Close a staff connection whose login ran out, before it gets anything else."""
    if listener.expires_at is not None and listener.expires_at <= time.time():
        _disconnect([request.sid])
        return True
    return False


@socketio.on("resync")
def on_resync(_data=None):
    listener = listeners.get(request.sid)
    if listener is None or _expired(listener):
        return None
    if refused := _throttled(listener):
        return refused
    if db.session.get(Event, listener.event_id) is None:
        # Deleted meanwhile: nothing left to show.
        _disconnect([request.sid])
        return None
    emit("snapshot", snapshot(listener), ignore_queue=True)
    return None


@socketio.on("*")
def on_unknown(_name=None, *_args):
    """An event nobody handles: refused, and counted like any other so that it cannot flood."""
    listener = listeners.get(request.sid)
    if listener is None or _expired(listener):
        return None
    if refused := _throttled(listener):
        return refused
    error = WorkshopError("unknown_event", _l("The request could not be understood."))
    return {"error": error.to_json()["error"]}


@socketio.on("disconnect")
def on_disconnect(*_args):
    listeners.pop(request.sid, None)
    limits = SocketLimits.for_app(current_app)
    if limits is not None:
        limits.connections.forget(request.sid)
