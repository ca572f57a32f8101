"""Time GRNBoost2 (arboreto 0.1.6) on a subset of target genes; runs inside ``benchmarks/.venv-grnboost2``.

For the scale benchmark only: arboreto fits one independent boosting regressor per target gene (all TFs as
features), so the time of the whole network is the time per target times the number of targets. This runs
arboreto's own ``create_graph`` with GRNBoost2's settings (``SGBM_KWARGS``, early-stop window 25, as
``arboreto.algo.grnboost2`` does) restricted to ``--targets``, on a 2-process dask LocalCluster, and prints a JSON
line ``{"seconds", "n_targets", "n_links", ...}``. No result is kept.

Example
-------
benchmarks/.venv-grnboost2/bin/python benchmarks/baselines/time_grnboost2.py \
    --expression input.npz --tfs tfs.txt --targets targets.txt --seed 0
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
from _baseline_io import read_expression, read_tfs  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--expression", required=True, type=Path)
    p.add_argument("--tfs", required=True, type=Path)
    p.add_argument("--targets", required=True, type=Path)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()

    from arboreto.algo import _prepare_input
    from arboreto.core import EARLY_STOP_WINDOW_LENGTH, SGBM_KWARGS, create_graph
    from distributed import Client, LocalCluster

    X, genes = read_expression(args.expression, None)
    tfs = read_tfs(args.tfs, genes)
    targets = read_tfs(args.targets, genes)
    expression = pd.DataFrame(X, columns=genes)
    with tempfile.TemporaryDirectory(prefix="grnboost2-dask-") as scratch:
        start = time.perf_counter()
        cluster = LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            local_directory=scratch,
        )
        client = Client(cluster)
        try:
            matrix, gene_names, tf_names = _prepare_input(expression, None, tfs)
            graph = create_graph(
                matrix,
                gene_names,
                tf_names,
                client=client,
                regressor_type="GBM",
                regressor_kwargs=SGBM_KWARGS,
                target_genes=targets,
                early_stop_window_length=EARLY_STOP_WINDOW_LENGTH,
                seed=args.seed,
            )
            links = client.compute(graph, sync=True)
            workers_peak = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        finally:
            client.close()
            cluster.close()
        seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "n_targets": len(targets),
                "n_tfs": len(tfs),
                "n_cells": int(X.shape[0]),
                "n_links": int(len(links)),
                "peak_rss_mib_per_worker": [v / 1024 for v in workers_peak.values()],
            }
        )
    )


if __name__ == "__main__":
    main()
