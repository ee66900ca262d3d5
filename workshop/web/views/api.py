"""The JSON API (`/api/v1`), documented in docs/api.md."""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from workshop import validation
from workshop.db.models import Event, Participant, Suggestion
from workshop.domain import (
    accounts,
    areas,
    audit,
    events,
    followup,
    joins,
    merging,
    paper,
    participants,
    photos,
    queries,
    rules,
    schemas,
    seats,
    similarity,
    suggestions,
    translations,
    voting,
)
from workshop.errors import Forbidden, WorkshopError
from workshop.live import lists
from workshop.live.messages import PUBLIC, STAFF
from workshop.web.auth import (
    current_participant,
    current_staff,
    login_throttle,
    managed,
    participant_token,
    require_participant,
    require_staff,
    staff_session,
    visible_event,
)
from workshop.web.helpers import join_url, json_body
from workshop.web.limits import note_unknown_code

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: The OpenAPI 3.1 description of this blueprint's routes (and the staff export route).
OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.json"


@cache
def openapi_document() -> bytes:
    """The description as served: read once per process."""
    return OPENAPI_PATH.read_bytes()


def is_manager(event: Event) -> bool:
    return events.can_manage(current_staff(), event)


def card_json(event: Event, card: Suggestion, participant: Participant | None) -> dict:
    """One card for staff (no participant) or for a participant, with its personal marks."""
    data = schemas.one_json(event, card, staff=participant is None)
    return personal([data], participant)[0] if participant else data


def personal(cards: list[dict], participant: Participant) -> list[dict]:
    """Mark the participant's own cards and add the participant's dots on each."""
    me = schemas.me_json(participant)
    mine = set(me["suggestions"])
    for card in cards:
        card["mine"] = card["id"] in mine
        card["my_dots"] = me["dots"].get(str(card["id"]), 0)
    return cards


@bp.get("/openapi.json")
def openapi():
    return Response(openapi_document(), mimetype="application/json")


@bp.post("/auth/token")
@login_throttle
def create_token():
    data = validation.check_fields(json_body(), {"username", "password"}, {"username", "password"})
    user = accounts.authenticate(*validation.credentials(data["username"], data["password"]))
    return {"token": accounts.issue_token(user)}


@bp.post("/events")
def create_event():
    event = events.create_event(require_staff(), json_body())
    return schemas.event_json(event, staff=True), 201


@bp.get("/events/<code>")
def get_event(code: str):
    event = visible_event(code)
    return schemas.event_json(event, staff=is_manager(event))


@bp.patch("/events/<code>")
def update_event(code: str):
    event, user = managed(code)
    event = events.update_event(event, json_body(), user=user)
    return schemas.event_json(event, staff=True)


@bp.delete("/events/<code>")
def delete_event(code: str):
    events.delete_event(managed(code)[0])
    return "", 204


@bp.post("/events/<code>/duplicate")
def duplicate_event(code: str):
    event, user = managed(code)
    return schemas.event_json(events.duplicate_event(event, user), staff=True), 201


@bp.post("/events/<code>/follow-up")
def follow_up(code: str):
    event, user = managed(code)
    return schemas.event_json(followup.create_follow_up(event, json_body(), user), staff=True), 201


@bp.get("/events/<code>/audit")
def audit_log(code: str):
    event = managed(code)[0]
    return {"entries": audit.entries(event, request.args.get("limit"))}


@bp.post("/events/<code>/areas")
def create_area(code: str):
    event, user = managed(code)
    return schemas.area_json(areas.create_area(event, json_body(), user)), 201


@bp.patch("/events/<code>/areas/<int:area_id>")
def update_area(code: str, area_id: int):
    event, user = managed(code)
    return schemas.area_json(areas.update_area(event, area_id, json_body(), user))


@bp.delete("/events/<code>/areas/<int:area_id>")
def delete_area(code: str, area_id: int):
    event, user = managed(code)
    areas.delete_area(event, area_id, user)
    return "", 204


@bp.post("/events/<code>/participants")
def join(code: str):
    event = visible_event(code)
    events.require_open(event)
    # The body is optional: only events that require seat codes need one.
    data = json_body() if request.get_data(cache=True) else {}
    validation.check_fields(data, {"seat_code"})
    bucket = joins.bucket(event.id, request.remote_addr)
    staff = staff_session()
    participant, token = participants.join(event, data.get("seat_code"), bucket, staff=staff)
    return {"token": token, "dots_left": participant.dots_left}, 201


@bp.get("/events/<code>/joins")
def join_counts(code: str):
    """Joins by network (address bucket) for staff: makes vote stuffing visible."""
    event = managed(code)[0]
    stats = joins.stats(event, current_app.config["WORKSHOP_JOIN_WARNING"])
    return {**stats, "seats": seats.counts(event)}


@bp.get("/events/<code>/seats")
def seat_counts(code: str):
    event = managed(code)[0]
    return {"required": event.seat_codes_required, **seats.counts(event)}


@bp.post("/events/<code>/seats")
def generate_seats(code: str):
    event, user = managed(code)
    codes = seats.generate(event, json_body(), user)
    base = join_url(event.code)
    response = jsonify(
        {
            "seats": [
                {"code": seats.display(seat), "url": f"{base}?seat={seat}"} for seat in codes
            ],
            "required": event.seat_codes_required,
            **seats.counts(event),
        }
    )
    # The plain codes exist only in this answer; no cache should keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response, 201


@bp.get("/events/<code>/me")
def me(code: str):
    event = visible_event(code)
    return schemas.me_json(require_participant(event))


@bp.put("/events/<code>/participants/me/affiliation")
def choose_affiliation(code: str):
    """A participant's one answer to "who do you belong to": an entry of the list, or null."""
    event = visible_event(code)
    participant = participants.choose_affiliation(event, require_participant(event), json_body())
    return schemas.me_json(participant)


@bp.post("/events/<code>/suggestions")
def submit(code: str):
    event = visible_event(code)
    staff = current_staff()
    if events.can_manage(staff, event):
        card, created = suggestions.submit(event, json_body(), user=staff)
        return card_json(event, card, None), 201 if created else 200
    participant = require_participant(event)
    card, created = suggestions.submit(event, json_body(), participant=participant)
    return card_json(event, card, participant), 201 if created else 200


@bp.get("/events/<code>/suggestions")
def list_suggestions(code: str):
    """Every card the caller may see: the list encoded once per change, shared by all readers
    (domain/schemas.py `card_list`); a participant's own marks are spliced in."""
    event = visible_event(code)
    staff = is_manager(event)
    cards = schemas.card_list(event, STAFF if staff else PUBLIC)
    participant = None if staff else current_participant(event)
    coding = next((name for name in lists.CODINGS if request.accept_encodings[name]), None)
    if participant is None:
        return _shared_list(cards, coding)
    data = b'{"suggestions":' + schemas.marked_list(cards, participant) + b"}\n"
    return _encoded(lists.compress(data, coding, quick=True) if coding else data, coding)


def _shared_list(cards: lists.CardList, coding: str | None) -> Response:
    """The list every reader of this audience shares: made and compressed once per change, with
    an ETag (a reader that has it gets 304)."""
    etag = f"{cards.tag}.{coding or 'identity'}"
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        data = cards.shared(("api", coding), lambda: _card_document(cards.body, coding))
        response = _encoded(data, coding)
    response.set_etag(etag)
    response.vary.add("Accept-Encoding")
    return response


def _encoded(data: bytes, coding: str | None) -> Response:
    # Compressed here (Flask-Compress leaves a response with a Content-Encoding alone).
    response = Response(data, mimetype="application/json")
    response.vary.add("Accept-Encoding")
    if coding:
        response.headers["Content-Encoding"] = coding
    return response


def _card_document(cards: bytes, coding: str | None) -> bytes:
    document = b'{"suggestions":' + cards + b"}\n"
    return lists.compress(document, coding) if coding else document


@bp.patch("/events/<code>/suggestions/<int:suggestion_id>")
def update_suggestion(code: str, suggestion_id: int):
    event = visible_event(code)
    staff = current_staff()
    if events.can_manage(staff, event):
        card = suggestions.update(event, suggestion_id, json_body(), user=staff)
        return card_json(event, card, None)
    if staff is not None:
        raise Forbidden("forbidden", _l("You may not manage this event."))
    participant = require_participant(event)
    card = suggestions.update(event, suggestion_id, json_body(), participant=participant)
    return card_json(event, card, participant)


@bp.post("/events/<code>/suggestions/<int:suggestion_id>/merge")
def merge(code: str, suggestion_id: int):
    event, user = managed(code)
    data = validation.check_fields(json_body(), {"into"}, {"into"})
    target = merging.merge(event, suggestion_id, data["into"], user=user)
    return card_json(event, target, None)


@bp.post("/events/<code>/suggestions/<int:suggestion_id>/unmerge")
def unmerge(code: str, suggestion_id: int):
    event, user = managed(code)
    card = merging.unmerge(event, suggestion_id, user=user)
    return card_json(event, card, None)


# -- similar cards (domain/similarity.py) -------------------------------------------------------


@bp.get("/events/<code>/duplicates")
def duplicates(code: str):
    event, _ = managed(code)
    return similarity.duplicates(event)


@bp.post("/events/<code>/duplicates/dismiss")
def dismiss_duplicate(code: str):
    event, user = managed(code)
    return similarity.dismiss(event, json_body(), user)


@bp.get("/events/<code>/suggestions/<int:suggestion_id>/similar")
def similar_cards(code: str, suggestion_id: int):
    event = visible_event(code)
    public = not is_manager(event)
    if public:
        require_participant(event)
    return {"similar": similarity.similar_cards(event, suggestion_id, public=public)}


@bp.post("/events/<code>/similar")
def similar_to_text(code: str):
    event = visible_event(code)
    require_participant(event)
    return {"similar": similarity.hints(event, json_body())}


@bp.get("/events/<code>/groups")
def groups(code: str):
    event, _ = managed(code)
    return {"groups": similarity.groups(event, request.args.get("area_id"))}


@bp.get("/events/<code>/area-hints")
def area_hints(code: str):
    event, _ = managed(code)
    return {"hints": similarity.area_hints(event)}


# -- translations (domain/translations.py) ------------------------------------------------------


@bp.get("/events/<code>/translations")
def translation_status(code: str):
    event, _ = managed(code)
    return {
        "on": translations.enabled(),
        "pending": translations.pending(event),
        "languages": translations.targets(event),
    }


@bp.put("/events/<code>/suggestions/<int:suggestion_id>/translations/<language>")
def correct_translation(code: str, suggestion_id: int, language: str):
    event, user = managed(code)
    card = translations.correct(event, suggestion_id, language, json_body(), user)
    return card_json(event, card, None)


@bp.put("/events/<code>/texts")
def set_texts(code: str):
    event, user = managed(code)
    event = translations.set_texts(event, json_body(), user)
    return schemas.event_json(event, staff=True)


@bp.post("/events/<code>/texts/suggest")
def suggest_texts(code: str):
    event, _ = managed(code)
    return translations.suggest_texts(event)


@bp.put("/events/<code>/suggestions/<int:suggestion_id>/dots")
def set_dots(code: str, suggestion_id: int):
    # The event's stored code names the cookie; a code that is no code gets its 404 there.
    token = participant_token(events.normalise_code(code))
    return voting.set_dots(code, token, suggestion_id, json_body())


# -- photos of paper cards (domain/photos.py) ---------------------------------------------------

#: The one route that takes more than MAX_CONTENT_LENGTH (64 KB): a photo, multipart/form-data.
PHOTO_UPLOAD = "api.put_photo"


@bp.url_value_preprocessor
def _photo_upload_limit(endpoint: str | None, _values: dict | None) -> None:
    # Runs before every before_request function, so the CSRF check (which reads the form of a
    # cookie-authenticated request) already parses the upload under the photo's own limit.
    if endpoint == PHOTO_UPLOAD:
        request.max_content_length = current_app.config["WORKSHOP_PHOTO_MAX_BYTES"]


@bp.put("/events/<code>/suggestions/<int:suggestion_id>/photo")
def put_photo(code: str, suggestion_id: int):
    user = require_staff()
    event = events.get_event(code)
    if not user.is_helper:  # a helper's right depends on the card: store() decides
        photos.require_handler(user, event)
    try:
        upload = request.files.get("photo")
    except RequestEntityTooLarge:
        raise photos.too_large(current_app.config["WORKSHOP_PHOTO_MAX_BYTES"]) from None
    data = upload.read() if upload else b""
    photos.store(event, suggestion_id, data, user)
    return card_json(event, suggestions.get_in_event(event, suggestion_id), None)


@bp.get("/events/<code>/suggestions/<int:suggestion_id>/photo")
def get_photo(code: str, suggestion_id: int):
    user = require_staff()
    row = photos.get(events.get_event(code), suggestion_id, user)
    response = Response(row.data, mimetype=row.content_type)
    # Staff only: no shared cache, no copy kept on the device once the tab is closed.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="card-{suggestion_id}.jpg"'
    return response


@bp.delete("/events/<code>/suggestions/<int:suggestion_id>/photo")
def delete_photo(code: str, suggestion_id: int):
    user = require_staff()
    photos.remove(events.get_event(code), suggestion_id, user)
    return "", 204


@bp.get("/events/<code>/results")
def results(code: str):
    event = visible_event(code)
    if not rules.results_public(event) and not is_manager(event):
        raise Forbidden("results_not_public", _l("The results are shown once voting has ended."))
    if is_manager(event):
        return jsonify(queries.results(event, staff=True))
    data = queries.public_results(event)  # shared by every reader: changed only in a copy
    participant = current_participant(event)
    # A phone asks what became of its own cards; anonymous readers get the ranking only.
    if participant is not None:
        data = {**data, "mine": queries.mine(event, participant, queries.ranks_by_card(data))}
    return jsonify(data)


# -- the paper lane (domain/paper.py): helpers at the desk ----------------------------------------


@bp.post("/events/<code>/paper/suggestions")
def paper_submit(code: str):
    event = visible_event(code)
    card, created = paper.file_card(event, json_body(), require_staff())
    return card_json(event, card, None), 201 if created else 200


@bp.post("/events/<code>/paper/suggestions/<int:suggestion_id>/withdraw")
def paper_withdraw(code: str, suggestion_id: int):
    event = visible_event(code)
    card = paper.withdraw_card(event, suggestion_id, require_staff())
    return card_json(event, card, None)


@bp.post("/events/<code>/desk/seat")
def desk_seat(code: str):
    event = visible_event(code)
    user = require_staff()
    with wrong_seat_codes_counted():
        return jsonify(paper.seat_view(event, user, json_body()))


@bp.put("/events/<code>/desk/suggestions/<int:suggestion_id>/dots")
def desk_dots(code: str, suggestion_id: int):
    event = visible_event(code)
    user = require_staff()
    with wrong_seat_codes_counted():
        return jsonify(paper.set_dots(event, user, suggestion_id, json_body()))


@contextmanager
def wrong_seat_codes_counted():
    """A wrong seat code counts against the per-address lookup limit (limits.py), so that
    guessing codes at the desk is as slow as guessing event codes."""
    try:
        yield
    except WorkshopError as error:
        if error.code == "seat_code_invalid":
            note_unknown_code()
        raise
