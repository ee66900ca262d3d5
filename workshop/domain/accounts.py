"""Staff accounts: creation, administration, password check and signed API tokens.

Every session and token carries the account's credential version; bumping it (new password,
new role, deactivation, logout) revokes them all at once, on every device.
"""

from __future__ import annotations

import re
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
from workshop.engines import offhub
from workshop.errors import Conflict, Forbidden, NotFound, Unauthorized
from workshop.extensions import db
from workshop.signals import access_changed

TOKEN_SALT = "workshop-api-token"
TOKEN_PREFIX = "staff."
SESSION_ID = re.compile(r"[0-9]+:[0-9]+")
#: What an unknown user name's password is checked against, so that it costs as much as a known
#: one's (same method and parameters as generate_password_hash; tests/test_credentials.py checks).
DUMMY_HASH = (
    "scrypt:32768:8:1$6SIFZrkynRUWB837$bc26c35059cfe07e5827e022227f8e7db931d667e3bdab13b8f06b0"
    "84086c29b2d9d440fe2ceed40c69636e3abb1fbf9cf14cfa178a31605f3fcc4af8d1c215f"
)


def hash_password(password: str) -> str:
    """The scrypt hash of a password, computed off eventlet's hub (it takes a tenth of a second
    of C code that would stop every other connection meanwhile)."""
    return offhub.run(generate_password_hash, password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash; off the hub like hash_password."""
    return offhub.run(check_password_hash, password_hash, password)


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
    password_hash = hash_password(password)
    with write_transaction():
        if db.session.scalar(sa.select(User.id).where(User.username == username)):
            raise Conflict("username_taken", _l("This user name is already taken."))
        user = User(username=username, password_hash=password_hash, role=role)
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
    """Refuse to demote, deactivate or delete the last active administrator."""
    admins = db.session.scalar(
        sa.select(sa.func.count(User.id)).where(User.role == "admin", User.active)
    )
    if user.role == "admin" and user.active and admins <= 1:
        raise Conflict("last_admin", _l("The last administrator must stay an administrator."))


def _bump(user: User) -> None:
    """Revoke every session and token of this account (inside the caller's transaction); the
    counter is raised in SQL so that two revocations at once both count."""
    user.credential_version = User.credential_version + 1


def revoke_credentials(user_id: int) -> None:
    """Log an account out on every device: its sessions, tokens and live connections end."""
    with write_transaction():
        _bump(_get_user(user_id))
    access_changed.send(None, user_id=user_id)


def set_role(actor: User, user_id: Any, role: Any) -> User:
    """Make an account an admin, a moderator or a helper; the last admin stays one."""
    require_admin(actor)
    role = validation.choice(role, "role", ROLES)
    with write_transaction():
        user = _get_user(user_id)
        if role != user.role:
            _check_not_last_admin(user)
            user.role = role
            _bump(user)
    access_changed.send(None, user_id=user.id)
    return user


def reset_password(actor: User, user_id: Any, password: Any) -> User:
    """Give an account a new password (told to its owner by the admin)."""
    require_admin(actor)
    password_hash = hash_password(_password(password))
    with write_transaction():
        user = _get_user(user_id)
        user.password_hash = password_hash
        _bump(user)
    access_changed.send(None, user_id=user.id)
    return user


def set_active(actor: User, user_id: Any, active: Any) -> User:
    """Deactivate an account (it can no longer log in, its sessions and tokens end) or bring it
    back; unlike deletion it keeps its name in the audit log and its events, and can be undone."""
    require_admin(actor)
    if not isinstance(active, bool):
        raise validation.invalid("active", _l("Please choose yes or no."))
    actor_id = actor.id
    with write_transaction():
        user = _get_user(user_id)
        if not active and user.id == actor_id:
            raise Conflict("deactivate_self", _l("You cannot deactivate your own account."))
        if not active:
            _check_not_last_admin(user)
        if active != user.active:
            user.active = active
            _bump(user)
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
    """Return the active user with these credentials, or refuse without saying which part was
    wrong. An unknown name costs the same scrypt work as a known one, so that timing does not
    tell which names exist; a deactivated account is refused like a wrong password."""
    user = db.session.scalar(sa.select(User).where(User.username == str(username)))
    password_hash = user.password_hash if user is not None else DUMMY_HASH
    matches = verify_password(password_hash, str(password))
    if user is None or not matches or not user.active:
        raise Unauthorized("invalid_credentials", _l("Wrong user name or password."))
    return user


def user_from_session(value: str) -> User | None:
    """The active user a login session names, or None when it was revoked since. A plain id
    (sessions from before credential versions) counts as version 0."""
    user_id, _, version = value.partition(":")
    version = version or "0"
    if not (SESSION_ID.fullmatch(f"{user_id}:{version}") and validation.known_id(int(user_id))):
        return None
    user = db.session.get(User, int(user_id))
    return user if _current(user, int(version)) else None


def _current(user: User | None, version: Any) -> bool:
    """Whether a credential with this version still admits this user."""
    return user is not None and user.active and user.credential_version == version


def token_serializer() -> URLSafeTimedSerializer:
    """What signs and reads staff bearer tokens (after their prefix)."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def issue_token(user: User) -> str:
    """A signed, expiring bearer token for the JSON API."""
    return TOKEN_PREFIX + token_serializer().dumps({"user": user.id, "v": user.credential_version})


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
    if not isinstance(data, dict) or not validation.known_id(data.get("user")):
        raise Unauthorized("invalid_token", _l("The access token is not valid."))
    user = db.session.get(User, data["user"])
    # Tokens from before credential versions carry none: version 0, revoked by the first bump.
    if not _current(user, data.get("v", 0)):
        raise Unauthorized("token_revoked", _l("Your login has ended. Please log in again."))
    return user
