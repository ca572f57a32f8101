"""How ``min_cells`` (cells co-expressing a pair) changes the predicted network: PBMCs and BEELINE.

Scores every pair once with ``min_cells=0`` (a pair's score does not depend on which other pairs are scored), then
for each threshold:

- PBMCs (scanpy's pbmc68k_reduced, 700 cells, the Lambert TFs among its genes): the pairs kept, the co-expressing
  cells of the top 20 edges, and how many of the top 50 edges change.
- BEELINE (every cell type × ground truth, all regulator × gene pairs of the truth's regulators): AUROC, AUPRC ratio
  and early precision ratio when the pairs below the threshold are ranked last (the edges a user would see), and the
  fraction of ground-truth edges that fall below it.

Run: ``python -m benchmarks.min_cells`` (about 2 minutes on one core); writes ``benchmarks/results/min_cells.json``.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import scanpy as sc

import cnnc

from ._beeline import CELLS, NETWORKS, load_cell
from ._common import RESULTS, run_header

THRESHOLDS = (0, 3, 5, 10, 20, 50)


def pbmc() -> dict:
    adata = sc.datasets.pbmc68k_reduced()
    start = time.perf_counter()
    cnnc.tl.predict_interactions(adata, tfs="human", layer="raw", settings=cnnc.tl.ScoringSettings(min_cells=0))
    seconds = time.perf_counter() - start
    edges = cnnc.get.edges(adata)
    top0 = set(zip(edges["regulator"][:50], edges["target"][:50], strict=True))
    rows = {}
    for k in THRESHOLDS:
        kept = edges[edges["n_cells"] >= k]
        top = set(zip(kept["regulator"][:50], kept["target"][:50], strict=True))
        rows[k] = {
            "pairs_kept": float(len(kept) / len(edges)),
            "top20_median_n_cells": float(kept["n_cells"][:20].median()),
            "top20_min_n_cells": int(kept["n_cells"][:20].min()),
            "top50_replaced": len(top0 - top),
            "top50_median_n_cells": float(kept["n_cells"][:50].median()),
        }
    return {"n_cells": adata.n_obs, "n_pairs": len(edges), "seconds_min_cells_0": seconds, "thresholds": rows}


def beeline() -> dict:
    out = {}
    for cell in CELLS:
        adata, truths = load_cell(cell)
        for net in NETWORKS:
            truth = truths[net]
            regs = [r for r in truth["regulator"].unique() if r in set(adata.var_names)]
            scored = adata.copy()
            cnnc.tl.predict_interactions(scored, tfs=regs, settings=cnnc.tl.ScoringSettings(min_cells=0))
            edges = cnnc.get.edges(scored)
            pairs = set(zip(truth["regulator"].str.lower(), truth["target"].str.lower(), strict=True))
            y = np.fromiter(
                ((r.lower(), t.lower()) in pairs for r, t in zip(edges["regulator"], edges["target"], strict=True)),
                dtype=bool,
                count=len(edges),
            )
            score = edges["score"].to_numpy(dtype=np.float64)
            n = edges["n_cells"].to_numpy()
            rows = {}
            for k in THRESHOLDS:
                ranked = np.where(n >= k, score, score - 2.0)  # below the threshold: ranked after every kept pair
                m = cnnc.metrics.summarize(y, ranked)
                rows[k] = {
                    "auroc": float(m["auroc"]),
                    "auprc_ratio": float(m["auprc_ratio"]),
                    "epr": float(m["epr"]),
                    "pairs_below": float((n < k).mean()),
                    "truth_below": float((n[y] < k).mean()),
                }
            out[f"{cell} {net}"] = {"n_cells": scored.n_obs, "n_pairs": len(edges), "thresholds": rows}
            print(cell, net, {k: round(v["epr"], 3) for k, v in rows.items()}, flush=True)
    return out


def main() -> None:
    sc.settings.verbosity = 1
    result = {"run": run_header("default")}
    result["pbmc68k_reduced"] = pbmc()
    print(pd.DataFrame(result["pbmc68k_reduced"]["thresholds"]).T.to_string(), flush=True)
    result["beeline"] = beeline()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "min_cells.json").write_text(json.dumps(result, indent=1) + "\n")
    table = pd.DataFrame({(name, k): v for name, r in result["beeline"].items() for k, v in r["thresholds"].items()}).T
    print(table.groupby(level=1).mean().to_string())


if __name__ == "__main__":
    main()
