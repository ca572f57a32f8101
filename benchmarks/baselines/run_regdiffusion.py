"""Train regdiffusion 0.2.3 with its default settings on the CPU; runs inside ``benchmarks/.venv-regdiffusion``.

Writes a TSV ``regulator, target, weight`` with one row for every TF × gene pair except self pairs (regdiffusion
masks its diagonal). ``weight`` is the signed entry of the learned adjacency matrix in regdiffusion's own unit (the
"regulatory norm" 1/(n_genes - 1)), i.e. ``trainer.get_adj()`` but kept in float32 (``get_adj`` rounds to float16,
which ties many edges). Score edges by ``abs(weight)``, as regdiffusion's own ``GRNEvaluator`` does.

Direction: ``adj[i, j]`` is the effect of gene ``i`` (regulator, row) on gene ``j`` (target, column). The model
computes ``hz = einsum('ogd,gh->ohd', h_x, I - A)``: gene ``h``'s output mixes the features of every gene ``g``
through ``A[g, h]``; ``GRN`` and ``GRNEvaluator`` also take the rows of ``A`` as TFs.

Input cleaning (regdiffusion's dense path would otherwise fail): cells whose expression is constant across genes
are dropped (their min-max normalisation divides by 0; regdiffusion warns it "removes" them but does not), and
genes with zero variance are left out of training, their pairs written with weight 0.

Example
-------
benchmarks/.venv-regdiffusion/bin/python benchmarks/baselines/run_regdiffusion.py \
    --expression BL--ExpressionData.csv.gz --layout genes-by-cells --tfs tfs.txt --seed 0 --out regdiffusion.tsv
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import time

import numpy as np
from _baseline_io import add_io_arguments, all_pairs, fail, read_expression, read_tfs, write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_io_arguments(parser)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = parser.parse_args()

    import regdiffusion as rd
    import torch

    torch.set_num_threads(args.threads)
    X, genes = read_expression(args.expression, args.layout)
    tfs = read_tfs(args.tfs, genes)

    cell_range = X.max(axis=1) - X.min(axis=1)
    keep_cells = cell_range > 0
    gene_std = X[keep_cells].std(axis=0)
    keep_genes = gene_std > 0
    if keep_cells.sum() < 2:
        fail("fewer than 2 cells have non-constant expression")
    if keep_genes.sum() < 2:
        fail("fewer than 2 genes vary across cells")
    if not keep_cells.all():
        print(f"warning: dropped {int((~keep_cells).sum())} cells with constant expression", file=sys.stderr)
    if not keep_genes.all():
        print(f"warning: {int((~keep_genes).sum())} zero-variance genes left out (weight 0)", file=sys.stderr)
    X_fit = X[np.ix_(keep_cells, keep_genes)].astype(np.float32)
    fit_genes = [g for g, k in zip(genes, keep_genes, strict=True) if k]

    start = time.perf_counter()
    trainer = rd.RegDiffusionTrainer(X_fit, device="cpu", seed=args.seed)
    trainer.train()
    model = trainer.model
    with torch.no_grad():
        adj_fit = (model.get_adj_() / model.gene_reg_norm).cpu().numpy().astype(np.float32)
    seconds = time.perf_counter() - start

    index = {g: i for i, g in enumerate(fit_genes)}
    table = all_pairs(tfs, genes)
    rows = table["regulator"].map(index)
    cols = table["target"].map(index)
    fitted = rows.notna() & cols.notna()
    weight = np.zeros(len(table), dtype=np.float32)
    weight[fitted.to_numpy()] = adj_fit[rows[fitted].astype(int), cols[fitted].astype(int)]
    table["weight"] = weight + np.float32(0.0)  # soft-thresholding leaves -0.0; write it as 0
    facts = {
        "method": "regdiffusion",
        "seconds": seconds,
        "n_cells": int(keep_cells.sum()),
        "n_genes": int(X.shape[1]),
        "n_genes_fitted": len(fit_genes),
        "n_tfs": len(tfs),
        "n_pairs": len(table),
        "n_nonzero": int((weight != 0).sum()),
        "seed": args.seed,
        "threads": args.threads,
        "hyperparameters": {k: v for k, v in trainer.hp.items() if isinstance(v, (int, float, str, list, type(None)))},
        "versions": {p: importlib.metadata.version(p) for p in ("regdiffusion", "torch", "numpy")},
    }
    write_result(args.out, table, facts)
    print(f"regdiffusion: {len(tfs)} TFs × {len(genes)} genes, {X_fit.shape[0]} cells, {seconds:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
