"""Socket.IO handlers: who may listen to which room, and the snapshots they start from.

Screens only listen: every write goes through HTTP. A connection names its event and role; it
joins that event's room for its audience and gets a snapshot, then numbered changes.
"""

from __future__ import annotations

import time

from engineio import packet as eio_packet
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

# python-socketio's exception, not the builtin one: only it takes its data to the client.
from flask_socketio import ConnectionRefusedError, emit, join_room
from itsdangerous import BadSignature

from workshop import validation
from workshop.db.models import Event
from workshop.domain import accounts, events, participants
from workshop.domain.schemas import snapshot_json
from workshop.errors import WorkshopError
from workshop.extensions import db, socketio
from workshop.live.listeners import Listener, disconnect, listeners
from workshop.live.messages import PUBLIC, STAFF
from workshop.live.publisher import publisher, room
from workshop.web.limits import SocketLimits, address_key


def _send_snapshot(listener: Listener, sid: str | None = None) -> None:
    """The snapshot, straight to this connection (never through the message queue: it is
    large, and only this process holds the connection).

    The JSON comes encoded (schemas.snapshot_json); python-socketio's emit would encode it
    again for each connection, after walking every value in Python looking for binary data
    (measured: most of the cost of 20 boards asking for 3,900 cards).
    """
    seq, listener.seq_before = listener.seq_before, None
    if seq is not None and publisher().current_seq(room(listener.event_id, PUBLIC)) != seq:
        # A change went out before this connection joined its room: read afresh.
        seq = None
    text = snapshot_json(
        listener.event_id, listener.audience, listener.participant_id, listener.code, seq
    )
    server = publisher().server
    eio_sid = server.manager.eio_sid_from_sid(sid or request.sid, "/")
    # A Socket.IO EVENT packet ("2") of the default namespace, as engine.io's message.
    message = eio_packet.Packet(eio_packet.MESSAGE, data='2["snapshot",' + text + "]")
    server._send_eio_packet(eio_sid, message)


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
        if role == "moderator":
            return _staff_listener(events.get_event(code), token)
        if role == "participant" and not token:
            cookie = request.cookies.get(participants.cookie_name(events.checked_code(code)))
            token = validation.token(cookie)
        return _public_listener(code, role, token if role == "participant" else None)
    except WorkshopError as error:
        raise _refuse(error) from error


def _public_listener(code: str, role: str, token: str | None) -> Listener:
    """A board or a phone, the crowd of a reconnect storm: one statement, no ORM objects, and
    one transaction for the snapshot too where the event's id was known (`seq_before`; still
    the room's seq once the connection has joined it, else the snapshot reads afresh)."""
    code = events.checked_code(code)
    known = events.remembered_id(code)
    seq = None
    if known is not None:
        # The room's number before this connection's first read: everything read after it is
        # at least that new, so the snapshot reads in the same transaction.
        if db.session().in_transaction():
            db.session.rollback()
        seq = publisher().current_seq(room(known, PUBLIC))
    event_id, phase, participant_id = participants.live_target(code, token)
    if event_id != known:
        events.remember_id(code, event_id)
        seq = None
    if phase == "draft":  # only its staff see a draft
        user = current_user if current_user.is_authenticated else None
        events.require_visible(events.get_event(code), user)
    if role == "participant" and participant_id is None:
        raise participants.not_joined()
    return Listener(event_id, PUBLIC, participant_id, code=code, seq_before=seq)


def _staff_listener(event: Event, token: str | None) -> Listener:
    if token:
        user = accounts.user_from_token(token)
    else:
        user = current_user if current_user.is_authenticated else None
    events.require_manager(user, event)
    return Listener(event.id, STAFF, user_id=user.id, expires_at=_expires(token))


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


def _rate_limited() -> WorkshopError:
    return WorkshopError("rate_limited", _l("Too many requests. Please wait a moment."), status=429)


def _too_many() -> WorkshopError:
    return WorkshopError(
        "too_many_connections",
        _l("Too many open connections. Please close other tabs of this page and try again."),
        status=429,
    )


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
        disconnect([request.sid])
    return {"error": error}


def _admit(listener: Listener) -> None:
    """Refuse a connection its device or address cannot open now (rate or number)."""
    limits = SocketLimits.for_app(current_app)
    if limits is None:
        return
    # Every connection starts with a full snapshot: a device that reconnects in a loop pays.
    if listener.device and not limits.devices.take(listener.device):
        raise _refuse(_rate_limited())
    listener.address = address_key()
    if not limits.admit(listener.address, listener.device):
        raise _refuse(_too_many())


@socketio.on("connect")
def on_connect(auth=None):
    listener = _identify(auth)
    _admit(listener)
    listeners()[request.sid] = listener
    join_room(room(listener.event_id, listener.audience))
    _send_snapshot(listener)


def _active_listener() -> Listener | None:
    """This connection's listener; a staff connection whose login ran out is closed first."""
    listener = listeners().get(request.sid)
    if listener is None:
        return None
    if listener.expires_at is not None and listener.expires_at <= time.time():
        disconnect([request.sid])
        return None
    return listener


@socketio.on("resync")
def on_resync(_data=None):
    listener = _active_listener()
    if listener is None:
        return None
    if refused := _throttled(listener):
        return refused
    if db.session.get(Event, listener.event_id) is None:
        # Deleted meanwhile: nothing left to show.
        disconnect([request.sid])
        return None
    if listener.snapshot_owed:
        return {"pending": True}
    if _still_sending(request.sid):
        # A snapshot goes out once what this connection was sent has left: a client that does
        # not read gets no second one to hold for it.
        listener.snapshot_owed = True
        app = current_app._get_current_object()
        socketio.start_background_task(_snapshot_when_sent, app, request.sid)
        return {"pending": True}
    _send_snapshot(listener)
    return None


#: Seconds between two looks at a connection that is still being sent something.
CATCH_UP_POLL = 0.25


def _still_sending(sid: str) -> bool:
    live = publisher()
    eio_sid = live.server.manager.eio_sid_from_sid(sid, "/")
    return eio_sid is not None and live.backlog.waiting(eio_sid)


def _snapshot_when_sent(app, sid: str) -> None:
    """Send the snapshot a connection asked for once nothing waits for it any more, or at the
    socket time-out if it is still open then (the backlog's bound still applies)."""
    with app.app_context():
        deadline = time.monotonic() + app.config["WORKSHOP_SOCKET_TIMEOUT"]
        while _still_sending(sid) and time.monotonic() < deadline:
            socketio.sleep(CATCH_UP_POLL)
        listener = listeners().get(sid)
        if listener is not None:
            listener.snapshot_owed = False
            _send_snapshot(listener, sid)


@socketio.on("*")
def on_unknown(_name=None, *_args):
    """An event nobody handles: refused, and counted like any other so that it cannot flood."""
    listener = _active_listener()
    if listener is None:
        return None
    if refused := _throttled(listener):
        return refused
    error = WorkshopError("unknown_event", _l("The request could not be understood."))
    return {"error": error.to_json()["error"]}


@socketio.on("disconnect")
def on_disconnect(*_args):
    listener = listeners().pop(request.sid, None)
    limits = SocketLimits.for_app(current_app)
    if limits is not None:
        limits.connections.forget(request.sid)
        if listener is not None and listener.address is not None:
            limits.release(listener.address, listener.device)
