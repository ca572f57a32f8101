"""Direction from time: a regulator's expression changes before its target's along pseudotime or collection time.

The cells are ordered by ``adata.obs[time_key]`` and averaged in :data:`N_WINDOWS` windows of equal cell counts (one
window per distinct time when there are fewer distinct times), giving each gene a trajectory. The *lead* of a over
b is ``|corr(a_t, b_t+1)| - |corr(b_t, a_t+1)|``: how much better a's trajectory foretells b's one window later
than the reverse. A direction is called where ``|lead| >= TIME_MARGIN``; the margin was chosen on BoolODE
simulations of BEELINE's synthetic networks (``benchmarks/direction_time.py``). There the calls are right on
held-out simulated networks; on BEELINE's real time courses they were at chance (see the documentation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from ._engine._source import ExpressionSource

#: Windows of cells along time (fewer when the time has fewer distinct values).
N_WINDOWS = 20
#: Lag, in windows, between a regulator's trajectory and its target's.
LAG = 1
#: Fewest windows a lagged correlation is computed on (3 on each side of the lag).
MIN_WINDOWS = LAG + 3
#: ``|lead|`` at or above which time calls a direction (chosen on BoolODE synthetic networks only).
TIME_MARGIN = 0.0


def check_time_key(adata, time_key: str) -> np.ndarray:
    """The cells' times from ``adata.obs[time_key]``, refused with the fix when missing, non-numeric or NaN."""
    if not isinstance(time_key, str):
        raise TypeError(f"time_key must be the name of an adata.obs column, got {type(time_key).__name__}.")
    if time_key not in adata.obs.columns:
        numeric = [c for c in adata.obs.columns if pd.api.types.is_numeric_dtype(adata.obs[c])]
        raise KeyError(
            f"time_key={time_key!r} is not a column of adata.obs; numeric columns: {numeric or 'none'}. Compute a "
            "pseudotime first (e.g. sc.tl.dpt, which writes 'dpt_pseudotime') or store the collection time there."
        )
    column = adata.obs[time_key]
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        raise ValueError(
            f"adata.obs[{time_key!r}] holds {column.dtype} values, not numbers: time_key needs a pseudotime or a "
            f"collection time as numbers (e.g. hours). Convert it, e.g. adata.obs[{time_key!r}] = "
            f"adata.obs[{time_key!r}].astype(float) for labels such as '12', or map labels to their times."
        )
    t = column.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(t)
    if bad.any():
        raise ValueError(
            f"adata.obs[{time_key!r}] is NaN or infinite for {int(bad.sum()):,} of {len(t):,} cells (e.g. cells off "
            f"a branch): keep the cells with a time, adata = adata[adata.obs[{time_key!r}].notna()].copy()."
        )
    if len(np.unique(t)) < 2:
        raise ValueError(f"adata.obs[{time_key!r}] has one value for every cell: it orders nothing.")
    return t


def windows(t: np.ndarray) -> np.ndarray:
    """Window of each cell (0 = earliest), equal cell counts, or one per distinct time if those are fewer."""
    values, inverse = np.unique(t, return_inverse=True)
    if len(values) <= N_WINDOWS:
        window = inverse
    else:
        order = np.argsort(t, kind="stable")
        window = np.empty(len(t), dtype=np.int64)
        for k, part in enumerate(np.array_split(order, N_WINDOWS)):
            window[part] = k
    if window.max() + 1 < MIN_WINDOWS:
        raise ValueError(
            f"The time has {window.max() + 1} distinct values; a lead of one gene over another needs at least "
            f"{MIN_WINDOWS} time points."
        )
    return window


def trajectories(matrix, t: np.ndarray, genes: np.ndarray, *, chunk_cells: int = 20_000) -> np.ndarray:
    """``windows × len(genes)`` mean expression along time, read a block of cells at a time."""
    window = windows(t)
    n_windows = int(window.max()) + 1
    sums = np.zeros((n_windows, len(genes)))
    for first, block in ExpressionSource(matrix, chunk_cells=chunk_cells).iter_blocks(genes):
        w = window[first : first + block.shape[0]]
        indicator = sparse.csr_matrix((np.ones(len(w)), (w, np.arange(len(w)))), shape=(n_windows, len(w)))
        sums += np.asarray((indicator @ block).todense())
    return sums / np.bincount(window, minlength=n_windows)[:, None]


def _lagged(traj: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x, y = traj[:-LAG, a], traj[LAG:, b]
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-12)
    y = (y - y.mean(axis=0)) / (y.std(axis=0) + 1e-12)
    return (x * y).mean(axis=0)


def time_lead(traj: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How much a's trajectory leads b's (positions among the trajectory's genes): positive means a first."""
    return np.abs(_lagged(traj, a, b)) - np.abs(_lagged(traj, b, a))
