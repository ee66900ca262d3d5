"""Hostile clients against a real server, from other loopback addresses (127.0.0.2 and up), and a
watcher on 127.0.0.1 that times `/healthz` meanwhile. Used by tests/e2e/test_hostile.py (bounded
in count and time) and benchmarks/hostile_benchmark.py (the issue's full sizes, figures printed).
"""

from __future__ import annotations

import base64
import json
import os
import resource
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit

import requests


def raise_open_files(wanted: int) -> int:
    """Raise this process's limit of open files towards `wanted`; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def rss_mib(pid: int) -> float:
    """Resident memory of a process, in MiB (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Watcher:
    """Asks `/healthz` from 127.0.0.1 over and over (a new connection each time) and keeps how
    long each answer took; a request that fails or takes over `timeout` counts as `timeout`.

    It runs in a process of its own, so that the attackers in this one (the GIL) cannot delay
    it; times are the system's monotonic clock, the same in both processes.
    """

    def __init__(self, url: str, timeout: float = 10.0, pause: float = 0.05) -> None:
        self.command = [sys.executable, __file__, "watch", url, str(timeout), str(pause)]
        self.samples: list[tuple[float, float]] = []
        self._process: subprocess.Popen | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        for line in self._process.stdout:
            at, took = line.split()
            self.samples.append((float(at), float(took)))

    def __enter__(self) -> Watcher:
        self._process = subprocess.Popen(self.command, stdout=subprocess.PIPE, text=True)
        self._reader.start()
        # Started when its first answer is in.
        deadline = time.monotonic() + 30
        while not self.samples and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        self._reader.join(timeout=5)
        self._process.stdout.close()

    def mark(self) -> float:
        return time.monotonic()

    def worst(self, since: float = 0.0, until: float = float("inf")) -> float:
        """The slowest answer among requests started in [since, until)."""
        return max((took for at, took in self._between(since, until)), default=0.0)

    def count(self, since: float = 0.0, until: float = float("inf")) -> int:
        return len(self._between(since, until))

    def _between(self, since: float, until: float) -> list[tuple[float, float]]:
        return [(at, took) for at, took in list(self.samples) if since <= at < until]


def watch(url: str, timeout: float, pause: float) -> None:
    """The watcher's process: one line per `/healthz` request, "started took"."""
    target = url.rstrip("/") + "/healthz"
    while True:
        started = time.monotonic()
        try:
            ok = requests.get(target, timeout=timeout).status_code == 200
        except requests.RequestException:
            ok = False
        took = time.monotonic() - started
        print(f"{started:.4f} {took if ok else max(took, timeout):.4f}", flush=True)
        time.sleep(pause)


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


def connect_from(url: str, source: str, receive_buffer: int | None = None) -> socket.socket:
    """A TCP connection to the server from the loopback address `source`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind((source, 0))
    sock.connect(_address(url))
    return sock


def half_open(url: str, count: int, source: str = "127.0.0.2") -> list[socket.socket]:
    """`count` connections that send the start of a request header and then wait (slowloris).
    Connections the server refuses at once are kept too (closed on our side later)."""
    host, port = _address(url)
    start = f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nX-Slow: ".encode()
    sockets = []
    for _ in range(count):
        try:
            sock = connect_from(url, source)
        except OSError:
            break
        with suppress(OSError):
            sock.sendall(start)
        sockets.append(sock)
    return sockets


def closed_by_server(sock: socket.socket, wait: float = 0.0) -> bool:
    """Whether the server has closed this connection (an end of stream or a reset is there)."""
    sock.settimeout(wait)
    try:
        return sock.recv(1) == b""
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:
        return True


def close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def fill_cards(database: str, code: str, count: int, body_words: int = 12) -> None:
    """Put `count` visible cards into an event, straight into the server's SQLite file (the
    public state is read again within a second: snapshots.PublicStates.MAX_AGE)."""
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    body = " ".join(["Vorschlag"] * body_words)
    with sqlite3.connect(database, timeout=30) as connection:
        (event_id,) = connection.execute("SELECT id FROM events WHERE code = ?", (code,)).fetchone()
        connection.executemany(
            "INSERT INTO suggestions (event_id, title, body, status, dots, voters, version,"
            " created_at, updated_at) VALUES (?, ?, ?, 'visible', 0, 0, 1, ?, ?)",
            [(event_id, f"Karte {i}", body, now, now) for i in range(count)],
        )


def _frame(text: str) -> bytes:
    """A masked websocket text frame, as a client must send it."""
    payload = text.encode()
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, 0x80 | length)
    else:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return header + mask + masked


class DeafBoard:
    """A board's websocket that never reads what the server sends, and asks for `resync` every
    `every` seconds (answering the heartbeat blindly, so that it is not dropped for silence)."""

    def __init__(self, url: str, code: str, source: str, every: float = 2.0) -> None:
        host, port = _address(url)
        self.sock = connect_from(url, source, receive_buffer=4096)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\nOrigin: {url}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        # The handshake's answer is read (it is small); nothing after it ever is.
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("no websocket")
            answer += chunk
        if b" 101 " not in answer.split(b"\r\n", 1)[0]:
            raise ConnectionError(answer.decode(errors="replace"))
        self.sock.sendall(_frame("40" + json.dumps({"event": code, "role": "board"})))
        self.every = every
        self.sent = 0
        self.cut = False

    def poke(self) -> None:
        """Ask for a snapshot again (and answer the heartbeat) without reading anything."""
        try:
            self.sock.sendall(_frame('42["resync"]') + _frame("3"))
            self.sent += 1
        except OSError:
            self.cut = True

    def close(self) -> None:
        self.sock.close()


@contextmanager
def deaf_boards(
    url: str, code: str, count: int, every: float = 2.0, first_source: int = 2
) -> Iterator[list[DeafBoard]]:
    """`count` deaf boards, each from its own loopback address (127.0.0.2 and up), poking in a
    background thread until the block ends."""
    boards = [DeafBoard(url, code, f"127.0.0.{first_source + i}", every) for i in range(count)]
    stop = threading.Event()

    def poke_all() -> None:
        while not stop.wait(every):
            for board in boards:
                if not board.cut:
                    board.poke()

    poker = threading.Thread(target=poke_all, daemon=True)
    poker.start()
    try:
        yield boards
    finally:
        stop.set()
        poker.join(timeout=every + 5)
        for board in boards:
            board.close()


if __name__ == "__main__" and sys.argv[1:2] == ["watch"]:
    watch(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
