"""Language choice and the texts templates and scripts share."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .extensions import babel

RTL_LANGUAGES = {"ar", "fa", "he", "ur"}
LANGUAGE_COOKIE = "workshop_lang"

PHASE_LABELS = {
    "draft": _l("Preparation"),
    "collect": _l("Collecting suggestions"),
    "cluster": _l("Sorting"),
    "vote": _l("Voting"),
    "results": _l("Results"),
}

STATUS_LABELS = {
    "pending": _l("Waiting for approval"),
    "visible": _l("Visible"),
    "hidden": _l("Hidden"),
    "withdrawn": _l("Withdrawn"),
    "merged": _l("Merged"),
}


def select_locale() -> str:
    """The device's remembered choice, else the browser's languages, else German."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["WORKSHOP_LANGUAGES"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def text_direction() -> str:
    return "rtl" if str(get_locale()).split("_")[0] in RTL_LANGUAGES else "ltr"


def phase_label(phase: str) -> str:
    return str(PHASE_LABELS.get(phase, phase))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale()),
        text_direction=text_direction,
        phase_label=phase_label,
        status_label=status_label,
    )
