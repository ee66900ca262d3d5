"""Start workshop: monkey-patch eventlet, prepare the database, print the links, serve."""

import os
import warnings

if os.environ.setdefault("WORKSHOP_ASYNC_MODE", "eventlet") == "eventlet":
    # Eventlet is the customer's choice, kept behind WORKSHOP_ASYNC_MODE; its notice adds nothing.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()

import argparse
import gc
import socket
import sys

from werkzeug.serving import WSGIRequestHandler

from workshop import create_app, realtime, retention
from workshop.bootstrap import prepare
from workshop.extensions import socketio

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


def without_websocket_compression(app):
    """Refuse permessage-deflate: compressing every frame halves how many sockets we serve."""

    def middleware(environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return app(environ, start_response)

    return middleware


#: Young objects allowed before the garbage collector runs (Python's default is 700).
GC_THRESHOLD = (50_000, 20, 20)


def tune_garbage_collector() -> None:
    """Keep the collector from stopping the server for a quarter of a second at a time.

    With thousands of live sockets the heap holds millions of objects, and each full collection
    walks all of them while no socket is served (measured: 9 collections of up to 270 ms in ten
    seconds of voting, at the default thresholds). What exists after start-up (modules, the app)
    lives as long as the process and is frozen out of the collector's view; collections run less
    often, on more objects at a time.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the workshop server.")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on")
    parser.add_argument("--no-demo", action="store_true", help="do not create a demo event")
    args = parser.parse_args()

    app = create_app()
    prepared = prepare(app, demo=not args.no_demo)
    public_url = app.config["WORKSHOP_PUBLIC_URL"]
    if not public_url:
        host = lan_address() if args.host in ("0.0.0.0", "::", "") else args.host
        public_url = app.config["WORKSHOP_PUBLIC_URL"] = f"http://{host}:{args.port}"

    print(f"workshop is running on {public_url}")
    if prepared.demo_code:
        print(f"  Attendees: {public_url}/j/{prepared.demo_code}")
        print(f"  Board:     {public_url}/board/{prepared.demo_code}")
    print(f"  Moderator: {public_url}/login  (user: admin)")
    if prepared.admin_password:
        print(f"  Admin password (shown only now): {prepared.admin_password}")
    if prepared.purged:
        print(f"  Deleted {prepared.purged} ended event(s) past WORKSHOP_RETENTION_DAYS.")
    sys.stdout.flush()
    retention.start(app)
    realtime.start(app)
    tune_garbage_collector()

    if app.config["WORKSHOP_ASYNC_MODE"] == "eventlet":
        import eventlet.wsgi

        listener = eventlet.listen((args.host, args.port), backlog=LISTEN_BACKLOG)
        eventlet.wsgi.server(
            listener,
            without_websocket_compression(app),
            max_size=MAX_CONNECTIONS,
            log_format=LOG_FORMAT,
            log_x_forwarded_for=False,
        )
    else:
        socketio.run(
            app,
            host=args.host,
            port=args.port,
            allow_unsafe_werkzeug=True,
            request_handler=AnonymousRequestHandler,
        )


if __name__ == "__main__":
    main()
