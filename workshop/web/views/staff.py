"""Staff pages for the administration: the printable report and the export downloads."""

from __future__ import annotations

from flask import Blueprint, Response, request

from workshop.results import exports
from workshop.web.auth import managed

bp = Blueprint("staff", __name__)


def _download(result: exports.Export, inline: bool = False) -> Response:
    response = Response(result.content, mimetype=result.media_type)
    response.headers.set(
        "Content-Disposition", "inline" if inline else "attachment", filename=result.filename
    )
    # Results are for the event's staff only: no shared cache may keep a copy.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/events/<code>/report")
def report(code: str):
    event = managed(code)[0]
    snap = exports.snapshot(event)
    exports.prepare_pdf(snap)
    response = Response(exports.report_html(snap))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/events/<code>/report.pdf")
def report_pdf(code: str):
    return _download(exports.export(managed(code)[0], "pdf"), inline=True)


@bp.get("/api/v1/events/<code>/export")
def export(code: str):
    """The event's results as a download: ?format=csv|xlsx|json|pdf (docs/export-format.md)."""
    event = managed(code)[0]
    return _download(exports.export(event, request.args.get("format")))
