"""Staff pages: log in, list and create events, and a plain page to run one event."""

from __future__ import annotations

from collections.abc import Callable

import segno
from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup

from workshop import i18n, validation
from workshop.db.models import MODERATION_MODES, PHASES
from workshop.domain import (
    accounts,
    affiliations,
    areas,
    audit,
    events,
    merging,
    queries,
    rules,
    schemas,
    seats,
    similarity,
    suggestions,
    translations,
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
            start = "helper.home" if user.is_helper else "moderator.dashboard"
            return redirect(safe_next(request.args.get("next"), start))
    return render_template("moderator/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout():
    """Log out on every device: the account's other sessions, its tokens and its live
    connections end too (a copied session cookie is worth nothing afterwards)."""
    if current_user.is_authenticated:
        accounts.revoke_credentials(current_user.id)
    logout_user()
    flash(_("You have been logged out on all devices."), "success")
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
    # The form starts events in preparation unless "open now" is ticked (the API's default
    # phase stays `collect`, for the clients that rely on it).
    data["phase"] = "collect" if request.form.get("open_now") else "draft"
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
    if event.phase == "draft":
        flash(
            _(
                "The event has been created as a draft: participants see nothing of it until "
                "you open it."
            ),
            "success",
        )
    else:
        flash(_("The event has been created."), "success")
    return redirect(url_for("moderator.event_page", code=event.code))


def _page(template: str, event, **context):
    """A staff page of one event: the phases in order, and the link phones open."""
    return render_template(
        template, event=event, phases=PHASES, join_url=join_url(event.code), **context
    )


@bp.get("/moderate/<code>")
@login_required
def event_page(code: str):
    """The live console; it reads everything from the live stream and writes through the API."""
    labels = {action: str(label) for action, label in audit.ACTION_LABELS.items()}
    return _page(
        "moderator/console.html",
        managed(code)[0],
        audit_labels=labels,
        # Without an engine the console says that hints are off, and asks for none.
        similarity=similarity.enabled(),
    )


@bp.get("/moderate/<code>/plain")
@login_required
def plain_page(code: str):
    """The same work without JavaScript: server-rendered, one form per action."""
    event = managed(code)[0]
    cards = schemas.list_json(event, staff=True)
    return _page(
        "moderator/event.html",
        event,
        cards=cards,
        mergeable=[card for card in cards if "merge" in rules.CARD_ACTIONS[card["status"]]],
        results=queries.results(event, staff=True),
    )


def _move(event, card: int, form) -> None:
    area = form.get("area_id", "")
    suggestions.update(event, card, {"area_id": int(area) if area else None}, user=current_user)


def _status(status: str) -> Callable:
    return lambda event, card, _form: suggestions.update(
        event, card, {"status": status}, user=current_user
    )


#: The plain page's buttons: each calls one domain function with (event, card id, form).
PLAIN_ACTIONS: dict[str, Callable] = {
    "phase": lambda event, _card, form: events.update_event(
        event, {"phase": form.get("phase", "")}, user=current_user
    ),
    "move": _move,
    "hide": _status("hidden"),
    "show": _status("visible"),
    "merge": lambda event, card, form: merging.merge(
        event, card, int(form.get("into", "0") or 0), user=current_user
    ),
    "unmerge": lambda event, card, _form: merging.unmerge(event, card, user=current_user),
}


@bp.post("/moderate/<code>/action")
@login_required
def action(code: str):
    """One form endpoint for the plain page's buttons."""
    event = managed(code)[0]
    run = PLAIN_ACTIONS.get(request.form.get("action", ""))
    try:
        if run is None:
            flash(_("Unknown action."), "error")
        else:
            run(event, int(request.form.get("card", "0") or 0), request.form)
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
    return _page(
        "moderator/settings.html",
        event,
        settings=schemas.settings_json(event),
        moderation_modes=MODERATION_MODES,
        languages=i18n.languages(),
        texts=_texts(event),
        translation_on=translations.enabled(),
        seat_counts=seats.counts(event),
        seat_limit=seats.MAX_PER_REQUEST,
        suggested_affiliations=[str(name) for name in affiliations.SUGGESTED],
        max_affiliations=affiliations.MAX_AFFILIATIONS,
    )


def _save_event(event, form) -> None:
    settings = {
        name: _form_int(name)
        for name in ("vote_budget", "max_dots_per_suggestion", "max_suggestions_per_participant")
    }
    # An empty field turns balanced voting off.
    settings["max_dots_per_area"] = _form_int("max_dots_per_area") or None
    settings.update(
        moderation=form.get("moderation", ""),
        hide_counts_while_voting=form.get("hide_counts_while_voting") == "on",
        seat_codes_required=form.get("seat_codes_required") == "on",
        default_language=form.get("default_language", ""),
        board_languages=form.getlist("board_languages"),
    )
    # Checkboxes send nothing when none is ticked: only a form that showed them may clear them.
    if form.get("language_lists"):
        settings.update(
            languages=form.getlist("languages"),
            board_translations=form.getlist("board_translations"),
        )
    data = {"title": form.get("title", ""), "question": form.get("question", "")}
    events.update_event(event, {**data, "settings": settings}, user=current_user)


def _save_affiliations(event, form) -> None:
    """The list of affiliations, one per line; an empty field turns the question off."""
    lines = [line for line in form.get("affiliations", "").splitlines() if line.strip()]
    events.update_event(event, {"settings": {"affiliations": lines}}, user=current_user)


def _save_area(event, form) -> None:
    area_id = _form_int("area")
    if form.get("delete"):
        areas.delete_area(event, area_id, current_user)
        return
    data = {"name": form.get("name", ""), "color": form.get("color", ""), "position": _position()}
    areas.update_area(event, area_id, data, current_user)


def _texts(event) -> dict:
    """The question and the area names in the event's other languages, as the form shows them:
    {"languages": [...], "question": {lang: text}, "areas": {area id: {lang: name}}}."""
    source = translations.base(event.default_language)
    return {
        "languages": [code for code in translations.targets(event) if code != source],
        "question": {row.language: row.question for row in event.translations},
        "areas": {
            area.id: {row.language: row.name for row in area.translations} for area in event.areas
        },
    }


def _save_texts(event, form) -> None:
    """The texts table: one input per language for the question and for each area's name."""
    languages = _texts(event)["languages"]
    data = {
        "question": {lang: form.get(f"question-{lang}", "") for lang in languages},
        "areas": {
            str(area.id): {lang: form.get(f"area-{area.id}-{lang}", "") for lang in languages}
            for area in event.areas
        },
    }
    translations.set_texts(event, data, current_user)


#: The settings page's forms, by their `part`: each calls the domain functions the API calls.
SETTINGS_FORMS: dict[str, Callable] = {
    "event": _save_event,
    "area_add": lambda event, form: areas.create_area(
        event, {"name": form.get("name", "")}, current_user
    ),
    "area": _save_area,
    "texts": _save_texts,
    "affiliations": _save_affiliations,
}


@bp.post("/moderate/<code>/settings")
@login_required
def save_settings(code: str):
    """Save one of the settings page's forms."""
    event = managed(code)[0]
    save = SETTINGS_FORMS.get(request.form.get("part", ""))
    if save is None:
        flash(_("Unknown action."), "error")
        return redirect(url_for("moderator.settings_page", code=event.code))
    try:
        save(event, request.form)
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
