"""Pages for everyone: the language switch, the privacy notice and the accessibility statement."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request

from workshop import i18n
from workshop.web.helpers import safe_next

bp = Blueprint("pages", __name__)

#: The language choice is remembered for a year on this device.
LANGUAGE_MAX_AGE = 365 * 24 * 3600


@bp.get("/language/<path:code>")
def choose_language(code: str):
    """Remember the chosen language on this device and go back to the page it was chosen on."""
    if code not in i18n.languages():
        abort(404)
    response = redirect(safe_next(request.args.get("next")), code=303)
    response.set_cookie(
        i18n.LANGUAGE_COOKIE,
        code,
        max_age=LANGUAGE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


def contact() -> str | None:
    return current_app.config.get("WORKSHOP_CONTACT")


@bp.get("/privacy")
def privacy():
    return render_template("pages/privacy.html", contact=contact())


@bp.get("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html", contact=contact())
