"""Edge significance on scanpy's PBMCs: calibration on shuffled data, edges found on real data, cost.

For the bundled human TFs × all 765 genes of ``sc.datasets.pbmc68k_reduced()`` (log-normalised ``.raw``), through
``cnnc.tl.predict_interactions(adata, tfs="human")`` (pairs co-expressed in ≥ 10 cells):

- real data: edges at q < 0.05;
- every gene's cells shuffled independently (no association left), several seeds: the fraction of edges at
  q < 0.05 (acceptance: ≤ 1%) and at p < 0.05 (≈ 5% when the p-values are uniform);
- cost: the whole prediction (significance included) against the default model's context prior alone
  (``cnnc.models.ContextStatistics.from_matrix`` with its features), both timed in this run, best of 3.

Usage::

    python -m benchmarks.significance            # ~1 min; writes docs/_generated/significance.md
"""

from __future__ import annotations

import argparse
import time

import anndata as ad
import numpy as np
import scanpy as sc
from scipy import sparse

import cnnc

from ._common import GENERATED, header_line, run_header

MIN_CELLS = 10
SEEDS = (0, 1, 2, 3, 4)
OUT = GENERATED / "significance.md"


def shuffle_each_gene(matrix, seed: int):
    """A copy of ``matrix`` with each gene's cells permuted independently (no association left)."""
    rng = np.random.default_rng(seed)
    x = sparse.csc_matrix(matrix, copy=True)
    for j in range(x.shape[1]):
        lo, hi = x.indptr[j], x.indptr[j + 1]
        x.indices[lo:hi] = rng.choice(x.shape[0], hi - lo, replace=False)
    x.has_sorted_indices = False
    x.sort_indices()
    return x.tocsr()


def predicted(matrix, var_names):
    """The default model's edge table of the human TFs × every gene of ``matrix``."""
    adata = ad.AnnData(sparse.csr_matrix(matrix))
    adata.var_names = var_names
    cnnc.tl.predict_interactions(adata, tfs="human", settings=cnnc.tl.ScoringSettings(min_cells=MIN_CELLS))
    return adata.uns["cnnc"]["edges"]


def best_of(f, n=3):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args()
    sc.settings.verbosity = 0
    run = run_header("default")
    adata = sc.datasets.pbmc68k_reduced()
    x = sparse.csr_matrix(adata.raw.X)
    names = adata.raw.var_names
    rows = []
    real = predicted(x, names)
    rows.append(("real", len(real), int((real.qvalue < 0.05).sum()), (real.pvalue < 0.05).mean()))
    for seed in SEEDS:
        t = predicted(shuffle_each_gene(x, seed), names)
        rows.append((f"shuffled, seed {seed}", len(t), int((t.qvalue < 0.05).sum()), (t.pvalue < 0.05).mean()))
    features = list(cnnc.models.load("default").spec.features)
    prior = best_of(lambda: cnnc.models.ContextStatistics.from_matrix(x, features=features))
    whole = best_of(lambda: predicted(x, names))
    lines = [
        header_line(run),
        "",
        "Edge significance on `sc.datasets.pbmc68k_reduced()`: the bundled human TFs × all genes, pairs "
        f"co-expressed in ≥ {MIN_CELLS} cells (`python -m benchmarks.significance`).",
        "",
        "| data | edges | edges at q < 0.05 | fraction at q < 0.05 | fraction at p < 0.05 |",
        "|---|---|---|---|---|",
        *(f"| {d} | {n:,} | {k:,} | {k / n:.3%} | {p:.3f} |" for d, n, k, p in rows),
        "",
        f"Cost: the whole prediction, significance included, {whole:.2f} s against the default model's context prior "
        f"alone {prior:.2f} s (ratio {whole / prior:.2f}; best of 3, same run).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        OUT.write_text("## Edge significance: calibration and cost\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    main()
