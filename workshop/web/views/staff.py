"""Staff pages for the administration: the printable report and the export downloads."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, make_response, render_template, request

from workshop.results import exports, handover, pdf
from workshop.web.auth import managed, wants_json

bp = Blueprint("staff", __name__)


def _download(result: exports.Export, inline: bool = False) -> Response:
    response = Response(result.content, mimetype=result.media_type)
    response.headers.set(
        "Content-Disposition", "inline" if inline else "attachment", filename=result.filename
    )
    # Results are for the event's staff only: no shared cache may keep a copy.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.errorhandler(pdf.Unavailable)
def report_unavailable(error: pdf.Unavailable) -> Response:
    """No PDF now (a render failed recently, or others take long): 503 with Retry-After, as
    JSON for the API and as a page in the user's language for the report's link."""
    if wants_json():
        response = make_response(jsonify(error.to_json()), error.status)
    else:
        response = make_response(render_template("error.html", error=error), error.status)
    response.headers["Retry-After"] = str(error.retry_after)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/events/<code>/report")
def report(code: str):
    response = Response(exports.report_page(managed(code)[0]))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/events/<code>/report.pdf")
def report_pdf(code: str):
    return _download(exports.export(managed(code)[0], "pdf"), inline=True)


@bp.get("/api/v1/events/<code>/export")
def export(code: str):
    """The event's results as a download: ?format=csv|xlsx|json|pdf, or zip for the handover
    package (docs/export-format.md)."""
    event = managed(code)[0]
    return _download(handover.export(event, request.args.get("format")))
