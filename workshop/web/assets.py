"""Static files and HTTP caching: versioned static URLs kept a year, compressed text, fresh pages.

Every static URL carries one version, a hash of the whole static folder:
`url_for("static", filename="js/participant.js")` is `/static/v/<version>/js/participant.js`. The
modules import each other by relative URL (`./dom.js`, `../vendor/...`), so their imports resolve
under the same version without any change to the scripts, and a change to any file changes every
URL: a browser never mixes old and new modules. The plain `/static/<file>` still works, revalidated
on every use.

Text responses (pages, CSS, scripts, JSON, SVG) are compressed by Flask-Compress, brotli or gzip as
the client accepts; compressed static files are kept in memory, one copy per file and encoding.
Streamed responses are left alone. Socket.IO never reaches Flask (its middleware answers first)
and compresses its own long-polling responses.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Request, current_app, request, send_from_directory
from flask.sessions import SecureCookieSessionInterface
from flask_compress import Compress

#: How long browsers keep a versioned static file: a year, the usual ceiling.
STATIC_MAX_AGE = 365 * 24 * 3600

COMPRESS_SETTINGS = {
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ],
    # Brotli first: 6 takes about 1 ms for the 40 KB Socket.IO client, 8 % smaller than 4.
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 6,
    "COMPRESS_LEVEL": 6,
    # A stream (a download written as it is made) stays a stream, uncompressed.
    "COMPRESS_STREAMS": False,
}


def folder_version(folder: str | Path) -> str:
    """A short hash of every file's path and content under `folder`."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _is_current(version: str | None) -> bool:
    return version == current_app.config["WORKSHOP_STATIC_VERSION"] and not current_app.debug


def static_file(filename: str, version: str | None = None):
    """Serve a static file; under the current version with a year's cache, else revalidated."""
    cached = _is_current(version)
    response = send_from_directory(
        current_app.static_folder,
        filename,
        max_age=STATIC_MAX_AGE if cached else None,
        conditional=False,
    )
    if cached:
        response.cache_control.immutable = True
    # Read into memory (the files are small) so that Flask-Compress treats it as a whole
    # response, not a stream; answers If-None-Match with 304 (no byte ranges).
    file = response.response
    try:
        response.direct_passthrough = False
        response.set_data(b"".join(file))
    finally:
        file.close()
    return response.make_conditional(request)


class StaticCompressionCache:
    """Flask-Compress's cache, holding only current static files (keyed by encoding and path)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not key.endswith(";"):
            self.data[key] = value


def static_cache_key(req: Request) -> str:
    """The path of a current static file; "" (not kept) for anything else."""
    if req.endpoint == "static" and _is_current((req.view_args or {}).get("version")):
        return req.path
    return ""


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, left out of static responses.

    Flask-Login looks at the session after every request, which would add `Vary: Cookie` to static
    files too: browsers would fetch them again whenever a cookie changes.
    """

    def save_session(self, app, session, response) -> None:
        if request.endpoint != "static":
            super().save_session(app, session, response)

    def get_signing_serializer(self, app):
        """Flask's serializer, made once per key: Flask makes it for every request and every
        Socket.IO event, and tries an encoding each time (a twentieth of a phone's connection in
        a reconnect storm, issue 19)."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = getattr(self, "_kept", None)
        if kept is None or kept[0] != keys:
            kept = self._kept = (keys, super().get_signing_serializer(app))
        return kept[1]


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    version = folder_version(app.static_folder)
    app.config["WORKSHOP_STATIC_VERSION"] = version
    app.add_url_rule(f"{app.static_url_path}/v/<version>/<path:filename>", endpoint="static")
    app.view_functions["static"] = static_file

    @app.url_defaults
    def add_static_version(endpoint: str, values: dict) -> None:
        if endpoint == "static":
            values.setdefault("version", version)

    @app.after_request
    def revalidate_pages(response):
        # Pages carry a fresh CSRF token each time: caches must ask again before reusing one.
        if response.mimetype == "text/html" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-cache"
        return response

    for key, value in COMPRESS_SETTINGS.items():
        app.config.setdefault(key, value)
    app.config.setdefault("COMPRESS_CACHE_BACKEND", StaticCompressionCache)
    app.config.setdefault("COMPRESS_CACHE_KEY", static_cache_key)
    Compress(app)
