"""Edge significance on scanpy's PBMCs: calibration on shuffled data, edges found on real data, cost.

For the 33 bundled human TFs × all 765 genes of ``sc.datasets.pbmc68k_reduced()`` (log-normalised ``.raw``), as
``cnnc.tl.predict_interactions(adata, tfs="human")`` computes them (pairs co-expressed in ≥ 10 cells):

- real data: edges at q < 0.05;
- every gene's cells shuffled independently (no association left), several seeds: the fraction of edges at
  q < 0.05 (acceptance: ≤ 1%) and at p < 0.05 (≈ 5% when the p-values are uniform);
- cost: the null (``cnnc._significance.null_statistics``) against the context prior of the default model alone
  (``ContextStatistics.from_matrix`` with its feature), both timed in this run, best of 3.

Usage::

    python benchmarks/significance.py            # ~1 min; writes docs/_generated/significance.md
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scanpy as sc
from scipy import sparse

import cnnc
from cnnc._evidence import pair_evidence
from cnnc._features import ContextStatistics
from cnnc._significance import add_significance, null_statistics
from cnnc.tl._regulators import species_tfs

MIN_CELLS = 10
SEEDS = (0, 1, 2, 3, 4)
OUT = Path(__file__).resolve().parents[1] / "docs" / "_generated" / "significance.md"


def shuffle_each_gene(matrix, seed: int):
    rng = np.random.default_rng(seed)
    x = sparse.csc_matrix(matrix, copy=True)
    for j in range(x.shape[1]):
        lo, hi = x.indptr[j], x.indptr[j + 1]
        x.indices[lo:hi] = rng.choice(x.shape[0], hi - lo, replace=False)
    x.has_sorted_indices = False
    x.sort_indices()
    return x.tocsr()


def tables(matrix, a, b):
    corr, both = pair_evidence(matrix, a, b)
    keep = both >= MIN_CELLS
    edges = pd.DataFrame({"corr": corr[keep]})
    return add_significance(edges, matrix, a[keep], b[keep], min_cells=MIN_CELLS)


def best_of(f, n=3):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    adata = sc.datasets.pbmc68k_reduced()
    x = sparse.csr_matrix(adata.raw.X)
    names = adata.raw.var_names
    reg = np.flatnonzero(names.isin(species_tfs("human", names)))
    a = np.repeat(reg, len(names))
    b = np.tile(np.arange(len(names)), len(reg))
    a, b = a[a != b], b[a != b]
    rows = []
    real = tables(x, a, b)
    rows.append(("real", len(real), int((real.qvalue < 0.05).sum()), (real.pvalue < 0.05).mean()))
    for seed in SEEDS:
        t = tables(shuffle_each_gene(x, seed), a, b)
        rows.append((f"shuffled, seed {seed}", len(t), int((t.qvalue < 0.05).sum()), (t.pvalue < 0.05).mean()))
    feature = cnnc.models.load("default").spec.features[0]
    prior = best_of(lambda: ContextStatistics.from_matrix(x, features=[feature]))
    kept = pair_evidence(x, a, b)[1] >= MIN_CELLS
    null = best_of(lambda: null_statistics(x, a[kept], b[kept], min_cells=MIN_CELLS))
    n_perm = null_statistics(x, a[kept], b[kept], min_cells=MIN_CELLS)[1]
    lines = [
        "Edge significance on `sc.datasets.pbmc68k_reduced()`: the bundled human TFs × all genes, pairs "
        f"co-expressed in ≥ {MIN_CELLS} cells (`python benchmarks/significance.py`).",
        "",
        "| data | edges | edges at q < 0.05 | fraction at q < 0.05 | fraction at p < 0.05 |",
        "|---|---|---|---|---|",
        *(f"| {d} | {n:,} | {k:,} | {k / n:.3%} | {p:.3f} |" for d, n, k, p in rows),
        "",
        f"Cost: the null ({n_perm} permutations) {null:.2f} s against the default model's context prior alone "
        f"{prior:.2f} s (ratio {null / prior:.2f}; best of 3, same run).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if "--no-write" not in sys.argv:
        OUT.write_text("## Edge significance: calibration and cost\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    main()
