"""Known interactions → labelled pairs, the way CNNC builds them, and regulator-disjoint folds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scanpy import logging as logg

from .._tables import pair_table

DIRECTION_CLASSES = ["none", "regulator->target", "target->regulator"]
INTERACTION_CLASSES = ["none", "interaction"]


def edges_frame(edges, *, labels: bool = False) -> pd.DataFrame:
    """Known edges as a ``regulator``/``target`` DataFrame of str (any table :mod:`cnnc._tables` reads).

    A ``label`` column follows CNNC's convention (as in :func:`cnnc.datasets.cnnc_pairs`): 1 = the first gene
    regulates the second, 2 = the second regulates the first (the row is swapped), 0 = no interaction. With
    ``labels=True`` the frame keeps a ``label`` column (1 for known edges, 0 for known non-interactions; 1 for
    every row of a table without labels); otherwise rows labelled 0 are dropped.
    """
    frame = pair_table(edges, what="The table of known interactions", labels=True)
    frame = frame.rename(columns={"a": "regulator", "b": "target"})
    label = _labels_of(frame.pop("label")) if "label" in frame.columns else None
    if len(frame) == 0:
        raise ValueError("The table of known interactions is empty.")
    frame = frame.astype(str).reset_index(drop=True)
    if label is None:
        frame["label"] = 1
    else:
        swap = label == 2
        frame.loc[swap, ["regulator", "target"]] = frame.loc[swap, ["target", "regulator"]].to_numpy()
        frame["label"] = np.where(label == 0, 0, 1)
        logg.info(
            f"    the table's `label` column is read as CNNC's: {int((label == 1).sum()):,} rows labelled 1 "
            f"(first gene -> second), {int(swap.sum()):,} labelled 2 (second -> first), {int((label == 0).sum()):,} "
            "labelled 0 (no interaction: used as negatives)"
        )
        if not (frame["label"] == 1).any():
            raise ValueError(
                "Every row of the table is labelled 0 (no interaction): there is no known interaction to learn. "
                "Labels follow CNNC: 1 = first gene -> second, 2 = second -> first, 0 = none."
            )
    return frame if labels else frame[frame["label"] == 1].drop(columns="label").reset_index(drop=True)


def _labels_of(column: pd.Series) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy()
    bad = ~np.isin(values, [0, 1, 2])
    if bad.any():
        raise ValueError(
            f"The `label` column holds {column[bad].iloc[0]!r}; labels follow CNNC: 1 = first gene regulates the "
            "second, 2 = the second regulates the first, 0 = no interaction. Fix the values, or drop or rename "
            "the column to use every row as a known interaction."
        )
    return values.astype(np.int64)


def match_edges(edges, var_names: pd.Index) -> pd.DataFrame:
    """Map known edges to gene positions (case-insensitive, as CNNC lower-cases symbols).

    Edges whose genes are not in the data, and self-loops, are dropped and counted in the log;
    none left is an error. Rows labelled 0 (see :func:`edges_frame`) are not edges: see :func:`match_labelled`.
    """
    return match_labelled(edges, var_names)[0]


def match_labelled(edges, var_names: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Known edges and known non-interactions (rows labelled 0) as gene positions; see :func:`match_edges`."""
    frame = edges_frame(edges, labels=True)
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
    positive = frame["label"].to_numpy() == 1
    out = pd.DataFrame({"regulator": reg[known & positive], "target": tgt[known & positive]})
    out = out.drop_duplicates(ignore_index=True)
    if out.empty:
        raise ValueError(
            f"None of the {int(positive.sum())} known interactions (rows not labelled 0) has both genes in the data; "
            "check that the edges use the same gene symbols (and species) as adata.var_names."
        )
    negatives = pd.DataFrame({"regulator": reg[known & ~positive], "target": tgt[known & ~positive]})
    return out, negatives.drop_duplicates(ignore_index=True)


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
    known_negatives: pd.DataFrame | None = None,
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
    known_negatives
        Pairs known not to interact (``regulator``/``target`` positions, e.g. rows labelled 0 of a CNNC table):
        class 0, besides the random negatives (``negative_ratio=0`` trains on them alone).

    Random negatives that are known interactions (the pair or its reverse is a known edge), which
    ``negatives="random"`` can draw, are counted in a warning; when every random negative is one, the pairs
    cannot teach "none" and an error says so.
    """
    if task not in ("direction", "interaction"):
        raise ValueError(f"task must be 'direction' or 'interaction', got {task!r}.")
    if negatives not in ("random", "non-target"):
        raise ValueError(f"negatives must be 'random' or 'non-target', got {negatives!r}.")
    a, b, label, owner = [], [], [], []
    partners = known.groupby("regulator")["target"].apply(set).to_dict()
    incoming = known.groupby("target")["regulator"].apply(set).to_dict()
    n_random, n_collide = 0, 0
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
            interacting = np.fromiter(partners[reg] | incoming.get(reg, set()), dtype=np.int64)
            n_random += n_neg
            n_collide += int(np.isin(neg, interacting).sum())
            a.append(np.full(n_neg, reg))
            b.append(neg)
            label.append(np.zeros(n_neg, dtype=np.int64))
            owner.append(np.full(n_neg, reg))
    if n_collide and n_collide == n_random:
        raise ValueError(
            f"All {n_random} random negatives are known interactions (the pair or its reverse is a known edge): "
            "the known edges cover nearly every gene, so nothing teaches 'no interaction'. Pass "
            "negatives='non-target', add genes without known edges, or give labelled negatives (label 0)."
        )
    if n_collide:
        logg.warning(
            f"{n_collide} of {n_random} random negatives are known interactions (the pair or its reverse is a known "
            "edge) and are trained as 'none' too; pass negatives='non-target' to draw negatives among other genes."
        )
    if known_negatives is not None and len(known_negatives):
        neg_a = known_negatives["regulator"].to_numpy(dtype=np.int64)
        neg_b = known_negatives["target"].to_numpy(dtype=np.int64)
        pos = set(zip(known["regulator"], known["target"], strict=True))
        clash = np.fromiter(
            ((i, j) in pos or (j, i) in pos for i, j in zip(neg_a, neg_b, strict=True)), dtype=bool, count=len(neg_a)
        )
        if clash.any():
            logg.warning(
                f"{int(clash.sum())} pairs labelled 0 (no interaction) are also known interactions (labelled 1 or 2); "
                "they are used as interactions only."
            )
        a.append(neg_a[~clash])
        b.append(neg_b[~clash])
        label.append(np.zeros(int((~clash).sum()), dtype=np.int64))
        owner.append(neg_a[~clash])
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
