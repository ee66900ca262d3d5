"""Which cards say the same thing: scores, pairs, groups and nearest cards over unit vectors.

Pure functions over numpy arrays (no database): the domain hands in the vectors of one event.
Scores are calibrated so that one threshold means the same across languages and events; see
benchmarks/similarity_quality.py for how each choice was measured on tests/data/similar_cards.json
(the figures are in benchmarks/README.md, "Similar cards: quality").

Calibration, in two steps:

1. Languages. A raw cosine of multilingual-e5 says "same language" louder than "same idea": two
   different German cards score higher than a German card and its Arabic twin. The shipped
   background (`background.json`, fitted on the labelled set) holds the model's mean vector and
   the directions along which the languages' means differ; every vector is centred on that mean
   and those directions are taken out. The step is fixed, so it works from the first card and a
   pair's score does not move when other cards arrive. Vectors from another model (they do not
   point along the background's mean) are centred on their own mean instead, once there are
   `CENTRE_MIN` of them, and the thresholds were not measured for them.
2. Hubs. Some cards are close to everything (a generic "more courses"); once an event has
   `HUB_MIN` cards, each card's score is lowered by half of how far its `HUB_K` nearest cards
   sit above the event's average (CSLS, centred so the scale and thresholds stay those of
   step 1).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

#: The prefix a stored card is embedded with ("passage" measured better than "query" here).
CARD_KIND = "passage"
#: The prefix for the text an attendee is typing: the same as cards, since both are cards.
PROBE_KIND = "passage"
#: A pair at or above this score is offered as a possible duplicate (precision about 0.9).
DUPLICATE = 0.46
#: A card at or above this score is shown to an attendee who is typing (precision above 0.9).
HINT = 0.48
#: Cards joined into a suggested group (average linkage; best adjusted Rand index both within
#: an area and over a whole event).
GROUP = 0.37
#: Characters of a card's text that are embedded.
TEXT_MAX = 300
#: Without the background, fewer cards than this give no stable mean: the raw cosine is used.
CENTRE_MIN = 8
#: Hubness correction: how many nearest cards make a card's neighbourhood, and from how many
#: cards in the event on (below, a neighbourhood is most of the event).
HUB_K = 5
HUB_MIN = 8
#: The background applies to vectors whose mean cosine with its mean direction reaches this
#: (about 0.9 for multilingual-e5-small; about 0 for an unrelated model of the same size).
ALIGNED = 0.6
BACKGROUND = Path(__file__).with_name("background.json")


def card_text(title: str, body: str) -> str:
    """What is embedded for a card: its title. Measured: adding the body (often an anecdote,
    "I have waited eight months") lowers the quality; the body is used only without a title."""
    text = " ".join(title.split()) or " ".join(body.split())
    return text[:TEXT_MAX]


@functools.cache
def background() -> tuple[np.ndarray, np.ndarray] | None:
    """The shipped mean vector and language directions (rows, orthonormal), or None."""
    try:
        data = json.loads(BACKGROUND.read_text(encoding="utf-8"))
        mean = np.asarray(data["mean"], dtype=np.float32)
        basis = np.asarray(data["basis"], dtype=np.float32).reshape(-1, len(mean))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return mean, basis


def fit_background(vectors: np.ndarray, languages: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A background from labelled cards: their mean, and an orthonormal basis of the offsets of
    each language's mean from it (one fewer direction than languages)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    mean = vectors.mean(axis=0)
    labels = np.asarray(languages)
    offsets = np.stack(
        [vectors[labels == lang].mean(axis=0) - mean for lang in sorted(set(labels))]
    )
    _, strengths, directions = np.linalg.svd(offsets, full_matrices=False)
    keep = strengths > 1e-6 * max(float(strengths[0]), 1e-12)
    return mean.astype(np.float32), directions[keep].astype(np.float32)


def project(vectors: np.ndarray, mean: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Centred on `mean`, the `basis` directions taken out, back to length 1."""
    centred = vectors - mean
    return _unit(centred - (centred @ basis.T) @ basis)


def _fits(vectors: np.ndarray, mean: np.ndarray) -> bool:
    if len(vectors) == 0 or vectors.shape[1] != len(mean):
        return False
    direction = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return float((_unit(vectors) @ direction).mean()) >= ALIGNED


def calibrate(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The vectors made comparable (see the module's docstring), and the mean they were
    centred on (None: left raw)."""
    known = background()
    if known is not None and _fits(vectors, known[0]):
        return project(vectors, *known), known[0]
    if len(vectors) < CENTRE_MIN:
        return vectors, None
    mean = vectors.mean(axis=0)
    return _unit(vectors - mean), mean


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def _neighbourhood(similar: np.ndarray) -> np.ndarray:
    """Each row's mean similarity to its HUB_K nearest (the diagonal must be -inf)."""
    k = min(HUB_K, similar.shape[1] - 1)
    return np.sort(similar, axis=1)[:, -k:].mean(axis=1)


def scores(vectors: np.ndarray) -> np.ndarray:
    """The n×n matrix of calibrated similarities, -1 on the diagonal."""
    calibrated, _ = calibrate(vectors)
    matrix = calibrated @ calibrated.T
    np.fill_diagonal(matrix, -np.inf)
    if len(matrix) >= HUB_MIN:
        hubness = _neighbourhood(matrix)
        hubness -= hubness.mean()
        matrix = matrix - (hubness[:, None] + hubness[None, :]) / 2
    np.fill_diagonal(matrix, -1.0)
    return matrix


def pairs(
    ids: list[int], vectors: np.ndarray, threshold: float = DUPLICATE, limit: int = 100
) -> list[tuple[int, int, float]]:
    """(a, b, score) with a < b for every pair at or above `threshold`, best first."""
    if len(ids) < 2:
        return []
    matrix = scores(vectors)
    upper = np.triu(matrix, k=1)
    rows, cols = np.nonzero(upper >= threshold)
    order = np.argsort(-upper[rows, cols], kind="stable")[:limit]
    found = []
    for index in order:
        a, b = ids[rows[index]], ids[cols[index]]
        found.append((min(a, b), max(a, b), round(float(upper[rows[index], cols[index]]), 4)))
    return found


def nearest(
    query: np.ndarray,
    ids: list[int],
    vectors: np.ndarray,
    k: int = 3,
    threshold: float = HINT,
) -> list[tuple[int, float]]:
    """The `k` cards most similar to `query` (a unit vector), at or above `threshold`."""
    if not ids:
        return []
    calibrated, _ = calibrate(np.vstack([vectors, query[None, :]]))
    cards, probe = calibrated[:-1], calibrated[-1]
    similar = cards @ probe
    if len(ids) >= HUB_MIN:
        matrix = cards @ cards.T
        np.fill_diagonal(matrix, -np.inf)
        hubness = _neighbourhood(matrix)
        level = hubness.mean()
        own = np.sort(similar)[-min(HUB_K, len(similar)) :].mean()
        similar = similar - (hubness - level + own - level) / 2
    order = np.argsort(-similar, kind="stable")[:k]
    return [(ids[i], round(float(similar[i]), 4)) for i in order if similar[i] >= threshold]


def groups(
    ids: list[int], vectors: np.ndarray, threshold: float = GROUP
) -> list[tuple[int, list[int]]]:
    """Cards that belong together (average linkage above `threshold`), each group with its most
    central card as heading; biggest groups first, single cards left out."""
    if len(ids) < 2:
        return []
    matrix = scores(vectors)
    found = []
    for members in (c for c in _average_linkage(matrix, threshold) if len(c) > 1):
        inner = matrix[np.ix_(members, members)]
        np.fill_diagonal(inner, 0.0)
        heading = members[int(np.argmax(inner.sum(axis=1)))]
        found.append((ids[heading], sorted(ids[m] for m in members)))
    found.sort(key=lambda group: (-len(group[1]), group[0]))
    return found


def _average_linkage(matrix: np.ndarray, threshold: float) -> list[list[int]]:
    """Clusters merged while the mean score between two of them reaches `threshold`
    (Lance-Williams updates: one n×n matrix, no pair recomputed)."""
    link = np.array(matrix, dtype=np.float64)
    np.fill_diagonal(link, -np.inf)
    clusters = {i: [i] for i in range(len(link))}
    while len(clusters) > 1:
        x, y = np.unravel_index(int(np.argmax(link)), link.shape)
        if link[x, y] < threshold:
            break
        x, y = min(x, y), max(x, y)
        size_x, size_y = len(clusters[x]), len(clusters[y])
        merged = (size_x * link[x] + size_y * link[y]) / (size_x + size_y)
        link[x, :] = merged
        link[:, x] = merged
        link[y, :] = -np.inf
        link[:, y] = -np.inf
        link[x, x] = -np.inf
        clusters[x] += clusters.pop(y)
    return list(clusters.values())


def best_area(
    vector: np.ndarray, areas: dict[int, np.ndarray], threshold: float = 0.0
) -> tuple[int, float] | None:
    """The area whose cards (each area's mean vector, or its name's) are closest to a card,
    compared after calibration."""
    if not areas:
        return None
    ids = list(areas)
    stacked = _unit(np.vstack([np.stack([areas[i] for i in ids]), vector[None, :]]))
    calibrated, _ = calibrate(stacked)
    similar = calibrated[:-1] @ calibrated[-1]
    best = int(np.argmax(similar))
    return (ids[best], round(float(similar[best]), 4)) if similar[best] >= threshold else None
