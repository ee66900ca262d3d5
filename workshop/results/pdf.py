"""The report as a PDF: made by WeasyPrint in a child process and kept on disk by its content.

WeasyPrint needs about 10 s of CPU for the report of 2,000 suggestions (185 A4 pages) and holds the
interpreter while it works. Inside the live server (eventlet) that would freeze every board and
phone for as long, so the PDF is made by `python -m workshop.results.pdf` in a child process,
which the server waits for without blocking. The result is kept in the instance folder under a
fingerprint of the report's content (everything but the export time), so a report that has not
changed is served at once; opening the HTML report prepares the PDF in the background.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale

from workshop.extensions import db, socketio

log = logging.getLogger(__name__)

#: Longest a report may take to render before the child is stopped.
TIMEOUT = 300
#: Stands in for the export time while the report's content is fingerprinted.
EXPORT_TIME_MARK = "WORKSHOP-EXPORT-TIME-4f1c9e"

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class RenderError(RuntimeError):
    """The child process could not make the PDF."""


def stylesheet() -> Path:
    return Path(current_app.static_folder) / "css" / "report.css"


def cache_folder() -> Path:
    """Where reports are kept: WORKSHOP_REPORT_CACHE, else `reports` in the instance folder."""
    folder = current_app.config.get("WORKSHOP_REPORT_CACHE")
    return Path(folder) if folder else Path(current_app.instance_path) / "reports"


def fingerprint(html: str, css: Path) -> str:
    digest = hashlib.sha256(html.encode())
    digest.update(css.read_bytes())
    return digest.hexdigest()[:40]


def _lock(key: str) -> threading.Lock:
    # One render per report at a time: a second request for the same report waits for the first.
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def render(html: str, css: Path) -> bytes:
    """Run WeasyPrint in a child process (see the module's docstring) and return the PDF."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "workshop.results.pdf", str(css)],
            input=html.encode(),
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise RenderError(f"the report took longer than {TIMEOUT} s") from error
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF"):
        raise RenderError(done.stderr.decode(errors="replace")[-2000:])
    return done.stdout


def report(event_id: int, locale: str, marked_html: str, export_time: str) -> bytes:
    """The event's report as PDF, from the cache when its content has not changed.

    `marked_html` carries EXPORT_TIME_MARK where the export time goes, so that the fingerprint
    does not change with the clock.
    """
    css = stylesheet()
    key = fingerprint(marked_html, css)
    prefix = f"event-{event_id}-{locale}-"
    folder = cache_folder()
    path = folder / f"{prefix}{key}.pdf"
    with _lock(prefix):
        if path.exists():
            return path.read_bytes()
        content = render(marked_html.replace(EXPORT_TIME_MARK, export_time), css)
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(content)
        os.replace(partial, path)
        # Only the newest report of an event in a language is kept.
        for older in folder.glob(f"{prefix}*.pdf"):
            if older != path:
                older.unlink(missing_ok=True)
    return content


def prepare(job: Callable[[], tuple | None], locale: str) -> None:
    """Make a report's PDF in the background, so that a download soon after is quick; `job`
    runs there (in `locale`) and gives `report`'s arguments, or None when there is nothing."""
    if not current_app.config.get("WORKSHOP_PREPARE_REPORTS", True):
        return
    app = current_app._get_current_object()

    def work() -> None:
        with app.app_context(), force_locale(locale):
            try:
                if (arguments := job()) is not None:
                    report(*arguments)
            except RenderError:
                log.exception("Preparing a PDF report failed")
            finally:
                db.session.remove()

    socketio.start_background_task(work)


def on_event_deleted(_sender, event_id: int, **_extra) -> None:
    """Remove every kept report of a deleted event: nothing of it may stay behind."""
    for path in cache_folder().glob(f"event-{event_id}-*"):
        path.unlink(missing_ok=True)


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict:
    # The report is self-contained: nothing may be loaded from anywhere while printing it.
    raise ValueError(f"The report loads no external resources ({url[:80]}).")


def main() -> None:
    """The child process: HTML on standard input, the stylesheet's path as argument, PDF out."""
    import weasyprint  # loads pango, which only this process needs

    css = weasyprint.CSS(filename=sys.argv[1], url_fetcher=_refuse_fetch)
    html = weasyprint.HTML(string=sys.stdin.buffer.read().decode(), url_fetcher=_refuse_fetch)
    sys.stdout.buffer.write(html.write_pdf(stylesheets=[css]))


if __name__ == "__main__":
    main()
