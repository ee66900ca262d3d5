"""What a login costs a real `python run.py` (eventlet): the answer time of a wrong password for a
known and for an unknown user name, and how long `/healthz` takes while failed logins run.

    python benchmarks/login_benchmark.py                       # this checkout
    python benchmarks/login_benchmark.py --root /path/to/other # another checkout (before/after)

Rate limits are off (the benchmark server's default), so that every attempt is hashed. Prints
milliseconds (median and max); it asserts nothing. Times are wall-clock on this machine; run it
on a quiet one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import realserver  # noqa: E402


def wrong_login(url: str, username: str) -> float:
    """Milliseconds until the token route refuses a wrong password."""
    start = time.perf_counter()
    response = requests.post(
        f"{url}/api/v1/auth/token",
        json={"username": username, "password": "wrong-password-1"},
        timeout=60,
    )
    assert response.status_code == 401, response.text
    return (time.perf_counter() - start) * 1000


def healthz(url: str) -> float:
    start = time.perf_counter()
    requests.get(f"{url}/healthz", timeout=60)
    return (time.perf_counter() - start) * 1000


def figures(label: str, values: list[float]) -> str:
    return f"{label}: median {statistics.median(values):7.1f} ms, max {max(values):7.1f} ms"


def healthz_during_logins(url: str, attempts: int, parallel: int) -> list[float]:
    """/healthz answer times, polled one after another while `attempts` failed logins run
    `parallel` at a time."""
    done = threading.Event()
    seen: list[float] = []

    def poll():
        while not done.is_set():
            seen.append(healthz(url))

    poller = threading.Thread(target=poll)
    poller.start()
    with ThreadPoolExecutor(parallel) as pool:
        list(
            pool.map(lambda i: wrong_login(url, "admin" if i % 2 else f"ghost{i}"), range(attempts))
        )
    done.set()
    poller.join()
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose run.py to start")
    parser.add_argument("--rounds", type=int, default=10, help="logins per user name")
    parser.add_argument("--attempts", type=int, default=30, help="failed logins during /healthz")
    parser.add_argument("--parallel", type=int, default=5, help="of them at once")
    args = parser.parse_args()
    realserver.ROOT = args.root.resolve()
    with tempfile.TemporaryDirectory() as directory:
        server = realserver.Server(Path(directory))
        try:
            url = server.url
            wrong_login(url, "admin")  # warm
            known = [wrong_login(url, "admin") for _ in range(args.rounds)]
            unknown = [wrong_login(url, f"nobody{i}") for i in range(args.rounds)]
            idle = [healthz(url) for _ in range(20)]
            busy = healthz_during_logins(url, args.attempts, args.parallel)
        finally:
            server.stop()
    print(f"checkout: {realserver.ROOT}")
    print(figures("wrong password, known user name  ", known))
    print(figures("wrong password, unknown user name", unknown))
    print(figures("/healthz, idle                   ", idle))
    print(figures(f"/healthz during {args.attempts} failed logins ({args.parallel} at once)", busy))


if __name__ == "__main__":
    main()
