"""What several views share: the JSON body, local redirects, the join link."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l

from workshop.errors import WorkshopError


def json_body() -> Any:
    try:
        data = request.get_json(force=True, silent=True)
    except RecursionError:
        # Deeply nested arrays exhaust the JSON parser's stack; that is bad input, not a crash.
        data = None
    if data is None:
        raise WorkshopError("invalid_json", _l("The request body must be valid JSON."))
    return data


def safe_next(target: str | None, fallback: str = "participant.enter_code") -> str:
    """A local path to go to after a form (`?next=`); anything else (another host, `//host`,
    `\\\\host`, `/\\thost` with a control character) goes to the fallback endpoint."""
    if (
        target
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and "\\" not in target
        and not any(ord(char) < 32 for char in target)
    ):
        return target
    return url_for(fallback)


def join_url(code: str) -> str:
    """The address phones open: the configured public URL, else the one this request came to."""
    base = current_app.config.get("WORKSHOP_PUBLIC_URL") or request.host_url.rstrip("/")
    return base + url_for("participant.event_page", code=code)
