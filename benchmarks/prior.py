"""The context prior at scale: ``groupby`` against one prediction, and peak memory at 25,000 genes.

1. ``groupby``: the default model on PBMCs (``sc.datasets.pbmc68k_reduced()``, 700 cells × 765 genes), the human
   TFs in the data × all genes, once on all cells and once per louvain cluster (11 clusters): the ratio of CPU times
   (this process, all threads) and of wall times, best of ``--repeats`` runs each. On a shared machine the CPU time
   is the reliable one; run with ``OPENBLAS_NUM_THREADS=1`` there.
2. Memory: the default model on synthetic sparse scRNA-like data (5 % nonzero) of 2,000 and of 25,000 genes,
   10 regulators × 2,000 targets, each in a fresh process: peak RSS (``ru_maxrss``) against the RSS before the call,
   beside what one float64 genes × genes matrix would take (the high-water mark is reset once the data exist). The
   context prior still reads every gene.

Usage: ``python -m benchmarks.prior [--quick]`` (public API only; prints ratios, no assertions). Writes
docs/_generated/prior.md (not with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from benchmarks._common import GENERATED, header_line, peak_mib, reset_peak, rss_mib, run_header


def groupby_ratio(repeats: int) -> dict:
    import scanpy as sc

    import cnnc

    adata = sc.datasets.pbmc68k_reduced()
    sc.settings.verbosity = 0

    def best(**kwargs) -> tuple[float, float]:
        cpu, wall = [], []
        for _ in range(repeats):
            c, t = time.process_time(), time.perf_counter()
            cnnc.tl.predict_interactions(adata, tfs="human", key_added="bench", **kwargs)
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - t)
        return min(cpu), min(wall)

    cnnc.tl.predict_interactions(adata, tfs="human", targets=list(adata.raw.var_names[:50]), key_added="bench")
    one = best()  # (the call above compiled the kernels and loaded the model)
    groups = best(groupby="louvain")
    n_groups = adata.obs["louvain"].nunique()
    return {"one": one, "groupby": groups, "n_groups": n_groups}


def child(n_genes: int, n_cells: int) -> None:
    import anndata as ad
    import numpy as np
    from scipy import sparse

    import cnnc

    rng = np.random.default_rng(0)
    nnz = int(0.05 * n_cells * n_genes)
    rows, cols = rng.integers(0, n_cells, nnz), rng.integers(0, n_genes, nnz)
    values = np.log1p(rng.gamma(1.0, 3.0, nnz)).astype(np.float32)
    adata = ad.AnnData(sparse.csr_matrix((values, (rows, cols)), shape=(n_cells, n_genes)))
    adata.var_names = [f"g{i}" for i in range(n_genes)]
    del rows, cols, values
    names = list(adata.var_names)
    reset_peak()  # the high-water mark from here on: the prediction, not the making of the data
    before = rss_mib()
    t, cpu = time.perf_counter(), time.process_time()
    cnnc.tl.predict_interactions(adata, tfs=names[:10], targets=names[:2000], min_cells=0)
    seconds = time.perf_counter() - t
    print(
        json.dumps(
            {"seconds": seconds, "cpu_seconds": time.process_time() - cpu, "peak_mib": peak_mib(), "before_mib": before}
        )
    )


def memory(n_genes: int, n_cells: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.prior", "--child", str(n_genes), str(n_cells)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="one repeat, 2,000 cells")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(*args.child)
        return
    run = run_header("default")
    lines = []
    g = groupby_ratio(1 if args.quick else args.repeats)
    for i, what in enumerate(("CPU", "wall")):
        one, groups = g["one"][i], g["groupby"][i]
        lines.append(
            f"- `groupby` on {g['n_groups']} louvain clusters of scanpy's PBMCs (700 cells), {what} time: {groups:.2f} s "
            f"against {one:.2f} s on all cells: ×{groups / one:.2f}"
        )
        print(lines[-1], flush=True)
    cells = 2_000 if args.quick else 5_000
    for n_genes in (2_000, 25_000):
        m = memory(n_genes, cells)
        dense = 8 * n_genes**2 / 2**20
        lines.append(
            f"- {n_genes:,} genes × {cells:,} cells (5 % nonzero), 10 regulators × 2,000 targets: {m['seconds']:.0f} s "
            f"(CPU {m['cpu_seconds']:.0f} s), peak RSS {m['peak_mib']:,.0f} MiB ({m['peak_mib'] - m['before_mib']:,.0f} "
            f"MiB above the data loaded; one float64 genes × genes matrix: {dense:,.0f} MiB)"
        )
        print(lines[-1], flush=True)
    lines.append(
        f"- load (1-minute average, 2 cores): {run['load_at_start']:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    if not args.quick:
        note = "The context prior at scale: `groupby` against one prediction (best of repeated runs), and peak memory."
        GENERATED.mkdir(parents=True, exist_ok=True)
        (GENERATED / "prior.md").write_text(header_line(run) + "\n\n" + note + "\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
