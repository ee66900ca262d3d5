"""The `workshop` console command: `workshop serve` does what `python run.py` does, and every
flask command of the app is there too (`workshop user create`, `workshop export`, `workshop db`)."""

import os
import sys

from workshop.ops.green import patch

#: The group's own options that take a value (`workshop -e FILE serve`).
_VALUE_OPTIONS = {"-e", "--env-file", "-A", "--app"}


def _runs_server(args: list[str]) -> bool:
    """Whether the command line is `workshop [options] serve …`."""
    words = iter(args)
    for word in words:
        if word in _VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word == "serve"
    return False


# Before anything else is imported, as in run.py; the other commands run unpatched.
if _runs_server(sys.argv[1:]):
    patch()

import click  # noqa: E402  (after the monkey-patching)
from flask.cli import FlaskGroup  # noqa: E402

from workshop import create_app  # noqa: E402
from workshop.ops.serve import serve  # noqa: E402


@click.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, help="Port to listen on.")
@click.option("--no-demo", is_flag=True, help="Do not create a demo event on an empty database.")
def serve_command(host: str, port: int, no_demo: bool) -> None:
    """Run the workshop server (as `python run.py`)."""
    # FlaskGroup sets this so that a stray `app.run()` does nothing; here it is the server itself
    # (Flask-SocketIO's threading mode calls `app.run()`).
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    serve(host, port, demo=not no_demo)


cli = FlaskGroup(
    name="workshop",
    create_app=lambda: create_app(),
    add_default_commands=False,
    # Settings come from the environment only, as for `python run.py` (`-e FILE` still reads one).
    load_dotenv=False,
    help="Live participatory workshops: run the server and manage events and staff.",
)
cli.add_command(serve_command)


def main() -> None:
    cli.main()
