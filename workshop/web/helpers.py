"""What several views share: the JSON body, local redirects, the join link."""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.sansio.utils import host_is_trusted

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
    """The address phones open: the configured public URL, else the one this request came to
    if its Host header names this machine (`trusted_host`); any other Host is refused, so a
    forged header cannot put someone else's address on the board, the QR code or seat cards."""
    base = current_app.config.get("WORKSHOP_PUBLIC_URL")
    if not base:
        if not trusted_host(request.host):
            raise WorkshopError(
                "untrusted_host",
                _l(
                    "This server does not know the address %(host)s. Set WORKSHOP_PUBLIC_URL "
                    "(or WORKSHOP_TRUSTED_HOSTS) to the address people use.",
                    host=request.host[:100],
                ),
            )
        base = request.host_url
    return base.rstrip("/") + url_for("participant.event_page", code=code)


def trusted_host(host: str) -> bool:
    """Whether a Host header (with or without port) names this machine: an IP address,
    localhost, the machine's own names, or one of WORKSHOP_TRUSTED_HOSTS ("plenum.example.org",
    ".example.org" for it and its subdomains)."""
    if host.startswith("["):  # an IPv6 address, with or without a port
        name = host[1:].partition("]")[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.rstrip(".").lower()
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    trusted = [*_own_names(), *current_app.config.get("WORKSHOP_TRUSTED_HOSTS", ())]
    return host_is_trusted(name, trusted)


@functools.cache
def _own_names() -> tuple[str, ...]:
    """localhost and this machine's names (with its mDNS name, as phones on a LAN may use)."""
    short, full = socket.gethostname().lower(), socket.getfqdn().lower()
    return ("localhost", ".localhost", short, full, f"{short}.local")
