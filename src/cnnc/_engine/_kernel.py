"""Joint bin counts of many gene pairs at once: a compiled kernel that walks only nonzero cells.

In scRNA-seq most cells of most genes are zero, so a pair's 2-d histogram is dominated by the
zero bin. For each pair we walk the nonzero cells of the sparser gene only, look the other gene's
code up, and derive the rest by subtraction: every cell not walked has the walked gene's zero code,
so its row (or column) receives the other gene's marginal minus what the walk counted in that bin.

Each thread counts into a small ``bins × bins`` scratch histogram that stays in L1 cache and writes
a pair's result once: as int32 counts, or directly as float32 pixels through a lookup table (so the
counts of all pairs never exist in memory). Pixels are streamed to memory (non-temporal stores), or, for
pairs walking few cells, only the nonzero ones are written into the zeroed output. Pairs are visited
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
# Pairs whose walked gene has fewer nonzero cells than this write only the pixels they can have changed into
# a zeroed output; the others write all bins × bins pixels (cheaper than tracking ~bins² entries one by one).
_SPARSE_WRITE_BELOW = 128


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
    task,
    max_nnz,
    codes,
    indptr,
    indices,
    nz_codes,
    marginals,
    zero_code,
    walked,
    other,
    walk_is_a,
    order,
    lookup,
    out,
    images,
    sparse_below,
):  # pragma: no cover - compiled
    """Count the pairs of one task (``_PAIRS_PER_TASK`` consecutive entries of ``order``); see :func:`_pair_kernel`."""
    n_bins = marginals.shape[1]
    ubins = np.uint32(n_bins)
    n_pix = n_bins * n_bins
    n_pairs = order.shape[0]
    flat = out.reshape(out.shape[0], n_pix)
    # Scratch histogram in image orientation: H[code_b * n_bins + code_a].
    H = np.zeros(n_pix, dtype=np.int32)
    touched = np.empty(max_nnz, dtype=np.uint32)
    missing = np.empty(n_bins, dtype=np.int64)
    for t in range(task * _PAIRS_PER_TASK, min((task + 1) * _PAIRS_PER_TASK, n_pairs)):
        p = order[t]
        w = walked[t]
        o = other[t]
        zw = zero_code[w]
        start = indptr[w]
        n = indptr[w + 1] - start
        # Count the walked (nonzero) cells of w only ...
        # (Unsigned cell indices and pixel positions spare numba's negative-index wraparound checks.)
        # Pairs written sparsely remember the pixels they touch; the others need not.
        other_codes = codes[o]
        cells = indices[start : start + n]
        walked_codes = nz_codes[start : start + n]
        sparse_write = images and n < sparse_below
        if walk_is_a[t]:
            if sparse_write:
                for k in range(n):
                    q = other_codes[cells[k]] * ubins + walked_codes[k]
                    touched[k] = q
                    H[q] += 1
            else:
                for k in range(n):
                    H[other_codes[cells[k]] * ubins + walked_codes[k]] += 1
        elif sparse_write:
            for k in range(n):
                q = walked_codes[k] * ubins + other_codes[cells[k]]
                touched[k] = q
                H[q] += 1
        else:
            for k in range(n):
                H[walked_codes[k] * ubins + other_codes[cells[k]]] += 1
        # ... then every other cell is in w's zero bin: per bin of o, o's marginal minus the walked cells.
        # (Summing the bins × bins scratch afterwards is cheaper than decrementing one entry per walked
        # cell, whose repeated read-modify-write of the same address serialises the walk.)
        # Pixel line_start + m * line_step is w's zero bin and o's bin m.
        for m in range(n_bins):
            missing[m] = marginals[o, m]
        if walk_is_a[t]:  # o = b indexes rows; w's zero bin is a column
            line_start = zw
            line_step = n_bins
        else:  # o = a indexes columns; w's zero bin is a row
            line_start = zw * n_bins
            line_step = 1
        if sparse_write:  # few walked cells: take each off its bin of o (no pass over the whole scratch)
            if walk_is_a[t]:
                for k in range(n):
                    missing[touched[k] // ubins] -= 1
            else:
                for k in range(n):
                    missing[touched[k] % ubins] -= 1
        elif walk_is_a[t]:  # subtract row sums
            for j in range(n_bins):
                s = 0
                for i in range(n_bins):
                    s += H[j * n_bins + i]
                missing[j] -= s
        else:  # subtract column sums
            for j in range(n_bins):
                for i in range(n_bins):
                    missing[i] -= H[j * n_bins + i]
        for m in range(n_bins):
            H[line_start + m * line_step] += missing[m]
        if images:
            img = flat[p]
            if sparse_write:
                for k in range(n):
                    img[touched[k]] = lookup[np.uint32(H[touched[k]])]
                for m in range(n_bins):
                    img[line_start + m * line_step] = lookup[np.uint32(H[line_start + m * line_step])]
                for k in range(n):
                    H[touched[k]] = 0
                for m in range(n_bins):
                    H[line_start + m * line_step] = 0
                continue
            for q in range(n_pix):
                _store_streaming(img, q, lookup[np.uint32(H[q])])
        else:
            cnt = out[p]
            for i in range(n_bins):
                for j in range(n_bins):
                    cnt[i, j] += H[j * n_bins + i]
        H[:] = 0
    _fence()


@numba.njit(cache=True, nogil=True)
def _max_nnz(indptr):  # pragma: no cover - compiled
    max_nnz = 0
    for g in range(indptr.shape[0] - 1):
        max_nnz = max(max_nnz, indptr[g + 1] - indptr[g])
    return max_nnz


@numba.njit(parallel=True, cache=True, nogil=True)
def _pair_kernel(
    codes,
    indptr,
    indices,
    nz_codes,
    marginals,
    zero_code,
    walked,
    other,
    walk_is_a,
    order,
    lookup,
    out,
    images,
    sparse_below,
):  # pragma: no cover
    """Counts of pairs ``order[t]`` (walked gene ``walked[t]``, other gene ``other[t]``).

    ``images=True``: ``out[p, j, i] = lookup[H[i, j]]`` (float32 pixels, rows = second gene). ``out`` must be
    zero-filled when ``sparse_below > 0`` (then ``lookup[0]`` must be 0): pairs walking fewer than
    ``sparse_below`` cells write their nonzero pixels only. ``images=False``: ``out[p, i, j] += H[i, j]``
    (int32 counts, accumulated over blocks).
    """
    n_tasks = (order.shape[0] + _PAIRS_PER_TASK - 1) // _PAIRS_PER_TASK
    max_nnz = _max_nnz(indptr)
    for task in prange(n_tasks):
        _pair_task(
            task,
            max_nnz,
            codes,
            indptr,
            indices,
            nz_codes,
            marginals,
            zero_code,
            walked,
            other,
            walk_is_a,
            order,
            lookup,
            out,
            images,
            sparse_below,
        )


@numba.njit(cache=True, nogil=True)
def _pair_kernel_serial(
    codes,
    indptr,
    indices,
    nz_codes,
    marginals,
    zero_code,
    walked,
    other,
    walk_is_a,
    order,
    lookup,
    out,
    images,
    sparse_below,
):  # pragma: no cover
    """:func:`_pair_kernel` on one thread (in forked child processes, where the parent's thread pool is unusable)."""
    n_tasks = (order.shape[0] + _PAIRS_PER_TASK - 1) // _PAIRS_PER_TASK
    max_nnz = _max_nnz(indptr)
    for task in range(n_tasks):
        _pair_task(
            task,
            max_nnz,
            codes,
            indptr,
            indices,
            nz_codes,
            marginals,
            zero_code,
            walked,
            other,
            walk_is_a,
            order,
            lookup,
            out,
            images,
            sparse_below,
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


def _run(block: BinnedBlock, zero_code, gene_a, gene_b, lookup, out, images: bool, sparse_below: int = 0) -> None:
    walked, other, walk_is_a, order = _walk_plan(block, gene_a, gene_b)
    # Hand tasks out dynamically (one at a time) rather than in equal static shares: pairs differ in cost,
    # and another process may be holding one of the cores.
    args = (
        block.codes,
        block.indptr,
        block.indices.view(np.uint32),  # cell indices < 2**31: the same bits
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
        sparse_below,
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
        sparse_below = _SPARSE_WRITE_BELOW if lookup[0] == 0 else 0
        _run(binner.whole(), binner.zero_code, gene_a, gene_b, lookup, out, True, sparse_below)
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
