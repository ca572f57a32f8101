"""Benchmark peer: a discrete Bayesian network scored with interventions, model-averaged over bootstrap resamples.

Not part of the package (it lost to the shipped rankings on the tuning setting; see docs/interventions.md). The approach of Sachs et al. (2005) on their cytometry data: every variable discretised into a few levels (equal-
frequency bins of its ranks), the BDeu score where a perturbed variable's own term drops the cells in which it is
perturbed ("perfect" interventions, Cooper & Yoo 1999: the perturbation, not the parents, sets its level there), a
greedy search over DAGs (add, delete or reverse an edge; random restarts), and model averaging: the share of
bootstrap resamples of the cells whose best graph holds ``a → b`` ranks the pair.

The search is exponential in the parents per variable and quadratic in the variables per step, so it is meant for
small variable sets (:data:`MAX_VARIABLES`).
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import gammaln

#: Most variables the search takes (beyond, the greedy search and the bootstrap cost minutes and the share of
#: cells per parent configuration falls below what the counts can score).
MAX_VARIABLES = 60


def discretise(values: np.ndarray, levels: int) -> np.ndarray:
    """Cells × variables integer levels ``0 .. levels - 1``: equal-frequency bins of each variable's ranks."""
    ranks = stats.rankdata(values, axis=0, method="average")
    return np.minimum((levels * (ranks - 0.5) / len(values)).astype(np.int64), levels - 1)


class _Scorer:
    """Cached BDeu family scores of one (weighted) data set; ``used[j]``: the cells scored in ``j``'s own term."""

    def __init__(self, codes: np.ndarray, used: np.ndarray, weights: np.ndarray, levels: int, ess: float):
        self.codes, self.levels, self.ess = codes, levels, ess
        self.weights = used * weights[None, :]
        self.cache: dict[tuple[int, frozenset], float] = {}

    def __call__(self, j: int, parents: frozenset) -> float:
        key = (j, parents)
        if key not in self.cache:
            r = self.levels
            config = np.zeros(len(self.codes), dtype=np.int64)
            for k in sorted(parents):
                config = config * r + self.codes[:, k]
            q = r ** len(parents)
            counts = np.bincount(config * r + self.codes[:, j], weights=self.weights[j], minlength=q * r)
            counts = counts.reshape(q, r)
            a_q, a_qr = self.ess / q, self.ess / (q * r)
            self.cache[key] = float(
                np.sum(gammaln(a_q) - gammaln(a_q + counts.sum(1))) + np.sum(gammaln(a_qr + counts) - gammaln(a_qr))
            )
        return self.cache[key]


def _reach(adj: np.ndarray) -> np.ndarray:
    """``reach[i, j]``: a directed path from i to j (of length >= 0)."""
    reach = adj | np.eye(len(adj), dtype=bool)
    while True:
        nxt = reach | ((reach.astype(np.int64) @ reach.astype(np.int64)) > 0)
        if (nxt == reach).all():
            return reach
        reach = nxt


def _moves(adj: np.ndarray, score, local: np.ndarray, max_parents: int):
    """Every legal single-edge change and its score gain: ``(gain, kind, i, j)`` (kind 0 add, 1 delete, 2 reverse)."""
    p = len(adj)
    reach = _reach(adj)
    parents = [frozenset(np.flatnonzero(adj[:, j]).tolist()) for j in range(p)]
    out = []
    for j in range(p):
        for i in range(p):
            if i == j:
                continue
            if adj[i, j]:
                drop = score(j, parents[j] - {i}) - local[j]
                out.append((drop, 1, i, j))
                # reversing i -> j makes a cycle if i reaches j another way
                other = adj[i] & reach[:, j]
                other[j] = False
                if not other.any() and len(parents[i]) < max_parents:
                    out.append((drop + score(i, parents[i] | {j}) - local[i], 2, i, j))
            elif not adj[j, i] and not reach[j, i] and len(parents[j]) < max_parents:
                out.append((score(j, parents[j] | {i}) - local[j], 0, i, j))
    return out


def _climb(adj: np.ndarray, score, max_parents: int) -> tuple[np.ndarray, float]:
    """Greedy ascent from ``adj`` until no single-edge change raises the score."""
    adj = adj.copy()
    p = len(adj)
    local = np.array([score(j, frozenset(np.flatnonzero(adj[:, j]).tolist())) for j in range(p)])
    while True:
        moves = _moves(adj, score, local, max_parents)
        if not moves:
            break
        gain, kind, i, j = max(moves, key=lambda m: m[0])
        if gain <= 1e-9:
            break
        adj[i, j] = kind == 0
        if kind == 2:
            adj[j, i] = True
        for k in {i, j}:
            local[k] = score(k, frozenset(np.flatnonzero(adj[:, k]).tolist()))
    return adj, float(local.sum())


def _perturb(adj: np.ndarray, n_moves: int, max_parents: int, rng: np.random.Generator) -> np.ndarray:
    """``n_moves`` random legal single-edge changes (the start of a restart)."""
    adj = adj.copy()
    p = len(adj)
    for _ in range(n_moves):
        i, j = rng.choice(p, 2, replace=False)
        if adj[i, j]:
            adj[i, j] = False
            if rng.random() < 0.5 and adj[:, i].sum() < max_parents and not _reach(adj)[i, j]:
                adj[j, i] = True
        elif not adj[j, i] and adj[:, j].sum() < max_parents and not _reach(adj)[j, i]:
            adj[i, j] = True
    return adj


def best_network(score, p: int, *, max_parents: int, restarts: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy search from the empty graph, then ``restarts`` climbs from random perturbations of the best."""
    best, best_score = _climb(np.zeros((p, p), dtype=bool), score, max_parents)
    for _ in range(restarts):
        start = _perturb(best, max(2, p // 2), max_parents, rng)
        adj, s = _climb(start, score, max_parents)
        if s > best_score + 1e-9:
            best, best_score = adj, s
    return best


def used_cells(labels: np.ndarray, targets: dict[str, list[int]], p: int) -> np.ndarray:
    """Variables × cells: False where the variable is perturbed (its own term leaves those cells out)."""
    used = np.ones((p, len(labels)), dtype=bool)
    for label, hit in targets.items():
        cells = labels == label
        for t in hit:
            used[t, cells] = False
    return used


def network_frequencies(
    values: np.ndarray,
    labels: np.ndarray,
    targets: dict[str, list[int]],
    *,
    levels: int = 3,
    ess: float = 1.0,
    max_parents: int = 3,
    n_boot: int = 20,
    restarts: int = 2,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(best, frequency)``: the best DAG on all cells, and the share of bootstrap resamples whose DAG has a → b.

    ``values``: cells × variables; ``labels``: each cell's condition; ``targets``: condition → the columns it
    perturbs (conditions absent perturb nothing).
    """
    n, p = values.shape
    if p > MAX_VARIABLES:
        raise ValueError(
            f"The Bayesian-network search takes at most {MAX_VARIABLES} variables, got {p}: pass fewer variables "
            "(e.g. the perturbed genes and their strongest partners)."
        )
    codes = discretise(values, levels)
    used = used_cells(np.asarray(labels), targets, p)
    rng = np.random.default_rng(seed)
    kw = {"max_parents": max_parents, "restarts": restarts, "rng": rng}
    best = best_network(_Scorer(codes, used, np.ones(n), levels, ess), p, **kw)
    frequency = np.zeros((p, p))
    for _ in range(n_boot):
        weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        frequency += best_network(_Scorer(codes, used, weights, levels, ess), p, **kw)
    return best, frequency / max(n_boot, 1)
