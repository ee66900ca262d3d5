"""Settings with defaults, overridden by WORKSHOP_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_secret_key(instance_path: Path) -> str:
    """Return WORKSHOP_SECRET_KEY, or a key generated once and kept in the instance folder."""
    if key := os.environ.get("WORKSHOP_SECRET_KEY"):
        return key
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
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
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": load_secret_key(instance_path),
        "WORKSHOP_ASYNC_MODE": os.environ.get("WORKSHOP_ASYNC_MODE", "threading"),
        "WORKSHOP_PUBLIC_URL": os.environ.get("WORKSHOP_PUBLIC_URL", "").rstrip("/"),
        "WORKSHOP_ADMIN_PASSWORD": os.environ.get("WORKSHOP_ADMIN_PASSWORD"),
        "WORKSHOP_MESSAGE_QUEUE": os.environ.get("WORKSHOP_MESSAGE_QUEUE") or None,
        "WORKSHOP_TOKEN_MAX_AGE": int(os.environ.get("WORKSHOP_TOKEN_MAX_AGE", 12 * 3600)),
        "SESSION_COOKIE_SECURE": _env_bool("WORKSHOP_SECURE_COOKIES", False),
        # memory:// counts per process; several workers need a shared store (redis://…).
        "RATELIMIT_STORAGE_URI": os.environ.get("WORKSHOP_RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_ENABLED": _env_bool("WORKSHOP_RATELIMIT_ENABLED", True),
        "WORKSHOP_CONTACT": os.environ.get("WORKSHOP_CONTACT") or None,
    }


#: Defaults every app starts from; `from_environment` and the test config override them.
DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "WTF_CSRF_CHECK_DEFAULT": False,
    "WTF_CSRF_TIME_LIMIT": None,
    "BABEL_DEFAULT_LOCALE": "de",
    "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
    "MAX_CONTENT_LENGTH": 64 * 1024,
    #: Offered languages, in the switcher's order; `de@simple` is plain German (Einfache Sprache).
    "WORKSHOP_LANGUAGES": ["de", "de@simple", "en", "ar", "fa", "uk", "ru"],
    #: Who takes feedback on accessibility and privacy, named on those two pages.
    "WORKSHOP_CONTACT": None,
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
    "RATELIMIT_HEADERS_ENABLED": True,
    #: Login attempts per client address and user name, and per client address alone.
    "WORKSHOP_LOGIN_LIMIT": "10 per minute",
    "WORKSHOP_LOGIN_ADDRESS_LIMIT": "60 per minute",
}
