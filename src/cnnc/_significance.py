"""Edge significance: whether a pair is more associated than two independent genes would be.

Every edge table carries ``pvalue`` and ``qvalue`` columns. The test asks whether the two genes' expression is
associated at all; it does not test the direction, and it does not test the model's ranking score.

The statistic is the pair's Pearson correlation over the cells (the ``corr`` column), standardised as
``|corr| · sqrt(n_cells - 1)``: under permutation of either gene's cells its mean is 0 and its variance exactly 1
whatever the genes' distributions. The null distribution is *empirical*: the same statistic for the same candidate
pairs after each gene's cells are permuted independently (which keeps every gene's distribution, sparsity
included, and breaks every association), restricted, as the real pairs are, to pairs co-expressed in at least
``min_cells`` cells. The null values of all pairs are pooled; a pair's p-value is
``(1 + #null ≥ observed) / (1 + #null)`` and ``qvalue`` is the Benjamini–Hochberg adjustment over the table (per
group, for one network per group). Permutations are repeated until the null holds about :data:`NULL_VALUES` values
(at most :data:`MAX_PERMUTATIONS`), so the smallest p-value is about ``1 / NULL_VALUES``.

Why not the context prior itself: the prior z-scores each association within each gene's associations; in
permuted data, where a gene's associations are all noise, that z-scoring blows a single noisy outlier up to the
same size as a strong real association (measured on scanpy's PBMCs: the prior's null reaches the real top edges,
and only 21 of 25,212 edges pass q < 0.05). The correlation's null does not move with the rest of the row.

Cost and memory: the null reads the candidate genes of at most :data:`NULL_MAX_CELLS` cells drawn at random (the
standardised correlation's null does not depend on the number of cells; ``min_cells`` is scaled to the subsample)
into one sparse copy, then computes the pairs' correlations once per permutation, as the ``corr`` column is
computed. The cells are drawn first (:func:`null_cells`; the candidate pairs, when more than
:data:`NULL_MAX_PAIRS`, after them), so a prediction on data not in memory keeps their rows while it makes its one
pass over the data (:class:`cnnc._prior._pass.DataPass`) and the null does not read the data again; the same cells
either way. The random generator is seeded (:data:`SEED`), so the same data give the same p-values.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import sparse

from ._engine._source import ExpressionSource
from ._evidence import correlations_from_sums, pair_evidence

#: Null values aimed at (pooled over pairs and permutations); the smallest p-value is about its inverse.
NULL_VALUES = 200_000
#: At most this many permutations, however few the pairs.
MAX_PERMUTATIONS = 50
#: The null reads at most this many cells, drawn at random.
NULL_MAX_CELLS = 20_000
#: At most this many pairs per permutation (a random sample of the candidate pairs when there are more).
NULL_MAX_PAIRS = 2_000_000
#: Cells × genes entries (zeros included) of a block of permuted cells read at a time.
NULL_BLOCK_ENTRIES = 2**23
#: Seed of the permutations (and of the subsample of cells and pairs).
SEED = 0
#: The columns :func:`add_significance` writes.
COLUMNS = ("pvalue", "qvalue")


def benjamini_hochberg(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values) of ``pvalues``, in their order."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 1.0)
    return out


def statistic(corr: np.ndarray, n_cells: int) -> np.ndarray:
    """``|corr| · sqrt(n_cells - 1)``: mean 0 and variance 1 under permutation, whatever the genes' distributions."""
    return np.abs(np.asarray(corr, dtype=np.float64)) * math.sqrt(max(int(n_cells) - 1, 1))


def _draw_cells(rng: np.random.Generator, n: int) -> np.ndarray:
    if n > NULL_MAX_CELLS:
        return np.sort(rng.choice(n, NULL_MAX_CELLS, replace=False))
    return np.arange(n)


def null_cells(n_cells: int) -> np.ndarray:
    """The cells (sorted positions) the null of a data set of ``n_cells`` cells reads.

    The first draw of its seeded generator: :data:`NULL_MAX_CELLS` at random (every cell when there are no more).
    """
    return _draw_cells(np.random.default_rng(SEED), int(n_cells))


def _permuted_genes(matrix, genes: np.ndarray, cells: np.ndarray, chunk_cells: int | None):
    """The columns ``genes`` of the rows ``cells`` of ``matrix``, as CSC (one sparse copy)."""
    n = int(matrix.shape[0])
    cells = None if len(cells) == n else cells
    source = ExpressionSource(matrix, chunk_cells=int(chunk_cells or 20_000))
    blocks = []
    for first, block in source.iter_blocks(genes):
        if cells is not None:
            inside = cells[(cells >= first) & (cells < first + block.shape[0])] - first
            block = block.tocsr()[inside]
        blocks.append(sparse.csr_matrix(block))
    # CSR blocks stack by concatenation; stacking straight into CSC would go through COO, whose int64 row and
    # column of every value cost four times the values themselves.
    stacked = sparse.vstack(blocks, format="csr")
    del blocks
    return stacked.tocsc()


def _shuffle_columns(x: sparse.csc_matrix, rng: np.random.Generator) -> sparse.csc_matrix:
    """A copy of ``x`` with each column's cells permuted independently (each column's cells a uniform random set).

    Vectorised over the columns: every stored value draws a random cell at once, and values that drew a cell
    already taken in their column draw again (rejection keeps each column's set uniform). Columns stored in more
    than a quarter of the cells take one permutation each instead, where rejection would redraw too often.
    """
    out = x.copy()
    n = out.shape[0]
    counts = np.diff(out.indptr)
    full = counts > n // 4
    wide = np.flatnonzero(full)
    step = max(1, NULL_BLOCK_ENTRIES // max(n, 1))  # random keys of at most NULL_BLOCK_ENTRIES at a time
    for first in range(0, len(wide), step):
        cols = wide[first : first + step]
        perms = np.argsort(rng.random((n, len(cols)), dtype=np.float32), axis=0)
        for k, j in enumerate(cols):
            start, stop = out.indptr[j], out.indptr[j + 1]
            out.indices[start:stop] = perms[: stop - start, k]
    # The other columns in groups of about NULL_BLOCK_ENTRIES stored values, so that the rejection's index arrays
    # stay block-sized whatever the data's size (all at once, a whole transcriptome needed GBs of them).
    narrow = np.flatnonzero(~full)
    if len(narrow):
        filled = np.cumsum(counts[narrow])
        ends = np.searchsorted(filled, np.arange(NULL_BLOCK_ENTRIES, filled[-1], NULL_BLOCK_ENTRIES), side="right")
        for cols in np.split(narrow, np.unique(ends)):
            _redraw_until_distinct(out, cols, counts[cols], rng)
    out.has_sorted_indices = False
    out.sort_indices()
    return out


def _redraw_until_distinct(out: sparse.csc_matrix, cols: np.ndarray, counts: np.ndarray, rng) -> None:
    """Draw a uniform random cell for every stored value of columns ``cols``, redrawing until each column's differ."""
    n = out.shape[0]
    local = np.repeat(np.arange(len(cols), dtype=np.int64), counts)
    # storage positions of those columns' values, in storage order
    pos = np.repeat(out.indptr[cols] - (np.cumsum(counts) - counts), counts) + np.arange(len(local))
    keys_base = local * n
    redraw = np.arange(len(pos))
    while len(redraw):
        out.indices[pos[redraw]] = rng.integers(0, n, len(redraw), dtype=out.indices.dtype)
        keys = keys_base + out.indices[pos]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        redraw = order[np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1]) + 1]


def _null_evidence(x: sparse.csc_matrix, pa: np.ndarray, pb: np.ndarray, null_cells: int):
    """``(corr, n_cells)`` of the pairs of permuted genes: dense products when the cells × genes fit a block.

    The permuted copy of a small data set (a group of a ``groupby``, a few hundred cells) is cheaper to multiply
    pair by pair as a dense array than through the sparse streaming pass, whose fixed cost per call then dominates;
    larger copies take that pass (:func:`cnnc._evidence.pair_evidence`).
    """
    n = int(x.shape[0])
    if n * x.shape[1] > NULL_BLOCK_ENTRIES:
        return pair_evidence(x, pa, pb, chunk_cells=null_cells)
    values = x.toarray().astype(np.float64, copy=False)
    mean = values.mean(axis=0)
    var = (values**2).mean(axis=0) - mean**2
    cross = np.empty(len(pa))
    both = np.empty(len(pa), dtype=np.int64)
    step = max(1, NULL_BLOCK_ENTRIES // max(n, 1))
    for first in range(0, len(pa), step):
        xa, xb = values[:, pa[first : first + step]], values[:, pb[first : first + step]]
        cross[first : first + step] = np.einsum("ij,ij->j", xa, xb)
        both[first : first + step] = np.count_nonzero((xa != 0) & (xb != 0), axis=0)
    corr = np.empty(len(pa), dtype=np.float32)
    correlations_from_sums(cross, n, mean, var, pa, pb, corr)
    return corr, both


def null_statistics(
    matrix, a: np.ndarray, b: np.ndarray, *, min_cells: int, chunk_cells: int | None = None, sample=None
):
    """Sorted null statistics of pairs (positions ``a``, ``b`` of ``matrix``), and the number of permutations.

    ``sample``: a function returning the rows :func:`null_cells` names, of every gene (CSR), when already read
    (called once; what it returns is freed once the null's copy is made); else they are read here.
    """
    rng = np.random.default_rng(SEED)
    cells = _draw_cells(rng, int(matrix.shape[0]))
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if len(a) > NULL_MAX_PAIRS:
        pick = rng.choice(len(a), NULL_MAX_PAIRS, replace=False)
        a, b = a[pick], b[pick]
    genes, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    pa, pb = inverse[: len(a)], inverse[len(a) :]
    if sample is None:
        x = _permuted_genes(matrix, genes, cells, chunk_cells)
    else:
        rows = sample()
        if rows.shape != (len(cells), int(matrix.shape[1])):
            raise ValueError(f"The null's sample has shape {rows.shape}, not null_cells' rows × every gene.")
        x = sparse.csc_matrix(rows[:, genes])
        del rows
    floor = math.ceil(min_cells * x.shape[0] / int(matrix.shape[0]))  # min_cells, scaled to the subsample
    n_perm = int(np.clip(math.ceil(NULL_VALUES / max(len(a), 1)), 1, MAX_PERMUTATIONS))
    values = []
    # Blocks of at most NULL_BLOCK_ENTRIES cells × genes: the null's copies of a block stay small beside the data.
    null_cells = max(256, NULL_BLOCK_ENTRIES // max(len(genes), 1))
    for _ in range(n_perm):
        corr, both = _null_evidence(_shuffle_columns(x, rng), pa, pb, null_cells)
        values.append(statistic(corr[both >= floor], x.shape[0]))
    return np.sort(np.concatenate(values)), n_perm


def pvalues(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Empirical p-values ``(1 + #null ≥ observed) / (1 + #null)`` of ``observed`` statistics (``null`` sorted)."""
    exceed = len(null) - np.searchsorted(null, np.asarray(observed, dtype=np.float64), side="left")
    return (1.0 + exceed) / (1.0 + len(null))


def add_significance(
    edges: pd.DataFrame,
    matrix,
    a: np.ndarray,
    b: np.ndarray,
    *,
    min_cells: int,
    chunk_cells: int | None = None,
    sample=None,
) -> pd.DataFrame:
    """``edges`` with ``pvalue`` and ``qvalue`` columns (see the module's docstring).

    ``edges`` are the pairs (positions ``a``, ``b`` of ``matrix``) in that order, with their ``corr`` over all
    ``matrix.shape[0]`` cells (computed here when the table has no ``corr`` column); ``min_cells`` is the
    co-expression floor they passed. ``sample``: a function returning the rows of :func:`null_cells`, of every
    gene, already read (see :func:`null_statistics`).
    """
    if len(edges) == 0:
        edges = edges.copy()
        for c in COLUMNS:
            edges[c] = pd.Series([], dtype=np.float64)
        return edges
    if "corr" in edges.columns:
        corr = edges["corr"].to_numpy()
    else:
        corr, _ = pair_evidence(matrix, a, b, chunk_cells=chunk_cells)
    null, _ = null_statistics(matrix, a, b, min_cells=min_cells, chunk_cells=chunk_cells, sample=sample)
    p = pvalues(statistic(corr, matrix.shape[0]), null) if len(null) else np.ones(len(edges))
    del null
    # The table is copied once the null is gone: the two never take memory at the same time.
    edges = edges.copy()
    edges["pvalue"] = p
    edges["qvalue"] = benjamini_hochberg(p)
    return edges
