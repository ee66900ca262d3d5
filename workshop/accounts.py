"""Staff accounts: creation, password check and signed API tokens."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from . import validation
from .database import write_transaction
from .errors import Conflict, Unauthorized
from .extensions import db
from .models import ROLES, User

TOKEN_SALT = "workshop-api-token"
TOKEN_PREFIX = "staff."


def create_user(username: str, password: str, role: str = "moderator") -> User:
    """Create a staff account; the password is stored as a scrypt hash."""
    username = validation.text(username, "username", max_length=64)
    password = validation.text(password, "password", max_length=200)
    if len(password) < 8:
        raise validation.invalid("password", _l("The password must have at least 8 characters."))
    role = validation.choice(role, "role", ROLES)
    with write_transaction():
        if db.session.scalar(sa.select(User.id).where(User.username == username)):
            raise Conflict("username_taken", _l("This user name is already taken."))
        user = User(username=username, password_hash=generate_password_hash(password), role=role)
        db.session.add(user)
    return user


def ensure_admin(password: str | None) -> str | None:
    """Create the first admin account `admin` when there is no staff account yet.

    Returns the generated password (to be printed once) when none was given.
    """
    if db.session.scalar(sa.select(User.id).limit(1)) is not None:
        return None
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    create_user("admin", password, role="admin")
    return generated


def authenticate(username: str, password: str) -> User:
    """Return the user with these credentials, or refuse without saying which part was wrong."""
    user = db.session.scalar(sa.select(User).where(User.username == str(username)))
    if user is None or not check_password_hash(user.password_hash, str(password)):
        raise Unauthorized("invalid_credentials", _l("Wrong user name or password."))
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def issue_token(user: User) -> str:
    """A signed, expiring bearer token for the JSON API."""
    return TOKEN_PREFIX + _serializer().dumps({"user": user.id})


def is_staff_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def user_from_token(token: str) -> User:
    """The staff user a bearer token names; refuses expired, forged or orphaned tokens."""
    try:
        data = _serializer().loads(
            token.removeprefix(TOKEN_PREFIX), max_age=current_app.config["WORKSHOP_TOKEN_MAX_AGE"]
        )
    except SignatureExpired as exc:
        raise Unauthorized(
            "token_expired", _l("Your login has expired. Please log in again.")
        ) from exc
    except BadSignature as exc:
        raise Unauthorized("invalid_token", _l("The access token is not valid.")) from exc
    user = db.session.get(User, data.get("user")) if isinstance(data, dict) else None
    if user is None:
        raise Unauthorized("invalid_token", _l("The access token is not valid."))
    return user
