"""Language choice and the texts templates and scripts share."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import get_locale, get_translations, refresh
from flask_babel import lazy_gettext as _l

from workshop.extensions import babel

RTL_LANGUAGES = {"ar", "fa", "he", "ur"}
LANGUAGE_COOKIE = "workshop_lang"

#: Each language in its own name, as the switcher lists it (never translated).
LANGUAGE_NAMES = {
    "de": "Deutsch",
    "de@simple": "Einfache Sprache",
    "en": "English",
    "ar": "العربية",
    "fa": "فارسی",
    "uk": "Українська",
    "ru": "Русский",
}

#: Short tags the board puts on a card written in another language than the event's default.
LANGUAGE_TAGS = {"de@simple": "DE"}

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


def languages() -> list[str]:
    """The language codes this installation offers, in the switcher's order."""
    return list(current_app.config["WORKSHOP_LANGUAGES"])


def request_language(default: str | None = None) -> str:
    """The device's remembered choice, else the browser's languages, else `default` or German."""
    fallback = current_app.config["BABEL_DEFAULT_LOCALE"]
    if default in languages():
        fallback = default
    if not has_request_context():
        return fallback
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages():
        return chosen
    # Browsers never ask for plain German by name; it is only ever chosen in the switcher.
    offered = [code for code in languages() if "@" not in code]
    return request.accept_languages.best_match(offered) or fallback


def select_locale() -> str:
    """Flask-Babel's locale: the request's language; an event page may set its own default."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return request_language(g.get("event_language"))


def use_event_default(language: str | None) -> None:
    """Let this request fall back to an event's default language instead of German."""
    g.event_language = language
    refresh()


def html_lang(code: str | None = None) -> str:
    """A valid BCP 47 tag for `lang`: plain German is German ("de"), "pt_BR" becomes "pt-BR"."""
    code = code if code is not None else str(get_locale())
    return code.split("@")[0].replace("_", "-")


def direction(code: str) -> str:
    return "rtl" if code.split("@")[0].split("_")[0] in RTL_LANGUAGES else "ltr"


def text_direction() -> str:
    return direction(str(get_locale()))


def language_tag(code: str) -> str:
    """The short tag of a language on a card, e.g. "AR"."""
    return LANGUAGE_TAGS.get(code, code.split("@")[0].upper())


def card_languages() -> dict[str, str]:
    """The `lang` tag of each offered language, for scripts that mark a card's text with it."""
    return {code: html_lang(code) for code in languages()}


def switcher() -> list[dict]:
    """The switcher's entries: code, own name, its `lang`, its `dir`, and whether it is current."""
    current = str(get_locale())
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES.get(code, code),
            "lang": html_lang(code),
            "dir": direction(code),
            "current": code == current,
        }
        for code in languages()
    ]


def plural_forms(singular: str, plural: str, **variables) -> dict[str, str]:
    """Every plural form the page's language has (CLDR categories, as `Intl.PluralRules`
    names them), for scripts that count at run time: Arabic has six, Russian three."""
    locale = get_locale()
    samples: dict[str, int] = {}
    for n in range(200):
        samples.setdefault(locale.plural_form(n), n)
    # Scripts fall back to "other", which CLDR gives Russian and Ukrainian for fractions only.
    samples.setdefault("other", 1000)
    translations = get_translations()
    return {
        form: translations.ngettext(singular, plural, n) % {"num": n, **variables}
        for form, n in samples.items()
    }


def phase_label(phase: str) -> str:
    return str(PHASE_LABELS.get(phase, phase))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def phase_labels() -> dict[str, str]:
    """Every phase's name in the current language, for scripts."""
    return {phase: str(label) for phase, label in PHASE_LABELS.items()}


def status_labels() -> dict[str, str]:
    return {status: str(label) for status, label in STATUS_LABELS.items()}


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        current_locale=html_lang,
        text_direction=text_direction,
        language_switcher=switcher,
        card_languages=card_languages,
        rtl_languages=lambda: sorted(RTL_LANGUAGES),
        language_names=lambda: {code: LANGUAGE_NAMES.get(code, code) for code in languages()},
        language_name=lambda code: LANGUAGE_NAMES.get(code, code),
        phase_label=phase_label,
        status_label=status_label,
        phase_labels=phase_labels,
        status_labels=status_labels,
        plural_forms=plural_forms,
    )
