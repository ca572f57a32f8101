"""Context features from a subset of genes (the automatic choice beyond 20,000 genes): accuracy on BEELINE.

Beyond ``MAX_CONTEXT_GENES`` genes the default model's context statistics use the ``CONTEXT_VARIABLE_GENES`` genes of
highest variance plus the regulators (``cnnc._context``). At 30,000 genes that context is 3,000 genes + regulators,
about 10-17 % of the genes. Here every BEELINE cell type × ground truth is scored twice with the default model: with
the exact statistics (all genes) and with the context cut to 10 % of the genes (highest variance) + the regulators,
as the automatic choice would do at scale. Reports AUROC, AUPRC ratio and EPR of both.

Run: ``python benchmarks/context_subset.py`` (about a minute); writes ``benchmarks/results/context_subset.json``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import scanpy as sc
from _beeline import CELLS, NETWORKS, RESULTS, load_cell

import cnnc
from cnnc import _context


def main() -> None:
    sc.settings.verbosity = 1
    rows = {}
    for cell in CELLS:
        adata, truths = load_cell(cell)
        for net in NETWORKS:
            truth = truths[net]
            regs = [r for r in truth["regulator"].unique() if r in set(adata.var_names)]
            out = {}
            for label, max_genes in (("all genes", None), ("10% + regulators", 0)):
                scored = adata.copy()
                if max_genes == 0:
                    _context.CONTEXT_VARIABLE_GENES = int(0.1 * adata.n_vars)
                    original = _context.SUBSET_ABOVE
                    _context.SUBSET_ABOVE = 0  # force the subset path
                    try:
                        cnnc.tl.predict_interactions(scored, tfs=regs, min_cells=0)
                    finally:
                        _context.SUBSET_ABOVE = original
                        _context.CONTEXT_VARIABLE_GENES = 3_000
                else:
                    cnnc.tl.predict_interactions(scored, tfs=regs, min_cells=0)
                m = cnnc.tl.evaluate(scored, truth, per_regulator=False).loc["all"]
                out[label] = {k: float(m[k]) for k in ("auroc", "auprc_ratio", "epr")}
                out[label]["n_genes"] = scored.n_vars
                out[label]["n_regulators"] = len(regs)
            rows[f"{cell} {net}"] = out
            print(cell, net, out, flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "context_subset.json").write_text(json.dumps(rows, indent=1) + "\n")
    table = pd.DataFrame({(k, c): v for k, r in rows.items() for c, v in r.items()}).T
    print(table.groupby(level=1)[["auroc", "auprc_ratio", "epr"]].mean().to_string())
    print(np.round(table[["auroc", "auprc_ratio", "epr"]].unstack(), 3).to_string())


if __name__ == "__main__":
    main()
