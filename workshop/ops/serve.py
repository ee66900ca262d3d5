"""The server: prepare the database, print the links, serve (eventlet, or threading).

`python run.py` and `workshop serve` both end here, after eventlet's monkey-patching
(workshop/ops/green.py) when it serves.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import socket
import sys

from werkzeug.serving import WSGIRequestHandler

from workshop import create_app
from workshop.config import SettingError
from workshop.domain import similarity, translations
from workshop.errors import WorkshopError
from workshop.extensions import socketio
from workshop.live import listeners
from workshop.ops import guard, retention
from workshop.ops.bootstrap import Prepared, prepare

#: Raised from eventlet's default of 1024 simultaneous connections.
MAX_CONNECTIONS = 10_000
#: Raised from 50, so that a room full of phones joining at once is not made to wait.
LISTEN_BACKLOG = 2048
#: Like eventlet's default access log, without the client's IP address.
LOG_FORMAT = '[%(date_time)s] "%(request_line)s" %(status_code)s %(body_length)s %(wall_seconds).3f'


def lan_address() -> str:
    """The address other devices on the venue network can reach this machine at."""
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = info[4][0]
            if not address.startswith("127."):
                return address
    except OSError:
        pass
    # A UDP "connect" sends nothing; it only asks the kernel which interface it would use.
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"


class AnonymousRequestHandler(WSGIRequestHandler):
    """The development server's request log, with "-" where it would print the client's IP."""

    def address_string(self) -> str:
        return "-"

    def log(self, type: str, message: str, *args) -> None:
        super().log(type, "%s", guard.without_seat_codes(message % args if args else message))


def without_websocket_compression(app):
    """Refuse permessage-deflate: compressing every frame halves how many sockets we serve."""

    def middleware(environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return app(environ, start_response)

    return middleware


#: Young objects allowed before the garbage collector runs (Python's default is 700), young
#: collections before an older one, older ones before a full one: the older and full
#: collections come as rarely as with (50_000, 20, 20), and a young one stops the server for
#: at most about 10 ms instead of 44 (2,000 sockets, 100 votes a second; benchmarks/README.md).
GC_THRESHOLD = (10_000, 100, 20)


def tune_garbage_collector() -> None:
    """Keep the collector from stopping the server for a quarter of a second at a time.

    With thousands of live sockets the heap holds millions of objects, and each full collection
    walks all of them while no socket is served (measured: 9 collections of up to 270 ms in ten
    seconds of voting, at the default thresholds). What exists after start-up (modules, the app)
    lives as long as the process and is frozen out of the collector's view; the older
    generations are collected far less often, the young one in short steps.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


#: Allocations from this size on come straight from the system and go back when freed.
MMAP_THRESHOLD = 256 * 1024


def return_big_blocks() -> None:
    """Keep glibc from holding on to freed snapshots and exports.

    glibc serves big allocations with mmap and gives them back when freed, but it raises that
    threshold to the largest block freed so far (up to 32 MiB), after which megabyte snapshots
    land in the heap and leave it fragmented: memory stayed high after a burst of big sends.
    Fixing the threshold keeps them going back. (Nothing happens where glibc is not the C
    library.)
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):
        pass


#: glibc's mallopt parameter for the mmap threshold (malloc.h).
M_MMAP_THRESHOLD = -3


def serve(host: str = "0.0.0.0", port: int = 5000, demo: bool = True) -> None:
    """Prepare the database, print the links people need, and serve until stopped."""
    try:
        app = create_app()
    except SettingError as error:
        # A setting that names nothing (e.g. a mistyped WORKSHOP_TIME_ZONE): one line, no traceback.
        print(f"workshop: {error}", file=sys.stderr)
        raise SystemExit(2) from error
    try:
        prepared = prepare(app, demo=demo)
    except WorkshopError as error:
        # A setting the operator can fix (e.g. a short WORKSHOP_ADMIN_PASSWORD): one line, no
        # traceback.
        field = error.details.get("field", "")
        setting = {"password": "WORKSHOP_ADMIN_PASSWORD"}.get(field, field)
        print(f"workshop: {setting}: {error.message}", file=sys.stderr)
        raise SystemExit(2) from error
    public_url = app.config["WORKSHOP_PUBLIC_URL"]
    if not public_url:
        address = lan_address() if host in ("0.0.0.0", "::", "") else host
        public_url = app.config["WORKSHOP_PUBLIC_URL"] = f"http://{address}:{port}"
    engine = app.extensions[translations.EXTENSION].engine
    translate = f"on ({engine.url})" if engine else "off"
    announce(public_url, prepared, similar=similarity_line(app), translate=translate)
    listeners.start(app)
    retention.start(app)
    # Cards filed before a restart (or while the engine was off) are analysed in the background.
    similarity.sweep(app)
    translations.sweep(app)
    tune_garbage_collector()
    return_big_blocks()
    if app.config["WORKSHOP_ASYNC_MODE"] == "eventlet":
        _serve_eventlet(app, host, port)
    else:
        socketio.run(
            app,
            host=host,
            port=port,
            allow_unsafe_werkzeug=True,
            request_handler=AnonymousRequestHandler,
        )


def similarity_line(app) -> str:
    """Whether similar cards are found, and by which model."""
    engine = app.extensions[similarity.EXTENSION].engine
    return f"on ({engine.name})" if engine else "off"


def announce(
    public_url: str, prepared: Prepared, similar: str = "off", translate: str = "off"
) -> None:
    """Print the addresses attendees, the board and the moderator open."""
    print(f"workshop is running on {public_url}")
    if prepared.demo_code:
        print(f"  Attendees: {public_url}/j/{prepared.demo_code}")
        print(f"  Board:     {public_url}/board/{prepared.demo_code}")
    print(f"  Moderator: {public_url}/login  (user: admin)")
    print(f"  Similar cards: {similar}")
    print(f"  Translation: {translate}")
    if prepared.admin_password:
        print(f"  Admin password (shown only now): {prepared.admin_password}")
    if prepared.purged:
        print(f"  Deleted {prepared.purged} ended event(s) past WORKSHOP_RETENTION_DAYS.")
    sys.stdout.flush()


def _serve_eventlet(app, host: str, port: int) -> None:
    import eventlet
    import eventlet.wsgi

    config = app.config
    listener = eventlet.listen((host, port), backlog=LISTEN_BACKLOG)
    eventlet.wsgi.server(
        listener,
        without_websocket_compression(app),
        custom_pool=guard.AddressPool(MAX_CONNECTIONS, config["WORKSHOP_CONNECTIONS_PER_ADDRESS"]),
        protocol=guard.guarded_protocol(
            header=config["WORKSHOP_HEADER_TIMEOUT"], idle=config["WORKSHOP_IDLE_TIMEOUT"]
        ),
        socket_timeout=config["WORKSHOP_SOCKET_TIMEOUT"],
        log=guard.AccessLog(),
        log_format=LOG_FORMAT,
        log_x_forwarded_for=False,
    )


def main(argv: list[str] | None = None) -> None:
    """`python run.py [--host …] [--port …] [--no-demo]`."""
    parser = argparse.ArgumentParser(description="Run the workshop server.")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on")
    parser.add_argument("--no-demo", action="store_true", help="do not create a demo event")
    args = parser.parse_args(argv)
    serve(args.host, args.port, demo=not args.no_demo)
