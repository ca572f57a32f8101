"""Does time-lagged evidence tell a regulator from its target? Direction on one-way TF -> TF edges from trajectories.

CNNC's authors read time courses as stacks of pair images, one per time point. The simplest form of that evidence
is a lagged correlation: order the cells in time, average each gene over windows of cells (a trajectory), and call
a -> b when a's trajectory correlates with b's *later* trajectory better than b's with a's later one. Measured on
the one-way TF -> TF true edges (a -> b true, b also a regulator, b -> a not true) of each BEELINE cell type's
Specific, Non-Specific and (mESC) Lofgof truths: accuracy of the call with its 95% Wilson interval.

Time, per cell type:

- ``collection time``: mDC (LPS 1/2/4/6 h) and mESC (0/12/24/48/72 h) were sampled as time courses; the hour
  is read from the cell names, diffusion pseudotime breaks ties within a time point;
- ``diffusion pseudotime``: ``sc.tl.dpt`` from a cell of the earliest time point (mDC, mESC) or the first
  long-term HSC (mHSC-L, a differentiation snapshot), on 20 PCs and a 15-neighbour graph;
- ``time points only`` (mDC, mESC): one window per collection time point.

Each uses windows of 10 or 20 equal-count bins (time points: one per point), lags of 1 or 2 windows, and the
signed or absolute lagged correlation. Nothing is tuned: every combination is reported.

Usage: python -m benchmarks.time_lag     Writes benchmarks/results/time_lag.json and docs/_generated/time_lag.md.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from ._beeline import CELLS, dense, load_cell
from ._common import GENERATED, RESULTS, header_line, run_header
from .transfer import one_way_edges, wilson

TRUTHS = ("Specific", "Non-Specific", "Lofgof")


def times(adata, cell: str) -> dict[str, np.ndarray]:
    """Each cell's position in time, by every clock the cell type has."""
    import scanpy as sc

    ad = adata.copy()
    sc.pp.pca(ad, n_comps=20, random_state=0)
    sc.pp.neighbors(ad, n_neighbors=15, random_state=0)
    sc.tl.diffmap(ad, random_state=0)
    names = ad.obs_names
    clocks = {}
    if cell == "mHSC-L":
        ad.uns["iroot"] = int(np.flatnonzero(names.str.startswith("LT_HSC"))[0])
    else:
        hours = np.array([float(re.search(r"_(\d+)h_", n).group(1)) for n in names])
        ad.uns["iroot"] = int(np.flatnonzero(hours == hours.min())[0])
    sc.tl.dpt(ad)
    dpt = ad.obs["dpt_pseudotime"].to_numpy()
    clocks["diffusion pseudotime"] = dpt
    if cell != "mHSC-L":
        clocks["collection time"] = hours + 1e-3 * dpt / max(dpt.max(), 1e-12)
        clocks["time points only"] = hours
    return clocks


def trajectories(x: np.ndarray, t: np.ndarray, n_windows: int | None) -> np.ndarray:
    """Windows × genes mean expression along time (``None``: one window per distinct time)."""
    if n_windows is None:
        return np.stack([x[t == v].mean(axis=0) for v in np.unique(t)])
    order = np.argsort(t, kind="stable")
    return np.stack([x[w].mean(axis=0) for w in np.array_split(order, n_windows)])


def lagged_correlation(traj: np.ndarray, a: np.ndarray, b: np.ndarray, lag: int) -> np.ndarray:
    """Correlation of a's trajectory with b's trajectory ``lag`` windows later, per pair."""
    x, y = traj[:-lag, a], traj[lag:, b]
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-12)
    y = (y - y.mean(axis=0)) / (y.std(axis=0) + 1e-12)
    return (x * y).mean(axis=0)


def main() -> None:
    run = run_header()  # no model: lagged correlations only
    rows = []
    for cell in CELLS:
        adata, truths = load_cell(cell, lofgof=True)
        x = dense(adata)
        names = pd.Index(adata.var_names)
        edges = {net: one_way_edges(truths[net], names) for net in TRUTHS if net in truths}
        for clock, t in times(adata, cell).items():
            for n_windows in (None,) if clock == "time points only" else (10, 20):
                traj = trajectories(x, t, n_windows)
                for lag in (1, 2):
                    if lag > len(traj) - 3:  # a correlation needs at least 3 windows on each side
                        continue
                    for net, (a, b) in edges.items():
                        for kind, f in (("signed", lambda v: v), ("absolute", np.abs)):
                            diff = f(lagged_correlation(traj, a, b, lag)) - f(lagged_correlation(traj, b, a, lag))
                            k = int((diff > 0).sum())
                            lo, hi = wilson(k, len(a))
                            rows.append(
                                {"cell": cell, "network": net, "clock": clock, "windows": len(traj), "lag": lag,
                                 "correlation": kind, "n": len(a), "correct": k, "accuracy": k / len(a),
                                 "ci_low": lo, "ci_high": hi}
                            )  # fmt: skip
        print(f"{cell}: done", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "time_lag.json").write_text(json.dumps({"run": run, "rows": rows}, indent=1))
    df = pd.DataFrame(rows)
    outside = df[(df["ci_low"] > 0.5) | (df["ci_high"] < 0.5)]
    lines = [
        header_line(run),
        "",
        "Direction from time-lagged correlation on one-way TF -> TF true edges (accuracy of the call a -> b; 95% Wilson",
        f"interval). {len(df)} combinations of clock, windows, lag and signed/absolute correlation, none tuned.",
        "",
        "| cell type | truth | n | clock | accuracy range over settings | settings with interval off 0.5 |",
        "|---|---|---|---|---|---|",
    ]
    for (cell, net, clock), grp in df.groupby(["cell", "network", "clock"], sort=False):
        off = grp[(grp["ci_low"] > 0.5) | (grp["ci_high"] < 0.5)]
        lines.append(
            f"| {cell} | {net} | {int(grp['n'].iloc[0])} | {clock} | "
            f"{grp['accuracy'].min():.2f}–{grp['accuracy'].max():.2f} | {len(off)} of {len(grp)} |"
        )
    lines += [
        "",
        f"Macro accuracy over all rows {df['accuracy'].mean():.3f}; {len(outside)} of {len(df)} rows have an interval "
        "that excludes 0.5 (about 5% would by chance).",
    ]
    GENERATED.mkdir(parents=True, exist_ok=True)
    (GENERATED / "time_lag.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
