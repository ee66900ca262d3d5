"""Who listens to which room: the live connections of one app, and closing them.

A connection stays open only as long as the access it was opened with: logging out, a changed
or deleted account, a deleted event and a staff login that ran out all close it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask, current_app, has_app_context

from workshop.extensions import socketio
from workshop.live.publisher import publisher
from workshop.live.snapshots import public_states

EXTENSION = "workshop.listeners"


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
    #: The keyed hash of the address it came from, which its connection counts against.
    address: str | None = None
    #: A `resync` came while the connection was still being sent something: its snapshot goes
    #: out once that has left (web/sockets.py).
    snapshot_owed: bool = False
    #: The event's code, where the connection was admitted by it (its snapshot needs no lookup).
    code: str | None = None
    #: The room's seq read before the connection's first database read, for its first snapshot
    #: (then read in the same transaction); None once used, or where it was not known.
    seq_before: int | None = None

    @property
    def device(self) -> tuple[str, int] | None:
        """Whom this connection's events count against besides itself (boards: nobody)."""
        if self.participant_id is not None:
            return ("participant", self.participant_id)
        if self.user_id is not None:
            return ("user", self.user_id)
        return None


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = {}


def listeners() -> dict[str, Listener]:
    """This app's live connections by Socket.IO session id."""
    return current_app.extensions[EXTENSION]


def disconnect(sids: list[str]) -> None:
    server = publisher().server
    for sid in sids:
        if server.manager.is_connected(sid, "/"):
            server.disconnect(sid, namespace="/")


def disconnect_user(user_id: int) -> None:
    """Close every live connection a staff account opened (logout, deletion, new role)."""
    disconnect([sid for sid, item in list(listeners().items()) if item.user_id == user_id])


def disconnect_event(event_id: int) -> None:
    """Close every live connection to an event that no longer exists."""
    disconnect([sid for sid, item in list(listeners().items()) if item.event_id == event_id])


def close_expired(now: float | None = None) -> None:
    """Close the staff connections whose login or token has run out."""
    now = time.time() if now is None else now
    disconnect(
        [
            sid
            for sid, item in list(listeners().items())
            if item.expires_at and item.expires_at <= now
        ]
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


# Signal receivers, connected by create_app.


def on_logged_out(_app, user=None, **_extra) -> None:
    if has_app_context() and getattr(user, "id", None) is not None:
        disconnect_user(user.id)


def on_access_changed(_sender, user_id: int, **_extra) -> None:
    if has_app_context():
        disconnect_user(user_id)


def on_event_deleted(_sender, event_id: int, **_extra) -> None:
    if has_app_context():
        public_states(current_app).forget(event_id)
        disconnect_event(event_id)
