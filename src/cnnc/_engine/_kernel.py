"""Joint bin counts of many gene pairs at once: a compiled kernel that walks only nonzero cells.

In scRNA-seq most cells of most genes are zero, so a pair's 2-d histogram is dominated by the
zero bin. For each pair we walk the nonzero cells of the sparser gene only, look the other gene's
code up, and derive the rest by subtraction: every cell not walked has the walked gene's zero code,
so its row (or column) receives the other gene's marginal minus what the walk already counted.

Each thread counts into a small ``bins × bins`` scratch histogram that stays in L1 cache and writes
a pair's result once (as counts, or directly as float32 pixels through a lookup table), touching
only the entries the pair can have changed; the scratch is then reset by the same sparse walk.
Pairs are visited grouped by walked gene, so that gene's cells stay in cache across its pairs.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from ._binning import BinnedBlock, GeneBinner

# Pairs per task handed to a thread: small enough to balance two threads, large enough to amortise a task.
_PAIRS_PER_TASK = 64


@numba.njit(cache=True, nogil=True, inline="always")
def _count_pair(
    codes, indptr, indices, nz_codes, marginals, zero_code, w, o, walk_is_a, H, other_codes
):  # pragma: no cover
    """Fill scratch ``H[code_a, code_b]`` with the pair's counts by walking the nonzero cells of gene ``w``.

    ``o`` is the other gene. Only the zero row/column of ``w`` and the cells walked are written; their codes
    in ``o`` are left in ``other_codes[: nnz(w)]`` for the caller's write-back and reset.
    """
    n_bins = marginals.shape[1]
    zw = zero_code[w]
    start = indptr[w]
    n = indptr[w + 1] - start
    if walk_is_a:
        for j in range(n_bins):
            H[zw, j] = marginals[o, j]
        for k in range(n):
            cw = nz_codes[start + k]
            co = codes[o, indices[start + k]]
            other_codes[k] = co
            H[cw, co] += 1
            H[zw, co] -= 1
    else:
        for i in range(n_bins):
            H[i, zw] = marginals[o, i]
        for k in range(n):
            cw = nz_codes[start + k]
            co = codes[o, indices[start + k]]
            other_codes[k] = co
            H[co, cw] += 1
            H[co, zw] -= 1
    return n


@numba.njit(parallel=True, cache=True, nogil=True)
def _pair_kernel(
    codes, indptr, indices, nz_codes, marginals, zero_code, walked, other, walk_is_a, order, lookup, out, images
):  # pragma: no cover
    """Counts of pairs ``order[t]`` (walked gene ``walked[t]``, other gene ``other[t]``).

    ``images=True``: ``out[p, j, i] = lookup[H[i, j]]`` (float32 pixels, rows = second gene; ``out`` is
    overwritten). ``images=False``: ``out[p, i, j] += H[i, j]`` (int32 counts accumulated over blocks).
    """
    n_bins = marginals.shape[1]
    n_pairs = order.shape[0]
    n_tasks = (n_pairs + _PAIRS_PER_TASK - 1) // _PAIRS_PER_TASK
    max_nnz = 0
    for g in range(indptr.shape[0] - 1):
        max_nnz = max(max_nnz, indptr[g + 1] - indptr[g])
    for task in prange(n_tasks):
        H = np.zeros((n_bins, n_bins), dtype=np.int32)
        other_codes = np.empty(max_nnz, dtype=np.uint8)
        background = lookup[0]
        for t in range(task * _PAIRS_PER_TASK, min((task + 1) * _PAIRS_PER_TASK, n_pairs)):
            p = order[t]
            w = walked[t]
            wa = walk_is_a[t]
            n = _count_pair(codes, indptr, indices, nz_codes, marginals, zero_code, w, other[t], wa, H, other_codes)
            zw = zero_code[w]
            start = indptr[w]
            # Write the entries the pair can have changed (zero line of the walked gene, then walked cells),
            # resetting the scratch as they are written, so a repeated entry is written once.
            if images:
                img = out[p]
                img[:, :] = background
                if wa:
                    for j in range(n_bins):
                        img[j, zw] = lookup[H[zw, j]]
                        H[zw, j] = 0
                    for k in range(n):
                        i = nz_codes[start + k]
                        j = other_codes[k]
                        if H[i, j] != 0:
                            img[j, i] = lookup[H[i, j]]
                            H[i, j] = 0
                else:
                    for i in range(n_bins):
                        img[zw, i] = lookup[H[i, zw]]
                        H[i, zw] = 0
                    for k in range(n):
                        j = nz_codes[start + k]
                        i = other_codes[k]
                        if H[i, j] != 0:
                            img[j, i] = lookup[H[i, j]]
                            H[i, j] = 0
            else:
                cnt = out[p]
                if wa:
                    for j in range(n_bins):
                        cnt[zw, j] += H[zw, j]
                        H[zw, j] = 0
                    for k in range(n):
                        i = nz_codes[start + k]
                        j = other_codes[k]
                        cnt[i, j] += H[i, j]
                        H[i, j] = 0
                else:
                    for i in range(n_bins):
                        cnt[i, zw] += H[i, zw]
                        H[i, zw] = 0
                    for k in range(n):
                        j = nz_codes[start + k]
                        i = other_codes[k]
                        cnt[i, j] += H[i, j]
                        H[i, j] = 0


@numba.njit(parallel=True, cache=True, nogil=True)
def _lookup_transposed(counts, lookup, out):  # pragma: no cover
    """``out[p, j, i] = lookup[counts[p, i, j]]``."""
    n_bins = counts.shape[1]
    for p in prange(counts.shape[0]):
        for i in range(n_bins):
            for j in range(n_bins):
                out[p, j, i] = lookup[counts[p, i, j]]


def _walk_plan(block: BinnedBlock, gene_a: np.ndarray, gene_b: np.ndarray):
    """Walk the sparser gene of each pair; visit pairs grouped by walked gene (then by the other gene)."""
    nnz = np.diff(block.indptr)
    walk_is_a = nnz[gene_a] <= nnz[gene_b]
    walked = np.where(walk_is_a, gene_a, gene_b)
    other = np.where(walk_is_a, gene_b, gene_a)
    order = np.lexsort((other, walked))
    return walked[order], other[order], walk_is_a[order], order


def _run(block: BinnedBlock, zero_code, gene_a, gene_b, lookup, out, images: bool) -> None:
    walked, other, walk_is_a, order = _walk_plan(block, gene_a, gene_b)
    _pair_kernel(
        block.codes,
        block.indptr,
        block.indices,
        block.nz_codes,
        block.marginals,
        zero_code,
        walked,
        other,
        walk_is_a,
        order,
        lookup,
        out,
        images,
    )


def _check_pairs(binner: GeneBinner, gene_a, gene_b) -> tuple[np.ndarray, np.ndarray]:
    gene_a = np.ascontiguousarray(gene_a, dtype=np.int64)
    gene_b = np.ascontiguousarray(gene_b, dtype=np.int64)
    n = len(binner.genes)
    if gene_a.shape != gene_b.shape or gene_a.ndim != 1:
        raise ValueError(f"gene_a and gene_b must be 1-d of the same length, got {gene_a.shape} and {gene_b.shape}.")
    if len(gene_a) and (min(gene_a.min(), gene_b.min()) < 0 or max(gene_a.max(), gene_b.max()) >= n):
        raise IndexError(f"Pair gene positions must be in [0, {n}) (the binned genes).")
    return gene_a, gene_b


def accumulate_block(block: BinnedBlock, zero_code: np.ndarray, gene_a: np.ndarray, gene_b: np.ndarray, out) -> None:
    """Add the counts of one block of cells to ``out`` (``n_pairs × bins × bins`` int32, rows = gene_a)."""
    _run(block, zero_code, gene_a, gene_b, np.zeros(1, dtype=np.int32), out, False)


def pair_counts(binner: GeneBinner, gene_a: np.ndarray, gene_b: np.ndarray) -> np.ndarray:
    """Joint counts ``H[p, i, j]`` = cells with gene_a[p] in bin i and gene_b[p] in bin j.

    ``gene_a``/``gene_b`` index the binner's genes. Identical to ``numpy.histogram2d(x_a, x_b, bins)[0]``
    with each gene's own range, summed over all blocks of cells.
    """
    gene_a, gene_b = _check_pairs(binner, gene_a, gene_b)
    bins = binner.params.bins
    out = np.zeros((len(gene_a), bins, bins), dtype=np.int32)
    if len(gene_a) == 0:
        return out
    for block in binner.blocks():
        accumulate_block(block, binner.zero_code, gene_a, gene_b, out)
    return out


def pair_images(binner: GeneBinner, gene_a: np.ndarray, gene_b: np.ndarray, lookup: np.ndarray) -> np.ndarray:
    """Pixels ``lookup[H[p].T]`` (``n × bins × bins`` float32, rows = bins of gene_b) of each pair.

    With all cells' codes cached the counts never leave the kernel's scratch; otherwise counts are
    accumulated over blocks of cells first, then looked up.
    """
    gene_a, gene_b = _check_pairs(binner, gene_a, gene_b)
    bins = binner.params.bins
    out = np.empty((len(gene_a), bins, bins), dtype=np.float32)
    if len(gene_a) == 0:
        return out
    lookup = np.ascontiguousarray(lookup, dtype=np.float32)
    if binner.cached:
        _run(binner.whole(), binner.zero_code, gene_a, gene_b, lookup, out, True)
    else:
        _lookup_transposed(pair_counts(binner, gene_a, gene_b), lookup, out)
    return out
