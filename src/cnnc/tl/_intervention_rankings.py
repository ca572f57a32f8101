"""Three rankings of the ordered pairs ``a → b`` from the interventional graph and its evidence.

Every function takes the dict of :func:`cnnc.tl._interventional.interventional_graph` and returns a variables ×
variables score (higher: more likely ``a → b``; the diagonal ``-inf``).

- ``"graph"``: the graph's tiers (directed edges, undirected links, the rest), within each the link's strength.
- ``"shift"``: the perturbation evidence first: pairs whose regulator is perturbed and moves the target
  (significant shift) by the size of the shift; then the graph's edges out of never-perturbed variables
  (invariance and Meek's rules); then the rest by strength.
- ``"combined"`` (the default of :func:`cnnc.tl.causal_scores`): the link of a pair from both rankings (the mean
  of their percentile ranks, the better direction of the two), its orientation from ``"shift"``.
- ``"dependence"``: as ``"combined"``, but a pair whose dependence a perturbation clearly cuts or keeps
  (:mod:`cnnc.tl._dependence`, |vote| > :data:`DEPENDENCE_THRESHOLD`) takes its orientation from that.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

#: The rankings, by name.
METHODS = ("combined", "graph", "shift", "dependence")
#: |z| of the dependence vote above which it orients a pair in the ``"dependence"`` ranking (chosen on simulated
#: screens, seeds 0-2, among 1, 2, 3, 4 and 8).
DEPENDENCE_THRESHOLD = 2.0


def strength(graph: dict) -> np.ndarray:
    """Symmetric link strength in (0, 1): the mean percentile rank of total effect, directness and direct effect.

    Total effect: the larger |shift| of either side under the other's perturbation; directness: |partial
    correlation| given all other variables; direct effect: the larger |direct effect z| either way.
    """
    p_vars = len(graph["adjacent"])
    off = ~np.eye(p_vars, dtype=bool)
    shift, z = np.abs(graph["shift"]), np.abs(graph["direct_z"])
    partial = np.abs(graph["partial"])  # symmetric up to rounding: made exactly so, so that ties stay ties
    parts = (np.maximum(shift, shift.T)[off], np.maximum(partial, partial.T)[off], np.maximum(z, z.T)[off])
    out = np.zeros((p_vars, p_vars))
    out[off] = sum(stats.rankdata(x) for x in parts) / (len(parts) * (off.sum() + 1))
    return out


def pair_scores(graph: dict) -> np.ndarray:
    """The ``"graph"`` ranking: directed edges first, then undirected links, then the rest.

    Within each tier, the link's :func:`strength`.
    """
    directed = graph["directed"]
    tier = np.where(directed, 2.0, np.where(graph["adjacent"] & ~directed.T, 1.0, 0.0))
    score = tier + strength(graph)
    np.fill_diagonal(score, -np.inf)
    return score


def shift_scores(graph: dict, *, alpha: float = 0.05, min_shift: float = 0.1) -> np.ndarray:
    """The ``"shift"`` ranking: the perturbation's evidence first, the graph's after.

    A perturbed regulator that moves the target (Mann-Whitney p < ``alpha``, |rank-biserial shift| >=
    ``min_shift``) first, by |shift|; then graph edges out of never-perturbed variables; then links without either
    by :func:`strength` (halved where the regulator is perturbed and moves nothing; the larger of two such
    insignificant shifts breaks the tie between a pair's directions).
    """
    p_vars = len(graph["adjacent"])
    off = ~np.eye(p_vars, dtype=bool)
    link = strength(graph)
    perturbed = graph["perturbed"][:, None] & off
    shift = np.abs(graph["shift"])
    moves = perturbed & (graph["shift_p"] < alpha) & (shift >= min_shift)
    oriented = graph["directed"] & ~graph["perturbed"][:, None]
    # a perturbed regulator that moves nothing significantly: halved, and of the two directions of a pair the one
    # with the larger (insignificant) shift first (1e-6 is below the smallest step of the strength's ranks)
    weak = link / 2 + 1e-6 * shift
    score = np.where(moves, 2 + shift, np.where(oriented, 1 + link, np.where(perturbed, weak, link)))
    np.fill_diagonal(score, -np.inf)
    return score


def _percentile(score: np.ndarray) -> np.ndarray:
    off = ~np.eye(len(score), dtype=bool)
    out = np.zeros(score.shape)
    out[off] = stats.rankdata(score[off]) / off.sum()
    return out


def orientation(graph: dict, method: str) -> np.ndarray:
    """Antisymmetric orientation of a ranking's pairs: positive for ``a → b``.

    ``"combined"``: the sign of the ``"shift"`` ranking's difference; ``"dependence"``: the dependence vote's sign
    where |vote| > :data:`DEPENDENCE_THRESHOLD`, else the same.
    """
    shift = shift_scores(graph)
    np.fill_diagonal(shift, 0.0)
    orient = np.sign(shift - shift.T)
    if method == "dependence":
        vote = graph["dependence"]
        orient = np.where(np.abs(vote) > DEPENDENCE_THRESHOLD, np.sign(vote), orient)
    return orient


def combined_scores(graph: dict, method: str = "combined") -> np.ndarray:
    """The ``"combined"`` (or ``"dependence"``) ranking: the link from both rankings, the orientation apart.

    The link is ``max(r[a, b], r[b, a])`` with ``r`` the sum of the percentile ranks of the ``"graph"`` and
    ``"shift"`` rankings; the direction that :func:`orientation` calls the wrong one loses 0.5 (a quarter of the
    range); ties keep both.
    """
    mean = _percentile(pair_scores(graph)) + _percentile(shift_scores(graph))
    score = np.maximum(mean, mean.T) - 0.5 * (orientation(graph, method) < 0)
    np.fill_diagonal(score, -np.inf)
    return score


def rank_pairs(graph: dict, method: str) -> np.ndarray:
    """The ranking named ``method`` (one of :data:`METHODS`)."""
    if method == "graph":
        return pair_scores(graph)
    if method == "shift":
        return shift_scores(graph)
    if method in ("combined", "dependence"):
        return combined_scores(graph, method)
    raise ValueError(f"intervention_method must be one of {METHODS}, got {method!r}.")
