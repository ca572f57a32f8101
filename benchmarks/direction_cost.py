"""Do the pair images pay for themselves? The default model end to end against its context prior alone.

On data made as ``benchmarks/scale.py`` makes them (resampled real BEELINE cells; 10,000 cells × 2,000 genes by
default), each in a fresh process, one after the other:

- ``context prior alone``: the context statistics the default model reads and its prior feature for every
  (regulator, gene) pair (``cnnc.models.ContextStatistics`` + ``features``): no edge table, no evidence;
- ``default (direction="auto")``: ``cnnc.tl.predict_interactions(adata, tfs=...)`` end to end with the default model
  (``cnnc-pairs``): no pair image is computed, as its images do not move its score and showed no direction skill;
- ``default (direction="images")``: the same, computing the pair images for ``p_ab``/``p_ba``. When ``--image-tfs``
  is smaller than ``--tfs`` it runs on that many regulators beside a "auto" run on the same ones, and the images'
  extra time per pair is extrapolated to all pairs (labelled so).

Reports each wall time and the ratio of the default to the prior alone (target: at most 2).

Usage: python -m benchmarks.direction_cost [--cells 10000] [--tfs 1000] [--image-tfs 100]
Writes benchmarks/results/direction_cost.json and docs/_generated/direction_cost.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._beeline import GENERATED, RESULTS

N_GENES = 2000


def child(kind: str, n_cells: int, n_tfs: int) -> dict:
    import numpy as np
    import torch

    import cnnc
    from benchmarks._scale_data import in_memory

    torch.set_num_threads(2)
    adata = in_memory(n_cells, N_GENES)
    tfs = list(adata.var_names[:n_tfs])
    model = cnnc.models.load("default")
    t = time.perf_counter()
    if kind == "prior":
        regs = np.arange(n_tfs)  # the dense prior (every gene × every gene) of the public ContextStatistics
        stats = cnnc.models.ContextStatistics.from_matrix(adata.X, features=model.spec.features)
        a, b = np.repeat(regs, N_GENES), np.tile(np.arange(N_GENES), n_tfs)
        keep = a != b
        prior = stats.features(a[keep], b[keep], tuple(model.spec.features))
        seconds, pairs = time.perf_counter() - t, int(len(prior))
        return {"kind": kind, "model": model.name, "seconds": seconds, "pairs": pairs, "tfs": n_tfs}
    cnnc.tl.predict_interactions(
        adata, model=model, tfs=tfs, layer="X", settings=cnnc.tl.ScoringSettings(direction=kind)
    )
    seconds = time.perf_counter() - t
    params = adata.uns["cnnc"]["params"]
    return {"kind": kind, "model": params["model"], "seconds": seconds, "pairs": params["n_pairs"],
            "candidates": params["n_candidates"], "images": params["images"], "tfs": n_tfs}  # fmt: skip


def run_child(kind: str, n_cells: int, n_tfs: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.direction_cost", "--child", kind, str(n_cells), str(n_tfs)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


SMALL = 'default (direction="auto"), as many regulators as the images run'


def main(n_cells: int, n_tfs: int, image_tfs: int) -> dict:
    runs = {
        "context prior alone": run_child("prior", n_cells, n_tfs),
        'default (direction="auto")': run_child("auto", n_cells, n_tfs),
        'default (direction="images")': run_child("images", n_cells, image_tfs),
    }
    if image_tfs != n_tfs:
        runs[SMALL] = run_child("auto", n_cells, image_tfs)
    for label, r in runs.items():
        print(label, r, flush=True)
    return report({"n_cells": n_cells, "n_genes": N_GENES, "tfs": n_tfs, "runs": runs})


def report(out: dict) -> dict:
    """Ratios and the table from the runs; an images run on fewer regulators is extrapolated only beside its own
    "auto" run (its images' extra time per pair), else shown as measured."""
    runs, n_tfs = out["runs"], out["tfs"]
    prior = runs["context prior alone"]["seconds"]
    auto, images = runs['default (direction="auto")'], runs['default (direction="images")']
    extrapolated = images["tfs"] != n_tfs and SMALL in runs
    if extrapolated:  # the images' extra time grows with the pairs; the rest is the same as "auto"
        per_pair = (images["seconds"] - runs[SMALL]["seconds"]) / images["pairs"]
        images_seconds, pairs = auto["seconds"] + per_pair * auto["pairs"], auto["pairs"]
        label = (
            f" (extra time per pair measured on {images['tfs']} regulators, {images['pairs']:,} pairs; extrapolated)"
        )
    else:
        images_seconds, pairs = images["seconds"], images["pairs"]
        label = "" if images["tfs"] == n_tfs else f" on {images['tfs']} regulators only, as measured"
    out.update(ratio_auto=auto["seconds"] / prior, images_seconds=images_seconds,
               ratio_images=images_seconds / prior, images_extrapolated=extrapolated)  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "direction_cost.json").write_text(json.dumps(out, indent=1))
    lines = [
        f"End to end, {out['n_cells']:,} cells × {out['n_genes']:,} genes (resampled real BEELINE cells), {n_tfs:,} "
        f"regulators × all genes, model {auto['model']}, each run in a fresh process on a shared 2-core machine.",
        "",
        "| run | pairs | wall time | × context prior alone |",
        "|---|---|---|---|",
        f"| context prior alone | {runs['context prior alone']['pairs']:,} | {prior:.1f} s | 1 |",
        f'| default (direction="auto"): no pair image | {auto["pairs"]:,} | {auto["seconds"]:.1f} s | '
        f"×{out['ratio_auto']:.2f} |",
        f'| default (direction="images"){label} | {pairs:,} | {images_seconds:.1f} s | ×{out["ratio_images"]:.1f} |',
    ]
    GENERATED.mkdir(parents=True, exist_ok=True)
    (GENERATED / "direction_cost.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
        sys.exit(0)
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cells", type=int, default=10_000)
    p.add_argument("--tfs", type=int, default=1000)
    p.add_argument("--image-tfs", type=int, default=100)
    p.add_argument("--render", type=Path, help="write the table from the runs of an earlier direction_cost.json")
    args = p.parse_args()
    if args.render:
        report(json.loads(args.render.read_text()))
    else:
        main(args.cells, args.tfs, args.image_tfs)
