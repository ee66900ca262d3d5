"""Request limits: who counts as one device or one address, the HTTP limits, socket buckets.

An address is not a person here: a hall of phones shares one venue NAT address. So every limit
that should stop one person counts per *device* (participant token or cookie, staff token or
login), and the per-address limits (config.py explains the figures) are sized for a whole hall.

Privacy: counters are keyed by a keyed hash (HMAC with the secret key) of the address or token,
never by the address or token itself, and kept in Flask-Limiter's storage (`memory://` by
default: this process's memory, for one window) and in this module's socket buckets.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app, g, request, session
from flask.wrappers import Response
from flask_limiter import ApplicationLimit, Limiter
from limits import parse_many

from workshop.db.models import Event, Participant
from workshop.domain.accounts import is_staff_token
from workshop.domain.participants import cookie_name, hash_token
from workshop.extensions import db
from workshop.hashing import keyed_hash

#: Where Flask-Login keeps a logged-in staff member's id in the session.
SESSION_USER_KEY = "_user_id"
#: Endpoints whose per-participant limits apply (checked for the writes only).
SUBMIT_ENDPOINTS = frozenset({"api.submit", "api.update_suggestion"})
DOTS_ENDPOINTS = frozenset({"api.set_dots"})
#: A phone asking, while its owner types, whether similar cards exist (a model runs each time).
HINT_ENDPOINTS = frozenset({"api.similar_to_text"})
#: Reads that cost a pass over every card of an event, or more: the card list, results, the
#: audit log, similar-card groups, exports, the report and the no-script console.
READ_ENDPOINTS = frozenset(
    {
        "api.list_suggestions",
        "api.results",
        "api.audit_log",
        "api.duplicates",
        "api.groups",
        "api.area_hints",
        "staff.export",
        "staff.report",
        "staff.report_pdf",
        "moderator.plain_page",
    }
)
#: Endpoints that create a participant: the API's join, and the event page on a first visit.
JOIN_ENDPOINTS = frozenset({"api.join", "participant.event_page"})
#: Where a caller without a credential looks an event up by its code (web/auth.visible_event).
LOOKUP_ENDPOINTS = frozenset(
    {
        # Seat codes typed at the paper lane's desk (counted only when wrong).
        "api.desk_seat",
        "api.desk_dots",
        "participant.enter_code",
        "participant.event_page",
        "board.board",
        "board.qr",
        "api.get_event",
        "api.join",
        "api.results",
    }
)


def digest(kind: str, value: str) -> str:
    """A keyed hash: counters can tell callers apart without holding an address or a token."""
    return keyed_hash(f"{kind}|{value}")[:32]


def address_key() -> str:
    """The caller's address (behind trusted proxies: the client's), hashed."""
    return "a:" + digest("address", request.remote_addr or "")


def login_key() -> str:
    """Address and the user name tried, so that guessing one account's password is slow while
    colleagues behind the same address can still log in."""
    try:
        data = request.get_json(silent=True) if request.is_json else request.form
    except RecursionError:
        # Deeply nested arrays exhaust the JSON parser's stack: no user name (the view answers
        # 400 for the body itself).
        data = None
    username = data.get("username") if hasattr(data, "get") else None
    username = username.strip().lower()[:64] if isinstance(username, str) else ""
    return "l:" + digest("login", f"{request.remote_addr}|{username}")


def _bearer() -> str | None:
    """The bearer token as sent (auth.bearer_token refuses a malformed one; a key must not)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _participant_cookie() -> str | None:
    code = (request.view_args or {}).get("code")
    if not isinstance(code, str):
        return None
    return request.cookies.get(cookie_name(code.strip().upper())) or None


def device_key() -> str:
    """The calling device: its bearer token, its staff login or its participant cookie ("" when
    it has none yet, e.g. a phone opening the event page for the first time)."""
    if token := _bearer():
        return "t:" + digest("token", token)
    if user_id := session.get(SESSION_USER_KEY):
        return "u:" + digest("user", str(user_id))
    if cookie := _participant_cookie():
        return "t:" + digest("token", cookie)
    return ""


def participant_key() -> str:
    """The calling participant's device, or "" for staff (their moderation is not throttled
    like a participant's writes) and for callers without any participant credential."""
    token = _bearer()
    if token is not None:
        return "" if is_staff_token(token) else "t:" + digest("token", token)
    if session.get(SESSION_USER_KEY):
        return ""
    cookie = _participant_cookie()
    return "t:" + digest("token", cookie) if cookie else ""


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _only(endpoints: frozenset[str], key: Callable[[], str]) -> Callable[[], bool]:
    """Exempt every request but those to `endpoints` that have a key."""
    return lambda: request.endpoint not in endpoints or not key()


def _returning() -> bool:
    """Whether this event page visit comes from a phone that has joined (it creates nobody, so
    a hall that used up its joins can still reload the page)."""
    cookie = _participant_cookie() if request.endpoint == "participant.event_page" else None
    if cookie is None:
        return False
    code = request.view_args["code"].strip().upper()
    known = db.session.scalar(
        sa.select(Participant.id)
        .join(Event, Event.id == Participant.event_id)
        .where(Participant.token_hash == hash_token(cookie), Event.code == code)
    )
    return known is not None


def _joined(response: Response) -> bool:
    """Whether this response handed a new participant its token (JSON, or a cookie)."""
    if request.endpoint == "api.join":
        return response.status_code == 201
    wanted = cookie_name(str((request.view_args or {}).get("code", "")).strip().upper())
    for header in response.headers.getlist("Set-Cookie"):
        name, _, value = header.split(";", 1)[0].partition("=")
        if name == wanted and value:
            return True
    return False


def _stored(response: Response) -> bool:
    """Whether this submit or edit stored a card: refused attempts (an empty title, an unknown
    area) and replays of a card already filed do not use up the submit limit; floods of them
    meet the per-device limit."""
    if request.endpoint == "api.submit":
        return response.status_code == 201
    return 200 <= response.status_code < 300


def note_unknown_code() -> None:
    """Mark this request as a look-up of a code that names no event (or a draft) it may see."""
    g.workshop_unknown_code = True


def _unknown_code(_response: Response) -> bool:
    return bool(g.get("workshop_unknown_code"))


#: Every limit, in one table. "Application" limits in Flask-Limiter's terms: they apply to
#: every route (static files excepted), one shared counter per scope and key; `exempt_when`
#: narrows the participant limits to their endpoints.
APPLICATION_LIMITS = [
    ApplicationLimit(
        _setting("WORKSHOP_RATELIMIT_DEVICE"),
        key_function=device_key,
        scope="device",
        exempt_when=lambda: not device_key(),
    ),
    ApplicationLimit(
        _setting("WORKSHOP_RATELIMIT_ADDRESS"), key_function=address_key, scope="address"
    ),
    ApplicationLimit(
        _setting("WORKSHOP_RATELIMIT_SUBMIT"),
        key_function=participant_key,
        scope="submit",
        methods=["POST", "PATCH"],
        # Counted after the response, and only when it stored something (`_stored`).
        deduct_when=_stored,
        exempt_when=_only(SUBMIT_ENDPOINTS, participant_key),
    ),
    ApplicationLimit(
        _setting("WORKSHOP_RATELIMIT_DOTS"),
        key_function=participant_key,
        scope="dots",
        methods=["PUT"],
        exempt_when=_only(DOTS_ENDPOINTS, participant_key),
    ),
    ApplicationLimit(
        _setting("WORKSHOP_RATELIMIT_HINTS"),
        key_function=participant_key,
        scope="hints",
        methods=["POST"],
        exempt_when=_only(HINT_ENDPOINTS, participant_key),
    ),
    ApplicationLimit(
        _setting("WORKSHOP_RATELIMIT_READS"),
        key_function=address_key,
        scope="reads",
        methods=["GET", "HEAD"],
        exempt_when=lambda: request.endpoint not in READ_ENDPOINTS,
    ),
    ApplicationLimit(
        _setting("WORKSHOP_RATELIMIT_JOIN"),
        key_function=address_key,
        scope="join",
        # Counted after the response, and only when it really created a participant.
        deduct_when=_joined,
        exempt_when=lambda: request.endpoint not in JOIN_ENDPOINTS or _returning(),
    ),
    ApplicationLimit(
        _setting("WORKSHOP_RATELIMIT_CODE_LOOKUP"),
        key_function=address_key,
        scope="lookup",
        # Counted only when the code named no event: guessing codes is slow, a hall is not.
        deduct_when=_unknown_code,
        exempt_when=lambda: request.endpoint not in LOOKUP_ENDPOINTS,
    ),
]

#: Request limits per device and per address, and login throttling (web/auth.py); storage from
#: RATELIMIT_STORAGE_URI (WORKSHOP_RATELIMIT_STORAGE_URL).
limiter = Limiter(key_func=address_key, application_limits=APPLICATION_LIMITS)

#: Settings that hold limit strings; checked at start-up, so a typo fails there, not per request.
LIMIT_SETTINGS = (
    "WORKSHOP_RATELIMIT_DEVICE",
    "WORKSHOP_RATELIMIT_ADDRESS",
    "WORKSHOP_RATELIMIT_SUBMIT",
    "WORKSHOP_RATELIMIT_DOTS",
    "WORKSHOP_RATELIMIT_HINTS",
    "WORKSHOP_RATELIMIT_JOIN",
    "WORKSHOP_RATELIMIT_CODE_LOOKUP",
    "WORKSHOP_RATELIMIT_READS",
    "WORKSHOP_RATELIMIT_LOGIN",
    "WORKSHOP_RATELIMIT_LOGIN_ADDRESS",
)


def init_app(app: Flask) -> None:
    """Check the limit settings, then count requests (a typo fails at start, not per request)."""
    for name in LIMIT_SETTINGS:
        try:
            parse_many(app.config[name])
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from exc
    limiter.init_app(app)


# -- Socket events ----------------------------------------------------------------------------


@dataclass
class Bucket:
    tokens: float
    stamp: float


class Buckets:
    """Token buckets by key: each holds up to `burst` tokens and gets `per_minute` back a minute.

    A full bucket is the same as none, so full ones are forgotten now and then: memory stays
    bounded by the callers that were busy lately.
    """

    #: Buckets kept before full ones are swept out.
    SWEEP_AT = 10_000

    def __init__(self, burst: float, per_minute: float) -> None:
        self.burst = float(burst)
        self.rate = per_minute / 60.0
        self._buckets: dict[object, Bucket] = {}
        self._lock = threading.Lock()

    def _level(self, bucket: Bucket, now: float) -> float:
        return min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)

    def take(self, key: object, now: float | None = None) -> bool:
        """Spend one token of `key`'s bucket; False when it is empty (nothing is spent then)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.SWEEP_AT:
                    self._sweep(now)
                bucket = self._buckets[key] = Bucket(self.burst, now)
            bucket.tokens, bucket.stamp = self._level(bucket, now), now
            if bucket.tokens < 1:
                return False
            bucket.tokens -= 1
            return True

    def forget(self, key: object) -> None:
        with self._lock:
            self._buckets.pop(key, None)

    def __len__(self) -> int:
        return len(self._buckets)

    def _sweep(self, now: float) -> None:
        full = [key for key, b in self._buckets.items() if self._level(b, now) >= self.burst]
        for key in full:
            del self._buckets[key]


class OpenCount:
    """Open connections by key (an address's hash, a device), up to `cap` each (0: no cap)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: Counter[Hashable] = Counter()
        self._lock = threading.Lock()

    def open(self, key: Hashable | None) -> bool:
        """Count one more connection of `key`; False (nothing counted) when it has `cap`."""
        if key is None:
            return True
        with self._lock:
            if self.cap and self._open[key] >= self.cap:
                return False
            self._open[key] += 1
            return True

    def close(self, key: Hashable | None) -> None:
        if key is None:
            return
        with self._lock:
            self._open[key] -= 1
            if self._open[key] <= 0:
                del self._open[key]

    def __getitem__(self, key: Hashable) -> int:
        return self._open.get(key, 0)


class SocketLimits:
    """One app's limits on live connections: buckets for incoming events per connection and per
    device, and how many connections an address and a device may hold open."""

    #: A device may have several tabs or screens open and reconnects after sleeping.
    DEVICE_FACTOR = 3

    def __init__(
        self,
        burst: int,
        per_minute: int,
        flood: int,
        per_address: int = 0,
        per_device: int = 0,
    ) -> None:
        self.connections = Buckets(burst, per_minute)
        self.devices = Buckets(burst * self.DEVICE_FACTOR, per_minute * self.DEVICE_FACTOR)
        self.flood = flood
        self.open_addresses = OpenCount(per_address)
        self.open_devices = OpenCount(per_device)

    def admit(self, address: str, device: Hashable | None) -> bool:
        """Count a new connection from `address` and `device`, unless either has its cap."""
        if not self.open_addresses.open(address):
            return False
        if not self.open_devices.open(device):
            self.open_addresses.close(address)
            return False
        return True

    def release(self, address: str, device: Hashable | None) -> None:
        self.open_addresses.close(address)
        self.open_devices.close(device)

    @classmethod
    def for_app(cls, app: Flask) -> SocketLimits | None:
        """The app's socket limits, or None when rate limiting is switched off."""
        if not app.config.get("RATELIMIT_ENABLED", True):
            return None
        limits = app.extensions.get("workshop.socket_limits")
        if limits is None:
            limits = app.extensions["workshop.socket_limits"] = cls(
                app.config["WORKSHOP_RATELIMIT_SOCKET_BURST"],
                app.config["WORKSHOP_RATELIMIT_SOCKET_PER_MINUTE"],
                app.config["WORKSHOP_RATELIMIT_SOCKET_FLOOD"],
                app.config["WORKSHOP_SOCKETS_PER_ADDRESS"],
                app.config["WORKSHOP_SOCKETS_PER_DEVICE"],
            )
        return limits
