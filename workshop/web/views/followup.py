"""The staff page that makes a follow-up event from chosen cards (domain/followup.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from workshop.domain import events, followup, queries
from workshop.errors import WorkshopError
from workshop.web.auth import managed

bp = Blueprint("followup", __name__)


@bp.get("/moderate/<code>/follow-up")
@login_required
def page(code: str):
    """The event's cards by area and rank, each with a checkbox, and the new event's title;
    after a follow-up was made, a link to its console."""
    event = managed(code)[0]
    made = None
    if request.args.get("made"):
        try:
            made = events.get_event(request.args["made"])
            events.require_manager(current_user, made)
        except WorkshopError:
            made = None
    return render_template(
        "followup/page.html", event=event, results=queries.results(event, staff=True), made=made
    )


@bp.post("/moderate/<code>/follow-up")
@login_required
def create(code: str):
    event, user = managed(code)
    chosen = [value for value in request.form.getlist("suggestions") if value.isdigit()]
    data = {"title": request.form.get("title", ""), "suggestions": [int(v) for v in chosen]}
    try:
        made = followup.create_follow_up(event, data, user)
    except WorkshopError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("followup.page", code=event.code))
    return redirect(url_for("followup.page", code=event.code, made=made.code))
