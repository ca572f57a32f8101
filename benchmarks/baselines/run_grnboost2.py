"""Run GRNBoost2 (arboreto 0.1.6) on one expression matrix; runs inside ``benchmarks/.venv-grnboost2``.

Writes a TSV ``regulator, target, importance`` with one row for every TF × gene pair except self pairs (arboreto
never regresses a TF on itself). arboreto drops links whose importance is 0; those pairs are written with 0.
Deterministic for a given ``--seed``: every per-target regressor gets ``random_state=seed``, whatever the scheduling.

Example
-------
benchmarks/.venv-grnboost2/bin/python benchmarks/baselines/run_grnboost2.py \
    --expression BL--ExpressionData.csv.gz --layout genes-by-cells --tfs tfs.txt --seed 0 --out grnboost2.tsv
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import tempfile
import time

# One BLAS thread per worker process: the two dask workers already fill the machine's cores.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pandas as pd  # noqa: E402
from _baseline_io import add_io_arguments, all_pairs, read_expression, read_tfs, write_result  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_io_arguments(parser)
    parser.add_argument("--workers", type=int, default=2, help="dask worker processes (default 2)")
    args = parser.parse_args()

    from arboreto.algo import grnboost2
    from distributed import Client, LocalCluster

    X, genes = read_expression(args.expression, args.layout)
    tfs = read_tfs(args.tfs, genes)
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
            links = grnboost2(expression_data=expression, tf_names=tfs, seed=args.seed, client_or_address=client)
        finally:
            client.close()
            cluster.close()
        seconds = time.perf_counter() - start

    links = links.rename(columns={"TF": "regulator"})
    table = all_pairs(tfs, genes).merge(links, on=["regulator", "target"], how="left")
    if len(table) != len(all_pairs(tfs, genes)):
        raise RuntimeError("arboreto returned duplicate (regulator, target) links")
    table["importance"] = table["importance"].fillna(0.0)
    facts = {
        "method": "grnboost2",
        "seconds": seconds,
        "n_cells": int(X.shape[0]),
        "n_genes": int(X.shape[1]),
        "n_tfs": len(tfs),
        "n_pairs": len(table),
        "n_nonzero": int((table["importance"] > 0).sum()),
        "seed": args.seed,
        "workers": args.workers,
        "versions": {
            p: importlib.metadata.version(p)
            for p in ("arboreto", "dask", "distributed", "scikit-learn", "pandas", "numpy")
        },
    }
    write_result(args.out, table, facts)
    print(f"grnboost2: {len(tfs)} TFs × {len(genes)} genes, {X.shape[0]} cells, {seconds:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
