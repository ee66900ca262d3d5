"""The `workshop` console command: `workshop serve` does what `python run.py` does, and every
flask command of the app is there too (`workshop user create`, `workshop export`, `workshop db`)."""

import sys

from workshop.ops.green import patch

if sys.argv[1:2] == ["serve"]:
    patch()

import click
from flask.cli import FlaskGroup

from workshop import create_app
from workshop.ops.serve import serve


@click.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, help="Port to listen on.")
@click.option("--no-demo", is_flag=True, help="Do not create a demo event on an empty database.")
def serve_command(host: str, port: int, no_demo: bool) -> None:
    """Run the workshop server (as `python run.py`)."""
    serve(host, port, demo=not no_demo)


cli = FlaskGroup(
    name="workshop",
    create_app=lambda: create_app(),
    add_default_commands=False,
    help="Live participatory workshops: run the server and manage events and staff.",
)
cli.add_command(serve_command)


def main() -> None:
    cli.main()
