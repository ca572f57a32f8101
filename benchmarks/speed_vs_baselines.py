"""End-to-end time of the default model against regdiffusion (and GRNBoost2) on each BEELINE TFs+500 data set.

Same run, same cores, one after the other: ``cnnc.tl.predict_interactions`` with the default model on every
regulator × gene pair of the truths' regulators, then each baseline from a fresh cache (so it really runs) on the
same expression and regulators. Prints seconds and the ratio baseline / cnnc. Run it on a quiet machine: the
timings of a loaded one are not comparable between processes.

Usage: python -m benchmarks.speed_vs_baselines [--cells mDC mESC mHSC-L] [--grnboost2]
Writes benchmarks/results/speed_vs_baselines.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import cnnc

from ._beeline import CELLS, dense, load_cell
from ._common import RESULTS, run_header
from .prewarm_baselines import regulators_of


def main(cells: list[str], with_grnboost2: bool) -> dict:
    from .baselines import grnboost2, regdiffusion

    run = run_header("default")
    model = run["default_model"]
    rows = []
    for cell in cells:
        adata, truths = load_cell(cell)
        regs = regulators_of(adata, truths)
        scored = adata.copy()
        t0 = time.perf_counter()
        cnnc.tl.predict_interactions(scored, tfs=regs, layer="X")
        row = {"cell": cell, "n_pairs": len(scored.uns["cnnc"]["edges"]), model: time.perf_counter() - t0}
        baselines = [("regdiffusion", regdiffusion)] + ([("GRNBoost2", grnboost2)] if with_grnboost2 else [])
        for label, fn in baselines:
            with tempfile.TemporaryDirectory() as cache:
                t0 = time.perf_counter()
                fn(dense(adata), list(adata.var_names), regs, seed=0, cache_dir=cache)
                row[label] = time.perf_counter() - t0
        ratios = ", ".join(f"{k} ×{row[k] / row[model]:.1f}" for k, _ in baselines)
        print(f"{cell}: {model} {row[model]:.1f} s; {ratios} slower", flush=True)
        rows.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speed_vs_baselines.json").write_text(json.dumps({"run": run, "rows": rows}, indent=1))
    return {"run": run, "rows": rows}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cells", nargs="*", default=list(CELLS))
    p.add_argument("--grnboost2", action="store_true")
    args = p.parse_args()
    main(args.cells, args.grnboost2)
