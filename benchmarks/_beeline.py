"""Shared helpers of the accuracy benchmarks: BEELINE cell types, their ground truths and candidate pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._common import GENERATED, RESULTS, ROOT, SHARED, use_shared_data

#: The paths are re-exported from ._common, where they live.
__all__ = [
    "CELLS",
    "GENERATED",
    "NETWORKS",
    "RESULTS",
    "ROOT",
    "SHARED",
    "baseline_tables",
    "candidates",
    "correlation_scores",
    "dense",
    "load_cell",
    "table_lookup",
    "use_shared_data",
]

CELLS = ("mDC", "mESC", "mHSC-L")
NETWORKS = ("Specific", "STRING", "Non-Specific")


def load_cell(cell: str, size: int = 500, *, lofgof: bool = False):
    """One cell type's expression (AnnData) and its ground truths ``{network: DataFrame}`` on the same genes.

    With ``lofgof``, mESC's loss/gain-of-function truth joins (its folder has no expression: it indexes the same
    genes as mESC's other truths, read from ../shared/data).
    """
    import cnnc

    use_shared_data()
    adata = cnnc.datasets.beeline(cell, "Specific", size)
    truths = {}
    for net in NETWORKS:
        other = adata if net == "Specific" else cnnc.datasets.beeline(cell, net, size)
        assert set(other.var_names) == set(adata.var_names), f"{cell} {net}: gene sets differ"
        truths[net] = other.uns["ground_truth"][["regulator", "target"]].copy()
    path = SHARED / "beeline-genelink" / "Lofgof" / cell / f"TFs+{size}" / "BL--network.csv"
    if lofgof and path.is_file():
        net = pd.read_csv(path).rename(columns={"Gene1": "regulator", "Gene2": "target"})
        truths["Lofgof"] = net[["regulator", "target"]].copy()
    return adata, truths


def candidates(adata, truth: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (regulator, gene) pair, regulator among the truth's regulators in the data, self pairs excluded.

    Returns positions (a, b) in ``adata.var_names`` and the labels (True for a ground-truth edge).
    """
    names = pd.Index(adata.var_names)
    regs = np.unique(names.get_indexer(truth["regulator"].unique()))
    regs = regs[regs >= 0]
    a = np.repeat(regs, adata.n_vars)
    b = np.tile(np.arange(adata.n_vars), len(regs))
    keep = a != b
    a, b = a[keep], b[keep]
    ra, rb = names.get_indexer(truth["regulator"]), names.get_indexer(truth["target"])
    edge_set = set(zip(ra[(ra >= 0) & (rb >= 0)], rb[(ra >= 0) & (rb >= 0)], strict=True))
    y = np.fromiter(((i, j) in edge_set for i, j in zip(a, b, strict=True)), dtype=bool, count=len(a))
    return a, b, y


def dense(adata) -> np.ndarray:
    x = adata.X
    return np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float64)


def correlation_scores(adata) -> dict[str, np.ndarray]:
    """Gene × gene |Pearson| and |Spearman| over cells."""
    x = dense(adata)
    pearson = np.nan_to_num(np.corrcoef(x.T))
    spearman = np.nan_to_num(stats.spearmanr(x).statistic)
    return {"|Pearson|": np.abs(pearson), "|Spearman|": np.abs(spearman)}


def table_lookup(edges: pd.DataFrame, names: pd.Index, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Scores of pairs (a, b) from a regulator/target/score table (missing pairs score -inf... never: 0)."""
    n = len(names)
    key = names.get_indexer(edges["regulator"]) * n + names.get_indexer(edges["target"])
    lookup = pd.Series(edges["score"].to_numpy(), index=key)
    lookup = lookup[~lookup.index.duplicated()]
    return lookup.reindex(a * n + b).fillna(0.0).to_numpy()


def baseline_tables(adata, regulators: list[str]) -> dict[str, pd.DataFrame]:
    """GRNBoost2's and regdiffusion's edge tables of ``adata`` (cached; a missing venv is reported and skipped)."""
    out = {}
    try:
        from .baselines import BaselineUnavailableError, grnboost2, regdiffusion
    except ImportError as e:  # pragma: no cover
        print(f"baselines unavailable: {e}")
        return out
    for label, fn in (("GRNBoost2", grnboost2), ("regdiffusion", regdiffusion)):
        try:
            out[label] = fn(dense(adata), list(adata.var_names), regulators, seed=0)
        except BaselineUnavailableError as e:
            print(f"{label} skipped: {e}")
    return out
