"""What several views share: the JSON body, local redirects, the join link."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

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


#: A local path as a browser reads it: one slash, then no slash or backslash, then printable
#: ASCII only (browsers drop tabs and line breaks and read a backslash as `/`, so `/<tab>/host`,
#: `/<backslash>host` and `//host` would all lead to another site).
LOCAL_PATH = re.compile(r"/(?![/\\])[!-~]*")


def safe_next(target: str | None, fallback: str = "participant.enter_code") -> str:
    """A local path to go to after a form (`?next=`); anything else (another host or scheme,
    `//host`, a backslash, whitespace or a control character anywhere) goes to the fallback
    endpoint."""
    if (
        isinstance(target, str)
        and LOCAL_PATH.fullmatch(target)
        and "\\" not in target
        and not urlsplit(target).netloc
    ):
        return target
    return url_for(fallback)


def join_url(code: str) -> str:
    """The address phones open: the configured public URL, else the one this request came to."""
    base = current_app.config.get("WORKSHOP_PUBLIC_URL") or request.host_url.rstrip("/")
    return base + url_for("participant.event_page", code=code)
