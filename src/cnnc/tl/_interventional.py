"""Direction from interventions: which variables a perturbation moves directly, and which it leaves alone.

For measured variables and cells labelled by condition (:class:`cnnc._interventions.Interventions`):

1. **Shift.** For each perturbing condition and each variable, the rank-biserial shift of the variable's
   distribution in the condition's cells against the control cells, with the Mann-Whitney p-value.
2. **Direct effect.** A perturbation of ``a`` moves all of ``a``'s descendants. The effect on ``b`` is direct when
   the condition indicator stays dependent on ``b`` given the other variables it moves *more* than ``b``: a
   mediator ``c`` of ``a → c → b`` carries at least as much information about the perturbation as ``b`` (the data
   processing inequality), while ``b``'s own descendants carry less and are not conditioned on. Fisher z test of
   the partial correlation of the indicator with ``b`` on normal scores of the condition's and the control cells.
3. **Invariance.** A link ``a - b`` (from the skeleton) where ``b`` is perturbed and ``a`` does not move points
   ``a → b``; a direct effect of perturbing ``a`` on ``b`` points ``a → b``.
4. **Propagation.** The interventional orientations are propagated through the skeleton by Meek's rules
   (as GIES's interventional essential graph would be); edges left undirected stay undetermined.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scanpy import logging as logg
from scipy import stats

from .._interventions import Interventions
from ._dependence import dependence_votes
from ._intervention_rankings import DEPENDENCE_THRESHOLD, pair_scores, rank_pairs
from ._network import _skeleton, normal_scores, propagate, unshielded_colliders


def shifts(values: np.ndarray, design: Interventions) -> tuple[dict, dict]:
    """Per perturbing condition: rank-biserial shift of each variable against the controls, and its p-value."""
    control = values[design.control_mask]
    effect, pvalue = {}, {}
    for label in design.targets:
        cells = values[design.labels == label]
        u, p = stats.mannwhitneyu(cells, control, axis=0)
        effect[label] = 2 * u / (len(cells) * len(control)) - 1
        pvalue[label] = np.where(np.isfinite(p), p, 1.0)
    return effect, pvalue


def warn_unmoved_levels(
    effect: dict, pvalue: dict, design: Interventions, alpha: float = 0.05, column: dict | None = None
) -> None:
    """Warn about conditions said to act on their targets' level (the default) that do not move it.

    A knock-down lowers its target's measured level; an inhibitor or activator of the target's activity need not
    (``acts_on="activity"`` in ``intervention_targets``), and is read differently by the ``"dependence"`` ranking.
    ``column``: variable index → column of ``pvalue``'s arrays where they hold a subset (targets absent: unchecked).
    """
    column = column if column is not None else {t: t for hit in design.targets.values() for t in hit}
    unmoved = [
        label
        for label, targets in design.targets.items()
        if design.kind(label) == "level"
        and any(t in column for t in targets)
        and all(pvalue[label][column[t]] >= alpha for t in targets if t in column)
    ]
    if unmoved:
        logg.warning(
            f"conditions {unmoved[:8]} act on their targets' level (the default) but do not shift it (Mann-Whitney "
            f"p >= {alpha}): if they inhibit or activate the targets' activity, say so with intervention_targets="
            "{label: {'targets': ..., 'acts_on': 'activity'}}; if they are knock-downs, they may have failed."
        )


def _partial_z(data: np.ndarray, given: list[int], j: int) -> tuple[float, float]:
    """Signed partial correlation of column 0 with column ``j`` given columns ``given``, and its Fisher-z p-value."""
    idx = [0, j, *given]
    corr = np.corrcoef(data[:, idx].T)
    precision = np.linalg.pinv(corr, hermitian=True)
    r = -precision[0, 1] / np.sqrt(max(precision[0, 0] * precision[1, 1], 1e-300))
    r = float(np.clip(r, -1 + 1e-12, 1 - 1e-12))
    z = float(np.sqrt(max(len(data) - len(given) - 3, 1)) * np.arctanh(r))
    return z, float(2 * stats.norm.sf(abs(z)))


def direct_effects(
    values: np.ndarray, design: Interventions, effect: dict, pvalue: dict, alpha: float, min_shift: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(z, p)``: variables × variables Fisher z (signed) and p-value of the direct effect of perturbing a on b.

    Pairs whose regulator is never perturbed get z = 0, p = 1; of several conditions perturbing ``a``, the one with
    the largest |z| counts.
    """
    p_vars = values.shape[1]
    z_out, p_out = np.zeros((p_vars, p_vars)), np.ones((p_vars, p_vars))
    for label, targets in design.targets.items():
        cells = (design.labels == label) | design.control_mask
        data = np.column_stack([(design.labels[cells] == label).astype(float), normal_scores(values[cells])])
        moved = (pvalue[label] < alpha) & (np.abs(effect[label]) >= min_shift)
        for b in range(p_vars):
            if b in targets:
                continue
            given = [
                c
                for c in np.flatnonzero(moved)
                if c != b and c not in targets and abs(effect[label][c]) > abs(effect[label][b])
            ]
            z, p = _partial_z(data, [c + 1 for c in given], b + 1)
            for a in targets:
                if abs(z) > abs(z_out[a, b]):
                    z_out[a, b], p_out[a, b] = z, p
    return z_out, p_out


def _shift_matrices(values: np.ndarray, design: Interventions) -> tuple[np.ndarray, np.ndarray, dict, dict]:
    """Variables × variables signed shift of b over the conditions perturbing a (largest |shift|) and its p-value."""
    p_vars = values.shape[1]
    effect, pvalue = shifts(values, design)
    shift, shift_p = np.zeros((p_vars, p_vars)), np.ones((p_vars, p_vars))
    for label, targets in design.targets.items():
        for a in targets:
            better = np.abs(effect[label]) > np.abs(shift[a])
            shift[a] = np.where(better, effect[label], shift[a])
            shift_p[a] = np.where(better, pvalue[label], shift_p[a])
    np.fill_diagonal(shift, 0)
    np.fill_diagonal(shift_p, 1)
    return shift, shift_p, effect, pvalue


def interventional_graph(
    values: np.ndarray,
    design: Interventions,
    *,
    alpha: float = 0.05,
    max_cond: int | None = 3,
    min_shift: float = 0.1,
    skeleton: np.ndarray | None = None,
    colliders: bool = False,
) -> dict:
    """The graph and the per-pair evidence: see the module docstring.

    ``skeleton``: a given adjacency matrix (else the PC-stable search at ``alpha``); ``colliders``: also orient the
    unshielded colliders of the observational path (:func:`cnnc.tl._network.unshielded_colliders`) where the
    interventions do not contradict them. Returns a dict of variables × variables arrays: ``adjacent`` (skeleton ∪
    direct effects), ``directed`` (``directed[a, b]``: a → b), ``how`` (0 none/undetermined, 1 collider, 2 Meek's
    rules, 3 intervention), ``direct_z``, ``direct_p``, ``shift`` (largest |shift| of b over conditions
    perturbing a, signed), ``shift_p``, ``partial`` (partial correlation given all others, pooled normal scores),
    ``colliders`` (``(i, k, j, p)`` kept), ``perturbed`` (boolean per variable), ``dependence``
    (:func:`cnnc.tl._dependence.dependence_votes`: the evidence for ``a → b`` from the links the perturbations cut).
    """
    n, p_vars = values.shape
    corr = np.corrcoef(normal_scores(values).T)
    if skeleton is None:
        adjacent = _skeleton(corr, n, alpha, max_cond, ~np.eye(p_vars, dtype=bool))
    else:
        adjacent = skeleton.copy()
    shift, shift_p, effect, pvalue = _shift_matrices(values, design)
    warn_unmoved_levels(effect, pvalue, design, alpha)
    z, zp = direct_effects(values, design, effect, pvalue, alpha, min_shift)
    direct = (zp < alpha) & (np.abs(shift) >= min_shift)
    perturbed = np.zeros(p_vars, dtype=bool)
    perturbed[design.perturbed()] = True
    # a - b with b perturbed and a unmoved by it: a is no descendant of b, so a -> b
    still = perturbed[None, :] & ((shift_p.T >= alpha) | (np.abs(shift.T) < min_shift))
    votes = (direct & ~(direct.T & (np.abs(z.T) > np.abs(z)))) | (adjacent & still & ~direct.T)
    if skeleton is None:
        adjacent = adjacent | direct | direct.T
    votes &= adjacent
    directed = votes & ~votes.T
    seeds = [(int(a), int(b), int(a)) for a, b in zip(*np.nonzero(directed), strict=True)]
    kept = []
    if colliders:
        found = unshielded_colliders(corr, n, adjacent, max_cond, alpha)
        kept = [c for c in found if not (directed[c[1], c[0]] or directed[c[1], c[2]])]
    # the interventional orientations enter Meek's rules as (a, b, a) "colliders" voting a -> b
    propagated, how = propagate(adjacent, seeds + kept)
    how = np.where(directed | directed.T, 3, how)
    partial = -np.linalg.pinv(corr, hermitian=True)
    d = np.sqrt(np.clip(np.diag(-partial), 1e-12, None))
    partial = partial / np.outer(d, d)
    np.fill_diagonal(partial, 1.0)
    return {
        "adjacent": adjacent,
        "directed": propagated | directed,
        "how": how,
        "direct_z": z,
        "direct_p": zp,
        "shift": shift,
        "shift_p": shift_p,
        "partial": partial,
        "colliders": kept,
        "perturbed": perturbed,
        "dependence": dependence_votes(values, design),
    }


def evidence_table(graph: dict, names: np.ndarray) -> pd.DataFrame:
    """One row per linked pair, as the edge tables read it: regulator, target, score, direction, evidence, pvalue.

    ``direction`` is 1 (regulator → target) or 0 (undetermined; regulator and target then in variable order);
    ``evidence`` is ``"intervention"``, ``"intervention+meek"`` or ``"none"``; ``pvalue`` the direct-effect
    p-value of the orientation (NaN when none was tested).
    """
    score = pair_scores(graph)
    directed, adjacent, how = graph["directed"], graph["adjacent"], graph["how"]
    rows = []
    for a, b in zip(*np.nonzero(np.triu(adjacent, 1)), strict=True):
        flip = bool(directed[b, a])
        r, t = (b, a) if flip else (a, b)
        oriented = bool(directed[r, t])
        tested = graph["direct_p"][r, t] if graph["direct_p"][r, t] < 1 else np.nan
        rows.append(
            {
                "regulator": names[r],
                "target": names[t],
                "score": score[r, t],
                "direction": 1 if oriented else 0,
                "evidence": ("intervention" if how[r, t] == 3 else "intervention+meek") if oriented else "none",
                "pvalue": tested,
                "shift": graph["shift"][r, t],
                "reverse_shift": graph["shift"][t, r],
                "partial_corr": graph["partial"][r, t],
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "regulator",
            "target",
            "score",
            "direction",
            "evidence",
            "pvalue",
            "shift",
            "reverse_shift",
            "partial_corr",
        ],
    )
    return table.sort_values("score", ascending=False, kind="stable", ignore_index=True)


def interventional_pairs(
    values: np.ndarray, design: Interventions, a: np.ndarray, b: np.ndarray, method: str = "combined"
) -> dict:
    """For the pairs ``(a, b)``: which have a perturbed variable on either side, and what the interventions say.

    ``method``: the ranking (:mod:`cnnc.tl._intervention_rankings`). ``touched`` (bool), ``sign`` (+1: a → b,
    -1: b → a, 0: undetermined; ``"graph"``: the graph's orientation, else the ranking's),
    ``score_ab``/``score_ba`` (percentile rank of a → b and of b → a among both directions of all the pairs, in
    (0, 1]), ``pvalue`` (of
    the evidence that oriented the pair: the Mann-Whitney p-value of the regulator's shift of the target where that
    shift is significant, else the direct-effect p-value, and for ``"dependence"`` the dependence vote's where it
    decided; NaN when neither was tested), ``shift_ab``/``shift_ba``
    (shift of b when a is perturbed and of a when b is).
    """
    graph = interventional_graph(values, design)
    score = rank_pairs(graph, method)
    if method == "graph":
        directed = graph["directed"]
        forward, backward = directed[a, b] & ~directed[b, a], directed[b, a] & ~directed[a, b]
    else:
        forward, backward = score[a, b] > score[b, a], score[b, a] > score[a, b]
    sign = np.where(forward, 1, np.where(backward, -1, 0))
    both = stats.rankdata(np.concatenate([score[a, b], score[b, a]])) / (2 * len(a))
    moves = (graph["shift_p"] < 0.05) & (np.abs(graph["shift"]) >= 0.1)
    evidence_p = np.where(moves, graph["shift_p"], graph["direct_p"]) if method != "graph" else graph["direct_p"]
    if method == "dependence":
        vote = graph["dependence"]
        evidence_p = np.where(np.abs(vote) > DEPENDENCE_THRESHOLD, 2 * stats.norm.sf(np.abs(vote)), evidence_p)
    pvalue = np.where(sign > 0, evidence_p[a, b], np.where(sign < 0, evidence_p[b, a], 1.0))
    return {
        "touched": graph["perturbed"][a] | graph["perturbed"][b],
        "sign": sign,
        "score_ab": both[: len(a)],
        "score_ba": both[len(a) :],
        "pvalue": np.where(pvalue < 1, pvalue, np.nan),
        "shift_ab": graph["shift"][a, b],
        "shift_ba": graph["shift"][b, a],
    }


def intervention_evidence(
    matrix, names, design: Interventions, regulator, target, *, alpha: float = 0.01, min_shift: float = 0.1
) -> pd.DataFrame:
    """What the perturbations say about given pairs, one row per pair: for edge tables of any size.

    ``matrix``: cells × genes (dense or sparse), ``names`` its columns; ``regulator``/``target``: the pairs' names.
    Returns ``regulator``, ``target``, ``score`` (the |shift| of the called direction, 0 if none), ``direction``
    (1: regulator → target, -1: target → regulator, 0: undetermined), ``evidence`` (``"intervention"`` where a
    perturbed gene is on either side, else ``"none"``), ``pvalue`` (Mann-Whitney p-value of the shift that
    decided, NaN if none), ``shift``/``reverse_shift`` (rank-biserial shift of the target when the regulator is
    perturbed, and of the regulator when the target is; 0 if never perturbed). A side moves the other when its
    shift has p < ``alpha`` and |shift| >= ``min_shift``; the pair points from the side that moves the other and
    is not moved back (both moving each other: the larger shift decides). Without the skeleton search of
    :func:`interventional_graph` there is no direct-effect or invariance step: a pair neither side of which moves
    the other stays undetermined.
    """
    names = pd.Index(np.asarray(names, dtype=str))
    ra, ta = names.get_indexer(np.asarray(regulator, dtype=str)), names.get_indexer(np.asarray(target, dtype=str))
    perturbed = np.zeros(len(names), dtype=bool)
    perturbed[design.perturbed()] = True
    touched = perturbed[ra] | perturbed[ta]
    genes = np.unique(np.concatenate([ra[touched], ta[touched]]))
    shift = np.zeros((len(names), len(genes)))
    shift_p = np.ones((len(names), len(genes)))
    if len(genes):
        sub = matrix[:, genes]
        values = np.asarray(sub.toarray() if hasattr(sub, "toarray") else sub, dtype=np.float64)
        effect, pvalue = shifts(values, design)
        warn_unmoved_levels(effect, pvalue, design, alpha, {int(g): k for k, g in enumerate(genes)})
        for label, hit in design.targets.items():
            for a in hit:
                better = np.abs(effect[label]) > np.abs(shift[a])
                shift[a] = np.where(better, effect[label], shift[a])
                shift_p[a] = np.where(better, pvalue[label], shift_p[a])
    col = {g: k for k, g in enumerate(genes)}
    ci = np.array([col.get(t, 0) for t in ta])
    cr = np.array([col.get(r, 0) for r in ra])
    fwd = np.where(touched, shift[ra, ci], 0.0)
    bwd = np.where(touched, shift[ta, cr], 0.0)
    fwd_p, bwd_p = np.where(touched, shift_p[ra, ci], 1.0), np.where(touched, shift_p[ta, cr], 1.0)
    moves = (fwd_p < alpha) & (np.abs(fwd) >= min_shift)
    moved = (bwd_p < alpha) & (np.abs(bwd) >= min_shift)
    forward = moves & ~(moved & (np.abs(bwd) > np.abs(fwd)))
    backward = moved & ~forward
    direction = np.where(forward, 1, np.where(backward, -1, 0))
    return pd.DataFrame(
        {
            "regulator": np.asarray(regulator, dtype=str),
            "target": np.asarray(target, dtype=str),
            "score": np.where(forward, np.abs(fwd), np.where(backward, np.abs(bwd), 0.0)),
            "direction": direction,
            "evidence": np.where(touched, "intervention", "none"),
            "pvalue": np.where(forward, fwd_p, np.where(backward, bwd_p, np.nan)),
            "shift": fwd,
            "reverse_shift": bwd,
        }
    )


def apply_pair_evidence(edges: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """Write the interventional call into an edge table aligned with ``evidence``, row by row.

    Pairs with a perturbed gene on either side get ``direction`` and ``direction_evidence = "intervention"``;
    the others keep theirs (created as 0 / ``"none"`` when the table has none), plus ``intervention_shift``,
    ``intervention_reverse_shift`` and ``intervention_pvalue``.
    """
    edges = edges.copy()
    touched = (evidence["evidence"] == "intervention").to_numpy()
    if "direction" not in edges.columns:
        edges["direction"] = 0
    if "direction_evidence" not in edges.columns:
        edges["direction_evidence"] = "none"
    edges["direction"] = np.where(touched, evidence["direction"].to_numpy(), edges["direction"].to_numpy())
    edges["direction_evidence"] = np.where(touched, "intervention", edges["direction_evidence"].astype(str).to_numpy())
    edges["intervention_shift"] = evidence["shift"].to_numpy()
    edges["intervention_reverse_shift"] = evidence["reverse_shift"].to_numpy()
    edges["intervention_pvalue"] = evidence["pvalue"].to_numpy()
    return edges
