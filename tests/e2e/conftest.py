"""End-to-end fixtures: a real `python run.py` (eventlet) server, and headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "e2e-admin-password"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A `python run.py` process on a loopback port with the database file in `directory`.

    Pass the `port` and `directory` of a stopped server to start it again as it was: same
    database, same address, so that clients that were connected can find it again. `command`
    (run in `cwd`) replaces `python run.py`, e.g. an installed `workshop serve`; a variable set to
    None in `extra_env` is left out of the server's environment.
    """

    def __init__(
        self,
        directory: Path,
        extra_env: dict | None = None,
        args: list | None = None,
        port: int | None = None,
        command: list | None = None,
        cwd: Path = ROOT,
    ):
        self.directory = directory
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output: list[str] = []
        self.demo_code: str | None = None
        env = {
            **os.environ,
            "WORKSHOP_DATABASE_URL": f"sqlite:///{directory / 'e2e.sqlite3'}",
            "WORKSHOP_SECRET_KEY": "e2e-secret",
            "WORKSHOP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "WORKSHOP_PUBLIC_URL": self.url,
            "WORKSHOP_ASYNC_MODE": "eventlet",
            # No PDF made in the background whenever a test opens the results: it only adds load.
            "WORKSHOP_PREPARE_REPORTS": "0",
            # Nor cards analysed for similar ones (the model's CPU), except where a test asks for
            # it with `extra_env={"WORKSHOP_EMBEDDINGS": "local"}`.
            "WORKSHOP_EMBEDDINGS": "off",
            "WORKSHOP_REPORT_CACHE": str(directory / "reports"),
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            [
                *(command or [sys.executable, "run.py"]),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *(args or []),
            ],
            cwd=cwd,
            env={name: value for name, value in env.items() if value is not None},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        wait_for(self._healthy, timeout=30)

    def _read_output(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)
            if match := re.search(r"/j/([A-Z0-9]+)", line):
                self.demo_code = self.demo_code or match.group(1)

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError("server exited:\n" + "".join(self.output))
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def staff_token(self) -> str:
        response = requests.post(
            f"{self.url}/api/v1/auth/token",
            json={"username": "admin", "password": ADMIN_PASSWORD},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["token"]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        self.process.stdout.close()


@pytest.fixture
def start_server(tmp_path) -> Iterator[Callable[..., Server]]:
    """Start real servers (several share one database directory); all are stopped afterwards."""
    servers: list[Server] = []

    def factory(**kwargs) -> Server:
        server = Server(tmp_path, **kwargs)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def server(start_server) -> Server:
    return start_server()


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; skipped without it, except under CI."""
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium package (see .ci/run)")
        pytest.skip("no Chromium found: install Debian's 'chromium' package to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="de-DE", viewport={"width": 412, "height": 915})
    page = context.new_page()
    yield page
    context.close()


ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests keep screenshots (ignored by git, kept by CI)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# -- the demo event through its API, as its admin ---------------------------------------------


@pytest.fixture
def staff(server) -> Callable[..., requests.Response]:
    """Call the demo event's API as its admin: `staff("PATCH", "", json={...})`."""
    token = server.staff_token()

    def call(method: str, path: str = "", json=None, status: int | None = None):
        response = requests.request(
            method,
            f"{server.url}/api/v1/events/{server.demo_code}{path}",
            json=json,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        if status is not None:
            assert response.status_code == status, response.text
        return response

    return call


@pytest.fixture
def areas(staff) -> list[dict]:
    return staff("GET", status=200).json()["areas"]


def add_card(staff, title: str, **fields) -> dict:
    body = {"client_id": str(uuid.uuid4()), "title": title, **fields}
    return staff("POST", "/suggestions", json=body, status=201).json()
