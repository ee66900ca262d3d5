"""The projected board: read-only, no login."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import force_locale, get_locale, get_translations, gettext

from workshop import i18n
from workshop.engines import hyphenation, offhub
from workshop.extensions import socketio
from workshop.web.auth import visible_event
from workshop.web.helpers import join_url

bp = Blueprint("board", __name__, url_prefix="/board")


def instructions() -> dict:
    """The board's one-line instruction for each phase, in the current language."""
    return {
        "draft": gettext("Starting soon."),
        "collect": gettext("Scan and write your suggestion."),
        "cluster": gettext("The suggestions are being sorted."),
        # "{n}" is filled in by the board's script with the event's budget.
        "vote": {
            form: get_translations().ngettext(
                "Vote now: %(num)s dot each", "Vote now: %(num)s dots each", n
            )
            % {"num": "{n}"}
            for form, n in (("one", 1), ("other", 2))
        },
        "results": gettext("Voting has ended."),
    }


def other_languages() -> dict:
    """The instructions in every other offered language; the event chooses which ones rotate."""
    current = str(get_locale())
    texts = {}
    for code in i18n.languages():
        if code == current:
            continue
        with force_locale(code):
            texts[code] = {
                "lang": i18n.html_lang(code),
                "dir": i18n.direction(code),
                "instructions": instructions(),
            }
    return texts


_warming = []
#: `?columns=N` on the board: at least two areas at a time, at most what fits anyway.
ROTATE_COLUMNS = (2, 8)
ROTATE_SECONDS = (5, 300)


def rotation() -> dict | None:
    """Fewer, larger columns that turn through the areas, when the board's URL asks for it."""
    try:
        columns = int(request.args.get("columns", ""))
    except ValueError:
        return None
    low, high = ROTATE_COLUMNS
    seconds = current_app.config["WORKSHOP_BOARD_ROTATE_SECONDS"]
    return {
        "columns": min(max(columns, low), high),
        "seconds": min(max(seconds, ROTATE_SECONDS[0]), ROTATE_SECONDS[1]),
    }


@bp.get("/<code>")
def board(code: str):
    event = visible_event(code)
    if not _warming:
        # The first board of this process loads the German dictionary meanwhile, off the hub.
        _warming.append(socketio.start_background_task(offhub.run, hyphenation.warm))
    return render_template(
        "board/board.html",
        event=event,
        join_url=join_url(event.code),
        instructions=instructions(),
        language_texts={
            "current": str(get_locale()),
            "others": other_languages(),
            "tags": {
                code: {
                    "tag": i18n.language_tag(code),
                    "name": i18n.LANGUAGE_NAMES.get(code, code),
                    "lang": i18n.html_lang(code),
                }
                for code in i18n.languages()
            },
        },
        rotation=rotation(),
        hyphenation={
            "url": url_for("board.hyphens"),
            "languages": hyphenation.languages(),
            "min_length": hyphenation.MIN_LENGTH,
            "max_words": hyphenation.MAX_WORDS,
        },
    )


@bp.get("/hyphens")
def hyphens():
    """Soft hyphens for the long words a board shows (display only: engines/hyphenation.py)."""
    lang = request.args.get("lang", "de")
    # Loading the German dictionary takes seconds the first time: never on the hub.
    words = offhub.run(hyphenation.hyphenate_words, request.args.getlist("w"), lang)
    response = jsonify({"lang": lang, "words": words})
    # The same word always breaks the same way: boards may keep the answer.
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/<code>/qr.svg")
def qr(code: str):
    event = visible_event(code)
    buffer = io.BytesIO()
    segno.make(join_url(event.code), error="m").save(
        buffer, kind="svg", scale=8, border=2, xmldecl=False, svgns=True, title=event.code
    )
    return Response(buffer.getvalue(), mimetype="image/svg+xml")
