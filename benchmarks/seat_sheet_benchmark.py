"""Time the seat-card sheet on a real `python run.py` (eventlet) server, and how long the server
keeps other requests waiting meanwhile.

    python benchmarks/seat_sheet_benchmark.py [--cards 150 500] [--joins 100]

Starts the server on a free port with a temporary database, logs in as the admin, switches the
demo event to seat codes and asks the settings page's form for a sheet of each size, while another
thread calls /healthz every 20 ms; prints the sheet's time and size and the slowest /healthz
answer. Then `--joins` phones join with codes of the last sheet, one after the other. Prints
figures; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "benchmark-password"
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
SHOWN = re.compile(r'class="seat-code"[^>]*>(?:<span[^>]*>[^<]*</span>)?([A-Z0-9]{5}-[A-Z0-9]{5})')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(directory: Path) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "WORKSHOP_DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
        "WORKSHOP_SECRET_KEY": "benchmark",
        "WORKSHOP_ADMIN_PASSWORD": PASSWORD,
        "WORKSHOP_PUBLIC_URL": url,
        "WORKSHOP_ASYNC_MODE": "eventlet",
        # Every simulated phone comes from 127.0.0.1: the per-address limits would measure
        # themselves, not the server (they are on in production; see the README).
        "WORKSHOP_RATELIMIT_ENABLED": "0",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "run.py", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    code = None
    for line in process.stdout:
        if match := re.search(r"/j/([A-Z0-9]+)", line):
            code = match.group(1)
            break
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                return process, url, code
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def sheet(session: requests.Session, url: str, code: str, cards: int) -> tuple[float, int, list]:
    settings = session.get(f"{url}/moderate/{code}/settings").text
    token = CSRF.search(settings).group(1)
    started = time.perf_counter()
    response = session.post(
        f"{url}/moderate/{code}/seats", data={"csrf_token": token, "count": str(cards)}
    )
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, len(response.content), SHOWN.findall(response.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, nargs="+", default=[150, 500])
    parser.add_argument("--joins", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        process, url, code = start(Path(directory))
        try:
            session = requests.Session()
            token = CSRF.search(session.get(f"{url}/login").text).group(1)
            form = {"username": "admin", "password": PASSWORD, "csrf_token": token}
            session.post(f"{url}/login", data=form).raise_for_status()
            api = requests.post(
                f"{url}/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}
            ).json()["token"]
            requests.patch(
                f"{url}/api/v1/events/{code}",
                json={"settings": {"seat_codes_required": True}},
                headers={"Authorization": f"Bearer {api}"},
            ).raise_for_status()
            codes: list[str] = []
            for cards in args.cards:
                waits: list[float] = []
                stop = threading.Event()

                def ping(waits=waits, stop=stop) -> None:
                    while not stop.is_set():
                        started = time.perf_counter()
                        requests.get(f"{url}/healthz", timeout=60)
                        waits.append(time.perf_counter() - started)
                        time.sleep(0.02)

                pinger = threading.Thread(target=ping)
                pinger.start()
                elapsed, size, codes = sheet(session, url, code, cards)
                stop.set()
                pinger.join()
                print(
                    f"{cards} cards: sheet in {elapsed:.2f} s, {size / 1024:.0f} KiB, "
                    f"{len(codes)} codes; /healthz meanwhile: {len(waits)} calls, "
                    f"slowest {max(waits) * 1000:.0f} ms"
                )
            started = time.perf_counter()
            joins = codes[: args.joins]
            for seat in joins:
                response = requests.post(
                    f"{url}/api/v1/events/{code}/participants", json={"seat_code": seat}
                )
                assert response.status_code == 201, response.text
            elapsed = time.perf_counter() - started
            print(f"{len(joins)} joins with seat codes: {elapsed / len(joins) * 1000:.0f} ms each")
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
