"""Gene-set scoring beyond guilt by association: propagation on the model's interaction graph, and reliability.

Used by :func:`cnnc.tl.assign_function` (``method="propagation"`` / ``"combined"``, and the per-set reliability
columns of every method).

``assign_function(method="propagation")`` ranks genes by a random walk with restart (Köhler et al., AJHG 2008) from a
set's members on the k-nearest-neighbour graph of the model's predicted interactions: every gene is linked to the
``k`` genes with which its pair has the highest log-odds of interaction (``cnnc-pairs`` by default), the graph made
symmetric. Guilt by association reads only a gene's direct links to the members; the walk also follows paths through
genes that are not members, so that a gene linked to the neighbours of the members ranks high too.

Members cannot be scored by a walk that starts from them, so every member's score is *out of fold*: the members
are split into ``cv_folds`` folds, and each fold is scored by walks from the other folds only. The same held-out
scores give each set's reliability: ``cv_auroc``, the mean over members of the fraction of non-members that their
held-out score beats (the AUROC of the held-out members against all non-members, 0.5 at random), with a one-sided
p-value against that random baseline (a mean of independent uniform percentiles). A set whose own members the
method cannot find again in the data gives no reason to trust its new candidates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import ndtr

#: Neighbours per gene in the propagation graph and restart probability of the walk: chosen on 60 WikiPathways sets per
#: data set, two hidings (k among 5, 7, 10, 15, 20; restart among 0.3, 0.5, 0.7), before the full run of
#: ``benchmarks/function.py``.
KNN = 10
RESTART = 0.5
#: Iterations of the walk stop when the largest change of a score falls below this fraction of the largest score.
TOLERANCE = 1e-6
MAX_ITER = 1000


def knn_graph(block_of, n_genes: int, k: int = KNN, *, rows_per_block: int = 1000) -> sparse.csr_matrix:
    """The symmetric k-nearest-neighbour graph (0/1 weights) of a genes × genes pair score.

    ``block_of(rows)`` returns the pair scores of the genes in the slice ``rows`` with every gene (self pairs NaN);
    each gene keeps the ``k`` genes with its highest scores, and an edge exists if either end kept the other.
    Only one block of rows is held at a time.
    """
    if not 1 <= k < n_genes:
        raise ValueError(f"The propagation graph needs 1 <= k < the number of genes ({n_genes}), got k={k}.")
    src, dst = [], []
    for s in range(0, n_genes, rows_per_block):
        rows = slice(s, min(s + rows_per_block, n_genes))
        block = np.nan_to_num(np.asarray(block_of(rows), dtype=np.float64), nan=-np.inf)
        block[np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop)] = -np.inf
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        src.append(np.repeat(np.arange(rows.start, rows.stop), k))
        dst.append(top.ravel())
    a, b = np.concatenate(src), np.concatenate(dst)
    graph = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n_genes, n_genes)).tocsr()
    graph = ((graph + graph.T) > 0).astype(np.float64)
    return graph.tocsr()


def random_walk(graph: sparse.spmatrix, seeds: np.ndarray, restart: float = RESTART) -> np.ndarray:
    """Stationary scores of a random walk with restart from each column of ``seeds`` (genes × walks).

    Each column of ``seeds`` is normalised to sum 1 (the walk restarts at a member chosen uniformly); the walk
    moves along the graph's edges (column-normalised adjacency). Solved by iteration,
    ``p ← (1 - restart) · W p + restart · s``, to a relative tolerance of :data:`TOLERANCE`.
    """
    if not 0 < restart < 1:
        raise ValueError(f"restart must be in (0, 1), got {restart!r}.")
    seeds = np.asarray(seeds, dtype=np.float64)
    total = seeds.sum(0)
    if (total <= 0).any():
        raise ValueError("Every walk needs at least one seed gene.")
    start = seeds / total
    degree = np.asarray(graph.sum(0)).ravel()
    walk = graph @ sparse.diags(np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0))
    p = start.copy()
    for _ in range(MAX_ITER):
        nxt = (1 - restart) * (walk @ p) + restart * start
        done = np.abs(nxt - p).max() <= TOLERANCE * np.abs(nxt).max()
        p = nxt
        if done:
            break
    return p


def fold_ids(n_members: int, folds: int, rng: np.random.Generator) -> np.ndarray:
    """A fold (0 .. folds-1) for each of ``n_members`` members, as even as possible, seeded."""
    return rng.permutation(np.arange(n_members) % folds)


def held_out_percentiles(score: np.ndarray, held: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Fraction of the genes ``outside`` that each ``held`` gene scores above (ties count half; NaN lowest)."""
    if not len(outside):  # a set of every gene: nothing to rank its members against
        return np.full(len(held), np.nan)
    score = np.nan_to_num(np.asarray(score, dtype=np.float64), nan=-np.inf)
    other = np.sort(score[outside])
    below = np.searchsorted(other, score[held], side="left")
    ties = np.searchsorted(other, score[held], side="right") - below
    return (below + 0.5 * ties) / len(outside)


def reliability(percentiles: np.ndarray) -> tuple[float, float]:
    """Cross-validated AUROC of a set's held-out members and its one-sided p-value against no skill.

    ``percentiles`` holds each member's :func:`held_out_percentiles` from the folds that did not contain it; their
    mean is the AUROC of the held-out members against the non-members, pooled over folds. Under no skill each
    percentile is uniform and their mean has standard deviation ``1 / sqrt(12 m)`` for ``m`` members: the p-value
    is the normal tail above the observed mean.
    """
    if not len(percentiles) or np.isnan(percentiles).any():
        return np.nan, np.nan
    value = float(np.mean(percentiles))
    return value, float(1 - ndtr((value - 0.5) * np.sqrt(12 * len(percentiles))))


def cross_validate(fold_scores: dict, members: np.ndarray, folds: np.ndarray, n_genes: int) -> tuple[float, float]:
    """:func:`reliability` of a set from ``fold_scores[f]``, every gene scored from the members outside fold ``f``."""
    outside = np.setdiff1d(np.arange(n_genes), members)
    found = held_folds(folds)
    if not len(found):
        return np.nan, np.nan
    pct = [held_out_percentiles(fold_scores[f], members[folds == f], outside) for f in found]
    return reliability(np.concatenate(pct))


def propagation_scores(graph, matched: dict[str, np.ndarray], folds: dict[str, np.ndarray], combine=None, *, batch=64):
    """Walk scores of every gene for every set (members out of fold) and each set's reliability.

    A non-member's score is the walk from all members, a member's the walk from the other folds' members, as
    ``log2(n_genes · p)`` (the stationary probability over that of a uniform spread). With ``combine``, each walk
    ``w`` from known members ``known`` of set ``name`` becomes ``combine(name, known, w)`` first. Walks are solved
    ``batch`` sets at a time.
    """
    n = graph.shape[0]
    names = list(matched)
    scores = np.full((n, len(names)), np.nan, dtype=np.float32)
    values = {}
    for s in range(0, len(names), batch):
        chunk = names[s : s + batch]
        where = [(name, f) for name in chunk for f in (None, *held_folds(folds[name]))]
        seeds = np.zeros((n, len(where)))
        for c, (name, f) in enumerate(where):
            mem = matched[name]
            seeds[mem if f is None else mem[folds[name] != f], c] = 1.0
        walks = np.log2(np.maximum(random_walk(graph, seeds), 1e-300) * n)
        for c, (name, f) in enumerate(where):
            mem, j = matched[name], names.index(name)
            known = mem if f is None else mem[folds[name] != f]
            w = walks[:, c] if combine is None else combine(name, known, walks[:, c])
            if f is None:
                scores[:, j] = w
                scores[mem, j] = np.nan  # a lone member has no other member to be scored from
                pct = []
                continue
            held = mem[folds[name] == f]
            scores[held, j] = w[held]
            pct.append(held_out_percentiles(w, held, np.setdiff1d(np.arange(n), mem)))
            if len(pct) == len(held_folds(folds[name])):
                values[name] = reliability(np.concatenate(pct))
    return scores, values


def mean_percentile(*scores: np.ndarray) -> np.ndarray:
    """The mean over score vectors of each gene's percentile rank (ties averaged, NaN lowest), in (0, 1]."""
    ranks = [pd.Series(np.nan_to_num(np.asarray(x, dtype=np.float64), nan=-np.inf)).rank(pct=True) for x in scores]
    return np.mean(ranks, axis=0)


def held_folds(fid: np.ndarray) -> np.ndarray:
    """The folds to hold out in turn (none when all members share one fold: nothing would be left to score from)."""
    found = np.unique(fid)
    return found if len(found) > 1 else found[:0]


def reliability_columns(table: pd.DataFrame, values: dict[str, tuple[float, float]], alpha: float) -> pd.DataFrame:
    """Add ``cv_auroc``, ``cv_pvalue`` and ``reliable`` (p below ``alpha``) to the per-set table (NaN if unscored)."""
    table = table.copy()
    table["cv_auroc"] = pd.Series({k: v[0] for k, v in values.items()}, dtype=float).reindex(table.index)
    table["cv_pvalue"] = pd.Series({k: v[1] for k, v in values.items()}, dtype=float).reindex(table.index)
    table["reliable"] = (table["cv_pvalue"] < alpha).fillna(False).astype(bool)
    return table
