"""Run the benchmark-only baselines on each BEELINE cell type once, so benchmark runs read them from the cache.

Usage: python -m benchmarks.prewarm_baselines [grnboost2] [regdiffusion]
"""

from __future__ import annotations

import sys
import time

from ._beeline import CELLS, dense, load_cell
from .baselines import grnboost2, regdiffusion


def regulators_of(adata, truths) -> list[str]:
    regs = set()
    for t in truths.values():
        regs |= set(t["regulator"])
    return sorted(regs & set(adata.var_names))


def main(methods: list[str]) -> None:
    for method in methods:
        fn = {"grnboost2": grnboost2, "regdiffusion": regdiffusion}[method]
        for cell in CELLS:
            adata, truths = load_cell(cell)
            t = time.perf_counter()
            edges = fn(dense(adata), list(adata.var_names), regulators_of(adata, truths), seed=0)
            print(
                f"{method} {cell}: {len(edges):,} pairs, run {edges.attrs['seconds']:.0f} s, "
                f"cached={edges.attrs['cached']} ({time.perf_counter() - t:.0f} s now)",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:] or ["grnboost2", "regdiffusion"])
