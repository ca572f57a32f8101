"""Peak memory and throughput of ``cnnc.tl.predict_interactions`` as the number of pairs grows 100×.

Each size runs in a fresh subprocess (peak RSS: its high-water mark, ``benchmarks._common.peak_mib``), on synthetic sparse scRNA-like data,
with the shipped default model and with the faithful ``cnnc-original`` (fewer pairs: 48 MFLOP each). Pair images
stream through in batches, so the peak should grow only by the size of the results (the edge table and varp),
not by ``n_pairs × bins × bins``. Prints a table; no assertions.

Usage: python benchmarks/predict_memory.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import peak_mib


def child(model: str, n_cells: int, n_genes: int, n_tfs: int) -> None:
    import anndata as ad
    import numpy as np
    from scipy import sparse

    import cnnc

    rng = np.random.default_rng(0)
    x = sparse.random(n_cells, n_genes, density=0.1, format="csr", random_state=0, dtype=np.float32)
    x.data = np.log1p(rng.gamma(1.0, 3.0, x.nnz)).astype(np.float32) + 0.1
    adata = ad.AnnData(x)
    adata.var_names = [f"g{i}" for i in range(n_genes)]
    base = peak_mib()
    t = time.perf_counter()
    cnnc.tl.predict_interactions(adata, model=model, tfs=list(adata.var_names[:n_tfs]), batch_size=1024)
    seconds = time.perf_counter() - t
    peak = peak_mib()
    n_pairs = len(adata.uns["cnnc"]["edges"])
    result_mib = (adata.uns["cnnc"]["edges"].memory_usage(deep=True).sum() + adata.varp["cnnc"].data.nbytes * 3) / 2**20
    print(
        json.dumps(
            {
                "pairs": n_pairs,
                "seconds": seconds,
                "peak_mib": peak,
                "before_mib": base,
                "result_mib": result_mib,
            }
        )
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--child", nargs=4)
    args = p.parse_args()
    if args.child:
        child(args.child[0], *map(int, args.child[1:]))
        return
    n_cells, n_genes = (2_000, 1_000) if args.quick else (5_000, 2_000)
    runs = [("default", t) for t in ((5, 50) if args.quick else (5, 50, 500))]
    runs += [("cnnc-original", t) for t in ((1, 5) if args.quick else (5, 50))]
    print(f"{n_cells} cells × {n_genes} genes, 10% nonzero; batch_size 1024")
    print(f"{'model':>14} {'pairs':>9} {'pairs/s':>9} {'peak MiB':>9} {'before':>7} {'results MiB':>12}")
    for model, n_tfs in runs:
        out = subprocess.run(
            [sys.executable, __file__, "--child", model, str(n_cells), str(n_genes), str(n_tfs)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{model:>14} {r['pairs']:>9,} {r['pairs'] / r['seconds']:>9,.0f} {r['peak_mib']:>9.0f} "
            f"{r['before_mib']:>7.0f} {r['result_mib']:>12.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
