"""The one path that publishes changes to the live screens.

Each event has two rooms: `staff` (moderators: every card with its status) and `public` (board
and participants: visible cards only). Every message to a room carries the room's next `seq`, so a
client that sees a gap knows it lost one and asks to `resync`.

One process keeps the numbers in memory. Several processes (WORKSHOP_MESSAGE_QUEUE=redis://…)
number and fan out through Redis, see `RedisBus`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress

from flask import Flask, current_app, has_app_context

from workshop import signals
from workshop.extensions import socketio
from workshop.live.backlog import Backlog
from workshop.live.fanout import Broadcaster
from workshop.live.lists import encoded_lists
from workshop.live.messages import Message

EXTENSION = "workshop.publisher"

#: Reads an event's tallies as they are now and returns the messages that carry them:
#: (event_id, card ids whose totals changed, whether the figures changed). The domain provides it.
TallyReader = Callable[[int, set[int], bool], list[Message]]

log = logging.getLogger(__name__)


def room(event_id: int, audience: str) -> str:
    return f"event-{event_id}-{audience}"


def _broadcast_with(server) -> Callable[[str, dict, str], None]:
    """How a change reaches the connections of a room in this process: under eventlet written to
    each websocket directly (fanout.py), else through Socket.IO's emit. `ignore_queue`: a
    message queue configured in Flask-SocketIO would send it a second time."""
    if getattr(getattr(server, "eio", None), "async_mode", None) == "eventlet":
        try:
            return Broadcaster(server).emit
        except (AttributeError, KeyError, TypeError):
            # python-engineio changed the internals fanout.py relies on: the usual way, slower.
            log.warning("writing changes straight to websockets is not possible", exc_info=True)
    return lambda event, data, name: server.emit(event, data, to=name, ignore_queue=True)


class LocalBus:
    """One process: sequence numbers in memory, messages straight to this server's clients."""

    def __init__(self, server) -> None:
        self.server = server
        self.broadcast = _broadcast_with(server)
        #: Numbers and sends; a broadcast under eventlet lets other green threads run between
        #: its connections, so the tallies noted meanwhile have a lock of their own.
        self._lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._seq: dict[str, int] = {}
        #: Per event: the cards whose totals changed, and whether the figures changed.
        self._pending: dict[int, set[int]] = {}
        self._counts_due: set[int] = set()
        #: Per event: when the last flush may be followed by the next one (monotonic seconds).
        self._next_flush: dict[int, float] = {}

    def current_seq(self, name: str) -> int:
        with self._lock:
            return self._seq.get(name, 0)

    def emit(self, name: str, kind: str, data: dict) -> None:
        # Numbered and sent under one lock, so that numbers reach every client in order.
        with self._lock:
            seq = self._seq.get(name, 0) + 1
            self._seq[name] = seq
            self.broadcast("change", {"seq": seq, "type": kind, "data": data}, name)

    @contextmanager
    def flush_lock(self, _event_id: int) -> Iterator[None]:
        with self._flush_lock:
            yield

    def note(self, event_id: int, card_ids: set[int], counts: bool) -> None:
        """Remember tallies to send with the event's next flush."""
        with self._pending_lock:
            self._pending.setdefault(event_id, set()).update(card_ids)
            if counts:
                self._counts_due.add(event_id)

    def take(self, event_id: int, interval: float) -> tuple[set[int], bool]:
        """Everything noted for the event; if anything was, the interval before the next flush
        starts now."""
        with self._pending_lock:
            counts = event_id in self._counts_due
            self._counts_due.discard(event_id)
            card_ids = self._pending.pop(event_id, set())
            if card_ids or counts:
                self._next_flush[event_id] = time.monotonic() + interval
            return card_ids, counts

    def flush_wait(self, event_id: int) -> float:
        """Seconds until the event's next flush may go out (0: now)."""
        return max(0.0, self._next_flush.get(event_id, 0.0) - time.monotonic())

    def share(self, kind: str, item_id: int) -> None:
        """Nothing to do: this process's own signal handlers have seen it."""

    def close(self) -> None:
        pass


#: Seeds a room's counter from Redis's clock in milliseconds, so that a counter Redis lost (a
#: restart without persistence) starts again above every number a connected client holds: its
#: next message then shows as a gap and the client resyncs. (Holds while a room averages fewer
#: than 1,000 messages a second over its life; the dots are coalesced to 10 a second.)
_SEED = """
local function seed(key)
  if redis.call('EXISTS', key) == 0 then
    local now = redis.call('TIME')
    redis.call('SET', key, now[1] .. string.format('%03d', math.floor(tonumber(now[2]) / 1000)))
  end
end
"""

#: The room's current number (seeded if new).
_CURRENT = _SEED + "seed(KEYS[1]) return redis.call('GET', KEYS[1])"

#: Number and publish in one atomic step: Redis runs one script at a time and delivers a channel's
#: messages in the order they were published, so every process sees every room in seq order.
#: ARGV: channel, payload, step (2 skips a number: the client sees a gap and resyncs).
_EMIT = (
    _SEED
    + """
seed(KEYS[1])
local seq = redis.call('INCRBY', KEYS[1], tonumber(ARGV[3]))
redis.call('PUBLISH', ARGV[1], string.format('%d', seq) .. ' ' .. ARGV[2])
return seq
"""
)


#: Hand out the event's noted tallies and, if there were any, start the interval: KEYS pending
#: set, flush clock; ARGV interval in ms. The member "counts" stands for the figures.
_TAKE = """
local members = redis.call('SMEMBERS', KEYS[1])
if #members > 0 then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
end
return members
"""


class RedisBus:
    """Several processes: Redis numbers each room's messages and carries them to every process.

    A message goes out as `<seq> <json>` on one channel; each process's listener hands it to its
    own clients in that room (`ignore_queue`: Flask-SocketIO's own queue would send it again).
    A message lost on the way (Redis unreachable, a listener reconnecting) shows up as a gap in
    the numbering of the next one, and the client resyncs.
    """

    KEY = "workshop:seq:"
    CHANNEL = "workshop:changes"
    #: Access that ended (`user`) and events deleted (`event`): every process closes its sockets.
    CONTROL = "workshop:control"
    FLUSH_LOCK = "workshop:flush:"
    #: Per event: the tallies noted by any process, and a key that lives for one interval after
    #: each flush. Together they make one `dots` message per interval for all processes.
    PENDING = "workshop:pending:"
    FLUSHED = "workshop:flushed:"
    COUNTS = "counts"

    def __init__(self, server, url: str) -> None:
        import redis

        if not url.startswith(("redis://", "rediss://")):
            raise RuntimeError("WORKSHOP_MESSAGE_QUEUE must be a Redis URL (redis://host:6379/0)")
        self.server = server
        self.broadcast = _broadcast_with(server)
        self.redis = redis.Redis.from_url(url, health_check_interval=30)
        self._current = self.redis.register_script(_CURRENT)
        self._emit = self.redis.register_script(_EMIT)
        self._take = self.redis.register_script(_TAKE)
        self._lock = threading.Lock()
        self._pubsub = None
        self._closed = False
        #: Rooms whose last message could not be sent: the next one skips a number.
        self._lost: set[str] = set()
        self.host = uuid.uuid4().hex
        #: Called with (kind, id) for what another process `share`d.
        self.on_shared: Callable[[str, int], None] = lambda _kind, _id: None

    def current_seq(self, name: str) -> int:
        # Listen first: a message published after this read must reach this process.
        self._ensure_listening()
        return int(self._current(keys=[self.KEY + name]))

    def emit(self, name: str, kind: str, data: dict) -> None:
        import redis

        payload = json.dumps({"room": name, "type": kind, "data": data}, separators=(",", ":"))
        step = 2 if name in self._lost else 1
        try:
            self._emit(keys=[self.KEY + name], args=[self.CHANNEL, payload, step])
        except redis.RedisError:
            # The write has committed; failing the request would only make the client retry it.
            log.exception("could not publish a change to %s", name)
            self._lost.add(name)
        else:
            self._lost.discard(name)

    def note(self, event_id: int, card_ids: set[int], counts: bool) -> None:
        """Remember tallies for the event's next flush, whichever process sends it."""
        import redis

        members = [str(card_id) for card_id in card_ids] + ([self.COUNTS] if counts else [])
        if not members:
            return
        try:
            self.redis.sadd(self.PENDING + str(event_id), *members)
        except redis.RedisError:
            # The vote has committed; screens see its total with the next snapshot or flush.
            log.exception("could not note changed tallies of event %s", event_id)

    def take(self, event_id: int, interval: float) -> tuple[set[int], bool]:
        import redis

        keys = [self.PENDING + str(event_id), self.FLUSHED + str(event_id)]
        try:
            members = self._take(keys=keys, args=[max(1, round(interval * 1000))])
        except redis.RedisError:
            log.exception("could not read the changed tallies of event %s", event_id)
            return set(), False
        names = {member.decode() for member in members}
        counts = self.COUNTS in names
        return {int(name) for name in names if name != self.COUNTS}, counts

    def flush_wait(self, event_id: int) -> float:
        import redis

        try:
            left = self.redis.pttl(self.FLUSHED + str(event_id))
        except redis.RedisError:
            return 0.0
        return max(0, left) / 1000

    def share(self, kind: str, item_id: int) -> None:
        """Tell the other processes, e.g. that a user's access ended."""
        import redis

        message = json.dumps({"host": self.host, "kind": kind, "id": item_id})
        try:
            self.redis.publish(self.CONTROL, message)
        except redis.RedisError:
            log.exception("could not tell the other processes about %s %s", kind, item_id)

    @contextmanager
    def flush_lock(self, event_id: int) -> Iterator[None]:
        """One flush per event at a time across all processes, so that figures read later are
        never published before figures read earlier."""
        import redis

        lock = self.redis.lock(
            self.FLUSH_LOCK + str(event_id), timeout=10, sleep=0.005, blocking_timeout=10
        )
        try:
            acquired = lock.acquire()
        except redis.RedisError:
            acquired = False
        try:
            yield
        finally:
            if acquired:
                # It may have expired meanwhile: then another flush may already have run.
                with suppress(redis.RedisError):
                    lock.release()

    def _ensure_listening(self) -> None:
        with self._lock:
            if self._pubsub is None and not self._closed:
                self._pubsub = self._subscribe()
                self.server.start_background_task(self._listen)

    def _subscribe(self):
        pubsub = self.redis.pubsub(ignore_subscribe_messages=False)
        pubsub.subscribe(self.CHANNEL, self.CONTROL)
        # Wait for Redis to confirm: from then on no message to these channels passes us by.
        confirmed = 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=1)
            if message and message["type"] == "subscribe":
                confirmed += 1
                if confirmed == 2:
                    return pubsub
        pubsub.close()
        raise ConnectionError("Redis did not confirm the subscription")

    def _listen(self) -> None:
        wait = 0.1
        while not self._closed:
            try:
                for message in self._pubsub.listen():
                    if message["type"] != "message":
                        continue
                    if message["channel"] == self.CONTROL.encode():
                        self._control(message["data"])
                    else:
                        self._deliver(message["data"])
                    wait = 0.1
            except Exception:
                if self._closed:
                    return
                # Messages published meanwhile are lost here: the clients see a gap and resync.
                log.warning("lost the Redis channel; listening again in %.1f s", wait)
                self.server.sleep(wait)
                wait = min(wait * 2, 5.0)
                try:
                    self._pubsub.close()
                    self._pubsub = self._subscribe()
                except Exception:
                    continue

    def _deliver(self, raw: bytes) -> None:
        try:
            seq, _, payload = raw.partition(b" ")
            message = json.loads(payload)
            change = {"seq": int(seq), "type": message["type"], "data": message["data"]}
        except ValueError:
            log.exception("a message on %s that is not ours", self.CHANNEL)
            return
        self.broadcast("change", change, message["room"])

    def _control(self, raw: bytes) -> None:
        try:
            message = json.loads(raw)
            if message["host"] != self.host:
                self.on_shared(message["kind"], message["id"])
        except Exception:
            log.exception("could not act on %r", raw)

    def close(self) -> None:
        """Stop listening and release the connections (tests make many apps in one process)."""
        self._closed = True
        with self._lock:
            if self._pubsub is not None:
                self._pubsub.close()
        self.redis.close()


class Publisher:
    """Per-app state: where the rooms' numbers come from, and the tallies waiting to go out."""

    def __init__(self, app: Flask, read_tallies: TallyReader) -> None:
        self.app = app
        self.read_tallies = read_tallies
        #: This app's Socket.IO server (`socketio.init_app` has just made it): a flush that runs
        #: late must not reach the clients of another app in the same process.
        self.server = socketio.server
        queue = app.config.get("WORKSHOP_MESSAGE_QUEUE")
        self.bus = RedisBus(self.server, queue) if queue else LocalBus(self.server)
        self.bus.on_shared = self._shared
        # Eventlet: the websockets fanout.py writes to, so that a connection that stopped
        # reading can be cut at once.
        broadcaster = getattr(self.bus.broadcast, "__self__", None)
        self.backlog = Backlog(
            self.server,
            app.config["WORKSHOP_SOCKET_BACKLOG"],
            getattr(broadcaster, "websockets", None),
        )
        self.interval = app.config["WORKSHOP_DOTS_INTERVAL"]
        self._lock = threading.Lock()
        #: Events with a flush of this process waiting to run.
        self._scheduled: set[int] = set()

    def current_seq(self, name: str) -> int:
        """The room's last number: every change numbered up to it has committed."""
        return self.bus.current_seq(name)

    def emit(self, name: str, kind: str, data: dict) -> None:
        self.bus.emit(name, kind, data)

    def _shared(self, kind: str, item_id: int) -> None:
        """Another process's account change or event deletion: send the signal here too, marked
        `remote` (so it is not shared back), and this process's handlers close its sockets."""
        with self.app.app_context():
            if kind == "user":
                signals.access_changed.send(None, user_id=item_id, remote=True)
            elif kind == "event":
                signals.event_deleted.send(None, event_id=item_id, remote=True)

    def publish(self, event_id: int, messages: list[Message]) -> None:
        for audience, kind, data in messages:
            self.emit(room(event_id, audience), kind, data)

    def touch(self, event_id: int, card_ids: Iterable[int] = (), counts: bool = True) -> None:
        """Note changed tallies and figures: sent at once when the event is quiet, else at most
        once per interval (for all processes together), read from the database when they go
        out."""
        # Lists read before this commit are not current any more, though no message says so yet.
        encoded_lists(self.app).touch(event_id)
        self.bus.note(event_id, set(card_ids), counts)
        self._schedule(event_id)

    def _schedule(self, event_id: int) -> None:
        """Flush now if the event's interval has passed, else once it has (one flush waiting per
        event and process).

        The flush runs in a task of its own: the caller is a request or the batch of votes
        whose commit noted the tallies, and its answer must not wait for every screen to be sent
        the totals (2,000 sockets take tens of milliseconds). Only without an interval, where
        tallies go out with each write, does the caller flush itself."""
        with self._lock:
            if event_id in self._scheduled:
                return
            self._scheduled.add(event_id)
        wait = self.bus.flush_wait(event_id)
        if wait > 0:
            socketio.start_background_task(self._flush_later, event_id, wait)
        elif self.interval > 0:
            socketio.start_background_task(self.flush, event_id)
        else:
            self.flush(event_id)

    def _flush_later(self, event_id: int, wait: float) -> None:
        socketio.sleep(wait)
        self.flush(event_id)

    def flush(self, event_id: int) -> None:
        # One flush at a time (per event across processes with Redis): figures read later are
        # never sent before figures read earlier. A flush sends what any process noted; every
        # flush reads the totals as they are when it runs.
        with self.bus.flush_lock(event_id):
            with self._lock:
                # From here on a new note needs a new flush: this one may have read too early.
                self._scheduled.discard(event_id)
            held = self.bus.flush_wait(event_id) > 0
            if not held:
                self._send(event_id)
        if held:
            # Another process flushed meanwhile: what is left goes out after its interval.
            self._schedule(event_id)

    def _send(self, event_id: int) -> None:
        """Take what was noted for the event, read it as it is now, and send it."""
        card_ids, counts_due = self.bus.take(event_id, self.interval)
        if not card_ids and not counts_due:
            return
        # Read when sent, not when voted: a merge or a phase change committed meanwhile
        # moves dots or hides totals.
        with self.app.app_context():
            messages = self.read_tallies(event_id, card_ids, counts_due)
        self.publish(event_id, messages)


def init_app(app: Flask, read_tallies: TallyReader) -> None:
    app.extensions[EXTENSION] = Publisher(app, read_tallies)


# Live connections of an account whose access ended, or of a deleted event, are closed by
# live/listeners.py in the process that made the change; with several processes the others
# must hear of it too. create_app connects these receivers.


def _share(kind: str, item_id: int | None) -> None:
    if item_id is not None and has_app_context() and EXTENSION in current_app.extensions:
        publisher().bus.share(kind, item_id)


def on_logged_out(_app, user=None, **_extra) -> None:
    _share("user", getattr(user, "id", None))


def on_access_changed(_sender, user_id: int, remote: bool = False, **_extra) -> None:
    if not remote:
        _share("user", user_id)


def on_event_deleted(_sender, event_id: int, remote: bool = False, **_extra) -> None:
    if not remote:
        _share("event", event_id)


def publisher() -> Publisher:
    return current_app.extensions[EXTENSION]


def publish(event_id: int, messages: list[Message]) -> None:
    """Send (audience, type, data) messages to the event's rooms. Call only after commit."""
    publisher().publish(event_id, messages)


def tallies_changed(event_id: int, card_ids: Iterable[int] = ()) -> None:
    """These cards' totals, or the event's figures (people, cards, dots), changed."""
    publisher().touch(event_id, card_ids)
