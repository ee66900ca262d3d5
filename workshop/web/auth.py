"""Who is asking: staff (bearer token or login session) or a participant (token or cookie).

A request with an `Authorization` header is judged by that header alone (an empty or malformed
one is refused, never helped out by cookies); only requests that rely on cookies need, and get,
the CSRF check.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    session,
)
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from workshop import validation
from workshop.db.models import Event, Participant, User
from workshop.domain import accounts, events, participants
from workshop.errors import Forbidden, Unauthorized, WorkshopError
from workshop.extensions import csrf, db, login
from workshop.web.helpers import safe_next
from workshop.web.limits import address_key, limiter, login_key, note_unknown_code

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: Routes that take credentials rather than relying on them.
CSRF_EXEMPT_ENDPOINTS = {"api.create_token"}
#: Everything a helper account may use: the one place that says so (check_helper). A helper
#: files paper cards and gives dots on behalf at the desk; no console, moderation, settings,
#: exports, reports, board control or accounts, and not the participant pages either.
HELPER_ENDPOINTS = frozenset(
    {
        "static",
        "healthz",
        "moderator.login",
        "moderator.logout",
        "pages.choose_language",
        "pages.privacy",
        "pages.accessibility",
        "api.create_token",
        "api.openapi",
        "helper.home",
        "helper.paper_page",
        "api.paper_submit",
        "api.paper_withdraw",
        "api.desk_seat",
        "api.desk_dots",
        # Only to add the photo of a paper card (domain/photos.py decides).
        "api.put_photo",
    }
)


def bearer_token() -> str | None:
    """The bearer token of this request, None when it sends no `Authorization` header at all;
    any other header (empty, another scheme, a malformed token) is refused."""
    if "Authorization" not in request.headers:
        return None
    scheme, _, token = request.headers["Authorization"].partition(" ")
    if scheme.lower() == "bearer" and (token := validation.token(token.strip())):
        return token
    raise Unauthorized("invalid_token", _l("The access token is not valid."))


def current_staff() -> User | None:
    """The staff user behind this request, or None."""
    token = bearer_token()
    if token is not None:
        return accounts.user_from_token(token) if accounts.is_staff_token(token) else None
    return current_user if current_user.is_authenticated else None


def staff_session() -> bool:
    """Whether a staff login session is open in this browser (no bearer token): a moderator's
    test phone, which never counts as a participant (queries.COUNTED)."""
    return "Authorization" not in request.headers and current_user.is_authenticated


def require_staff() -> User:
    user = current_staff()
    if user is None:
        raise Unauthorized("login_required", _l("Please log in as staff."))
    return user


def managed(code: str) -> tuple[Event, User]:
    """The event and the staff user managing it (staff checked first: an anonymous caller
    learns nothing about which codes exist)."""
    user = require_staff()
    event = events.get_event(code)
    events.require_manager(user, event)
    return event, user


def visible_event(code: str) -> Event:
    """The event with this code as this caller may see it (a draft: only its staff); an unknown
    code is noted for the per-address lookup limit (limits.py)."""
    try:
        return events.require_visible(events.get_event(code), current_staff())
    except WorkshopError:
        note_unknown_code()
        raise


def participant_token(code: str) -> str | None:
    """The participant token this request carries for the event with this code (None for a
    staff token)."""
    token = bearer_token()
    if token is not None:
        return None if accounts.is_staff_token(token) else token
    return validation.token(request.cookies.get(participants.cookie_name(code)))


def current_participant(event: Event) -> Participant | None:
    return participants.by_token(event, participant_token(event.code))


def require_participant(event: Event) -> Participant:
    participant = current_participant(event)
    if participant is None:
        raise participants.not_joined()
    return participant


def login_throttle(view: Callable) -> Callable:
    """Limit login attempts (POST only): failed ones per address and user name, and all per
    address.

    The counters are shared by every login route (form and API token), so that alternating
    between them gains a password guesser nothing. Counting only failures per user name lets
    a colleague log in twice; the address limit, counted before the password is checked, caps
    how many guesses can run at once."""
    view = limiter.shared_limit(
        lambda: current_app.config["WORKSHOP_RATELIMIT_LOGIN"],
        scope="login",
        key_func=login_key,
        methods=["POST"],
        deduct_when=lambda response: response.status_code == 401,
    )(view)
    return limiter.shared_limit(
        lambda: current_app.config["WORKSHOP_RATELIMIT_LOGIN_ADDRESS"],
        scope="login-address",
        key_func=address_key,
        methods=["POST"],
    )(view)


def retry_after() -> int:
    """Whole seconds until the limit this request broke lets it through again."""
    limit = limiter.current_limit
    if limit is None:
        return 60
    reset_time = limit.window[0]
    return max(1, math.ceil(reset_time - time.time()))


def _rate_limited():
    seconds = retry_after()
    error = WorkshopError(
        "rate_limited",
        _l("Too many requests. Please wait a moment."),
        status=429,
        retry_after=seconds,
    )
    if wants_json():
        response = make_response(jsonify(error.to_json()), 429)
    else:
        # Forms: a page that says how long to wait and leads back to where the form was.
        page = render_template("rate_limited.html", error=error, seconds=seconds, back=_back())
        response = make_response(page, 429)
    response.headers["Retry-After"] = str(seconds)
    return response


def _back() -> str:
    """The page the refused form was on (same site only), else the start page."""
    referrer = urlsplit(request.referrer or "")
    path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return safe_next(path if referrer.netloc == request.host else None)


def forget_address(_app, **_extra) -> None:
    """Drop the hash of the client's address Flask-Login puts into the session at login."""
    session.pop("_id", None)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _error_response(error: WorkshopError):
    if wants_json():
        return jsonify(error.to_json()), error.status
    return render_template("error.html", error=error), error.status


def init_app(app: Flask) -> None:
    login.login_view = "moderator.login"
    login.login_message = _l("Please log in as staff.")
    # Flask-Login's "basic" protection only marks a session not fresh (nothing here asks for a
    # fresh login), and it keeps a hash of the client's IP address in the session cookie; we
    # switch it off and drop that hash, which Flask-Login still writes at every login
    # (forget_address).
    login.session_protection = None
    login.user_loader(load_user)
    if proxies := app.config.get("WORKSHOP_TRUSTED_PROXIES", 0):
        # Behind reverse proxies every request comes from the proxy: take the client's address
        # from X-Forwarded-For instead, as far as these proxies vouch for it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)
    app.before_request(check_csrf)
    app.before_request(check_helper)
    app.register_error_handler(WorkshopError, on_workshop_error)
    app.register_error_handler(CSRFError, on_csrf_error)
    app.register_error_handler(RateLimitExceeded, on_rate_limited)
    app.register_error_handler(HTTPException, on_http_error)
    app.register_error_handler(Exception, on_unexpected)


def load_user(session_id: str) -> User | None:
    """The user of a login session ("id:version"), unless it was revoked since."""
    return accounts.user_from_session(session_id)


def check_helper() -> None:
    """Refuse a helper account every route outside HELPER_ENDPOINTS (the routes themselves check
    the event: domain/events.can_help)."""
    if request.endpoint in HELPER_ENDPOINTS:
        return
    try:
        user = current_staff()
    except Unauthorized:
        # Not a valid staff login: no helper either. Each route answers such credentials as
        # before (a participant's route never read them).
        return
    if user is not None and user.is_helper:
        raise Forbidden("helper_only", _l("Helpers may only enter paper cards and dots."))


def check_csrf() -> None:
    if request.method not in UNSAFE_METHODS or request.endpoint in CSRF_EXEMPT_ENDPOINTS:
        return
    # Forms always carry a token (also the first login, against login CSRF). API calls need
    # one only when they rely on cookies: a call that presents a well-formed bearer token is
    # judged by that token alone, and any other Authorization header is refused here, before
    # a cookie could stand in for it.
    if request.path.startswith("/api/") and bearer_token() is not None:
        return
    if not request.path.startswith("/api/") or request.cookies:
        csrf.protect()


def on_workshop_error(error: WorkshopError):
    db.session.rollback()
    return _error_response(error)


def on_csrf_error(_error: CSRFError):
    return _error_response(
        WorkshopError(
            "csrf_failed",
            _l("The form has expired. Please reload the page and try again."),
            status=400,
        )
    )


def on_rate_limited(_error: RateLimitExceeded):
    db.session.rollback()
    return _rate_limited()


#: HTTP errors as the API and the pages name them.
HTTP_ERRORS = {
    400: ("bad_request", _l("The request could not be understood.")),
    404: ("not_found", _l("This page does not exist.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    413: ("too_large", _l("The request is too large.")),
}


def on_http_error(error: HTTPException):
    code, message = HTTP_ERRORS.get(
        error.code, ("bad_request", _l("The request could not be handled."))
    )
    return _error_response(WorkshopError(code, message, status=error.code or 400))


def on_unexpected(error: Exception):
    # Logged with its traceback; the client sees a plain message, never internals.
    current_app.logger.exception("Unhandled error", exc_info=error)
    db.session.rollback()
    return _error_response(
        WorkshopError("internal_error", _l("Something went wrong on the server."), status=500)
    )
