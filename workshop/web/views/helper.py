"""The paper lane's pages for helpers (domain/paper.py): the events to help with, and the tablet
page that enters paper cards and records dots at the desk."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from workshop import i18n
from workshop.db.models import Event
from workshop.domain import events, paper, schemas

bp = Blueprint("helper", __name__, url_prefix="/helper")

#: Areas beyond this many get no number key (1-9); they can still be tapped.
NUMBER_KEYS = 9


@bp.get("/")
@login_required
def home():
    return render_template("helper/home.html", events=events.helpable_events(current_user))


@bp.get("/<code>")
@login_required
def paper_page(code: str):
    event = events.get_event(code)
    paper.require_helper(current_user, event)
    return render_template("helper/paper.html", event=event, areas=area_choices(event))


def area_choices(event: Event) -> list[dict]:
    """The event's areas in the reader's language, each with its number key (None past 9)."""
    language = i18n.request_language(event.default_language)
    choices = []
    for index, area in enumerate(event.areas, start=1):
        names = schemas.area_json(area)["translations"]
        choices.append(
            {
                "id": area.id,
                "name": names.get(language, {}).get("name") or area.name,
                "color": area.color,
                "key": str(index) if index <= NUMBER_KEYS else None,
            }
        )
    return choices
