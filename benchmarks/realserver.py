"""A real `python run.py` (eventlet, SQLite in a folder) for the benchmarks, with its demo
event and an admin token: `Server(folder, **settings)`, `.api(method, path)`, `.stop()`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """The server, started with these WORKSHOP_* settings on top of the benchmark's defaults;
    `root`: another checkout to run (e.g. an older commit, for figures before a change)."""

    def __init__(self, directory: Path, root: Path = ROOT, **settings: str):
        port = free_port()
        self.database = directory / "bench.sqlite3"
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "WORKSHOP_DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
            "WORKSHOP_SECRET_KEY": "bench",
            "WORKSHOP_ADMIN_PASSWORD": PASSWORD,
            "WORKSHOP_PUBLIC_URL": self.url,
            "WORKSHOP_ASYNC_MODE": "eventlet",
            "WORKSHOP_RATELIMIT_ENABLED": "0",
            **settings,
        }
        self.process = subprocess.Popen(
            [sys.executable, "run.py", "--host", "127.0.0.1", "--port", str(port)],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.code = self._read_code()
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        self._wait_healthy()
        token = requests.post(
            f"{self.url}/api/v1/auth/token",
            json={"username": "admin", "password": PASSWORD},
            timeout=10,
        ).json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def _read_code(self) -> str:
        code = ""
        for line in self.process.stdout:
            if "/j/" in line:
                code = line.strip().rsplit("/j/", 1)[1]
            if "Moderator:" in line:
                return code
        raise SystemExit("the server did not start")

    def _wait_healthy(self) -> None:
        for _ in range(300):
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise SystemExit("the server does not answer")

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """Call the demo event's API as its admin."""
        url = f"{self.url}/api/v1/events/{self.code}{path}"
        return requests.request(method, url, headers=self.headers, timeout=60, **kwargs)

    def cpu_seconds(self) -> float:
        """The server's CPU time so far (user and system)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
