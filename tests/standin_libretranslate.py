"""A stand-in for a LibreTranslate server (its HTTP API is the boundary we cannot run here): it
answers `/translate` and `/languages` the way LibreTranslate does, and can be told to be down,
slow, failing or talking nonsense."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LANGUAGES = ["de", "en", "ar", "fa", "uk", "ru"]


def translated(text: str, source: str, target: str) -> str:
    """What the stand-in answers: recognisable, and different per target language."""
    return f"[{source}→{target}] {text}"


class StandIn:
    """One stand-in server on a loopback port; `mode` is "ok", "down" (503), "slow" (answers
    after `delay` seconds), "error" (500 with an error body) or "nonsense"."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.delay = 0.0
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/languages"):
                    body = [{"code": c, "name": c, "targets": LANGUAGES} for c in LANGUAGES]
                    self._send(200, body)
                else:
                    self._send(404, {"error": "Not Found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                data = json.loads(self.rfile.read(length) or b"{}")
                with standin.lock:
                    standin.requests.append(data)
                status, body = standin.answer(data)
                self._send(status, body)

            def _send(self, status, body):
                payload = json.dumps(body, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a time-out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, data: dict) -> tuple[int, object]:
        if self.mode == "slow":
            time.sleep(self.delay)
        if self.mode == "down":
            return 503, {"error": "Service Unavailable"}
        if self.mode == "error":
            return 500, {"error": "Something went wrong"}
        if self.mode == "nonsense":
            return 200, {"translatedText": 42}
        q, source, target = data["q"], data["source"], data["target"]
        if isinstance(q, list):
            return 200, {"translatedText": [translated(t, source, target) for t in q]}
        return 200, {"translatedText": translated(q, source, target)}

    def translations_asked(self) -> int:
        with self.lock:
            return len(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
