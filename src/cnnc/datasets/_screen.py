"""``cnnc.datasets.simulate_screen``: a pooled CRISPRi screen on a random regulatory network, with its true edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData

#: Label of the cells whose guide targets no gene.
CONTROL = "non-targeting"


def _random_dag(n_genes: int, n_edges: int, rng: np.random.Generator) -> np.ndarray:
    """A random DAG as ``(regulator, target)`` rows: ``n_edges`` distinct pairs forward in a random gene order."""
    order = rng.permutation(n_genes)
    i, j = np.triu_indices(n_genes, k=1)
    chosen = rng.choice(len(i), size=min(n_edges, len(i)), replace=False)
    return np.stack([order[i[chosen]], order[j[chosen]]], axis=1)


def _order(edges: np.ndarray, n_genes: int) -> list[int]:
    """Topological order of the DAG (regulators before their targets)."""
    indegree = np.bincount(edges[:, 1], minlength=n_genes)
    order, ready = [], [g for g in range(n_genes) if indegree[g] == 0]
    remaining = indegree.copy()
    while ready:
        g = ready.pop()
        order.append(g)
        for t in edges[edges[:, 0] == g, 1]:
            remaining[t] -= 1
            if remaining[t] == 0:
                ready.append(t)
    return order


def _feedback_edges(edges: np.ndarray, n_genes: int, n_feedback: int, rng) -> np.ndarray:
    """``n_feedback`` ``(source, target)`` rows from a gene back to one of its ancestors two or more steps up."""
    reach = np.zeros((n_genes, n_genes), dtype=bool)
    reach[edges[:, 0], edges[:, 1]] = True
    step = reach.copy()
    for _ in range(n_genes):
        step = (step.astype(int) @ reach.astype(int)) > 0
        if not step.any():
            break
        reach |= step
    direct = np.zeros_like(reach)
    direct[edges[:, 0], edges[:, 1]] = True
    up, down = np.nonzero(reach & ~direct)  # ancestor, descendant at two or more steps
    if n_feedback > len(up):
        raise ValueError(
            f"feedback={n_feedback} exceeds the {len(up)} gene pairs two or more steps apart in the network."
        )
    chosen = rng.choice(len(up), size=n_feedback, replace=False)
    return np.stack([down[chosen], up[chosen]], axis=1).reshape(-1, 2)


def _hill_input(x: np.ndarray, half: float, weight: float) -> np.ndarray:
    x = (x / half) ** 2
    hill = x / (1 + x)  # activation in (0, 1); repression is 1 - hill
    return abs(weight) * (hill if weight > 0 else 1 - hill)


def _rates(
    edges: np.ndarray,
    weights: np.ndarray,
    n_genes: int,
    knocked: np.ndarray,
    knockdown: float,
    noise: float,
    rng,
    on_activity: bool = False,
    feedback: np.ndarray | None = None,
) -> np.ndarray:
    """Cells × genes expression rates: each gene a Hill function of its regulators, knock-downs applied in order.

    ``on_activity``: the perturbation lowers what the gene's targets read (its activity), not its measured rate.
    ``feedback``: ``(source, target, weight)`` rows read from the previous of 30 damped sweeps (a steady state of
    the loops), none by default.
    """
    n_cells = len(knocked)
    basal = rng.uniform(0.5, 2.0, n_genes)
    half = rng.uniform(0.5, 1.5, len(edges))
    order = _order(edges, n_genes)
    draws = {g: rng.standard_normal(n_cells) for g in order}
    loops = np.zeros((0, 3)) if feedback is None else feedback
    rate = np.zeros((n_cells, n_genes))
    active = np.zeros((n_cells, n_genes))  # what the targets read
    back = np.zeros((n_cells, len(loops)))  # the feedback sources' activity, damped over the sweeps
    for _ in range(30 if len(loops) else 1):
        for g in order:
            activity = np.zeros(n_cells)
            for e in np.flatnonzero(edges[:, 1] == g):
                activity += _hill_input(active[:, edges[e, 0]], half[e], weights[e])
            for k in np.flatnonzero(loops[:, 1] == g):
                activity += _hill_input(back[:, k], 1.0, loops[k, 2])
            level = basal[g] * (0.2 + activity) * np.exp(noise * draws[g])
            active[:, g] = np.where(knocked == g, knockdown * level, level)
            rate[:, g] = level if on_activity else active[:, g]
        back = 0.5 * back + 0.5 * active[:, loops[:, 0].astype(int)] if len(loops) else back
    return rate


def simulate_screen(
    n_genes: int = 20,
    *,
    n_edges: int | None = None,
    perturbed: float = 0.6,
    cells_per_guide: int = 150,
    control_cells: int = 1500,
    knockdown: float = 0.15,
    noise: float = 0.3,
    depth: float = 30.0,
    n_background: int = 200,
    acts_on: str = "expression",
    feedback: int = 0,
    seed: int = 0,
) -> AnnData:
    """Simulate a pooled CRISPRi screen: a random gene network, count noise, one guide per cell.

    Each gene's expression rate is a sum of Hill functions (activation or repression) of its regulators' rates
    in a random DAG, times log-normal cell-to-cell noise; a guide knocks its gene's rate down to ``knockdown`` of
    what it would be, and the knock-down reaches the gene's descendants through the network. Counts are Poisson
    with mean ``depth`` × rate × a per-cell size factor (log-normal), so sparse, overdispersed, with varying depth.

    Parameters
    ----------
    n_genes
        Genes of the network.
    n_edges
        Edges of the random DAG (default: ``2 * n_genes``, i.e. 4 neighbours per gene on average).
    perturbed
        Share of the genes with a guide (at least one).
    cells_per_guide
        Cells per targeting guide.
    control_cells
        Cells with the non-targeting guide (label ``"non-targeting"``).
    knockdown
        Remaining share of a knocked-down gene's rate, in (0, 1).
    noise
        Standard deviation of the log-normal cell-to-cell noise of each gene's rate.
    depth
        Mean counts of a gene of rate 1 in a cell of size factor 1.
    n_background
        Genes outside the network (named ``"bg000"``, ...; log-normal rates, no regulation), so that knocking down
        a network gene changes a cell's total counts as little as in a transcriptome.
    acts_on
        ``"expression"``: a guide lowers its gene's expression (CRISPRi), which its targets read; ``"activity"``:
        it lowers only what the gene's targets read and leaves the gene's measured level alone, as an inhibitor of
        a protein's activity does (the knocked-down gene's counts then show no shift).
    feedback
        Negative feedback loops: edges from a gene back to one of its ancestors two or more steps up (repression,
        as active ERK damps Raf), solved to a steady state. They are not in ``uns["ground_truth"]`` (the
        acyclic cascade) but in ``uns["feedback"]``. With them, inhibiting a gene can raise its ancestors, as the
        MEK inhibitor U0126 raises pMek and Raf.
    seed
        Seed of the network, the guides and the counts.

    Returns
    -------
    Cells × genes AnnData: ``X`` raw counts (float32), ``var["in_network"]`` (False for background genes), ``obs["guide"]`` the gene targeted (or
    ``"non-targeting"``), ``uns["ground_truth"]`` the true edges (``regulator``, ``target``, ``sign``: +1
    activation, -1 repression) of the acyclic cascade, ``uns["feedback"]`` the feedback loops (same columns, empty
    without ``feedback``), ``uns["simulation"]`` the parameters.

    Examples
    --------
    >>> import cnnc
    >>> screen = cnnc.datasets.simulate_screen(12, seed=1)
    >>> sorted(screen.obs["guide"].unique())[:2]
    ['g00', 'g01']
    """
    for name, value in (("n_genes", n_genes), ("cells_per_guide", cells_per_guide), ("control_cells", control_cells)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or value < (3 if name == "n_genes" else 1)
        ):
            raise ValueError(f"{name} must be an integer >= {3 if name == 'n_genes' else 1}, got {value!r}.")
    if not 0 < perturbed <= 1 or not 0 < knockdown < 1 or noise < 0 or depth <= 0:
        raise ValueError("perturbed must be in (0, 1], knockdown in (0, 1), noise >= 0 and depth > 0.")
    if isinstance(feedback, bool) or not isinstance(feedback, int | np.integer) or feedback < 0:
        raise ValueError(f"feedback must be an integer >= 0 (loops back to an ancestor), got {feedback!r}.")
    if acts_on not in ("expression", "activity"):
        raise ValueError(f"acts_on must be 'expression' or 'activity', got {acts_on!r}.")
    rng = np.random.default_rng(seed)
    edges = _random_dag(n_genes, 2 * n_genes if n_edges is None else int(n_edges), rng)
    weights = rng.uniform(1.0, 3.0, len(edges)) * rng.choice([1, -1], len(edges), p=[0.7, 0.3])
    guided = np.sort(rng.choice(n_genes, size=max(1, round(perturbed * n_genes)), replace=False))
    knocked = np.concatenate([np.full(control_cells, -1), np.repeat(guided, cells_per_guide)])
    loops = None
    if feedback:
        fb_rng = np.random.default_rng([seed, 1])  # its own stream: the network and counts stay those of feedback=0
        pairs = _feedback_edges(edges, n_genes, int(feedback), fb_rng)
        loops = np.column_stack([pairs, -fb_rng.uniform(1.0, 3.0, len(pairs))])
    rate = _rates(
        edges, weights, n_genes, knocked, knockdown, noise, rng, on_activity=acts_on == "activity", feedback=loops
    )
    background = np.exp(rng.standard_normal(n_background))[None, :] * np.ones((len(knocked), 1))
    size = np.exp(0.3 * rng.standard_normal(len(knocked)))[:, None]
    counts = rng.poisson(depth * np.hstack([rate, background]) * size).astype(np.float32)
    genes = np.array([f"g{g:02d}" for g in range(n_genes)])
    guide = np.where(knocked < 0, CONTROL, genes[np.maximum(knocked, 0)])
    adata = AnnData(
        X=counts,
        obs=pd.DataFrame({"guide": pd.Categorical(guide)}, index=[f"cell{k}" for k in range(len(knocked))]),
        var=pd.DataFrame(
            {"in_network": np.arange(n_genes + n_background) < n_genes},
            index=np.concatenate([genes, [f"bg{g:03d}" for g in range(n_background)]]),
        ),
    )
    adata.uns["ground_truth"] = pd.DataFrame(
        {"regulator": genes[edges[:, 0]], "target": genes[edges[:, 1]], "sign": np.sign(weights).astype(int)}
    )
    adata.uns["feedback"] = pd.DataFrame(
        {
            "regulator": genes[loops[:, 0].astype(int)] if loops is not None else [],
            "target": genes[loops[:, 1].astype(int)] if loops is not None else [],
            "sign": np.full(0 if loops is None else len(loops), -1),
        }
    )
    adata.uns["simulation"] = {
        "n_genes": int(n_genes),
        "n_edges": len(edges),
        "perturbed": [str(g) for g in genes[guided]],
        "cells_per_guide": int(cells_per_guide),
        "control_cells": int(control_cells),
        "knockdown": float(knockdown),
        "noise": float(noise),
        "depth": float(depth),
        "n_background": int(n_background),
        "acts_on": acts_on,
        "feedback": int(feedback),
        "seed": int(seed),
    }
    return adata
