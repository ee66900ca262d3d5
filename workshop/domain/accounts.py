"""Staff accounts: creation, administration, password check and signed API tokens."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from workshop import validation
from workshop.db.engine import write_transaction
from workshop.db.models import ROLES, User
from workshop.errors import Conflict, Forbidden, NotFound, Unauthorized
from workshop.extensions import db
from workshop.signals import access_changed

TOKEN_SALT = "workshop-api-token"
TOKEN_PREFIX = "staff."


def _password(password: Any) -> str:
    password = validation.text(password, "password", max_length=200)
    if len(password) < 8:
        raise validation.invalid("password", _l("The password must have at least 8 characters."))
    return password


def create_user(username: str, password: str, role: str = "moderator") -> User:
    """Create a staff account; the password is stored as a scrypt hash."""
    username = validation.text(username, "username", max_length=64)
    password = _password(password)
    role = validation.choice(role, "role", ROLES)
    with write_transaction():
        if db.session.scalar(sa.select(User.id).where(User.username == username)):
            raise Conflict("username_taken", _l("This user name is already taken."))
        user = User(username=username, password_hash=generate_password_hash(password), role=role)
        db.session.add(user)
    return user


def require_admin(actor: User | None) -> None:
    if actor is None or not actor.is_admin:
        raise Forbidden("forbidden", _l("Only administrators may manage staff accounts."))


def list_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.username)))


def _get_user(user_id: Any) -> User:
    user = db.session.get(User, user_id) if validation.known_id(user_id) else None
    if user is None:
        raise NotFound("user_not_found", _l("This staff account does not exist."))
    return user


def _check_not_last_admin(user: User) -> None:
    admins = db.session.scalar(sa.select(sa.func.count(User.id)).where(User.role == "admin"))
    if user.role == "admin" and admins <= 1:
        raise Conflict("last_admin", _l("The last administrator must stay an administrator."))


def set_role(actor: User, user_id: Any, role: Any) -> User:
    """Make an account an admin or a moderator; the last admin stays one."""
    require_admin(actor)
    role = validation.choice(role, "role", ROLES)
    with write_transaction():
        user = _get_user(user_id)
        if role != user.role:
            _check_not_last_admin(user)
            user.role = role
    access_changed.send(None, user_id=user.id)
    return user


def reset_password(actor: User, user_id: Any, password: Any) -> User:
    """Give an account a new password (told to its owner by the admin)."""
    require_admin(actor)
    password = _password(password)
    with write_transaction():
        user = _get_user(user_id)
        user.password_hash = generate_password_hash(password)
    access_changed.send(None, user_id=user.id)
    return user


def delete_user(actor: User, user_id: Any) -> None:
    """Delete an account; its events stay (for admins), its audit entries lose the name."""
    require_admin(actor)
    actor_id = actor.id
    with write_transaction():
        user = _get_user(user_id)
        if user.id == actor_id:
            raise Conflict("delete_self", _l("You cannot delete your own account."))
        _check_not_last_admin(user)
        user_id = user.id
        db.session.execute(sa.delete(User).where(User.id == user_id))
    access_changed.send(None, user_id=user_id)


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


def token_serializer() -> URLSafeTimedSerializer:
    """What signs and reads staff bearer tokens (after their prefix)."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def issue_token(user: User) -> str:
    """A signed, expiring bearer token for the JSON API."""
    return TOKEN_PREFIX + token_serializer().dumps({"user": user.id})


def is_staff_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def user_from_token(token: str) -> User:
    """The staff user a bearer token names; refuses expired, forged or orphaned tokens."""
    try:
        data = token_serializer().loads(
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
