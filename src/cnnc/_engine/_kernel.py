"""Joint bin counts of many gene pairs at once: a compiled kernel that walks only nonzero cells.

In scRNA-seq most cells of most genes are zero, so a pair's 2-d histogram is dominated by the
zero bin. For each pair we walk the nonzero cells of the sparser gene only, look the other gene's
code up, and derive the rest by subtraction: every cell not walked has the walked gene's zero code,
so its row (or column) receives the other gene's marginal minus what the walk counted in that bin.

Each thread counts into a small ``bins × bins`` scratch histogram that stays in L1 cache and writes
a pair's result once: as int32 counts, or directly as float32 pixels through a lookup table (so the
counts of all pairs never exist in memory). Pixels are streamed to memory (non-temporal stores), one image row
per bin of the second gene that holds cells: the other rows are zero, as the zeroed output has them. Pairs are visited
grouped by the gene whose codes are looked up, so that gene's row of codes stays in cache across its pairs.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic

from ._binning import BinnedBlock, GeneBinner
from ._threads import jobs, parallel_allowed

# Pairs per task handed to a thread: small enough to balance the threads, large enough to amortise a task.
_PAIRS_PER_TASK = 32


@intrinsic
def _store_streaming(typingctx, array, index, value):  # pragma: no cover - compiled
    """``array[index] = value`` as a non-temporal store (the line goes to memory without being read first).

    A pair's pixels are written once and not read again: streaming them past the cache halves the memory
    traffic of the output, the kernel's largest cost after the walk. Stores must be fenced (:func:`_fence`)
    before another thread reads them.
    """
    if not isinstance(array, types.Array) or array.ndim != 1:
        return None
    sig = types.void(array, types.intp, array.dtype)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        store = builder.store(args[2], builder.gep(data, [args[1]]))
        store.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _fence(typingctx):  # pragma: no cover - compiled
    """A full memory fence: orders this thread's streaming stores before the parallel region ends."""

    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.void(), codegen


@numba.njit(cache=True, nogil=True, inline="always")
def _pair_task(
    task, codes, indptr, walk, marginals, zero_code, walked, other, walk_is_a, order, lookup, out, images, skip_empty
):  # pragma: no cover - compiled
    """Count the pairs of one task (``_PAIRS_PER_TASK`` consecutive entries of ``order``); see :func:`_pair_kernel`."""
    n_bins = marginals.shape[1]
    ubins = np.uint32(n_bins)
    n_pix = n_bins * n_bins
    n_pairs = order.shape[0]
    flat = out.reshape(out.shape[0], n_pix)
    # Scratch histogram with a row per bin of the walked gene: H[code_w * n_bins + code_o]. Whichever gene is
    # walked, the other gene's count per bin is then a sum of rows (vectorised); images read it transposed or not.
    H = np.zeros(n_pix, dtype=np.int32)
    walked_sum = np.empty(n_bins, dtype=np.int32)
    for t in range(task * _PAIRS_PER_TASK, min((task + 1) * _PAIRS_PER_TASK, n_pairs)):
        p = order[t]
        w = walked[t]
        o = other[t]
        start = indptr[w]
        # Count the walked (nonzero) cells of w only: one load gives a cell and its code (cell << 8 | code).
        # (Unsigned cell indices and pixel positions spare numba's negative-index wraparound checks.)
        other_codes = codes[o]
        cells = walk[start : indptr[w + 1]]
        for k in range(cells.shape[0]):
            v = cells[k]
            H[(v & np.uint32(255)) * ubins + other_codes[v >> np.uint32(8)]] += 1
        # ... then every other cell is in w's zero bin: per bin of o, o's marginal minus the walked cells.
        # (Summing the scratch's rows afterwards is cheaper than decrementing one entry per walked cell, whose
        # repeated read-modify-write of the same address serialises the walk.)
        for m in range(n_bins):
            walked_sum[m] = H[m]
        for j in range(1, n_bins):
            for m in range(n_bins):
                walked_sum[m] += H[j * n_bins + m]
        zero_row = zero_code[w] * n_bins
        for m in range(n_bins):
            H[zero_row + m] += np.int32(marginals[o, m]) - walked_sum[m]
        if images:
            # Image row i is bin i of gene b; a bin of b that holds no cell is a row of zeros, which the zeroed
            # output already has (skip_empty): only rows of occupied bins are written, each streamed whole.
            img = flat[p]
            if walk_is_a[t]:  # b = o: image row i = column i of H
                for i in range(n_bins):
                    if not skip_empty or marginals[o, i] > 0:
                        for j in range(n_bins):
                            _store_streaming(img, i * n_bins + j, lookup[np.uint32(H[j * n_bins + i])])
            else:  # b = w: image row j = row j of H
                for j in range(n_bins):
                    if not skip_empty or marginals[w, j] > 0:
                        for i in range(n_bins):
                            _store_streaming(img, j * n_bins + i, lookup[np.uint32(H[j * n_bins + i])])
        else:  # counts, rows = bins of gene a
            cnt = out[p]
            if walk_is_a[t]:
                for j in range(n_bins):
                    for i in range(n_bins):
                        cnt[j, i] += H[j * n_bins + i]
            else:
                for i in range(n_bins):
                    for j in range(n_bins):
                        cnt[i, j] += H[j * n_bins + i]
        H[:] = 0
    _fence()


@numba.njit(parallel=True, cache=True, nogil=True)
def _pair_kernel(
    codes, indptr, walk, marginals, zero_code, walked, other, walk_is_a, order, lookup, out, images, skip_empty
):  # pragma: no cover
    """Counts of pairs ``order[t]`` (walked gene ``walked[t]``, other gene ``other[t]``).

    ``images=True``: ``out[p, j, i] = lookup[H[i, j]]`` (float32 pixels, rows = second gene). With ``skip_empty``
    ``out`` must be zero-filled and ``lookup[0]`` 0: rows of bins of the second gene that hold no cell are not
    written. ``images=False``: ``out[p, i, j] += H[i, j]`` (int32 counts, accumulated over blocks).
    """
    n_tasks = (order.shape[0] + _PAIRS_PER_TASK - 1) // _PAIRS_PER_TASK
    for task in prange(n_tasks):
        _pair_task(
            task,
            codes,
            indptr,
            walk,
            marginals,
            zero_code,
            walked,
            other,
            walk_is_a,
            order,
            lookup,
            out,
            images,
            skip_empty,
        )


@numba.njit(cache=True, nogil=True)
def _pair_kernel_serial(
    codes, indptr, walk, marginals, zero_code, walked, other, walk_is_a, order, lookup, out, images, skip_empty
):  # pragma: no cover
    """:func:`_pair_kernel` on one thread (in forked child processes, where the parent's thread pool is unusable)."""
    n_tasks = (order.shape[0] + _PAIRS_PER_TASK - 1) // _PAIRS_PER_TASK
    for task in range(n_tasks):
        _pair_task(
            task,
            codes,
            indptr,
            walk,
            marginals,
            zero_code,
            walked,
            other,
            walk_is_a,
            order,
            lookup,
            out,
            images,
            skip_empty,
        )


@numba.njit(parallel=True, cache=True, nogil=True)
def _lookup_transposed(counts, lookup, out):  # pragma: no cover
    """``out[p, j, i] = lookup[counts[p, i, j]]``."""
    n_bins = counts.shape[1]
    for p in prange(counts.shape[0]):
        for i in range(n_bins):
            for j in range(n_bins):
                out[p, j, i] = lookup[counts[p, i, j]]


@numba.njit(cache=True, nogil=True)
def _lookup_transposed_serial(counts, lookup, out):  # pragma: no cover
    """:func:`_lookup_transposed` on one thread (forked children)."""
    n_bins = counts.shape[1]
    for p in range(counts.shape[0]):
        for i in range(n_bins):
            for j in range(n_bins):
                out[p, j, i] = lookup[counts[p, i, j]]


def _walk_plan(block: BinnedBlock, gene_a: np.ndarray, gene_b: np.ndarray):
    """Walk the sparser gene of each pair; visit pairs grouped by the other gene (its codes are looked up)."""
    nnz = np.diff(block.indptr)
    walk_is_a = nnz[gene_a] <= nnz[gene_b]
    walked = np.where(walk_is_a, gene_a, gene_b)
    other = np.where(walk_is_a, gene_b, gene_a)
    # A stable sort on a 16-bit key is a radix sort: pairs of the same other gene keep their input order.
    key = other.astype(np.uint16) if len(nnz) <= 2**16 else other
    order = np.argsort(key, kind="stable")
    return walked[order], other[order], walk_is_a[order], order


def _run(block: BinnedBlock, zero_code, gene_a, gene_b, lookup, out, images: bool, skip_empty: bool = False) -> None:
    walked, other, walk_is_a, order = _walk_plan(block, gene_a, gene_b)
    # Hand tasks out dynamically (one at a time) rather than in equal static shares: pairs differ in cost,
    # and another process may be holding one of the cores.
    args = (
        block.codes,
        block.indptr,
        block.walk,
        block.marginals,
        zero_code,
        walked,
        other,
        walk_is_a,
        order,
        lookup,
        out,
        images,
        skip_empty,
    )
    if not parallel_allowed():  # a forked child of a process using GNU OpenMP: no thread pool (see _threads)
        _pair_kernel_serial(*args)
        return
    previous = numba.set_parallel_chunksize(1)
    try:
        with jobs():  # sc.settings.n_jobs threads
            _pair_kernel(*args)
    finally:
        numba.set_parallel_chunksize(previous)


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
    out = np.zeros((len(gene_a), bins, bins), dtype=np.float32)
    if len(gene_a) == 0:
        return out
    lookup = np.ascontiguousarray(lookup, dtype=np.float32)
    if binner.cached:
        _run(binner.whole(), binner.zero_code, gene_a, gene_b, lookup, out, True, skip_empty=lookup[0] == 0)
    else:
        counts_to_pixels(pair_counts(binner, gene_a, gene_b), lookup, out)
    return out


def counts_to_pixels(counts: np.ndarray, lookup: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Images ``lookup[counts[p].T]`` (rows = bins of the second gene, CNNC's transpose) of joint counts.

    ``counts``: ``n × bins × bins`` int32 (rows = bins of the first gene), e.g. summed over chunks of cells
    elsewhere; ``lookup``: the pixel value of every possible count (:func:`cnnc._engine._transform.count_lookup`).
    """
    counts = np.ascontiguousarray(counts, dtype=np.int32)
    lookup = np.ascontiguousarray(lookup, dtype=np.float32)
    if out is None:
        out = np.empty(counts.shape, dtype=np.float32)
    transpose = _lookup_transposed if parallel_allowed() else _lookup_transposed_serial
    transpose(counts, lookup, out)
    return out
