"""Staff pages: log in, list and create events, and a plain page to run one event."""

from __future__ import annotations

import segno
from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup

from workshop import i18n, validation
from workshop.db.models import MODERATION_MODES, PHASES
from workshop.domain import (
    accounts,
    areas,
    audit,
    events,
    merging,
    queries,
    rules,
    schemas,
    seats,
    suggestions,
)
from workshop.errors import WorkshopError
from workshop.extensions import socketio
from workshop.web.auth import login_throttle, managed
from workshop.web.helpers import join_url, safe_next

bp = Blueprint("moderator", __name__)


@bp.route("/login", methods=["GET", "POST"])
@login_throttle
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
            # Only local paths: an open redirect after login would help phishing.
            return redirect(safe_next(request.args.get("next"), "moderator.dashboard"))
    return render_template("moderator/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("moderator.login"))


@bp.get("/moderate/")
@login_required
def dashboard():
    listed = events.events_for(current_user)
    return render_template(
        "moderator/dashboard.html",
        events=[event for event in listed if event.archived_at is None],
        archived=[event for event in listed if event.archived_at is not None],
        template_areas="\n".join(events.TEMPLATE_INTEGRATION_2014),
    )


@bp.post("/moderate/")
@login_required
def create_event():
    areas = [line.strip() for line in request.form.get("areas", "").splitlines() if line.strip()]
    data = {"title": request.form.get("title", ""), "question": request.form.get("question", "")}
    # A named template, or (no choice) the list typed into the form.
    if request.form.get("template"):
        data["template"] = request.form["template"]
    else:
        data["areas"] = areas
    try:
        event = events.create_event(current_user, data)
    except WorkshopError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("moderator.dashboard"))
    flash(_("The event has been created."), "success")
    return redirect(url_for("moderator.event_page", code=event.code))


@bp.get("/moderate/<code>")
@login_required
def event_page(code: str):
    """The live console; it reads everything from the live stream and writes through the API."""
    event = managed(code)[0]
    return render_template(
        "moderator/console.html",
        event=event,
        phases=PHASES,
        join_url=join_url(event.code),
        audit_labels={action: str(label) for action, label in audit.ACTION_LABELS.items()},
    )


@bp.get("/moderate/<code>/plain")
@login_required
def plain_page(code: str):
    """The same work without JavaScript: server-rendered, one form per action."""
    event = managed(code)[0]
    cards = schemas.list_json(event, staff=True)
    return render_template(
        "moderator/event.html",
        event=event,
        phases=PHASES,
        cards=cards,
        mergeable=[card for card in cards if "merge" in rules.CARD_ACTIONS[card["status"]]],
        results=queries.results(event),
        join_url=join_url(event.code),
    )


@bp.post("/moderate/<code>/action")
@login_required
def action(code: str):
    """One form endpoint for the plain page's buttons; each calls one domain function."""
    event = managed(code)[0]
    form = request.form
    name = form.get("action", "")
    try:
        card = int(form.get("card", "0") or 0)
        if name == "phase":
            events.update_event(event, {"phase": form.get("phase", "")}, user=current_user)
        elif name == "move":
            area = form.get("area_id", "")
            suggestions.update(
                event, card, {"area_id": int(area) if area else None}, user=current_user
            )
        elif name in ("hide", "show"):
            status = "hidden" if name == "hide" else "visible"
            suggestions.update(event, card, {"status": status}, user=current_user)
        elif name == "merge":
            merging.merge(event, card, int(form.get("into", "0") or 0), user=current_user)
        elif name == "unmerge":
            merging.unmerge(event, card, user=current_user)
        else:
            flash(_("Unknown action."), "error")
    except WorkshopError as exc:
        flash(str(exc.message), "error")
    except ValueError:
        flash(_("Please choose a card."), "error")
    return redirect(url_for("moderator.plain_page", code=event.code))


@bp.post("/moderate/<code>/duplicate")
@login_required
def duplicate(code: str):
    copy = events.duplicate_event(managed(code)[0], current_user)
    flash(_("The event has been copied."), "success")
    return redirect(url_for("moderator.event_page", code=copy.code))


@bp.post("/moderate/<code>/archive")
@login_required
def archive(code: str):
    """Archive (`archived=1`) or bring back (`archived=0`) an event."""
    archived = request.form.get("archived") == "1"
    events.update_event(managed(code)[0], {"archived": archived}, user=current_user)
    flash(
        _("The event has been archived.") if archived else _("The event is active again."),
        "success",
    )
    return redirect(url_for("moderator.dashboard"))


@bp.post("/moderate/<code>/delete")
@login_required
def delete(code: str):
    """Delete an event for good, once its code has been typed in as confirmation."""
    event = managed(code)[0]
    if events.normalise_code(request.form.get("confirm", "")) != event.code:
        flash(_("Type the event's code to confirm that it should be deleted."), "error")
        return redirect(url_for("moderator.dashboard"))
    events.delete_event(event)
    flash(_("The event has been deleted."), "success")
    return redirect(url_for("moderator.dashboard"))


def _form_int(name: str) -> int | str:
    """A number from a form; text that is not one goes to the domain check, which names it."""
    value = request.form.get(name, "").strip()
    return int(value) if value.isdigit() else value


def _position() -> int | str:
    # People count areas from 1; the event stores positions from 0.
    position = _form_int("position")
    return position - 1 if isinstance(position, int) else position


@bp.get("/moderate/<code>/settings")
@login_required
def settings_page(code: str):
    """Texts, rules, languages and areas of an event, as plain forms."""
    event = managed(code)[0]
    return render_template(
        "moderator/settings.html",
        event=event,
        settings=schemas.settings_json(event),
        moderation_modes=MODERATION_MODES,
        languages=i18n.languages(),
        seat_counts=seats.counts(event),
        seat_limit=seats.MAX_PER_REQUEST,
    )


@bp.post("/moderate/<code>/settings")
@login_required
def save_settings(code: str):
    """Save one of the settings page's forms through the same domain functions as the API."""
    event = managed(code)[0]
    form = request.form
    part = form.get("part", "")
    try:
        if part == "event":
            events.update_event(
                event,
                {
                    "title": form.get("title", ""),
                    "question": form.get("question", ""),
                    "settings": {
                        "vote_budget": _form_int("vote_budget"),
                        "max_dots_per_suggestion": _form_int("max_dots_per_suggestion"),
                        "max_suggestions_per_participant": _form_int(
                            "max_suggestions_per_participant"
                        ),
                        "moderation": form.get("moderation", ""),
                        "hide_counts_while_voting": form.get("hide_counts_while_voting") == "on",
                        "seat_codes_required": form.get("seat_codes_required") == "on",
                        "default_language": form.get("default_language", ""),
                        "board_languages": form.getlist("board_languages"),
                    },
                },
                user=current_user,
            )
        elif part == "area_add":
            areas.create_area(event, {"name": form.get("name", "")}, current_user)
        elif part == "area":
            area_id = _form_int("area")
            if form.get("delete"):
                areas.delete_area(event, area_id, current_user)
            else:
                areas.update_area(
                    event,
                    area_id,
                    {
                        "name": form.get("name", ""),
                        "color": form.get("color", ""),
                        "position": _position(),
                    },
                    current_user,
                )
        else:
            flash(_("Unknown action."), "error")
            return redirect(url_for("moderator.settings_page", code=event.code))
    except WorkshopError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("moderator.settings_page", code=event.code))


def _qr_svg(url: str) -> Markup:
    """A QR code as inline SVG, sized by the stylesheet (it has a viewBox and no fixed size)."""
    return Markup(segno.make(url, error="m").svg_inline(scale=1, border=2, omitsize=True))


@bp.get("/moderate/<code>/seats")
@login_required
def seats_page(code: str):
    """The sheet exists only as the answer to generating codes; the settings page makes them."""
    return redirect(url_for("moderator.settings_page", code=managed(code)[0].code, _anchor="seats"))


@bp.post("/moderate/<code>/seats")
@login_required
def generate_seats(code: str):
    """Make seat codes and answer with their printable sheet: the only time they can be read."""
    event = managed(code)[0]
    try:
        codes = seats.generate(
            event,
            {
                "count": _form_int("count"),
                "replace_unused": request.form.get("replace_unused") == "on",
            },
            current_user,
        )
    except WorkshopError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("moderator.settings_page", code=event.code, _anchor="seats"))
    base = join_url(event.code)
    cards = []
    for seat in codes:
        url = f"{base}?seat={seat}"
        cards.append({"code": seats.display(seat), "qr": _qr_svg(url)})
        # A QR code takes a few milliseconds of CPU; under eventlet, let the live connections
        # run in between instead of stalling them for the whole sheet.
        socketio.sleep(0)
    response = make_response(
        render_template(
            "moderator/seats.html",
            event=event,
            cards=cards,
            counts=seats.counts(event),
            join_url=base,
        )
    )
    # The plain codes exist only in this page; no cache should keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response
