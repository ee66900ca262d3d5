"""The projected board: read-only, no login."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, current_app, render_template, request, url_for

from .. import events

bp = Blueprint("board", __name__, url_prefix="/board")


def join_url(code: str) -> str:
    """The address phones open: the configured public URL, else the one this request came to."""
    base = current_app.config.get("WORKSHOP_PUBLIC_URL") or request.host_url.rstrip("/")
    return base + url_for("participant.event_page", code=code)


@bp.get("/<code>")
def board(code: str):
    event = events.get_event(code)
    return render_template("board/board.html", event=event, join_url=join_url(event.code))


@bp.get("/<code>/qr.svg")
def qr(code: str):
    event = events.get_event(code)
    buffer = io.BytesIO()
    segno.make(join_url(event.code), error="m").save(
        buffer, kind="svg", scale=8, border=2, xmldecl=False, svgns=True, title=event.code
    )
    return Response(buffer.getvalue(), mimetype="image/svg+xml")
