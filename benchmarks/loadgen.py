"""Load benchmark: many live screens against a real `python run.py`, votes and cards at a rate.

For each run it starts the server (eventlet, its own SQLite file in a temporary folder) pinned to
one core, creates an event over the API, and starts the Node load generator (`loadgen.mjs`) pinned
to the other core. The generator joins participants, opens every socket at once, files
suggestions at the point's rate (collect phase), switches the event to voting and spends dots at
the same rate, waits for every screen to show every change, then compares what the server
acknowledged with what it stored. Meanwhile this script samples the server's CPU time and RSS
from /proc. It prints a line per run and a ready-to-paste Markdown row per point.

    python benchmarks/loadgen.py                      # every point (a)-(g), three runs each
    python benchmarks/loadgen.py --point c --repeat 1
    python benchmarks/loadgen.py --viewers 50 --rate 10 --vote-seconds 5   # a point of your own

Needs Node.js 20 and `npm ci --prefix benchmarks` once (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import bisect
import datetime
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GENERATOR = HERE / "loadgen.mjs"
#: The coalescing peers (issue 19): the Node yardstick, and its twin on workshop's own stack.
PEERS = {
    "node": ["node", str(HERE / "peer_server.mjs")],
    "python": [sys.executable, str(HERE / "peer_server.py")],
}
ADMIN_PASSWORD = "loadgen-admin-password"
MIB = 1024 * 1024


@dataclass
class Point:
    """One load to measure: sockets, rate, how long; and what it is meant to show."""

    name: str
    title: str
    viewers: int
    rate: float
    board_share: float = 0.05
    collect_seconds: float = 2.0
    vote_seconds: float = 10.0
    idle_seconds: float = 0.0
    target: str = ""
    extra: dict = field(default_factory=dict)
    #: Events loaded at once, each with this point's viewers and rate (a generator each).
    events: int = 1


POINTS = {
    "a": Point("a", "500 viewers @ 20 votes/s", 500, 20),
    "b": Point("b", "1,000 viewers @ 100 votes/s", 1000, 100),
    "c": Point(
        "c",
        "2,000 live sockets @ 100 votes/s",
        2000,
        100,
        target="p95 vote-to-screen <= 150 ms, nothing dropped",
    ),
    # The cards come in at 100/s, so that the vote stage starts on a server that kept up.
    "d": Point(
        "d",
        "1,000 votes/s ingested",
        100,
        1000,
        target="nothing lost",
        extra={"collectRate": 100},
    ),
    "e": Point(
        "e",
        "burst of 1,000 phones connecting",
        1000,
        0,
        board_share=0,
        collect_seconds=0,
        vote_seconds=0,
        target="all connected within 3 s",
    ),
    "f": Point(
        "f",
        "memory per socket (2,000 idle sockets)",
        2000,
        0,
        collect_seconds=0,
        vote_seconds=0,
        idle_seconds=5,
        target="<= 0.1 MiB per socket",
    ),
    # Two plenums on one installation: on PostgreSQL (--processes 2) each event has its own write
    # lock, so neither should wait for the other's batches; compare with --server-root of a
    # checkout from before (one lock for all events), see benchmarks/README.md.
    "g": Point(
        "g",
        "two events at once, 100 votes/s each",
        100,
        100,
        target="each event as fast as alone",
        extra={"collectRate": 20},
        events=2,
    ),
}


# -- the server and /proc -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` shows them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def fsync_ms(directory: Path, count: int = 20) -> float:
    """Median time of writing 4 KiB and fsync-ing it: what one durable SQLite commit waits for."""
    path = directory / "fsync-probe"
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(count):
            os.write(fd, b"x" * 4096)
            started = time.perf_counter()
            os.fsync(fd)
            times.append(1000 * (time.perf_counter() - started))
    finally:
        os.close(fd)
        path.unlink()
    return round(statistics.median(times), 2)


def pinned(cpus: str | None, command: list[str]) -> list[str]:
    if cpus and shutil.which("taskset"):
        return ["taskset", "-c", cpus, *command]
    return command


class Sampler:
    """Samples a process's CPU seconds and RSS from /proc every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid = pid
        self.interval = interval
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.times: list[float] = []
        self.cpu: list[float] = []
        self.rss: list[int] = []
        #: Seconds the main thread spent runnable but waiting for a core (other processes).
        self.wait: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def read(self) -> tuple[float, int]:
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        # Fields after the command name (which may hold spaces), from field 3 on.
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / self.ticks
        rss = int(Path(f"/proc/{self.pid}/statm").read_text().split()[1]) * self.page
        return cpu, rss

    def read_wait(self) -> float:
        return int(Path(f"/proc/{self.pid}/schedstat").read_text().split()[1]) / 1e9

    def peak_rss(self) -> int | None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                cpu, rss = self.read()
                wait = self.read_wait()
            except (OSError, ValueError, IndexError):
                return
            self.times.append(time.monotonic())
            self.cpu.append(cpu)
            self.rss.append(rss)
            self.wait.append(wait)
            self._stop.wait(self.interval)

    def at(self, series: list[float], moment: float) -> float | None:
        """A cumulative series' value at `moment` (monotonic seconds), between two samples."""
        if not self.times or moment < self.times[0] or moment > self.times[-1]:
            return None
        right = bisect.bisect_left(self.times, moment)
        if self.times[right] == moment or right == 0:
            return series[right]
        t0, t1 = self.times[right - 1], self.times[right]
        v0, v1 = series[right - 1], series[right]
        return v0 + (v1 - v0) * (moment - t0) / (t1 - t0)

    def percent(self, series: list[float], start: float | None, end: float | None):
        """How much of the wall time from `start` to `end` the series grew by, in percent."""
        if start is None or end is None or end <= start:
            return None
        values = (self.at(series, end), self.at(series, start))
        if None in values:
            return None
        return round(100 * (values[0] - values[1]) / (end - start), 1)

    def rss_before(self, moment: float | None) -> int | None:
        """RSS of the last sample taken before `moment`."""
        if moment is None or not self.times:
            return None
        index = bisect.bisect_left(self.times, moment) - 1
        return self.rss[index] if index >= 0 else None


class Server:
    """`python run.py` (eventlet) on a free loopback port, with a database of its own (SQLite in
    `directory`) or the shared one of `scale_out` (PostgreSQL and Redis)."""

    def __init__(
        self, directory: Path, cpus: str | None, scale_out: dict | None = None, root: Path = ROOT
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(directory / f"server-{self.port}.log", "w")  # noqa: SIM115
        env = {
            **os.environ,
            "WORKSHOP_DATABASE_URL": f"sqlite:///{directory / 'loadgen.sqlite3'}",
            **(scale_out or {}),
            "WORKSHOP_SECRET_KEY": "loadgen-secret",
            "WORKSHOP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "WORKSHOP_PUBLIC_URL": self.url,
            "WORKSHOP_ASYNC_MODE": "eventlet",
            # Every simulated phone comes from 127.0.0.1: the per-address limits would measure
            # themselves, not the server (they are on in production; see the README).
            "WORKSHOP_RATELIMIT_ENABLED": "0",
            # For the same reason no cap on connections per address: 2,000 websockets from
            # 127.0.0.1 would fill the default cap and every HTTP request after them be closed.
            "WORKSHOP_CONNECTIONS_PER_ADDRESS": "0",
            "PYTHONUNBUFFERED": "1",
        }
        command = [sys.executable, "run.py", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            pinned(cpus, [*command, "--no-demo"]),
            # Another checkout's run.py imports that checkout's `workshop` (its folder comes
            # first on sys.path): --server-root measures a version from before a change.
            cwd=root,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid  # taskset execs the command: same pid
        wait_healthy(self.process, self.url, 60, f"server (see {directory / 'server.log'})")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def wait_healthy(process: subprocess.Popen, url: str, seconds: float, what: str) -> None:
    """Wait until `url`/healthz answers 200; fail at once if the process exits."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {seconds} s")
        time.sleep(0.05)


class PeerServer(Server):
    """A coalescing peer (in memory, totals at most ten times a second) on a free loopback port,
    pinned like the workshop server: `node` (`peer_server.mjs`, the yardstick of issue 19) or
    `python` (`peer_server.py`, the same on workshop's stack: what the stack costs)."""

    def __init__(self, directory: Path, cpus: str | None, kind: str = "node"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(directory / f"peer-{kind}-{self.port}.log", "w")  # noqa: SIM115
        command = [*PEERS[kind], str(self.port), ADMIN_PASSWORD]
        self.process = subprocess.Popen(
            pinned(cpus, command), cwd=HERE, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.pid = self.process.pid
        wait_healthy(self.process, self.url, 30, f"peer (see {directory})")


#: The generator's stage marks that start a profile, and the marks that end it.
PROFILED_STAGES = {"connectStart": "connect", "collectStart": "collect", "voteStart": "vote"}
PROFILE_ENDS = {"idleEnd", "collectStart", "collectEnd", "voteStart", "voteEnd"}


class Profiler:
    """py-spy sampling the server during each stage (connect, collect, vote); prints a summary
    of where the time went in each."""

    def __init__(self, pid: int, directory: str, name: str, cpus: str | None):
        self.pid = pid
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = f"{name}-{datetime.datetime.now().strftime('%H%M%S')}"
        self.cpus = cpus
        self.process: subprocess.Popen | None = None
        self.path: Path | None = None

    def on_stage(self, mark: str) -> None:
        if mark in PROFILE_ENDS:
            self.stop()
        if stage := PROFILED_STAGES.get(mark):
            self.path = self.directory / f"{self.prefix}-{stage}.txt"
            command = ["py-spy", "record", "--pid", str(self.pid), "--rate", "200"]
            command += ["--nonblocking", "--format", "raw", "--output", str(self.path)]
            self.process = subprocess.Popen(
                pinned(self.cpus, command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        self.process = None
        if self.path and self.path.exists():
            print(profile_summary(self.path), flush=True)


def profile_summary(path: Path, top: int = 25) -> str:
    """The functions with the most samples, inclusive and self, from py-spy's raw output."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [frame for frame in stack.split(";") if not frame.startswith("process ")]
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + samples
        if frames:
            own[frames[-1]] = own.get(frames[-1], 0) + samples
    lines = [f"  profile {path} ({total} samples while not idle)"]
    for title, table in (("inclusive", inclusive), ("self", own)):
        lines.append(f"  {title}:")
        for frame, samples in sorted(table.items(), key=lambda item: -item[1])[:top]:
            lines.append(f"    {100 * samples / max(total, 1):5.1f}%  {frame}")
    return "\n".join(lines)


# -- one run ----------------------------------------------------------------------------------


def create_event(url: str, password: str) -> tuple[str, str]:
    """A fresh event in the collect phase whose totals the public sees while voting."""
    response = requests.post(
        f"{url}/api/v1/auth/token",
        json={"username": "admin", "password": password},
        timeout=30,
    )
    response.raise_for_status()
    token = response.json()["token"]
    response = requests.post(
        f"{url}/api/v1/events",
        json={
            "title": "Load test",
            "question": "What matters most?",
            "template": "integration-2014",
            "phase": "collect",
            "settings": {"hide_counts_while_voting": False},
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["code"], token


def generate(
    point: Point, urls: list[str], code: str, token: str, cpus: str | None, on_stage=None
) -> dict:
    """Run the Node generator once and return its report; `on_stage(mark)` hears its stages."""
    settings = {
        "urls": urls,
        "code": code,
        "staffToken": token,
        "viewers": point.viewers,
        "boardShare": point.board_share,
        "rate": point.rate,
        "collectSeconds": point.collect_seconds if point.rate else 0,
        "voteSeconds": point.vote_seconds if point.rate else 0,
        "idleSeconds": point.idle_seconds,
        **point.extra,
    }
    process = subprocess.Popen(
        pinned(cpus, ["node", str(GENERATOR)]),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output: list[str] = []

    def read_stdout() -> None:
        output.append(process.stdout.read())

    reader = threading.Thread(target=read_stdout, daemon=True)
    reader.start()
    process.stdin.write(json.dumps(settings))
    process.stdin.close()
    progress = []
    for line in process.stderr:
        progress.append(line)
        mark = line.removeprefix("loadgen: ").strip()
        if on_stage and line.startswith("loadgen: "):
            on_stage(mark)
    process.wait()
    reader.join()
    stdout = "".join(output).strip()
    if process.returncode != 0 or not stdout:
        raise RuntimeError("generator failed:\n" + "".join(progress))
    return json.loads(stdout.splitlines()[-1])


def generate_together(
    point: Point, urls: list[str], events: list[tuple[str, str]], cpus: str | None, on_stage=None
) -> list[dict]:
    """One generator per event, all at once; their reports in the events' order."""
    if len(events) == 1:
        return [generate(point, urls, *events[0], cpus, on_stage)]
    results: list[dict | BaseException | None] = [None] * len(events)

    def run(index: int, code: str, token: str) -> None:
        try:
            stage = on_stage if index == 0 else None
            results[index] = generate(point, urls, code, token, cpus, stage)
        except BaseException as error:  # raised again below, in the caller's thread
            results[index] = error

    threads = [
        threading.Thread(target=run, args=(index, *event)) for index, event in enumerate(events)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@contextmanager
def scale_out_services(args: argparse.Namespace) -> Iterator[dict | None]:
    """For --processes above 1: a new PostgreSQL database for the run (dropped afterwards) and
    the Redis database emptied, as the servers' environment."""
    if args.processes < 2:
        yield None
        return
    import redis
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    name = f"workshop_loadgen_{os.getpid()}_{int(time.time())}"
    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    client = redis.Redis.from_url(args.redis)
    client.flushdb()
    client.close()
    try:
        url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
        yield {"WORKSHOP_DATABASE_URL": url, "WORKSHOP_MESSAGE_QUEUE": args.redis}
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def run_once(point: Point, args: argparse.Namespace, peer: str | None = None) -> list[dict]:
    """Start the servers (unless --url; the peer of that kind when `peer`), run the generators
    (one per event), and add the servers' figures; one report per event."""
    started_load = load_average()
    with (
        tempfile.TemporaryDirectory(prefix="workshop-loadgen-") as directory,
        scale_out_services(args) as scale_out,
    ):
        fsync = fsync_ms(Path(directory))
        servers: list[Server] = []
        samplers: list[Sampler] = []
        profiler = None
        try:
            if peer:
                servers.append(PeerServer(Path(directory), args.server_cpus, peer))
                urls, pids = [servers[0].url], [servers[0].pid]
                password = ADMIN_PASSWORD
            elif args.url:
                urls, pids = [args.url.rstrip("/")], [args.server_pid] if args.server_pid else []
                password = args.admin_password
            else:
                # One after the other: the first prepares the database.
                root = Path(args.server_root) if args.server_root else ROOT
                for _ in range(args.processes):
                    servers.append(Server(Path(directory), args.server_cpus, scale_out, root))
                urls, pids = [s.url for s in servers], [s.pid for s in servers]
                password = ADMIN_PASSWORD
            samplers = [Sampler(pid).start() for pid in pids]
            events = [create_event(urls[0], password) for _ in range(point.events)]
            if args.profile and pids and not peer:
                profiler = Profiler(pids[0], args.profile, point.name, args.client_cpus)
            on_stage = profiler.on_stage if profiler else None
            reports = generate_together(point, urls, events, args.client_cpus, on_stage)
        finally:
            peaks = [sampler.peak_rss() for sampler in samplers]
            for sampler in samplers:
                sampler.stop()
            if profiler:
                profiler.stop()
            for server in servers:
                server.stop()
    for index, report in enumerate(reports):
        report["point"] = point.name
        report["event"] = index + 1
        report["load_average"] = started_load
        report["date"] = datetime.date.today().isoformat()
        report["fsync_ms"] = fsync
        report["processes"] = len(urls)
        report["server_root"] = f"peer {peer}" if peer else (args.server_root or ".")
        figures = [server_figures(report, s, peak) for s, peak in zip(samplers, peaks, strict=True)]
        report["server"] = combined_figures(figures)
    return reports


def combined_figures(per_process: list[dict]) -> dict:
    """Several server processes as one: CPU and memory add up; time waited for a core is
    averaged."""
    if len(per_process) < 2:
        return per_process[0] if per_process else {}
    combined = {}
    for key in per_process[0]:
        values = [figures.get(key) for figures in per_process]
        if any(value is None for value in values):
            combined[key] = None
        elif key.startswith("waited_"):
            combined[key] = round(sum(values) / len(values), 1)
        else:
            combined[key] = round(sum(values), 2)
    return combined


def server_figures(report: dict, sampler: Sampler | None, peak: int | None) -> dict:
    if sampler is None:
        return {}
    stages = {name: value / 1000 for name, value in report["stages"].items()}
    sockets = report["connect"]["connected"]
    before = sampler.rss_before(stages.get("connectStart"))
    # Settled: just before the next stage starts (or after the idle time).
    after_moment = next(
        (stages[name] for name in ("idleEnd", "collectStart", "voteStart") if name in stages),
        sampler.times[-1] if sampler.times else None,
    )
    after = sampler.rss_before(after_moment)
    per_socket = (after - before) / sockets if before and after and sockets else None
    figures = {}
    for stage in ("connect", "collect", "vote"):
        start, end = stages.get(f"{stage}Start"), stages.get(f"{stage}End")
        figures[f"cpu_{stage}"] = sampler.percent(sampler.cpu, start, end)
        figures[f"waited_{stage}"] = sampler.percent(sampler.wait, start, end)
    connect = (stages.get("connectStart"), stages.get("connectEnd"))
    if None not in connect and sockets:
        values = (sampler.at(sampler.cpu, connect[1]), sampler.at(sampler.cpu, connect[0]))
        if None not in values:
            figures["cpu_ms_per_connection"] = round(1000 * (values[0] - values[1]) / sockets, 2)
    # CPU cost per unit of work: steadier than latencies when other processes take the core.
    for stage, work in (("collect", report["suggestions"]), ("vote", report["votes"])):
        start, end = stages.get(f"{stage}Start"), stages.get(f"{stage}End")
        used = None
        if start is not None and end is not None:
            values = (sampler.at(sampler.cpu, end), sampler.at(sampler.cpu, start))
            used = None if None in values else values[0] - values[1]
        requests_ = work["acked"]
        messages = work.get("messages")
        figures[f"cpu_ms_per_request_{stage}"] = (
            round(1000 * used / requests_, 2) if used is not None and requests_ else None
        )
        figures[f"cpu_us_per_message_{stage}"] = (
            round(1e6 * used / messages, 1) if used is not None and messages else None
        )
    return {
        **figures,
        "rss_before_mib": round(before / MIB, 1) if before else None,
        "rss_connected_mib": round(after / MIB, 1) if after else None,
        "rss_peak_mib": round(peak / MIB, 1) if peak else None,
        "rss_per_socket_kib": round(per_socket / 1024, 1) if per_socket else None,
    }


# -- the table ----------------------------------------------------------------------------------


def http_errors(report: dict) -> int:
    statuses = report["http"]["statuses"]
    bad = sum(count for status, count in statuses.items() if int(status) >= 400)
    return bad + sum(report["http"]["networkErrors"].values())


def dropped(report: dict) -> dict:
    counters = report["counters"]
    return {
        "undelivered": report["votes"]["undelivered"] + report["suggestions"]["undelivered"],
        "gaps": counters["gaps"],
        "resyncs": counters["resyncs"],
        "disconnects": counters["disconnects"],
        "late": counters["late"],
        "not_connected": report["connect"]["notConnected"],
    }


def run_line(report: dict) -> str:
    """One run, in one line, for the console."""
    votes, suggestions, connect = report["votes"], report["suggestions"], report["connect"]
    server = report["server"]
    drops = dropped(report)
    return (
        f"  run: load {report['load_average']}, fsync {report['fsync_ms']} ms"
        f" | {connect['connected']}/{connect['screens']}"
        f" sockets, connect p50 {connect['p50']} p95 {connect['p95']} ms,"
        f" burst {fmt_seconds(connect['burstMs'])}"
        f" | cards {suggestions['acked']}/{suggestions['stored']} acked/stored,"
        f" card->screen p95 {suggestions['screen']['p95']} ms"
        f" | votes {votes['acked']}/{votes['stored']} acked/stored"
        f" ({votes['skipped']} of {votes['planned']} not sent),"
        f" vote->screen p50 {votes['screen']['p50']} p95 {votes['screen']['p95']}"
        f" p99 {votes['screen']['p99']} ms, to all screens p95 {votes['allScreens']['p95']} ms,"
        f" ack p95 {votes['ack']['p95']} ms"
        f" | undelivered {drops['undelivered']} gaps {drops['gaps']} resyncs"
        f" {drops['resyncs']} late {drops['late']} disconnects"
        f" {report['counters']['disconnects']} connect errors"
        f" {report['counters']['connectErrors']} | HTTP errors {http_errors(report)}"
        f" | server CPU connect {server.get('cpu_connect')}%"
        f" ({server.get('cpu_ms_per_connection')} ms per socket) collect"
        f" {server.get('cpu_collect')}% vote {server.get('cpu_vote')}% (waited for a core"
        f" {server.get('waited_connect')}/{server.get('waited_collect')}/"
        f"{server.get('waited_vote')}%; per message delivered"
        f" {server.get('cpu_us_per_message_collect')}/{server.get('cpu_us_per_message_vote')}"
        f" µs),"
        f" RSS {server.get('rss_before_mib')}->{server.get('rss_connected_mib')} MiB"
        f" ({server.get('rss_per_socket_kib')} KiB/socket, peak {server.get('rss_peak_mib')})"
        f" | generator CPU collect {suggestions['generatorCpu']}% vote"
        f" {votes['generatorCpu']}%, {suggestions['messagesPerSecond']} and"
        f" {votes['messagesPerSecond']} msgs/s, loop delay p99"
        f" {report['generator']['loopDelayP99Ms']} ms"
    )


def fmt_seconds(ms: float | None) -> str:
    return "–" if ms is None else f"{ms / 1000:.2f} s"


def median(values: list) -> float | None:
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def fmt(value, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


TABLE_HEADER = (
    "| point | date | load avg at start | fsync ms | sockets | rate /s (votes acked /s)"
    " | vote→screen p50 / p95 / p99 ms | vote→all screens p95 ms | card→screen p95 ms"
    " | undelivered / gaps / resyncs / disconnects / late"
    " | votes acked / stored | cards acked / stored | connect p50 / p95 ms, burst"
    " | server CPU ms per connection | server CPU % (collect / vote), waited %"
    " | server RSS MiB, per socket KiB | HTTP errors"
    " | generator CPU % (collect / vote) |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    " --- | --- | --- |"
)


def markdown_row(point: Point, reports: list[dict], failed: int = 0) -> str:
    """The point over its runs: medians of the figures, sums of everything lost or failed."""

    def med(path: str, digits: int = 0) -> str:
        values = []
        for report in reports:
            value = report
            for key in path.split("."):
                value = value.get(key) if isinstance(value, dict) else None
            values.append(value)
        return fmt(median(values), digits)

    drops = [dropped(report) for report in reports]
    total = {key: sum(d[key] for d in drops) for key in drops[0]}
    votes_acked = sum(report["votes"]["acked"] for report in reports)
    unsent = sum(report[kind]["skipped"] for report in reports for kind in ("votes", "suggestions"))
    unsent_note = f" ({unsent:,} not sent)" if unsent else ""
    votes_stored = sum(report["votes"]["stored"] for report in reports)
    cards_acked = sum(report["suggestions"]["acked"] for report in reports)
    cards_stored = sum(report["suggestions"]["stored"] for report in reports)
    loads = ", ".join(report["load_average"].split()[0] for report in reports)
    burst = median([report["connect"]["burstMs"] for report in reports])
    acked_rate = median(
        [
            report["votes"]["acked"] / report["votes"]["seconds"]
            for report in reports
            if report["votes"]["seconds"]
        ]
    )
    rate = fmt(point.rate) + (f" ({fmt(acked_rate)})" if acked_rate is not None else "")
    not_connected = f" ({total['not_connected']} not connected)" if total["not_connected"] else ""
    if failed:
        not_connected += f" ({failed} of {failed + len(reports)} runs failed)"
    return (
        f"| ({point.name}) {point.title} | {reports[0].get('date', '–')} | {loads}"
        f" | {med('fsync_ms', 1)} | {point.viewers:,}{not_connected} | {rate}"
        f" | {med('votes.screen.p50')} / {med('votes.screen.p95')} / {med('votes.screen.p99')}"
        f" | {med('votes.allScreens.p95')} | {med('suggestions.screen.p95')}"
        f" | {total['undelivered']} / {total['gaps']} / {total['resyncs']}"
        f" / {total['disconnects']} / {total['late']:,}"
        f" | {votes_acked:,} / {votes_stored:,}{unsent_note} | {cards_acked:,} / {cards_stored:,}"
        f" | {med('connect.p50')} / {med('connect.p95')}, {fmt_seconds(burst)}"
        f" | {med('server.cpu_ms_per_connection', 1)}"
        f" | {med('server.cpu_collect')} / {med('server.cpu_vote')},"
        f" {med('server.waited_collect')} / {med('server.waited_vote')}"
        f" | {med('server.rss_connected_mib')}, {med('server.rss_per_socket_kib', 1)}"
        f" | {sum(http_errors(report) for report in reports)}"
        f" | {med('suggestions.generatorCpu')} / {med('votes.generatorCpu')} |"
    )


def capacity(args: argparse.Namespace) -> int:
    """How many messages a second the generator takes: fake_server.mjs broadcasts at a rate."""
    port = free_port()
    command = ["node", str(HERE / "fake_server.mjs"), str(port), str(args.capacity)]
    server = subprocess.Popen(pinned(args.server_cpus, command))
    try:
        time.sleep(0.5)
        settings = {
            "url": f"http://127.0.0.1:{port}",
            "code": "FAKE",
            "listenOnly": True,
            "viewers": args.viewers or 1000,
            "voteSeconds": args.vote_seconds,
        }
        completed = subprocess.run(
            pinned(args.client_cpus, ["node", str(GENERATOR)]),
            input=json.dumps(settings),
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
    finally:
        server.terminate()
        server.wait()
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    print(
        f"generator, load average {load_average()}: {report['screens']} sockets took"
        f" {report['messagesPerSecond']:,} messages/s at {report['cpuPercent']}% of a core"
        f" ({report['microsecondsPerMessage']} µs each: about"
        f" {1e6 / report['microsecondsPerMessage']:,.0f} a second on a whole core),"
        f" {report['gaps']} gaps, event-loop delay p99 {report['loopDelayP99Ms']} ms"
    )
    return 0


# -- main -----------------------------------------------------------------------------------------


def several_processes(point: Point, processes: int) -> Point:
    return replace(
        point,
        name=f"{point.name}-x{processes}",
        title=f"{point.title}, {processes} processes (PostgreSQL, Redis)",
    )


def saved_point(name: str, report: dict) -> Point:
    """The point a saved report was made for (`c`, `c-x2`, or one of its own)."""
    base, _, processes = name.partition("-x")
    if base in POINTS:
        point = POINTS[base]
        return several_processes(point, int(processes)) if processes.isdigit() else point
    return Point(name, name, report["config"]["viewers"], report["config"]["rate"])


def main(argv: list[str] | None = None) -> int:
    parser = argument_parser()
    args = parser.parse_args(argv)
    if args.from_json:
        print_saved(Path(args.from_json))
        return 0
    if args.no_pin:
        args.server_cpus = args.client_cpus = None
    if args.processes > 1 and not (args.postgres and args.redis):
        parser.error("--processes above 1 needs --postgres and --redis")
    points = chosen_points(args)

    if not (HERE / "node_modules" / "socket.io-client").exists():
        print("run `npm ci --prefix benchmarks` first (see benchmarks/README.md)", file=sys.stderr)
        return 2

    if args.capacity:
        return capacity(args)
    print(f"machine: {os.cpu_count()} cores; load average at start {load_average()}")
    everything: list[dict] = []
    rows: list[str] = []
    for point in points:
        reports, failed = measure(point, args, everything)
        if reports:
            rows.append(markdown_row(point, reports, failed))

    print("\nMarkdown rows (medians over the runs; losses and errors summed):\n")
    print(TABLE_HEADER)
    print("\n".join(rows))
    return 0


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--point", action="append", choices=sorted(POINTS), help="repeatable")
    parser.add_argument("--viewers", type=int, help="a point of your own: live sockets")
    parser.add_argument("--rate", type=float, default=5, help="its cards and votes per second")
    parser.add_argument("--collect-seconds", type=float, default=2)
    parser.add_argument("--vote-seconds", type=float, default=10)
    parser.add_argument("--board-share", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3, help="runs per point (default 3)")
    parser.add_argument("--server-cpus", default="0", help="taskset list for the server")
    parser.add_argument("--client-cpus", default="1", help="taskset list for the generator")
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="server processes sharing the event (2 and more need --postgres and --redis)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("WORKSHOP_TEST_POSTGRES_URL"),
        help="with --processes: a PostgreSQL URL whose user may create databases "
        "(default: $WORKSHOP_TEST_POSTGRES_URL)",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("WORKSHOP_TEST_REDIS_URL"),
        help="with --processes: a Redis URL whose database may be emptied "
        "(default: $WORKSHOP_TEST_REDIS_URL)",
    )
    parser.add_argument(
        "--server-root",
        metavar="DIR",
        help="run the servers from this checkout (e.g. a `git worktree` of an older commit)",
    )
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--admin-password", default=ADMIN_PASSWORD, help="with --url")
    parser.add_argument("--server-pid", type=int, help="with --url: sample this process")
    parser.add_argument(
        "--peer",
        action="append",
        nargs="?",
        const="node",
        choices=sorted(PEERS),
        help="after each run, the same point against a coalescing peer: node (peer_server.mjs,"
        " the default) or python (peer_server.py, the same on workshop's stack); repeatable;"
        " prints the figures and their ratios for each stage",
    )
    parser.add_argument("--json", help="also write every run's full report to this file")
    parser.add_argument(
        "--profile", metavar="DIR", help="sample the server with py-spy into DIR, print a summary"
    )
    parser.add_argument(
        "--capacity",
        type=float,
        metavar="RATE",
        help="measure the generator alone: a fake server sends RATE messages a second in all",
    )
    parser.add_argument("--from-json", metavar="FILE", help="print the table of a saved --json")
    return parser


def print_saved(path: Path) -> None:
    """The table of a report saved with --json, one row per point."""
    saved = json.loads(path.read_text())
    print(TABLE_HEADER)
    for name in dict.fromkeys(report["point"] for report in saved):
        reports = [report for report in saved if report["point"] == name]
        print(markdown_row(saved_point(name, reports[0]), reports))


def chosen_points(args: argparse.Namespace) -> list[Point]:
    """The points to measure: one of the command line's own, or the named ones (default all)."""
    if args.viewers is not None:
        points = [
            Point(
                "custom",
                f"{args.viewers:,} viewers @ {args.rate:g}/s",
                args.viewers,
                args.rate,
                board_share=args.board_share,
                collect_seconds=args.collect_seconds,
                vote_seconds=args.vote_seconds,
            )
        ]
    else:
        points = [POINTS[name] for name in (args.point or sorted(POINTS))]
    if args.processes > 1:
        points = [several_processes(point, args.processes) for point in points]
    return points


def measure(
    point: Point, args: argparse.Namespace, everything: list[dict]
) -> tuple[list[dict], int]:
    """Run one point --repeat times; its reports and how many runs failed."""
    target = f"  [target: {point.target}]" if point.target else ""
    print(f"({point.name}) {point.title}{target}")
    reports = []
    failed = 0
    for _ in range(args.repeat):
        try:
            runs = run_once(point, args)
            # The peers right after, in the same conditions, so that each run has its ratios.
            peers = {kind: run_once(point, args, peer=kind) for kind in args.peer or []}
        except (RuntimeError, OSError, requests.RequestException) as error:
            # An overloaded server can time out the setup or the results: say so, go on.
            failed += 1
            print(f"  run failed: {error}", flush=True)
            continue
        for index, report in enumerate(runs):
            event = f" (event {report['event']} of {len(runs)})" if len(runs) > 1 else ""
            print(run_line(report) + event, flush=True)
            report["peers"] = {kind: reports_of[index] for kind, reports_of in peers.items()}
            for kind, peer in report["peers"].items():
                print(f"  peer {kind} " + run_line(peer).strip() + event, flush=True)
                print(comparison_lines(report, peer, kind), flush=True)
            if {"node", "python"} <= report["peers"].keys():
                python, node = report["peers"]["python"], report["peers"]["node"]
                print(comparison_lines(python, node, "node", "python peer"), flush=True)
        reports.extend(runs)
        # --json holds every run of every point so far, rewritten after each so none is lost.
        everything.extend(runs)
        if args.json:
            Path(args.json).write_text(json.dumps(everything, indent=1))
    for kind in dict.fromkeys(args.peer or []):
        if reports:
            print(median_ratios(reports, kind), flush=True)
    return reports, failed


#: The figures compared with the peer: stage, label, where in the report.
COMPARED = (
    ("connect", "burst ms", "connect.burstMs"),
    ("connect", "p95 ms", "connect.p95"),
    ("connect", "server CPU ms per socket", "server.cpu_ms_per_connection"),
    ("collect", "card→screen p95 ms", "suggestions.screen.p95"),
    ("vote", "vote→screen p50 ms", "votes.screen.p50"),
    ("vote", "vote→screen p95 ms", "votes.screen.p95"),
    ("vote", "vote→all screens p95 ms", "votes.allScreens.p95"),
    ("vote", "ack p95 ms", "votes.ack.p95"),
)


def figure(report: dict, path: str) -> float | None:
    value = report
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """Workshop's figure over the peer's: above 1 is slower (or dearer) than the peer."""
    if ours is None or not theirs:
        return None
    return round(ours / theirs, 2)


def comparison_lines(report: dict, peer: dict, kind: str, ours_name: str = "workshop") -> str:
    """Workshop against a peer for each stage of one run: both figures and their ratio."""
    lines = [f"  {ours_name} / {kind} peer (ratio):"]
    for stage, label, path in COMPARED:
        ours, theirs = figure(report, path), figure(peer, path)
        lines.append(
            f"    {stage:8} {label:26} {fmt(ours, 1):>9} {fmt(theirs, 1):>9}"
            f"  {fmt(ratio(ours, theirs), 2):>6}"
        )
    return "\n".join(lines)


def median_ratios(reports: list[dict], kind: str) -> str:
    """The medians over the runs of each figure and of its ratio to a peer."""
    paired = [report for report in reports if kind in report.get("peers", {})]
    lines = [f"  medians over {len(paired)} runs, workshop / {kind} peer (ratio):"]
    for stage, label, path in COMPARED:
        ours = median([figure(report, path) for report in paired])
        theirs = median([figure(report["peers"][kind], path) for report in paired])
        ratios = median([ratio(figure(r, path), figure(r["peers"][kind], path)) for r in paired])
        lines.append(
            f"    {stage:8} {label:26} {fmt(ours, 1):>9} {fmt(theirs, 1):>9}  {fmt(ratios, 2):>6}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
