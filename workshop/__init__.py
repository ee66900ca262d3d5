"""workshop: live participatory workshops (card collection, clustering, dot voting)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from . import config
from .extensions import csrf, db, limiter, login, migrate, socketio


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app; `test_config` replaces settings read from the environment."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(config.ROOT / "templates"),
        static_folder=str(config.ROOT / "static"),
    )
    app.config.from_mapping(config.DEFAULTS)
    if test_config is None:
        app.config.from_mapping(config.from_environment(Path(app.instance_path)))
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.json.sort_keys = False

    from . import (  # noqa: F401  (tables must be known to Alembic)
        database,
        models,
        realtime,
    )

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
    )
    db.init_app(app)
    with app.app_context():
        database.configure_engine(db.engine)
    migrate.init_app(
        app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    login.init_app(app)
    limiter.init_app(app)
    socketio.init_app(
        app,
        async_mode=app.config["WORKSHOP_ASYNC_MODE"],
        message_queue=app.config.get("WORKSHOP_MESSAGE_QUEUE"),
        # Clients must send pings; a phone that slept is dropped and reconnects by itself.
        ping_interval=20,
        ping_timeout=20,
        # The engine's own HTTP compression; websocket compression is switched off in run.py.
        http_compression=True,
        # Clients send only small events (`resync`, the auth at connect): no 1 MB messages.
        max_http_buffer_size=app.config["MAX_CONTENT_LENGTH"],
    )

    from . import assets, auth, cli, i18n, publish, security
    from .views import admin, api, board, moderator, pages, participant, staff

    database.init_app(app, socketio.server)
    publish.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    app.register_blueprint(participant.bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(moderator.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(pages.bp)
    cli.init_app(app)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
