"""Image recipes for any continuous variables: each variable's values as ranks or z-scores before binning."""

from __future__ import annotations

import numpy as np
from scipy import stats

from ._params import PairImageParams
from ._source import ExpressionSource


def scale_columns(matrix, genes: np.ndarray, params: PairImageParams, *, gene_names: list[str]) -> np.ndarray:
    """The columns ``genes`` of ``matrix`` placed on the recipe's axis: a dense ``n_cells × len(genes)`` float64 array.

    ``"rank"``: mid-ranks over the cells divided by the number of cells (in ``(0, 1)``; ties share their average
    rank); ``"standard"``: ``(x - mean) / sd``. The values of the variables involved are read into memory once.
    Raises a ValueError naming the variable when a value is NaN or infinite, or (``"standard"``) when a variable
    is constant.
    """
    if params.scaling not in ("rank", "standard"):
        raise ValueError(f"scale_columns is for the 'rank' and 'standard' recipes, not {params.scaling!r}.")
    source = ExpressionSource(matrix)
    genes = np.asarray(genes, dtype=np.int64)
    out = np.empty((source.n_cells, len(genes)), dtype=np.float64)
    for first, block in source.iter_blocks(genes):
        out[first : first + block.shape[0]] = block.toarray()
    finite = np.isfinite(out)
    if not finite.all():
        g = int(np.flatnonzero(~finite.all(axis=0))[0])
        raise ValueError(
            f"Variable {gene_names[g]!r} contains NaN or infinite values. Pair images need finite values: impute "
            "or drop those cells (e.g. adata[~np.isnan(...)]) or remove the variable."
        )
    n = source.n_cells
    if params.scaling == "rank":
        return (stats.rankdata(out, axis=0, method="average") - 0.5) / n
    sd = out.std(axis=0)
    if (sd == 0).any():
        g = int(np.flatnonzero(sd == 0)[0])
        raise ValueError(
            f"Variable {gene_names[g]!r} is constant over the cells: it has no z-scores (its sd is 0). Drop it, "
            "or use the 'rank' recipe, which bins a constant variable into one bin."
        )
    return (out - out.mean(axis=0)) / sd
