"""Numbering and fan-out through Redis (several processes): each bus here stands for one process,
with a recorder in place of its Socket.IO server."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from backing_services import REDIS, empty_redis, require

from workshop.live.publisher import RedisBus


class Recorder:
    """Stands in for a process's Socket.IO server: keeps what it was asked to send, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []
        self._changed = threading.Condition()

    def emit(self, event, data, to=None, ignore_queue=False):
        assert event == "change" and ignore_queue
        with self._changed:
            self.sent.append((to, data))
            self._changed.notify_all()

    def start_background_task(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        return thread

    def sleep(self, seconds):
        time.sleep(seconds)

    def wait(self, count: int, timeout: float = 10.0) -> list[tuple[str, dict]]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.sent) >= count, timeout), self.sent
            return list(self.sent)

    def seqs(self, name: str) -> list[int]:
        return [data["seq"] for to, data in self.sent if to == name]


@pytest.fixture
def processes():
    """Make buses on one emptied Redis; all are closed afterwards."""
    url = empty_redis()
    buses = []

    def factory() -> tuple[RedisBus, Recorder]:
        server = Recorder()
        bus = RedisBus(server, url)
        buses.append(bus)
        return bus, server

    yield factory
    for bus in buses:
        bus.close()


@pytest.fixture
def client():
    connection = redis.Redis.from_url(require(REDIS))
    yield connection
    connection.close()


def test_messages_from_two_processes_reach_both_in_one_numbering(processes):
    (a, seen_a), (b, seen_b) = processes(), processes()
    start = a.current_seq("event-1-public")
    assert b.current_seq("event-1-public") == start

    def send(bus, name):
        for n in range(25):
            bus.emit("event-1-public", "suggestion", {"by": name, "n": n})

    threads = [
        threading.Thread(target=send, args=(bus, name)) for bus, name in ((a, "a"), (b, "b"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen_a.wait(50) == seen_b.wait(50)
    assert seen_a.seqs("event-1-public") == list(range(start + 1, start + 51))
    # Each sender's own messages keep their order.
    sent_by_a = [data["data"]["n"] for _, data in seen_b.sent if data["data"]["by"] == "a"]
    assert sent_by_a == list(range(25))


def test_rooms_are_numbered_apart(processes):
    a, seen = processes()
    public, staff = a.current_seq("event-1-public"), a.current_seq("event-1-staff")
    a.emit("event-1-staff", "audit", {})
    a.emit("event-1-public", "event", {})
    seen.wait(2)
    assert seen.seqs("event-1-staff") == [staff + 1]
    assert seen.seqs("event-1-public") == [public + 1]


def test_a_counter_redis_lost_starts_again_above_the_old_numbers(processes, client):
    a, seen = processes()
    a.current_seq("event-1-public")
    client.set(RedisBus.KEY + "event-1-public", 5)  # a client may hold seq 5
    a.emit("event-1-public", "event", {})
    client.delete(RedisBus.KEY + "event-1-public")  # Redis restarted without its data
    a.emit("event-1-public", "event", {})
    seen.wait(2)
    first, second = seen.seqs("event-1-public")
    assert first == 6
    # A gap, not a number the client already has: it asks for a fresh snapshot.
    assert second > first + 1


def test_a_message_that_could_not_be_sent_leaves_a_gap(processes, monkeypatch):
    a, seen = processes()
    start = a.current_seq("event-1-public")
    real = a._emit

    def unreachable(**_kwargs):
        raise redis.ConnectionError("Redis is restarting")

    monkeypatch.setattr(a, "_emit", unreachable)
    a.emit("event-1-public", "suggestion", {"lost": True})  # logged, not raised
    monkeypatch.setattr(a, "_emit", real)
    a.emit("event-1-public", "suggestion", {"lost": False})
    a.emit("event-1-public", "suggestion", {"lost": False})
    seen.wait(2)
    assert seen.seqs("event-1-public") == [start + 2, start + 3]


def test_the_listener_comes_back_after_losing_its_connection(processes, client):
    a, seen = processes()
    start = a.current_seq("event-1-public")
    assert client.client_kill_filter(_type="pubsub") >= 1
    # Sent until one arrives: those sent while the listener reconnects are lost (a gap).
    deadline = time.monotonic() + 15
    while not seen.sent:
        assert time.monotonic() < deadline, "the listener did not come back"
        a.emit("event-1-public", "event", {})
        time.sleep(0.05)
    assert seen.seqs("event-1-public")[0] > start


def test_what_one_process_shares_reaches_the_others_only(processes):
    (a, _), (b, _) = processes(), processes()
    heard = {"a": [], "b": []}
    a.on_shared = lambda kind, item: heard["a"].append((kind, item))
    b.on_shared = lambda kind, item: heard["b"].append((kind, item))
    a.current_seq("event-1-public")  # both listen
    b.current_seq("event-1-public")
    a.share("user", 7)
    deadline = time.monotonic() + 10
    while not heard["b"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert heard == {"a": [], "b": [("user", 7)]}


def test_one_flush_per_event_at_a_time_across_processes(processes):
    (a, _), (b, _) = processes(), processes()
    order = []
    inside = threading.Event()
    release = threading.Event()

    def first():
        with a.flush_lock(1):
            order.append("a in")
            inside.set()
            release.wait(10)
            order.append("a out")

    def second():
        with b.flush_lock(1):
            order.append("b in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert inside.wait(10)
    threads[1].start()
    with b.flush_lock(2):  # another event's flush does not wait
        order.append("other event")
    release.set()
    for thread in threads:
        thread.join(15)
    assert order == ["a in", "other event", "a out", "b in"]


def test_tallies_noted_by_two_processes_go_out_in_one_flush(processes):
    a, _ = processes()
    b, _ = processes()
    a.note(7, {1, 2}, counts=False)
    b.note(7, {2, 3}, counts=True)
    assert a.flush_wait(7) == b.flush_wait(7) == 0
    assert b.take(7, 0.5) == ({1, 2, 3}, True)
    # The interval has started for both: the next flush of either waits for it.
    assert 0.3 < a.flush_wait(7) <= 0.5
    assert a.take(7, 0.5) == (set(), False)
    assert b.flush_wait(8) == 0  # other events are not held up
