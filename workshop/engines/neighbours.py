"""Which cards say the same thing: scores, pairs, groups and nearest cards over unit vectors.

Pure functions over numpy arrays (no database): the domain hands in the vectors of one event.
Scores are calibrated so that one threshold means the same across languages and events; see
benchmarks/similarity_quality.py for how each choice was measured on tests/data/similar_cards.json.
"""

from __future__ import annotations

import numpy as np

#: A pair at or above this score is offered as a possible duplicate.
DUPLICATE = 0.5
#: A card at or above this score is shown to an attendee who is typing.
HINT = 0.5
#: Cards joined into a suggested group.
GROUP = 0.5
#: The prefix a stored card is embedded with, and the one for a text being typed.
CARD_KIND = "query"
PROBE_KIND = "query"
#: Fewer cards than this give no stable mean to centre on: the raw cosine is used.
CENTRE_MIN = 8


def card_text(title: str, body: str) -> str:
    """What is embedded for a card."""
    return f"{title}. {body}".strip() if body else title


def calibrate(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The vectors made comparable (centred on their mean and scaled back to length 1), and the
    mean used, for queries compared against them later."""
    if len(vectors) < CENTRE_MIN:
        return vectors, None
    mean = vectors.mean(axis=0)
    return _unit(vectors - mean), mean


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def scores(vectors: np.ndarray) -> np.ndarray:
    """The n×n matrix of calibrated similarities, -1 on the diagonal."""
    calibrated, _ = calibrate(vectors)
    matrix = calibrated @ calibrated.T
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
    calibrated, mean = calibrate(vectors)
    probe = query if mean is None else _unit(query - mean)
    similar = calibrated @ probe
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
    clusters = [[i] for i in range(len(ids))]
    while True:
        best, pair = threshold, None
        for x in range(len(clusters)):
            for y in range(x + 1, len(clusters)):
                linkage = matrix[np.ix_(clusters[x], clusters[y])].mean()
                if linkage >= best:
                    best, pair = linkage, (x, y)
        if pair is None:
            break
        x, y = pair
        clusters[x] += clusters.pop(y)
    found = []
    for members in (c for c in clusters if len(c) > 1):
        inner = matrix[np.ix_(members, members)]
        np.fill_diagonal(inner, 0.0)
        heading = members[int(np.argmax(inner.sum(axis=1)))]
        found.append((ids[heading], sorted(ids[m] for m in members)))
    found.sort(key=lambda group: (-len(group[1]), group[0]))
    return found


def best_area(
    vector: np.ndarray, areas: dict[int, np.ndarray], threshold: float = 0.0
) -> tuple[int, float] | None:
    """The area whose cards (each area's mean vector, or its name's) are closest to a card."""
    if not areas:
        return None
    ids = list(areas)
    centres = _unit(np.stack([areas[i] for i in ids]))
    similar = centres @ vector
    best = int(np.argmax(similar))
    return (ids[best], round(float(similar[best]), 4)) if similar[best] >= threshold else None
