"""The report as a PDF: made by WeasyPrint in a child process and kept on disk by its content.

WeasyPrint needs about 10 s of CPU for the report of 2,000 suggestions (185 A4 pages) and holds the
interpreter while it works. Inside the live server (eventlet) that would freeze every board and
phone for as long, so the PDF is made by `python -m workshop.results.pdf` in a child process,
which the server waits for without blocking. The result is kept in the instance folder under a
fingerprint of the report's content (everything but the export time), so a report that has not
changed is served at once; opening the HTML report prepares the PDF in the background.

Renders are expensive, so the server makes one at a time (a lock in the process and a file lock
in the cache folder, shared by every server process using it), the child's address space is
bounded (WORKSHOP_REPORT_MEMORY_MB), and after a failed render an event waits a growing back-off
time before the next try; meanwhile a download gets a 503 with Retry-After. Nothing of a deleted
event stays: its files are removed, and a render still running when it was deleted is discarded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import math
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from workshop.errors import NotFound, WorkshopError
from workshop.extensions import db, socketio

log = logging.getLogger(__name__)

#: Longest a report may take to render before the child is stopped (WORKSHOP_REPORT_TIMEOUT).
TIMEOUT = 300
#: The child's address space in MiB (WORKSHOP_REPORT_MEMORY_MB); 0 leaves it unbounded.
MEMORY_MB = 2048
#: Seconds an event waits after its first failed render; doubled for each further failure.
BACKOFF = 60
BACKOFF_MAX = 3600
#: How long a download waits for another render to finish before it is asked to come back.
WAIT = 60
#: Seconds between two tries at the render lock.
POLL = 0.1
#: Stands in for the export time while the report's content is fingerprinted.
EXPORT_TIME_MARK = "WORKSHOP-EXPORT-TIME-4f1c9e"
LOCK_FILE = "render.lock"

# One render at a time in this process (a green lock under eventlet); the file lock does the same
# across processes.
_render_guard = threading.Lock()


class RenderError(RuntimeError):
    """The child process could not make the PDF."""


class Unavailable(WorkshopError):
    """No PDF now: a render failed recently, or another one takes too long; come back later."""

    status = 503

    def __init__(self, seconds: int):
        super().__init__(
            "report_unavailable",
            _l(
                "The PDF report cannot be made right now. Please try again in %(seconds)d seconds.",
                seconds=seconds,
            ),
            retry_after=seconds,
        )
        self.retry_after = seconds


def setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def stylesheet() -> Path:
    return Path(current_app.static_folder) / "css" / "report.css"


def cache_folder() -> Path:
    """Where reports are kept: WORKSHOP_REPORT_CACHE, else `reports` in the instance folder."""
    folder = current_app.config.get("WORKSHOP_REPORT_CACHE")
    return Path(folder) if folder else Path(current_app.instance_path) / "reports"


def private_folder() -> Path:
    """The cache folder, made readable by its owner only (reports hold every card's text)."""
    folder = cache_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        os.chmod(folder, 0o700)
    return folder


def write_private(path: Path, content: bytes) -> None:
    """Write a file readable by its owner only, whole or not at all."""
    partial = path.with_name(path.name + ".partial")
    handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(content)
    os.replace(partial, path)


def fingerprint(html: str, css: Path) -> str:
    digest = hashlib.sha256(html.encode())
    digest.update(css.read_bytes())
    return digest.hexdigest()[:40]


@contextlib.contextmanager
def render_slot(folder: Path, wait: float) -> Iterator[None]:
    """Hold the one render slot of the server, waiting at most `wait` s (else Unavailable)."""
    deadline = time.monotonic() + wait
    # Polled rather than blocking: a blocking flock would stop eventlet's hub.
    while not _render_guard.acquire(blocking=False):
        _wait_or_give_up(deadline)
    try:
        handle = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    _wait_or_give_up(deadline)
            yield
        finally:
            os.close(handle)  # closing releases the file lock
    finally:
        _render_guard.release()


def _wait_or_give_up(deadline: float) -> None:
    if time.monotonic() >= deadline:
        raise Unavailable(30)
    time.sleep(POLL)


# -- back-off after a failure (a file, so that every server process honours it) ---------------


def _backoff_file(folder: Path, event_id: int) -> Path:
    return folder / f"event-{event_id}.backoff"


def _failures(folder: Path, event_id: int) -> tuple[int, float]:
    """(failed renders in a row, time before which no new one is tried)."""
    try:
        state = json.loads(_backoff_file(folder, event_id).read_text())
        return int(state["failures"]), float(state["until"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, 0.0


def backoff_left(folder: Path, event_id: int) -> int:
    """Whole seconds before the event's report may be tried again (0: now)."""
    until = _failures(folder, event_id)[1]
    return max(0, math.ceil(until - time.time()))


def record_failure(folder: Path, event_id: int) -> int:
    """Note a failed render; the event's back-off grows with each failure. Returns its seconds."""
    failures = _failures(folder, event_id)[0] + 1
    seconds = min(setting("WORKSHOP_REPORT_BACKOFF", BACKOFF) * 2 ** (failures - 1), BACKOFF_MAX)
    state = {"failures": failures, "until": time.time() + seconds}
    write_private(_backoff_file(folder, event_id), json.dumps(state).encode())
    return seconds


# -- deletion while a render runs -------------------------------------------------------------


def _tombstone(folder: Path, event_id: int) -> Path:
    return folder / f"deleted-{event_id}"


def deleted_since(folder: Path, event_id: int, read_at: float) -> bool:
    """Whether the event was deleted after its report's content was read."""
    try:
        return _tombstone(folder, event_id).stat().st_mtime >= read_at
    except FileNotFoundError:
        return False


def _forget_old_tombstones(folder: Path) -> None:
    # A mark only matters while a render that started before it may still run.
    horizon = time.time() - 2 * (setting("WORKSHOP_REPORT_TIMEOUT", TIMEOUT) + WAIT)
    for mark in folder.glob("deleted-*"):
        with contextlib.suppress(OSError):
            if mark.stat().st_mtime < horizon:
                mark.unlink()


def remove_files(folder: Path, event_id: int) -> None:
    for pattern in (f"event-{event_id}-*", f"event-{event_id}.*"):
        for path in folder.glob(pattern):
            path.unlink(missing_ok=True)


def on_event_deleted(_sender, event_id: int, **_extra) -> None:
    """Remove every kept report of a deleted event, and discard any render still running for it:
    nothing of it may stay behind."""
    folder = private_folder()
    # The mark first: a render that writes its file after the removal below sees it (and
    # removes its file); one that wrote before has its file removed here.
    write_private(_tombstone(folder, event_id), b"")  # a new file: its time is now
    remove_files(folder, event_id)


# -- rendering --------------------------------------------------------------------------------


def render(html: str, css: Path) -> bytes:
    """Run WeasyPrint in a child process (see the module's docstring) and return the PDF."""
    timeout = setting("WORKSHOP_REPORT_TIMEOUT", TIMEOUT)
    memory = setting("WORKSHOP_REPORT_MEMORY_MB", MEMORY_MB)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "workshop.results.pdf", str(css), str(memory)],
            input=html.encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise RenderError(f"the report took longer than {timeout} s") from error
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF"):
        reason = done.stderr.decode(errors="replace")[-2000:]
        raise RenderError(f"exit status {done.returncode}: {reason}")
    return done.stdout


def report(
    event_id: int,
    locale: str,
    marked_html: str,
    export_time: str,
    read_at: float,
    wait: float = WAIT,
) -> bytes:
    """The event's report as PDF, from the cache when its content has not changed.

    `marked_html` carries EXPORT_TIME_MARK where the export time goes, so that the fingerprint
    does not change with the clock; `read_at` is when the content was read (time.time()).
    """
    css = stylesheet()
    prefix = f"event-{event_id}-{locale}-"
    folder = private_folder()
    path = folder / f"{prefix}{fingerprint(marked_html, css)}.pdf"
    if path.exists():
        return path.read_bytes()
    _refuse_while_backing_off(folder, event_id)
    with render_slot(folder, wait):
        if path.exists():  # made by the render we waited for
            return path.read_bytes()
        _refuse_while_backing_off(folder, event_id)
        content = _render_or_back_off(folder, event_id, marked_html, export_time, css)
        _keep(folder, path, prefix, content)
        if deleted_since(folder, event_id, read_at):
            remove_files(folder, event_id)
            raise NotFound("event_not_found", _l("There is no event with this code."))
    return content


def _refuse_while_backing_off(folder: Path, event_id: int) -> None:
    if seconds := backoff_left(folder, event_id):
        raise Unavailable(seconds)


def _render_or_back_off(
    folder: Path, event_id: int, marked_html: str, export_time: str, css: Path
) -> bytes:
    try:
        content = render(marked_html.replace(EXPORT_TIME_MARK, export_time), css)
    except RenderError as error:
        seconds = record_failure(folder, event_id)
        log.error(
            "The PDF report of event %d failed (next try in %d s): %s", event_id, seconds, error
        )
        raise Unavailable(seconds) from error
    _backoff_file(folder, event_id).unlink(missing_ok=True)
    return content


def _keep(folder: Path, path: Path, prefix: str, content: bytes) -> None:
    """Keep the new report; only the newest of an event in a language stays."""
    write_private(path, content)
    for older in folder.glob(f"{prefix}*.pdf"):
        if older != path:
            older.unlink(missing_ok=True)
    _forget_old_tombstones(folder)


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
                    # A background render may wait for the others as long as they may take.
                    report(*arguments, wait=2 * setting("WORKSHOP_REPORT_TIMEOUT", TIMEOUT))
            except WorkshopError as error:
                log.info("No PDF report prepared: %s", error.code)
            finally:
                db.session.remove()

    socketio.start_background_task(work)


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict:
    # The report is self-contained: nothing may be loaded from anywhere while printing it.
    raise ValueError(f"The report loads no external resources ({url[:80]}).")


def main() -> None:
    """The child process: HTML on standard input; the stylesheet's path and the memory bound in
    MiB (0: none) as arguments; PDF out."""
    if (memory := int(sys.argv[2]) if len(sys.argv) > 2 else 0) > 0:
        # A report too large for the bound ends in MemoryError (exit status 1), not in swapping.
        limit = memory * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import weasyprint  # loads pango, which only this process needs

    css = weasyprint.CSS(filename=sys.argv[1], url_fetcher=_refuse_fetch)
    html = weasyprint.HTML(string=sys.stdin.buffer.read().decode(), url_fetcher=_refuse_fetch)
    sys.stdout.buffer.write(html.write_pdf(stylesheets=[css]))


if __name__ == "__main__":
    main()
