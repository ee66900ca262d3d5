"""Pages for attendees on their phones: enter a code, then the event page."""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from markupsafe import Markup

from workshop import i18n
from workshop.db.models import Event, Participant
from workshop.domain import (
    affiliations,
    joins,
    participants,
    queries,
    rules,
    schemas,
    seats,
    similarity,
    suggestions,
)
from workshop.errors import WorkshopError
from workshop.live.kept import kept_views, state
from workshop.results import exports
from workshop.web.auth import staff_session, visible_event

bp = Blueprint("participant", __name__)

COOKIE_MAX_AGE = 30 * 24 * 3600


@bp.get("/")
def enter_code():
    code = request.args.get("code", "").strip()
    error = None
    if code:
        try:
            event = visible_event(code)
        except WorkshopError as exc:
            error = exc
        else:
            return redirect(url_for("participant.event_page", code=event.code))
    return render_template("participant/enter.html", code=code, error=error), 404 if error else 200


def own_pending(event: Event, participant: Participant) -> list[dict]:
    """The participant's cards waiting for approval, which the public snapshot leaves out."""
    cards = [
        suggestions.get_in_event(event, card_id)
        for card_id in schemas.me_json(participant)["suggestions"]
    ]
    return [
        {**schemas.one_json(event, card), "mine": True, "my_dots": 0}
        for card in cards
        if card.status == "pending" and card.merged_into_id is None
    ]


@bp.get("/j/<code>")
def event_page(code: str):
    event = visible_event(code)
    # A seat card's link carries its code: `/j/<code>?seat=KXR4M7HQTA`.
    seat = request.args.get("seat", "")[:40]
    if event.code != code:
        return redirect(url_for("participant.event_page", code=event.code, seat=seat or None))
    # No choice on this device and no offered language in the browser's list: the event's own.
    i18n.use_event_default(event.default_language)
    cookie = participants.cookie_name(event.code)
    participant = participants.by_token(event, request.cookies.get(cookie))
    if results_page_due(event):
        # The outcome is public: nobody joins to read it, and no seat code stays in the address.
        if seat:
            return redirect(url_for("participant.event_page", code=event.code))
        return results_page(event, participant)
    token = None
    if participant is None:
        if event.seat_codes_required and not seat.strip():
            return seat_page(event, seat, None)
        try:
            bucket = joins.bucket(event.id, request.remote_addr)
            participant, token = participants.join(event, seat, bucket, staff=staff_session())
        except WorkshopError as exc:
            return seat_page(event, seat, exc)
    if seat:
        # Joined (or already in): drop the code from the address, so that a reload or a shared
        # link never carries it.
        response = redirect(url_for("participant.event_page", code=event.code))
    else:
        response = make_response(
            render_template(
                "participant/event.html",
                event=event,
                own_pending=own_pending(event, participant),
                affiliation_choices=affiliations.to_ask(event, participant),
                limits={"title": suggestions.TITLE_MAX, "body": suggestions.BODY_MAX},
                # Without an engine the page asks for no hints while its owner types.
                similarity=similarity.enabled(),
            )
        )
    if token:
        response.set_cookie(
            cookie,
            token,
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def seat_page(event: Event, seat: str, error: WorkshopError | None):
    """Ask for the code on the card; after a refused code, say why (and keep what was typed)."""
    code = seats.normalise(seat)
    response = make_response(
        render_template(
            "participant/seat.html",
            event=event,
            seat=seats.display(code) if code else seat,
            error=error,
        ),
        error.status if error else 200,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def results_page_due(event: Event) -> bool:
    """Whether the link shows the results instead of the phone app (WORKSHOP_PUBLIC_RESULTS)."""
    return bool(current_app.config["WORKSHOP_PUBLIC_RESULTS"]) and rules.results_public(event)


def results_page(event: Event, participant: Participant | None):
    """The outcome in the reader's language, printable and without JavaScript: the overall top
    ten, the ranking per area, and what became of this phone's own cards."""
    trail = queries.follow_ups(event.code)
    snap, context, ranking = shared_results(event, trail)
    language = exports.report_language(snap)
    own = own_fates(event, participant, snap, language) if participant is not None else []
    page = {**context, "event": event, "own": own, "ranking": ranking}
    response = make_response(render_template("participant/results.html", **page))
    response.headers["Cache-Control"] = "no-store"
    return response


def shared_results(event: Event, trail: dict) -> tuple[exports.Snapshot, dict, Markup]:
    """The snapshot, the page's context and its ranking (rendered) in this language, made once
    per state of the event and of the follow-up events' phases and titles, and shared by every
    reader (so not to be changed): 120 phones reloading cost one read and one ranking."""
    at = state(event.id, event.code, queries.trail_key(trail))

    kept = kept_views(current_app)

    def make() -> tuple[exports.Snapshot, dict, Markup]:
        # One snapshot for every language: for a large event it is the biggest part.
        snap = kept.get(event.id, at, "results-snapshot", lambda: exports.snapshot(event))
        context = exports.report_context(snap)
        page = {**context, "event": event, "onward_steps": trail}
        return snap, context, Markup(render_template("participant/results_ranking.html", **page))

    return kept.get(event.id, at, f"results-page-{get_locale()}", make)


def own_fates(
    event: Event, participant: Participant, snap: exports.Snapshot, language: str
) -> list[dict]:
    """The phone's own cards with what became of each, as the results page words it."""
    ranked = {
        card.id: (card.rank, card.dots)
        for group in snap.groups
        for card in group.cards
        if card.status == "visible"
    }
    names = exports.report_texts(snap, language)["areas"]
    fates = []
    for fate in queries.mine(event, participant, ranked):
        card = snap.cards[fate["id"]]
        carried = fate["dots"] is not None
        carrier = snap.cards[fate["merged_into"] or card.id]
        fates.append(
            {
                **fate,
                "kind": fate_kind(fate, carried),
                "shown": exports.shown(snap, card, language),
                # Only a public card is named: a hidden one's title stays with staff.
                "into": exports.shown(snap, carrier, language) if carried else None,
                "area": area_name(names, carrier.area_id),
            }
        )
    return fates


def fate_kind(fate: dict, carried: bool) -> str:
    """Which sentence the page says about an own card (see templates/participant/results.html)."""
    if fate["status"] == "merged":
        return "merged" if carried else "merged_away"
    if not carried:
        return fate["status"]
    return "ranked" if fate["rank"] is not None else "unranked"


def area_name(names: dict, area_id: int | None) -> tuple[str, str]:
    """An area's name and `lang` in the page's language (the cards without one: "No area")."""
    if area_id in names:
        return names[area_id]
    return exports.area_label(exports.Group(None, None, exports.NO_AREA_COLOR)), ""
