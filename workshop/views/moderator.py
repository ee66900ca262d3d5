"""Staff pages: log in, list and create events, and a plain page to run one event."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import accounts, events, suggestions, validation, voting
from ..errors import WorkshopError
from ..models import PHASES
from .board import join_url

bp = Blueprint("moderator", __name__)


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after login would help phishing.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("moderator.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            user = accounts.authenticate(
                *validation.credentials(
                    request.form.get("username", ""), request.form.get("password", "")
                )
            )
        except WorkshopError as exc:
            error = exc
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("moderator/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("moderator.login"))


@bp.get("/moderate/")
@login_required
def dashboard():
    return render_template(
        "moderator/dashboard.html",
        events=events.events_for(current_user),
        template_areas="\n".join(events.TEMPLATE_INTEGRATION_2014),
    )


@bp.post("/moderate/")
@login_required
def create_event():
    areas = [line.strip() for line in request.form.get("areas", "").splitlines() if line.strip()]
    try:
        event = events.create_event(
            current_user,
            {
                "title": request.form.get("title", ""),
                "question": request.form.get("question", ""),
                "areas": areas,
            },
        )
    except WorkshopError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("moderator.dashboard"))
    flash(_("The event has been created."), "success")
    return redirect(url_for("moderator.event_page", code=event.code))


def _managed(code: str):
    event = events.get_event(code)
    events.require_manager(current_user, event)
    return event


@bp.get("/moderate/<code>")
@login_required
def event_page(code: str):
    event = _managed(code)
    return render_template(
        "moderator/event.html",
        event=event,
        phases=PHASES,
        cards=suggestions.list_json(event, staff=True),
        results=voting.results(event),
        join_url=join_url(event.code),
    )


@bp.post("/moderate/<code>/action")
@login_required
def action(code: str):
    """One form endpoint for the plain page's buttons; each calls one domain function."""
    event = _managed(code)
    form = request.form
    name = form.get("action", "")
    try:
        card = int(form.get("card", "0") or 0)
        if name == "phase":
            events.update_event(event, {"phase": form.get("phase", "")})
        elif name == "move":
            area = form.get("area_id", "")
            suggestions.update(
                event, card, {"area_id": int(area) if area else None}, user=current_user
            )
        elif name in ("hide", "show"):
            status = "hidden" if name == "hide" else "visible"
            suggestions.update(event, card, {"status": status}, user=current_user)
        elif name == "merge":
            suggestions.merge(event, card, int(form.get("into", "0") or 0))
        elif name == "unmerge":
            suggestions.unmerge(event, card)
        else:
            flash(_("Unknown action."), "error")
    except WorkshopError as exc:
        flash(str(exc.message), "error")
    except ValueError:
        flash(_("Please choose a card."), "error")
    return redirect(url_for("moderator.event_page", code=event.code))
