"""flask commands: staff users, demo events, exports, imports and the retention purge
(`flask --app workshop ...`)."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext
from flask_babel import force_locale

from workshop.db.models import ROLES, User
from workshop.domain import accounts, events
from workshop.errors import WorkshopError
from workshop.extensions import db
from workshop.ops import retention
from workshop.results import handover, importer

#: Language of exported files and of messages on the command line.
CLI_LOCALE = "de"


def init_app(app: Flask) -> None:
    app.cli.add_command(user_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
    app.cli.add_command(purge_command)


def _message(exc: WorkshopError) -> str:
    """The error's message; there is no request to choose a language from, so German."""
    with force_locale(CLI_LOCALE):
        return str(exc.message)


@click.group("user")
def user_group():
    """Manage staff accounts."""


@user_group.command("create")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice(list(ROLES)), default="moderator")
@click.password_option(prompt="Password", help="At least 8 characters.")
def create_user(username: str, role: str, password: str):
    """Create a staff account."""
    try:
        user = accounts.create_user(username, password, role)
    except WorkshopError as exc:
        raise click.ClickException(_message(exc)) from exc
    click.echo(f"Created {user.role} {user.username}.")


@click.command("demo")
@with_appcontext
def demo_command():
    """Create a demo event with the eight areas of the 2014 integration concept."""
    event = events.create_demo_event(None)
    click.echo(f"Created demo event {event.code}.")


@click.command("export")
@with_appcontext
@click.argument("code")
@click.option(
    "--format", "fmt", type=click.Choice(handover.FORMATS), default="xlsx", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write; default: a name made from the event's title and date.",
)
@click.option(
    "--locale", default=CLI_LOCALE, show_default=True, help="Language of headers and texts."
)
def export_command(code: str, fmt: str, output: Path | None, locale: str):
    """Export an event's results (CSV, XLSX, JSON, the PDF report, or all of them as the ZIP
    handover package)."""
    try:
        event = events.get_event(code)
        with force_locale(locale):
            result = handover.export(event, fmt)
    except WorkshopError as exc:
        raise click.ClickException(_message(exc)) from exc
    path = output or Path(result.filename)
    path.write_bytes(result.content)
    click.echo(f"Wrote {path} ({len(result.content):,} bytes).")


@click.command("import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--owner", help="User name of the staff account that will run the event.")
def import_command(file: Path, owner: str | None):
    """Restore a JSON export as a new event with a new code."""
    try:
        user = None
        if owner is not None:
            user = db.session.scalar(sa.select(User).where(User.username == owner))
            if user is None:
                raise click.ClickException(f"There is no staff account {owner!r}.")
        plan = importer.parse_bytes(file.read_bytes())
        event = importer.import_event(plan, owner=user)
    except WorkshopError as exc:
        raise click.ClickException(_message(exc)) from exc
    click.echo(f"Imported {file} as event {event.code}.")


@click.command("purge")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="Only list the events that would be deleted.")
def purge_command(dry_run: bool):
    """Delete ended events older than WORKSHOP_RETENTION_DAYS, with all they hold."""
    result = retention.purge_expired(dry_run=dry_run)
    if result.cutoff is None:
        click.echo("Retention is off (WORKSHOP_RETENTION_DAYS=0); nothing deleted.")
        return
    for code, changed in result.events:
        click.echo(f"{code}  last changed {changed:%Y-%m-%d}")
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(
        f"{verb} {len(result.events)} event(s) that ended and have not changed since "
        f"{result.cutoff:%Y-%m-%d}."
    )
