"""What translating cards costs workshop, and how long a room waits for translations.

    python benchmarks/translation_benchmark.py [--cards 100] [--latency 0.3]

A real `python run.py` (eventlet, SQLite) with the stand-in LibreTranslate of the tests
(tests/standin_libretranslate.py) as its engine:

1. The pipeline's own cost per card: the server's CPU time to file N cards and translate each
   into five languages with a stand-in that answers at once, minus its CPU time to file N cards
   with translation off (same run, side by side).
2. How long N cards filed at once take to be translated into five languages when every request
   to the engine takes `--latency` seconds (a real engine on a laptop CPU).

Prints figures; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.standin_libretranslate import StandIn  # noqa: E402

TITLES = [
    "Deutschkurse mit Kinderbetreuung",
    "Anerkennung ausländischer Berufsabschlüsse beschleunigen",
    "Mehr Sportangebote für Mädchen",
    "Bezahlbare Wohnungen für große Familien",
    "Beratung in der eigenen Sprache",
]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, directory: Path, translate_url: str | None):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "WORKSHOP_DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
            "WORKSHOP_SECRET_KEY": "bench",
            "WORKSHOP_ADMIN_PASSWORD": "bench-password-1",
            "WORKSHOP_PUBLIC_URL": self.url,
            "WORKSHOP_ASYNC_MODE": "eventlet",
            "WORKSHOP_RATELIMIT_ENABLED": "0",
            "WORKSHOP_EMBEDDINGS": "off",
            "WORKSHOP_TRANSLATE_URL": translate_url or "",
        }
        self.process = subprocess.Popen(
            [sys.executable, "run.py", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.code = ""
        for line in self.process.stdout:
            if "/j/" in line:
                self.code = line.strip().rsplit("/j/", 1)[1]
            if "Moderator:" in line:
                break
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        for _ in range(300):
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        token = requests.post(
            f"{self.url}/api/v1/auth/token",
            json={"username": "admin", "password": "bench-password-1"},
            timeout=10,
        ).json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        url = f"{self.url}/api/v1/events/{self.code}{path}"
        return requests.request(method, url, headers=self.headers, timeout=60, **kwargs)

    def file(self, count: int) -> None:
        def one(i: int) -> None:
            body = {"client_id": str(uuid.uuid4()), "title": f"{TITLES[i % len(TITLES)]} {i}"}
            self.api("POST", "/suggestions", json=body).raise_for_status()

        with ThreadPoolExecutor(max_workers=10) as pool:
            list(pool.map(one, range(count)))

    def translated(self) -> bool:
        return self.api("GET", "/translations").json()["pending"] == 0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cards: int, translate_url: str | None) -> tuple[float, float]:
    """(server CPU seconds, wall seconds) to file `cards` cards and have them translated."""
    with tempfile.TemporaryDirectory() as directory:
        server = Server(Path(directory), translate_url)
        try:
            cpu, start = cpu_seconds(server.process.pid), time.perf_counter()
            server.file(cards)
            while translate_url and not server.translated():
                time.sleep(0.05)
            wall = time.perf_counter() - start
            return cpu_seconds(server.process.pid) - cpu, wall
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.3)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load: {os.getloadavg()[0]:.2f}, {args.cards} cards")
    standin = StandIn()
    try:
        off_cpu, off_wall = run(args.cards, None)
        on_cpu, on_wall = run(args.cards, standin.url)
        per_card = (on_cpu - off_cpu) / args.cards * 1000
        print("## The pipeline's own cost (engine answers at once)")
        print(f"translation off: {off_cpu:.2f} s CPU ({off_wall:.2f} s wall) to file them")
        print(
            f"translation on:  {on_cpu:.2f} s CPU ({on_wall:.2f} s wall) to file and translate "
            f"into 5 languages: {per_card:.1f} ms CPU per card for translating "
            f"({standin.translations_asked()} requests to the engine)"
        )
        standin.mode, standin.delay = "slow", args.latency
        asked = standin.translations_asked()
        _, wall = run(args.cards, standin.url)
        print(f"## An engine that answers in {args.latency * 1000:.0f} ms")
        print(
            f"{args.cards} cards filed at once are translated into 5 languages after {wall:.1f} s"
            f" ({standin.translations_asked() - asked} requests)"
        )
    finally:
        standin.close()


if __name__ == "__main__":
    main()
