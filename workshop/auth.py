"""Who is asking: staff (bearer token or login session) or a participant (token or cookie).

A request with an `Authorization` header is judged by that header alone; only requests that rely
on cookies need, and get, the CSRF check.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from . import accounts, participants
from .errors import Unauthorized, WorkshopError
from .extensions import csrf, db, limiter, login
from .models import Event, Participant, User

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: Routes that take credentials rather than relying on them.
CSRF_EXEMPT_ENDPOINTS = {"api.create_token"}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if header:
        raise Unauthorized("invalid_token", _l("The access token is not valid."))
    return None


def current_staff() -> User | None:
    """The staff user behind this request, or None."""
    token = bearer_token()
    if token is not None:
        return accounts.user_from_token(token) if accounts.is_staff_token(token) else None
    return current_user if current_user.is_authenticated else None


def require_staff() -> User:
    user = current_staff()
    if user is None:
        raise Unauthorized("login_required", _l("Please log in as staff."))
    return user


def current_participant(event: Event) -> Participant | None:
    token = bearer_token()
    if token is not None:
        return None if accounts.is_staff_token(token) else participants.by_token(event, token)
    return participants.by_token(event, request.cookies.get(participants.cookie_name(event.code)))


def require_participant(event: Event) -> Participant:
    participant = current_participant(event)
    if participant is None:
        raise Unauthorized(
            "not_joined", _l("Please join the event first (scan the QR code or enter the code).")
        )
    return participant


def _login_key() -> str:
    """Client address and the user name tried, so that guessing one account's password is slow
    while colleagues behind the same address can still log in."""
    data = request.get_json(silent=True) if request.is_json else request.form
    username = data.get("username") if hasattr(data, "get") else None
    username = username.strip().lower()[:64] if isinstance(username, str) else ""
    return f"{get_remote_address()}|{username}"


def login_throttle(view: Callable) -> Callable:
    """Limit login attempts (POST only): per address and user name, and per address alone."""
    view = limiter.limit(
        lambda: current_app.config["WORKSHOP_LOGIN_LIMIT"], key_func=_login_key, methods=["POST"]
    )(view)
    return limiter.limit(
        lambda: current_app.config["WORKSHOP_LOGIN_ADDRESS_LIMIT"], methods=["POST"]
    )(view)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _error_response(error: WorkshopError):
    if wants_json():
        return jsonify(error.to_json()), error.status
    return render_template("error.html", error=error), error.status


def init_app(app: Flask) -> None:
    login.login_view = "moderator.login"
    login.login_message = _l("Please log in as staff.")

    @login.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None

    @app.before_request
    def check_csrf() -> None:
        if request.method not in UNSAFE_METHODS or request.endpoint in CSRF_EXEMPT_ENDPOINTS:
            return
        # Forms always carry a token (also the first login, against login CSRF); API calls need
        # one only when they rely on cookies rather than an Authorization header.
        api = request.path.startswith("/api/")
        if not api or ("Authorization" not in request.headers and request.cookies):
            csrf.protect()

    @app.errorhandler(WorkshopError)
    def on_workshop_error(error: WorkshopError):
        db.session.rollback()
        return _error_response(error)

    @app.errorhandler(CSRFError)
    def on_csrf_error(_error: CSRFError):
        return _error_response(
            WorkshopError(
                "csrf_failed",
                _l("The form has expired. Please reload the page and try again."),
                status=400,
            )
        )

    @app.errorhandler(HTTPException)
    def on_http_error(error: HTTPException):
        messages = {
            400: _l("The request could not be understood."),
            404: _l("This page does not exist."),
            405: _l("This method is not allowed here."),
            413: _l("The request is too large."),
            429: _l("Too many requests. Please wait a moment."),
        }
        code = {
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            429: "too_many_requests",
        }.get(error.code, "bad_request")
        message = messages.get(error.code, _l("The request could not be handled."))
        return _error_response(WorkshopError(code, message, status=error.code or 400))

    @app.errorhandler(Exception)
    def on_unexpected(error: Exception):
        # Logged with its traceback; the client sees a plain message, never internals.
        app.logger.exception("Unhandled error", exc_info=error)
        db.session.rollback()
        return _error_response(
            WorkshopError("internal_error", _l("Something went wrong on the server."), status=500)
        )
