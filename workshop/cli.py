"""flask commands: staff users and demo events (`flask --app workshop ...`)."""

from __future__ import annotations

import click
from flask import Flask

from . import accounts, events
from .errors import WorkshopError


def init_app(app: Flask) -> None:
    app.cli.add_command(user_group)
    app.cli.add_command(demo_command)


@click.group("user")
def user_group():
    """Manage staff accounts."""


@user_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["moderator", "admin"]), default="moderator")
@click.password_option(prompt="Password", help="At least 8 characters.")
def create_user(username: str, role: str, password: str):
    """Create a staff account."""
    try:
        user = accounts.create_user(username, password, role)
    except WorkshopError as exc:
        raise click.ClickException(str(exc.message)) from exc
    click.echo(f"Created {user.role} {user.username}.")


@click.command("demo")
def demo_command():
    """Create a demo event with the eight areas of the 2014 integration concept."""
    event = events.create_demo_event(None)
    click.echo(f"Created demo event {event.code}.")
