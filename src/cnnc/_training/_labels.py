"""Known interactions → labelled pairs, the way CNNC builds them, and regulator-disjoint folds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scanpy import logging as logg

DIRECTION_CLASSES = ["none", "regulator->target", "target->regulator"]
INTERACTION_CLASSES = ["none", "interaction"]


def edges_frame(edges) -> pd.DataFrame:
    """Known edges as a ``regulator``/``target`` DataFrame of str (accepts BEELINE's ``Gene1``/``Gene2`` too)."""
    if isinstance(edges, pd.DataFrame):
        for cols in (("regulator", "target"), ("Gene1", "Gene2"), ("source", "target"), ("gene_a", "gene_b")):
            if set(cols) <= set(edges.columns):
                frame = edges[list(cols)]
                break
        else:
            raise ValueError(
                f"Cannot find the regulator and target columns in {list(edges.columns)}; "
                "name them 'regulator' and 'target' (or 'Gene1'/'Gene2', 'source'/'target')."
            )
        frame = frame.set_axis(["regulator", "target"], axis=1)
    else:
        frame = pd.DataFrame(list(edges), columns=["regulator", "target"])
    if len(frame) == 0:
        raise ValueError("The table of known interactions is empty.")
    return frame.astype(str).reset_index(drop=True)


def match_edges(edges, var_names: pd.Index) -> pd.DataFrame:
    """Map known edges to gene positions (case-insensitive, as CNNC lower-cases symbols).

    Edges whose genes are not in the data, and self-loops, are dropped and counted in the log;
    none left is an error.
    """
    frame = edges_frame(edges)
    lower = pd.Index(var_names.astype(str).str.lower())
    if not lower.is_unique:
        dup = lower[lower.duplicated()][:5].tolist()
        raise ValueError(f"Gene names collide when lower-cased (e.g. {dup}); make them unique first.")
    reg = lower.get_indexer(frame["regulator"].str.lower())
    tgt = lower.get_indexer(frame["target"].str.lower())
    known = (reg >= 0) & (tgt >= 0) & (reg != tgt)
    n_missing = int(((reg < 0) | (tgt < 0)).sum())
    if n_missing:
        logg.warning(f"{n_missing} of {len(frame)} known edges name genes not in the data; they are dropped.")
    if not known.any():
        example = frame.iloc[0].tolist()
        raise ValueError(
            f"None of the {len(frame)} known edges has both genes in the data (e.g. {example}); "
            "check that the edges use the same gene symbols (and species) as adata.var_names."
        )
    out = pd.DataFrame({"regulator": reg[known], "target": tgt[known]}).drop_duplicates(ignore_index=True)
    return out


@dataclass
class LabelledPairs:
    """Pairs of gene positions with a class, and the regulator each pair belongs to (for splits)."""

    a: np.ndarray
    b: np.ndarray
    label: np.ndarray
    regulator: np.ndarray

    def subset(self, mask: np.ndarray) -> LabelledPairs:
        return LabelledPairs(self.a[mask], self.b[mask], self.label[mask], self.regulator[mask])

    def __len__(self) -> int:
        return len(self.a)


def labelled_pairs(
    known: pd.DataFrame,
    n_genes: int,
    *,
    task: str = "direction",
    negative_ratio: float = 1.0,
    negatives: str = "random",
    rng: np.random.Generator,
) -> LabelledPairs:
    """CNNC's labels: (r, t) → 1, the swapped (t, r) → 2 (direction task), (r, random gene) → 0.

    Parameters
    ----------
    known
        Output of :func:`match_edges`.
    n_genes
        Number of genes negatives are drawn from.
    task
        ``"direction"`` (classes none / r→t / t→r) or ``"interaction"`` (none / interaction).
    negative_ratio
        Negatives per known edge of each regulator.
    negatives
        ``"random"``: any gene but the regulator (CNNC); ``"non-target"``: genes not known as the regulator's
        targets (nor as its regulators).
    rng
        Random generator (negatives are drawn with it, so a seed fixes them).
    """
    if task not in ("direction", "interaction"):
        raise ValueError(f"task must be 'direction' or 'interaction', got {task!r}.")
    if negatives not in ("random", "non-target"):
        raise ValueError(f"negatives must be 'random' or 'non-target', got {negatives!r}.")
    a, b, label, owner = [], [], [], []
    partners = known.groupby("regulator")["target"].apply(set).to_dict()
    incoming = known.groupby("target")["regulator"].apply(set).to_dict()
    for reg in sorted(partners):
        targets = np.array(sorted(partners[reg]))
        n = len(targets)
        a.append(np.full(n, reg))
        b.append(targets)
        label.append(np.ones(n, dtype=np.int64))
        owner.append(np.full(n, reg))
        if task == "direction":
            a.append(targets)
            b.append(np.full(n, reg))
            label.append(np.full(n, 2, dtype=np.int64))
            owner.append(np.full(n, reg))
        n_neg = int(round(negative_ratio * n))
        excluded = {reg}
        if negatives == "non-target":
            excluded |= partners[reg] | incoming.get(reg, set())
        pool = np.setdiff1d(np.arange(n_genes), np.fromiter(excluded, dtype=np.int64))
        if n_neg and len(pool) == 0:
            raise ValueError(
                f"Regulator at position {reg} has no gene left to draw negatives from (all genes are its targets)."
            )
        if n_neg:
            neg = rng.choice(pool, size=n_neg, replace=n_neg > len(pool))
            a.append(np.full(n_neg, reg))
            b.append(neg)
            label.append(np.zeros(n_neg, dtype=np.int64))
            owner.append(np.full(n_neg, reg))
    return LabelledPairs(*(np.concatenate(x).astype(np.int64) for x in (a, b, label, owner)))


def regulator_folds(regulators: np.ndarray, folds: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Split regulators into ``folds`` disjoint groups (no regulator in two folds)."""
    regulators = np.unique(regulators)
    if folds < 2:
        raise ValueError(f"folds must be >= 2 for cross-validation, got {folds}.")
    if len(regulators) < folds:
        raise ValueError(
            f"{len(regulators)} regulators cannot be split into {folds} regulator-disjoint folds; use fewer folds."
        )
    order = rng.permutation(regulators)
    return [np.sort(part) for part in np.array_split(order, folds)]


def carve_validation(
    regulators: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split training regulators into (fit, validation) groups; at least one regulator on each side."""
    regulators = np.unique(regulators)
    if len(regulators) < 2:
        raise ValueError(
            "Early stopping needs validation regulators apart from the training ones, but only "
            f"{len(regulators)} regulator has known targets; give edges of at least 2 regulators."
        )
    n_val = min(max(1, int(round(fraction * len(regulators)))), len(regulators) - 1)
    order = rng.permutation(regulators)
    return np.sort(order[n_val:]), np.sort(order[:n_val])
