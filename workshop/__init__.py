"""workshop: live participatory workshops (card collection, clustering, dot voting).

Importing the package imports nothing else, so that `run.py` and the `workshop` command can
monkey-patch eventlet before any other module loads; `create_app` wires the layers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: importing Flask here would defeat the monkey-patching
    from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, db, live, web, cli. `test_config` replaces the
    settings read from the environment."""
    from workshop import config

    app = config.make_flask(__name__, test_config)
    _init_extensions(app)
    _init_live(app)
    _init_engines(app)
    _init_web(app)
    _connect_signals()
    from workshop.ops import cli

    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from workshop import i18n
    from workshop.db import engine
    from workshop.extensions import csrf, login, socketio
    from workshop.web import limits, sockets  # noqa: F401  (handlers before init_app)

    engine.init_app(app)
    csrf.init_app(app)
    login.init_app(app)
    limits.init_app(app)
    socketio.init_app(
        app,
        async_mode=app.config["WORKSHOP_ASYNC_MODE"],
        message_queue=app.config.get("WORKSHOP_MESSAGE_QUEUE"),
        # Clients must send pings; a phone that slept is dropped and reconnects by itself.
        ping_interval=20,
        ping_timeout=20,
        # The engine's own HTTP compression; websocket compression is switched off when serving.
        http_compression=True,
        # Clients send only small events (`resync`, the auth at connect): no 1 MB messages.
        max_http_buffer_size=app.config["MAX_CONTENT_LENGTH"],
    )
    engine.init_group_commit(app, socketio.server)
    i18n.init_app(app)


def _init_live(app: Flask) -> None:
    from workshop.domain import queries
    from workshop.live import listeners, publisher, snapshots

    publisher.init_app(app, read_tallies=queries.tally_messages)
    snapshots.init_app(app)
    listeners.init_app(app)


def _init_engines(app: Flask) -> None:
    from workshop.domain import similarity, translations

    similarity.init_app(app)
    translations.init_app(app)


def _init_web(app: Flask) -> None:
    from workshop.domain import rules
    from workshop.web import assets, auth, security
    from workshop.web.views import (
        admin,
        api,
        board,
        followup,
        helper,
        moderator,
        pages,
        participant,
        staff,
    )

    # The pages show what the rules allow; their scripts get the same table as page data.
    app.jinja_env.globals["rules"] = rules.as_data()
    auth.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    for blueprint in (participant, board, moderator, followup, helper, api, staff, admin, pages):
        app.register_blueprint(blueprint.bp)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}


def _connect_signals() -> None:
    """Every receiver of every signal, in one place (blinker keeps one entry per receiver, so
    connecting again for another app changes nothing)."""
    from flask_login import user_logged_in, user_logged_out

    from workshop import signals
    from workshop.domain import similarity, translations
    from workshop.live import listeners, publisher
    from workshop.results import exports, pdf
    from workshop.web import auth

    user_logged_in.connect(auth.forget_address)
    user_logged_out.connect(listeners.on_logged_out)
    user_logged_out.connect(publisher.on_logged_out)
    signals.access_changed.connect(listeners.on_access_changed)
    signals.access_changed.connect(publisher.on_access_changed)
    signals.event_deleted.connect(listeners.on_event_deleted)
    signals.event_deleted.connect(publisher.on_event_deleted)
    signals.event_deleted.connect(pdf.on_event_deleted)
    signals.results_opened.connect(exports.on_results_opened)
    signals.cards_changed.connect(similarity.on_cards_changed)
    signals.cards_changed.connect(translations.on_cards_changed)
