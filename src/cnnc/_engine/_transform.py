"""Counts → pixel values: CNNC's log density, as a lookup table over every possible count."""

from __future__ import annotations

import numpy as np

from ._params import PairImageParams


def count_lookup(params: PairImageParams, n_cells: int) -> np.ndarray:
    """Pixel value of each possible count ``0..n_cells`` (float32).

    A histogram cell can only hold an integer count up to ``n_cells``, so the transform is a table
    lookup rather than a ``log10`` per pixel.
    """
    counts = np.arange(n_cells + 1, dtype=np.float64)
    if params.transform == "counts":
        return counts.astype(np.float32)
    density = counts / n_cells
    if params.transform == "density":
        return density.astype(np.float32)
    eps = params.density_pseudocount
    # CNNC: (log10(H/N + 1e-4) + 4) / 4, written for any pseudocount: 0 for an empty bin, ~1 when all cells are in it.
    return ((np.log10(density + eps) - np.log10(eps)) / -np.log10(eps)).astype(np.float32)
