"""Joint bin counts of many gene pairs at once: a compiled kernel that walks only nonzero cells.

In scRNA-seq most cells of most genes are zero, so a pair's 2-d histogram is dominated by the
zero bin. For each pair we walk the nonzero cells of the sparser gene only, look the other gene's
code up, and derive the rest by subtraction: every cell not walked has the walked gene's zero code,
so its row (or column) receives the other gene's marginal minus what the walk already counted.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from ._binning import BinnedBlock, GeneBinner


@numba.njit(parallel=True, cache=True, nogil=True)
def _accumulate_pairs(codes, indptr, indices, marginals, zero_code, gene_a, gene_b, out):  # pragma: no cover
    """Add one block's counts of pairs (gene_a[p], gene_b[p]) to ``out[p, code_a, code_b]``."""
    n_bins = marginals.shape[1]
    for p in prange(gene_a.shape[0]):
        a = gene_a[p]
        b = gene_b[p]
        if indptr[a + 1] - indptr[a] <= indptr[b + 1] - indptr[b]:
            # Put every cell in a's zero row first, then move each nonzero cell of a to its own row:
            # no per-pair scratch memory, and only a's nonzero cells are touched.
            za = zero_code[a]
            for j in range(n_bins):
                out[p, za, j] += marginals[b, j]
            for k in range(indptr[a], indptr[a + 1]):
                c = indices[k]
                cb = codes[b, c]
                out[p, codes[a, c], cb] += 1
                out[p, za, cb] -= 1
        else:
            zb = zero_code[b]
            for i in range(n_bins):
                out[p, i, zb] += marginals[a, i]
            for k in range(indptr[b], indptr[b + 1]):
                c = indices[k]
                ca = codes[a, c]
                out[p, ca, codes[b, c]] += 1
                out[p, ca, zb] -= 1


def accumulate_block(block: BinnedBlock, zero_code: np.ndarray, gene_a: np.ndarray, gene_b: np.ndarray, out) -> None:
    """Add the counts of one block of cells to ``out`` (``n_pairs × bins × bins`` int32)."""
    _accumulate_pairs(
        block.codes,
        block.indptr,
        block.indices,
        block.marginals,
        zero_code,
        np.ascontiguousarray(gene_a, dtype=np.int64),
        np.ascontiguousarray(gene_b, dtype=np.int64),
        out,
    )


def pair_counts(binner: GeneBinner, gene_a: np.ndarray, gene_b: np.ndarray) -> np.ndarray:
    """Joint counts ``H[p, i, j]`` = cells with gene_a[p] in bin i and gene_b[p] in bin j.

    ``gene_a``/``gene_b`` index the binner's genes. Identical to ``numpy.histogram2d(x_a, x_b, bins)[0]``
    with each gene's own range, summed over all blocks of cells.
    """
    bins = binner.params.bins
    out = np.zeros((len(gene_a), bins, bins), dtype=np.int32)
    if len(gene_a) == 0:
        return out
    for block in binner.blocks():
        accumulate_block(block, binner.zero_code, gene_a, gene_b, out)
    return out
