"""Weigh the attendee page's first load, then ask Lighthouse (mobile) what it thinks of it.

    python benchmarks/page_weight.py [--no-lighthouse] [--runs 3]

Starts a real `python run.py` (eventlet) with its demo event on a free loopback port and opens
`/j/<code>` as a new attendee in Debian's Chromium (Playwright): every request until the cards are
shown (HTML, CSS, JS modules, the Socket.IO client, the Socket.IO handshake and messages) with
its transferred bytes (compressed, headers included, as the browser counts them) and its decoded
size. Then, unless `--no-lighthouse`, it runs Lighthouse's mobile audit `--runs` times against the
same page and prints the performance score, LCP, TBT and CLS of each run and their median.

Lighthouse is installed from the lock file once: `npm ci --prefix benchmarks/lighthouse`.
Prints figures; it never asserts anything.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import Request as Request_
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "benchmarks" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
ADMIN_PASSWORD = "page-weight-admin"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
]


@dataclass
class Request:
    url: str
    kind: str = ""
    status: int = 0
    encoding: str = ""
    transferred: int = 0  # bytes on the wire: headers and (compressed) body
    decoded: int = 0  # the body as the page sees it
    done: bool = False


@dataclass
class Load:
    requests: dict[str, Request] = field(default_factory=dict)
    frames_received: int = 0  # WebSocket messages from the server
    frame_bytes: int = 0

    @property
    def transferred(self) -> int:
        return sum(r.transferred for r in self.requests.values()) + self.frame_bytes

    @property
    def decoded(self) -> int:
        return sum(r.decoded for r in self.requests.values()) + self.frame_bytes


#: Words for the cards filed before the page is weighed: varied, as a room's cards are.
VOCABULARY = (
    "mehr Sprachcafés Beratung im Stadtteil für Familien Kita Schule Ausbildung Arbeit Wohnung "
    "Nachbarschaft Ehrenamt Patenschaften Dolmetscher Sport Vereine Frauen Jugendliche Senioren "
    "Gesundheit Ärzte Behörden Termine online Formulare einfache Sprache Begegnung Feste "
    "Bibliothek Abendkurse Kinderbetreuung Mentoring Praktika Anerkennung Abschlüsse Treffpunkt"
)


def card_text(rng: random.Random) -> tuple[str, str]:
    """A card's title and, for about every other one, its details."""
    words = VOCABULARY.split()
    title = " ".join(rng.choice(words) for _ in range(rng.randint(4, 11))).capitalize()
    details = rng.random() < 0.5
    body = " ".join(rng.choice(words) for _ in range(rng.randint(8, 25))) if details else ""
    return title, body


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`python run.py` with its demo event, on a free port, in a temporary directory."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "WORKSHOP_DATABASE_URL": f"sqlite:///{directory / 'weight.sqlite3'}",
            "WORKSHOP_SECRET_KEY": "page-weight",
            "WORKSHOP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "WORKSHOP_PUBLIC_URL": self.url,
            "WORKSHOP_ASYNC_MODE": "eventlet",
            "PYTHONUNBUFFERED": "1",
        }
        self.log = open(directory / "server.log", "w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "run.py", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.demo_code = self._wait_for_code()

    def _wait_for_code(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("server exited:\n" + Path(self.log.name).read_text())
            if match := re.search(r"/j/([A-Z0-9]+)", Path(self.log.name).read_text()):
                try:
                    with urlopen(f"{self.url}/healthz", timeout=1):
                        return match.group(1)
                except OSError:
                    pass
            time.sleep(0.1)
        raise SystemExit("server did not start within 60 s")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def api(server: Server, method: str, path: str, body: dict, token: str | None = None) -> dict:
    request = Request_(
        f"{server.url}/api/v1{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def fill_event(server: Server, cards: int) -> None:
    """File `cards` cards in the demo event as its admin, most of them in an area."""
    token = api(server, "POST", "/auth/token", {"username": "admin", "password": ADMIN_PASSWORD})
    token = token["token"]
    with urlopen(f"{server.url}/api/v1/events/{server.demo_code}", timeout=10) as response:
        areas = json.loads(response.read())["areas"]
    rng = random.Random(8)
    for number in range(cards):
        title, body = card_text(rng)
        card = {"client_id": str(uuid.uuid4()), "title": title, "body": body}
        if number % 5:
            card["area_id"] = areas[number % len(areas)]["id"]
        api(server, "POST", f"/events/{server.demo_code}/suggestions", card, token)


def weigh(browser, url: str, ready_selector: str = "#cards[aria-busy='false']") -> Load:
    """Open `url` in a fresh context and count every byte until `ready_selector` is there."""
    load = Load()
    context = browser.new_context(locale="de-DE", viewport={"width": 412, "height": 915})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

    def on_request(event):
        load.requests[event["requestId"]] = Request(event["request"]["url"], event.get("type", ""))

    def on_response(event):
        request = load.requests.setdefault(event["requestId"], Request(event["response"]["url"]))
        headers = {k.lower(): v for k, v in event["response"]["headers"].items()}
        request.status = event["response"]["status"]
        request.encoding = headers.get("content-encoding", "")
        request.kind = event.get("type", request.kind)

    def on_data(event):
        if request := load.requests.get(event["requestId"]):
            request.decoded += event["dataLength"]

    def on_finished(event):
        if request := load.requests.get(event["requestId"]):
            request.transferred = int(event["encodedDataLength"])
            request.done = True

    def on_frame(event):
        load.frames_received += 1
        load.frame_bytes += len(event["response"]["payloadData"].encode())

    cdp.on("Network.requestWillBeSent", on_request)
    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.dataReceived", on_data)
    cdp.on("Network.loadingFinished", on_finished)
    cdp.on("Network.webSocketFrameReceived", on_frame)
    page.goto(url)
    page.wait_for_selector(ready_selector, state="attached", timeout=30_000)
    page.wait_for_load_state("networkidle")
    # Requests still open (a long poll that became a WebSocket) carry no finished size.
    context.close()
    return load


def print_load(load: Load, base: str) -> None:
    print(f"{'request':58} {'type':10} {'status':>6} {'enc':>5} {'sent':>8} {'decoded':>8}")
    for request in load.requests.values():
        path = request.url.removeprefix(base)
        if len(path) > 58:
            path = path[:55] + "..."
        print(
            f"{path:58} {request.kind:10} {request.status:>6} {request.encoding or '-':>5} "
            f"{request.transferred:>8,} {request.decoded:>8,}"
        )
    print(
        f"{'WebSocket messages from the server: ' + str(load.frames_received):75} "
        f"{load.frame_bytes:>8,} {load.frame_bytes:>8,}"
    )
    print(
        f"{'total':75} {load.transferred:>8,} {load.decoded:>8,}"
        f"   ({load.transferred / 1024:.1f} KiB on the wire, {load.decoded / 1024:.1f} KiB decoded)"
    )


def lighthouse(url: str, out: Path) -> dict:
    """One mobile Lighthouse run (its default: simulated slow 4G, 4x CPU slowdown)."""
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is missing: npm ci --prefix benchmarks/lighthouse")
    run = subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--only-categories=performance",
            "--output=json",
            f"--output-path={out}",
            f"--chrome-path={CHROMIUM}",
            "--chrome-flags=" + " ".join(CHROMIUM_FLAGS),
        ],
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        return {"error": "\n".join(run.stderr.strip().splitlines()[-5:])}
    report = json.loads(out.read_text())
    audits = report["audits"]
    return {
        "score": round(report["categories"]["performance"]["score"] * 100),
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "si": audits["speed-index"]["numericValue"],
        "bytes": audits["total-byte-weight"]["numericValue"],
        "benchmark_index": report["environment"].get("benchmarkIndex"),
        "shifts": [
            (item.get("node", {}).get("selector", "?"), item.get("score", 0))
            for item in audits.get("layout-shifts", {}).get("details", {}).get("items", [])
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-lighthouse", action="store_true", help="only weigh the page")
    parser.add_argument("--cards", type=int, default=60, help="cards filed before (default 60)")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs (median printed)")
    parser.add_argument("--keep", type=Path, help="keep Lighthouse's JSON reports in this folder")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="page-weight-") as tmp:
        server = Server(Path(tmp))
        try:
            fill_event(server, args.cards)
            url = f"{server.url}/j/{server.demo_code}"
            print(f"Attendee page: {url} ({args.cards} cards)\n")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS[1:]
                )
                print_load(weigh(browser, url), server.url)
                browser.close()
            if args.no_lighthouse:
                return
            print("\nLighthouse (mobile, performance only):")
            runs = []
            for number in range(1, args.runs + 1):
                report = (args.keep or Path(tmp)) / f"lighthouse-{number}.json"
                result = lighthouse(url, report)
                if "error" in result:
                    print(f"  run {number} failed:\n{result['error']}")
                    continue
                runs.append(result)
                print(
                    f"  run {number}: score {result['score']}, FCP {result['fcp']:.0f} ms, "
                    f"LCP {result['lcp']:.0f} ms, TBT {result['tbt']:.0f} ms, "
                    f"CLS {result['cls']:.3f}, SI {result['si']:.0f} ms, "
                    f"{result['bytes'] / 1024:.1f} KiB, benchmark index "
                    f"{result['benchmark_index']:.0f}"
                )
                for selector, score in result["shifts"]:
                    print(f"    layout shift {score:.3f}: {selector}")
            if runs:
                print(
                    f"  median of {len(runs)}: "
                    f"score {statistics.median(r['score'] for r in runs):.0f}, "
                    f"LCP {statistics.median(r['lcp'] for r in runs):.0f} ms, "
                    f"TBT {statistics.median(r['tbt'] for r in runs):.0f} ms, "
                    f"CLS {statistics.median(r['cls'] for r in runs):.3f}"
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
