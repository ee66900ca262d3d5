"""Similar cards across languages: how well the neighbour math finds duplicates.

    python benchmarks/similarity_quality.py                    # every table (under 2 minutes)
    python benchmarks/similarity_quality.py --write-background # and refit the shipped background

Embeds tests/data/similar_cards.json with the real local engine (`LocalE5`) and prints figures;
it asserts nothing. Honest protocol: the eight areas are split into two halves of four (35 ways);
each half is one event of about 78 cards, calibrated with a background fitted on the other half
only, so no figure below saw its own cards (and the topics differ). Figures are:

- R-precision: all pairs ranked by score; R = the true duplicate pairs; precision in the top R
  (mean over the 35 splits).
- top-3: share of cards that have a duplicate in the event and find one among their 3 nearest.
- P / R at a threshold: pairs at or above it (pooled over the splits), and "near FP": the share
  of near-miss pairs (same theme, another suggestion) that reach it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

# Small matrices: BLAS threads only wait on each other, and on a busy machine they spin (the
# run took five times as long with two threads on a shared 2-core machine).
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workshop.engines import neighbours  # noqa: E402
from workshop.engines.embeddings import LocalE5  # noqa: E402

DATA = ROOT / "tests" / "data" / "similar_cards.json"
SIZES = (5, 10, 20, 40)


@dataclass
class Cards:
    items: list[dict]
    units: np.ndarray  # the group, or a label of its own for a single card
    same: np.ndarray  # n×n: true duplicates (never the diagonal)
    near: np.ndarray  # n×n: near misses
    langs: np.ndarray
    areas: np.ndarray


def load(path: Path = DATA) -> Cards:
    items = json.loads(path.read_text(encoding="utf-8"))["cards"]
    units = np.array([c["group"] or f"single-{c['id']}" for c in items])
    grouped = np.array([c["group"] is not None for c in items])
    same = (units[:, None] == units[None, :]) & grouped[:, None] & ~np.eye(len(items), dtype=bool)
    near = np.array(
        [[b["group"] in a["near"] or a["group"] in b["near"] for b in items] for a in items]
    )
    near &= ~same & (units[:, None] != units[None, :])
    return Cards(
        items,
        units,
        same,
        near,
        np.array([c["lang"] for c in items]),
        np.array([c["area"] for c in items]),
    )


def title_and_body(card: dict) -> str:
    title, body = card["title"].strip(), card["body"].strip()
    if not body:
        return title
    return f"{title} {body}" if title[-1:] in ".!?:" else f"{title}. {body}"


TEXTS: dict[str, Callable[[dict], str]] = {
    "title": lambda card: neighbours.card_text(card["title"], card["body"]),
    "title+body": title_and_body,
}


def embed_all(
    cards: Cards, engine: LocalE5, cache: Path | None
) -> dict[tuple[str, str], np.ndarray]:
    """Every card in both prefixes and both texts (kept in `cache`, an .npz, when given)."""
    if cache and cache.exists():
        kept = np.load(cache)
        return {tuple(key.split("|")): kept[key] for key in kept.files}
    embedded = {
        (kind, text): engine.embed([make(c) for c in cards.items], kind)
        for kind in ("query", "passage")
        for text, make in TEXTS.items()
    }
    if cache:
        np.savez(cache, **{"|".join(key): value for key, value in embedded.items()})
    return embedded


# ---- Scoring variants: (event vectors, event languages, background vectors, background
# languages) -> n×n scores with -inf on the diagonal.


def _finish(matrix: np.ndarray) -> np.ndarray:
    matrix = np.array(matrix, dtype=np.float64)
    np.fill_diagonal(matrix, -np.inf)
    return matrix


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def csls(matrix: np.ndarray, k: int = 5) -> np.ndarray:
    """Cross-domain similarity local scaling: 2·cos − r(x) − r(y), r = mean of the k nearest."""
    r = np.sort(matrix, axis=1)[:, -min(k, len(matrix) - 1) :].mean(axis=1)
    return 2 * matrix - r[:, None] - r[None, :]


def raw(vectors, langs, bg, bg_langs):
    return _finish(vectors @ vectors.T)


def event_mean(vectors, langs, bg, bg_langs):
    """The code before: centred on the event's own mean from 8 cards on."""
    if len(vectors) >= 8:
        vectors = _unit(vectors - vectors.mean(axis=0))
    return _finish(vectors @ vectors.T)


def background_mean(vectors, langs, bg, bg_langs):
    centred = _unit(vectors - bg.mean(axis=0))
    return _finish(centred @ centred.T)


def raw_csls(vectors, langs, bg, bg_langs):
    return csls(raw(vectors, langs, bg, bg_langs))


def event_mean_csls(vectors, langs, bg, bg_langs):
    return csls(event_mean(vectors, langs, bg, bg_langs))


def language_pairs(vectors, langs, bg, bg_langs):
    """Centred on the background's mean, minus the background's mean score for the two cards'
    languages (needs each card's language: the app does not know it reliably)."""
    mean = bg.mean(axis=0)
    cards, known = _unit(vectors - mean), _unit(bg - mean)
    known_scores = known @ known.T
    offset = {}
    for a, b in itertools.product(set(bg_langs), repeat=2):
        block = known_scores[np.ix_(bg_langs == a, bg_langs == b)]
        offset[a, b] = block[block < 0.999].mean()
    matrix = cards @ cards.T
    return _finish(matrix - np.array([[offset.get((a, b), 0.0) for b in langs] for a in langs]))


def language_directions(vectors, langs, bg, bg_langs):
    projected = neighbours.project(vectors, *neighbours.fit_background(bg, list(bg_langs)))
    return _finish(projected @ projected.T)


def shipped(vectors, langs, bg, bg_langs):
    """neighbours.scores itself: language directions, then the hubness correction."""
    fitted = neighbours.fit_background(bg, list(bg_langs))
    with mock.patch.object(neighbours, "background", lambda: fitted):
        return _finish(neighbours.scores(vectors))


VARIANTS = {
    "raw cosine": raw,
    "event mean (before)": event_mean,
    "background mean": background_mean,
    "CSLS k=5": raw_csls,
    "event mean + CSLS k=5": event_mean_csls,
    "language pairs (card language known)": language_pairs,
    "language directions": language_directions,
    "language directions + centred CSLS (shipped)": shipped,
}


# ---- Protocol and metrics


def halves(cards: Cards) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(split, event rows, background rows) for both halves of each split of the areas."""
    names = sorted(set(cards.areas))
    splits = [h for h in itertools.combinations(names, len(names) // 2) if names[0] in h]
    for number, half in enumerate(splits):
        inside = np.isin(cards.areas, half)
        for event in (inside, ~inside):
            yield number, np.flatnonzero(event), np.flatnonzero(~event)


def upper(matrix: np.ndarray) -> np.ndarray:
    return matrix[np.triu_indices(len(matrix), 1)]


@dataclass
class Pooled:
    scores: list[np.ndarray]
    same: list[np.ndarray]
    near: list[np.ndarray]
    split: list[int]
    hits: list[bool]

    def flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.concatenate(self.scores), np.concatenate(self.same), np.concatenate(self.near)


def evaluate(cards: Cards, vectors: np.ndarray, variant: Callable) -> Pooled:
    pooled = Pooled([], [], [], [], [])
    for split, event, rest in halves(cards):
        matrix = variant(vectors[event], cards.langs[event], vectors[rest], cards.langs[rest])
        same = cards.same[np.ix_(event, event)]
        pooled.scores.append(upper(matrix))
        pooled.same.append(upper(same))
        pooled.near.append(upper(cards.near[np.ix_(event, event)]))
        pooled.split.append(split)
        top = np.argsort(-matrix, axis=1, kind="stable")[:, :3]
        pooled.hits += [bool(same[i, top[i]].any()) for i in range(len(event)) if same[i].any()]
    return pooled


def r_precision(pooled: Pooled) -> float:
    found = []
    for split in sorted(set(pooled.split)):
        parts = [i for i, s in enumerate(pooled.split) if s == split]
        scores = np.concatenate([pooled.scores[i] for i in parts])
        same = np.concatenate([pooled.same[i] for i in parts])
        found.append(same[np.argsort(-scores, kind="stable")[: same.sum()]].mean())
    return float(np.mean(found))


def at(scores: np.ndarray, same: np.ndarray, near: np.ndarray, threshold: float) -> tuple:
    """(precision, recall, near-miss false positives) at `threshold`."""
    chosen = scores >= threshold
    hits = (chosen & same).sum()
    return hits / max(chosen.sum(), 1), hits / max(same.sum(), 1), chosen[near].mean()


def threshold_for(pooled: Pooled, precision: float) -> float:
    """The lowest threshold whose pooled precision still reaches `precision`."""
    scores, same, _ = pooled.flat()
    order = np.argsort(-scores, kind="stable")
    running = np.cumsum(same[order]) / np.arange(1, len(order) + 1)
    good = np.flatnonzero(running >= precision)
    return float(scores[order][good[-1]]) if len(good) else float("inf")


def variants_table(cards: Cards, embedded: dict) -> None:
    print("\n### Variants (cross-fitted halves; R-precision / top-3)\n")
    columns = list(embedded)
    print("| variant | " + " | ".join(f"{kind}, {text}" for kind, text in columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for name, variant in VARIANTS.items():
        cells = []
        for column in columns:
            pooled = evaluate(cards, embedded[column], variant)
            cells.append(f"{r_precision(pooled):.3f} / {np.mean(pooled.hits):.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


def precision_table(cards: Cards, vectors: np.ndarray) -> None:
    print(f"\n### Thresholds ({neighbours.CARD_KIND}, title; pooled over the splits)\n")
    print("| variant | threshold | precision | recall | near-miss pairs above |")
    print("| --- | --- | --- | --- | --- |")
    rows = [("event mean (before)", event_mean, 0.5)]
    for name in ("event mean (before)", "language directions", *list(VARIANTS)[-1:]):
        pooled = evaluate(cards, vectors, VARIANTS[name])
        rows += [(name, VARIANTS[name], threshold_for(pooled, p)) for p in (0.9, 0.8)]
    rows.append(("shipped (DUPLICATE)", shipped, neighbours.DUPLICATE))
    for name, variant, threshold in rows:
        pooled = evaluate(cards, vectors, variant)
        precision, recall, near = at(*pooled.flat(), threshold)
        print(f"| {name} | {threshold:.3f} | {precision:.3f} | {recall:.3f} | {near:.3f} |")


def sample(cards: Cards, rows: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """An event of `size` cards from `rows`: whole suggestions (all their cards) at random."""
    units = list(dict.fromkeys(cards.units[rows]))
    rng.shuffle(units)
    chosen: list[int] = []
    for unit in units:
        chosen += [int(i) for i in rows if cards.units[i] == unit]
        if len(chosen) >= size:
            break
    return np.array(chosen[:size])


def sizes_table(cards: Cards, vectors: np.ndarray, repeats: int = 8) -> None:
    print(
        f"\n### Small events ({neighbours.CARD_KIND}, title; whole suggestions drawn at random)\n"
    )
    print("| variant | threshold | " + " | ".join(f"{n} cards: P / R" for n in SIZES) + " |")
    print("| --- | --- |" + " --- |" * len(SIZES))
    rows = [("event mean (before)", event_mean, 0.5), ("shipped", shipped, neighbours.DUPLICATE)]
    for name, variant, threshold in rows:
        cells = []
        for size in SIZES:
            rng = np.random.default_rng(size)
            chosen = same = np.zeros(0, dtype=bool)
            for _, event, rest in halves(cards):
                for _ in range(repeats):
                    rows_ = sample(cards, event, size, rng)
                    scores = upper(variant(vectors[rows_], None, vectors[rest], cards.langs[rest]))
                    chosen = np.concatenate([chosen, scores >= threshold])
                    same = np.concatenate([same, upper(cards.same[np.ix_(rows_, rows_)])])
            hits = (chosen & same).sum()
            cells.append(f"{hits / max(chosen.sum(), 1):.2f} / {hits / max(same.sum(), 1):.2f}")
        print(f"| {name} | {threshold:.2f} | " + " | ".join(cells) + " |")


def old_nearest(probe: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The code before: centred on the cards' mean from 8 cards on."""
    if len(vectors) < 8:
        return vectors @ probe
    mean = vectors.mean(axis=0)
    return _unit(vectors - mean) @ _unit(probe - mean)


def probe_all(
    cards: Cards, vectors: np.ndarray, before: bool, probes: np.ndarray | None = None
) -> list[tuple[list, list, bool]]:
    """For every card typed again as a probe (its vector, or its row of `probes`): the scores of
    its 3 nearest others, whether each is a duplicate, and whether the event holds one at all."""
    probes = vectors if probes is None else probes
    found = []
    for _, event, rest in halves(cards):
        fitted = neighbours.fit_background(vectors[rest], list(cards.langs[rest]))
        with mock.patch.object(neighbours, "background", lambda fitted=fitted: fitted):
            for row in event:
                others = [int(i) for i in event if i != row]
                if before:
                    similar = old_nearest(probes[row], vectors[others])
                    top = [(others[i], similar[i]) for i in np.argsort(-similar)[:3]]
                else:
                    top = neighbours.nearest(probes[row], others, vectors[others], 3, -np.inf)
                dups = [bool(cards.same[row, i]) for i, _ in top]
                found.append(([s for _, s in top], dups, bool(cards.same[row, event].any())))
    return found


def hint_quality(probes: list[tuple[list, list, bool]], threshold: float) -> str:
    """Precision of the hints shown, and the share of probes with a duplicate shown one."""
    shown = right = helped = wanted = 0
    for scores, dups, has in probes:
        kept = [d for s, d in zip(scores, dups, strict=True) if s >= threshold]
        shown, right = shown + len(kept), right + sum(kept)
        wanted += has
        helped += any(kept)
    return f"{right / max(shown, 1):.3f} | {helped / wanted:.3f}"


def typed(title: str, share: float) -> str:
    """The first `share` of a title's words (at least two), as while typing."""
    words = title.split()
    return " ".join(words[: max(2, int(np.ceil(len(words) * share)))])


def hints_table(cards: Cards, vectors: np.ndarray, engine: LocalE5) -> None:
    print("\n### Hints while typing: `nearest(k=3)` (each card typed again as a probe)\n")
    print("| variant | typed | threshold | precision of hints | probes with a duplicate helped |")
    print("| --- | --- | --- | --- | --- |")
    sweep = sorted({0.40, 0.43, 0.46, 0.50, 0.55, neighbours.HINT})
    rows = [("event mean (before)", "title", probe_all(cards, vectors, True), 0.5)]
    after = probe_all(cards, vectors, False)
    rows += [("shipped" + " (HINT)" * (t == neighbours.HINT), "title", after, t) for t in sweep]
    for share in (0.75, 0.5):
        texts = [typed(c["title"], share) for c in cards.items]
        probes = probe_all(cards, vectors, False, engine.embed(texts, neighbours.PROBE_KIND))
        rows.append(("shipped (HINT)", f"{share:.0%} of the words", probes, neighbours.HINT))
    for name, text, probes, threshold in rows:
        print(f"| {name} | {text} | {threshold:.2f} | {hint_quality(probes, threshold)} |")


def comembership(labels: list[int], truth: np.ndarray) -> tuple[int, int, int, float]:
    """(pairs put together, of them right, true pairs, adjusted Rand index) of one clustering."""
    labels_ = np.array(labels)
    together = upper(labels_[:, None] == labels_[None, :])
    same = upper(truth)
    return int(together.sum()), int((together & same).sum()), int(same.sum()), ari(labels_, truth)


def ari(labels: np.ndarray, truth: np.ndarray) -> float:
    """Adjusted Rand index of `labels` against the truth (cards with no duplicate stand alone)."""
    true_labels = np.array(
        [int(np.flatnonzero(row | (np.arange(len(row)) == i))[0]) for i, row in enumerate(truth)]
    )

    def pairs_in(counts: np.ndarray) -> float:
        return float((counts * (counts - 1) / 2).sum())

    table = np.array(
        [
            [np.sum((labels == a) & (true_labels == b)) for b in set(true_labels)]
            for a in set(labels)
        ]
    )
    both, rows, cols = pairs_in(table), pairs_in(table.sum(1)), pairs_in(table.sum(0))
    expected = rows * cols / max(len(labels) * (len(labels) - 1) / 2, 1)
    top = (rows + cols) / 2 - expected
    return (both - expected) / top if top else 1.0


def cluster(cards: Cards, vectors: np.ndarray, rows: np.ndarray, threshold: float, before: bool):
    """Labels from groups() (or the code before) for the cards in `rows`, one label each."""
    if before:
        clusters = neighbours._average_linkage(event_mean(vectors[rows], *[None] * 3), threshold)
        members = [c for c in clusters if len(c) > 1]
    else:
        members = [
            [list(rows).index(i) for i in ids]
            for _, ids in neighbours.groups(list(rows), vectors[rows], threshold)
        ]
    labels = list(range(len(rows)))
    for number, group in enumerate(members):
        for member in group:
            labels[member] = len(rows) + number
    return labels


def by_area(cards: Cards) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(area, its cards, the other areas' cards): each area one event."""
    for number, area in enumerate(sorted(set(cards.areas))):
        yield number, np.flatnonzero(cards.areas == area), np.flatnonzero(cards.areas != area)


def group_quality(cards: Cards, vectors: np.ndarray, events: Iterator, threshold, before) -> str:
    """Pairwise precision / recall of being put together, and the mean ARI, over `events`."""
    totals, aris = np.zeros(3), []
    for _, inside, rest in events:
        fitted = neighbours.fit_background(vectors[rest], list(cards.langs[rest]))
        with mock.patch.object(neighbours, "background", lambda fitted=fitted: fitted):
            labels = cluster(cards, vectors, inside, threshold, before)
        *counts, index = comembership(labels, cards.same[np.ix_(inside, inside)])
        totals += counts
        aris.append(index)
    together, right, true = totals
    return f"{right / max(together, 1):.3f} / {right / true:.3f} / {np.mean(aris):.3f}"


def groups_table(cards: Cards, vectors: np.ndarray) -> None:
    print("\n### Groups: `groups()`, pairwise precision / recall / mean adjusted Rand index\n")
    print("| variant | threshold | each area an event | each half an event |")
    print("| --- | --- | --- | --- |")
    rows = [("event mean (before)", 0.5, True)]
    sweep = sorted({0.30, 0.33, 0.37, 0.40, 0.45, neighbours.GROUP})
    rows += [("shipped" + " (GROUP)" * (t == neighbours.GROUP), t, False) for t in sweep]
    for name, threshold, before in rows:
        areas = group_quality(cards, vectors, by_area(cards), threshold, before)
        whole = group_quality(cards, vectors, halves(cards), threshold, before)
        print(f"| {name} | {threshold:.2f} | {areas} | {whole} |")


def unit_folds(cards: Cards) -> np.ndarray:
    """0 or 1 for every card: suggestions (whole groups) dealt alternately to two folds."""
    order = {unit: number % 2 for number, unit in enumerate(dict.fromkeys(cards.units))}
    return np.array([order[unit] for unit in cards.units])


def suggest_area(cards: Cards, vectors: np.ndarray, names: np.ndarray | None, calibrated: bool):
    """Share of cards whose area best_area (or the raw cosine) gets right: the area vectors are
    the means of the other cards of each area, or the embedded area names."""
    areas = sorted(set(cards.areas))
    folds, right = unit_folds(cards), 0
    for row in range(len(cards.items)):
        rest = np.flatnonzero(folds != folds[row])
        fitted = neighbours.fit_background(vectors[rest], list(cards.langs[rest]))
        others = np.arange(len(cards.items)) != row
        centres = {
            a: names[a_] if names is not None else vectors[others & (cards.areas == a)].mean(0)
            for a_, a in enumerate(areas)
        }
        if calibrated:
            with mock.patch.object(neighbours, "background", lambda fitted=fitted: fitted):
                best = neighbours.best_area(vectors[row], centres, -np.inf)[0]
        else:
            best = max(areas, key=lambda a: float(_unit(centres[a]) @ vectors[row]))
        right += best == cards.areas[row]
    return right / len(cards.items)


def areas_table(cards: Cards, vectors: np.ndarray, names: np.ndarray) -> None:
    print(
        "\n### Area suggestion: `best_area` (background from the other half of the suggestions)\n"
    )
    print("| area vectors | raw cosine | best_area (shipped) |")
    print("| --- | --- | --- |")
    for label, given in (("mean of the area's other cards", None), ("the area's name", names)):
        before = suggest_area(cards, vectors, given, False)
        after = suggest_area(cards, vectors, given, True)
        print(f"| {label} | {before:.3f} | {after:.3f} |")


def whole_set(cards: Cards, vectors: np.ndarray) -> None:
    """The figures tests/test_similarity_quality.py holds: the whole set as one event, with the
    shipped background (fitted on this very set, so optimistic)."""
    matrix = _finish(neighbours.scores(vectors))
    same, near = upper(cards.same), upper(cards.near)
    scores = upper(matrix)
    r = same[np.argsort(-scores, kind="stable")[: same.sum()]].mean()
    top = np.argsort(-matrix, axis=1, kind="stable")[:, :3]
    hits = [cards.same[i, top[i]].any() for i in range(len(matrix)) if cards.same[i].any()]
    precision, recall, near_fp = at(scores, same, near, neighbours.DUPLICATE)
    print(f"\n### Whole set, shipped background (in-sample): {len(matrix)} cards\n")
    print(f"R-precision {r:.3f}, top-3 {np.mean(hits):.3f}, at DUPLICATE {neighbours.DUPLICATE}:")
    print(f"precision {precision:.3f}, recall {recall:.3f}, near-miss pairs above {near_fp:.3f}")


def write_background(cards: Cards, vectors: np.ndarray, model: str) -> None:
    mean, basis = neighbours.fit_background(vectors, list(cards.langs))
    data = {
        "about": "Made by benchmarks/similarity_quality.py --write-background from "
        "tests/data/similar_cards.json: the model's mean card vector and the directions along "
        "which its languages' means differ (workshop/engines/neighbours.py).",
        "model": model,
        "kind": neighbours.CARD_KIND,
        "cards": len(cards.items),
        "languages": sorted(set(cards.langs)),
        "mean": [round(float(x), 6) for x in mean],
        "basis": [[round(float(x), 6) for x in row] for row in basis],
    }
    neighbours.BACKGROUND.write_text(json.dumps(data) + "\n", encoding="utf-8")
    neighbours.background.cache_clear()
    print(f"wrote {neighbours.BACKGROUND.relative_to(ROOT)}: {len(basis)} directions")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write-background", action="store_true")
    parser.add_argument("--cache", type=Path, help="an .npz to keep the embeddings in between runs")
    args = parser.parse_args()
    cards = load()
    engine = LocalE5()
    embedded = embed_all(cards, engine, args.cache)
    vectors = embedded[neighbours.CARD_KIND, "title"]
    if args.write_background:
        write_background(cards, vectors, engine.name)
    print(
        f"{len(cards.items)} cards, {int(upper(cards.same).sum())} duplicate pairs, "
        f"{int(upper(cards.near).sum())} near-miss pairs; {engine.name}"
    )
    variants_table(cards, embedded)
    precision_table(cards, vectors)
    sizes_table(cards, vectors)
    hints_table(cards, vectors, engine)
    groups_table(cards, vectors)
    names = engine.embed(sorted(set(cards.areas)), neighbours.CARD_KIND)
    areas_table(cards, vectors, names)
    whole_set(cards, vectors)


if __name__ == "__main__":
    main()
