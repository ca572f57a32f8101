"""Per-pair evidence beside the model's score: the sign of the relation and how many cells co-express the pair.

Both come from sums over the cells: per gene, the sum and the sum of squares; per pair, the cross product and the
co-detection count. A prediction whose context prior holds its Gram matrices reads them off the one pass it makes
over the cells (:class:`cnnc._prior._pass.DataPass`: :func:`evidence_from_pass`); otherwise :func:`pair_evidence`
takes its own streaming pass over blocks of cells (memory: one block plus a few numbers per pair):

- ``corr``: the Pearson correlation of the two genes' log-expression over the cells scored; ``sign`` is its sign
  (+1 activation-like, -1 repression-like, 0 when undefined, e.g. a gene constant over the cells).
- ``n_cells``: the number of cells in which both genes are detected (expression > 0).
"""

from __future__ import annotations

import numba
import numpy as np
from scanpy import logging as logg
from scipy import sparse

from ._engine._source import DEFAULT_CHUNK_CELLS, ExpressionSource

#: Regulators × targets products computed at a time (dense float64 entries).
PRODUCT_ENTRIES = 1_000_000
#: Cells × genes entries (zeros included) of a block of cells: bounds the block's copies whatever the gene count.
BLOCK_ENTRIES = 2**25


def pair_evidence(matrix, a: np.ndarray, b: np.ndarray, *, chunk_cells: int | None = None, client=None):
    """``(corr, n_cells)`` of the pairs (columns ``a[i]``, ``b[i]`` of ``matrix``): float32 and int64 arrays.

    With a dask.distributed ``client`` (and a dask array) each worker sums its own chunks of cells.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    genes, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    pa, pb = inverse[: len(a)], inverse[len(a) :]
    if client is None:
        cells = DEFAULT_CHUNK_CELLS if chunk_cells is None else int(chunk_cells)
        source = ExpressionSource(matrix, chunk_cells=min(cells, max(256, BLOCK_ENTRIES // max(len(genes), 1))))
        sums = evidence_sums(source, genes, pa, pb)
    else:
        import dask

        from ._distributed import row_chunks, tree_sum

        parts = client.compute([dask.delayed(_evidence_task)(c, genes, pa, pb) for _, c in row_chunks(matrix)])
        sums = tree_sum(client, parts).result()
    total, squares, cross, both = sums
    return _correlations(total, squares, cross, int(matrix.shape[0]), pa, pb), both


def evidence_from_pass(sums, a: np.ndarray, b: np.ndarray):
    """``(corr, n_cells)`` of pairs (gene positions ``a``, ``b``) from one pass's sums, as :func:`pair_evidence`.

    ``sums`` is a :class:`cnnc._prior._pass.DataPass` whose co-detection rows include every gene of ``a``.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    gram = sums.gram
    squares = np.diag(gram.grams["raw"]).copy()
    corr = _correlations(gram.totals["raw"], squares, sums.cross(a, b), sums.n_cells, a, b)
    return corr, sums.both(a, b)


def _correlations(total, squares, cross, n: int, pa, pb) -> np.ndarray:
    mean = total / n
    var = squares / n - mean**2
    corr = np.empty(len(cross), dtype=np.float32)
    correlations_from_sums(cross, n, mean, var, pa, pb, corr)
    return corr


@numba.njit(cache=True, nogil=True, error_model="numpy")
def correlations_from_sums(cross, n, mean, var, pa, pb, out):  # pragma: no cover - compiled
    """Each pair's correlation from its cross product and its genes' means and variances, into float32 ``out``.

    Pair by pair, so memory stays one float32 per pair however many pairs (the same float64 arithmetic as
    ``cov / sqrt(max(var_a * var_b, 0))`` on whole arrays): 0 where undefined (a constant gene) and where the
    covariance is zero up to rounding (no sign); clipped to [-1, 1].
    """
    for i in range(cross.shape[0]):
        cov = cross[i] / n - mean[pa[i]] * mean[pb[i]]
        product = var[pa[i]] * var[pb[i]]
        scale = np.sqrt(product if not product < 0 else 0.0)
        corr = cov / scale
        if not np.isfinite(corr):
            corr = 0.0
        corr = min(max(corr, -1.0), 1.0)
        if abs(cov) <= 1e-12 * scale:
            corr = 0.0
        out[i] = corr


def _evidence_task(chunk, genes, pa, pb):
    return evidence_sums(ExpressionSource(chunk, chunk_cells=max(1, int(chunk.shape[0]))), genes, pa, pb)


def evidence_sums(source: ExpressionSource, genes: np.ndarray, pa: np.ndarray, pb: np.ndarray):
    """Per gene: sum and sum of squares; per pair (positions among ``genes``): cross products and co-detections."""
    regs, ra = np.unique(pa, return_inverse=True)
    tgts, tb = np.unique(pb, return_inverse=True)
    # pairs ordered by regulator, so each chunk of regulators owns a contiguous run of pairs
    order = np.argsort(ra, kind="stable")
    step = max(1, PRODUCT_ENTRIES // max(len(tgts), 1))
    bounds = np.searchsorted(ra[order], np.arange(0, len(regs) + step, step))

    total = np.zeros(len(genes))
    squares = np.zeros(len(genes))
    cross = np.zeros(len(pa))
    both = np.zeros(len(pa), dtype=np.int64)
    for _, block in source.iter_blocks(genes):
        block = block.tocsc().astype(np.float64)
        total += np.asarray(block.sum(axis=0)).ravel()
        squares += np.asarray(block.multiply(block).sum(axis=0)).ravel()
        block.sort_indices()
        all_genes = len(tgts) == block.shape[1]  # targets are every gene, in order (np.unique sorts them)
        xt = block.tocsr() if all_genes else block[:, tgts].tocsr()
        xt.sort_indices()
        dt = _detected(xt)  # the same entries, all ones (one copy less than selecting them from a copy of the block)
        for k, first in enumerate(range(0, len(regs), step)):
            rows = order[bounds[k] : bounds[k + 1]]
            if len(rows) == 0:
                continue
            chunk = regs[first : first + step]
            xr = block[:, chunk].T.tocsr()
            xr.sort_indices()
            dr = _detected(xr)
            r, t = ra[rows] - first, tb[rows]
            cross[rows] += _gather(xr @ xt, r, t)
            both[rows] += np.rint(_gather(dr @ dt, r, t)).astype(np.int64)
    return total, squares, cross, both


def _detected(x: sparse.csr_matrix) -> sparse.csr_matrix:
    """Ones where ``x`` has an entry: the same structure (shared, not copied), float64 ones."""
    return sparse.csr_matrix((np.ones(x.nnz), x.indices, x.indptr), shape=x.shape, copy=False)


def _gather(product, r: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Entries (r, t) of a sparse or dense product."""
    if sparse.issparse(product):
        product = product.toarray()
    return np.asarray(product)[r, t]


def signs(corr: np.ndarray) -> np.ndarray:
    """+1 / -1 / 0 (int8) from correlations."""
    return np.sign(corr).astype(np.int8)


def keep_min_cells(n_cells: np.ndarray, min_cells: int) -> np.ndarray:
    """Boolean mask of the pairs co-expressed in at least ``min_cells`` cells; logs how many are dropped."""
    if isinstance(min_cells, bool) or not isinstance(min_cells, int | np.integer) or min_cells < 0:
        raise ValueError(
            f"min_cells must be a non-negative integer (cells that express both genes of a pair), got {min_cells!r}."
        )
    keep = n_cells >= min_cells
    dropped = int((~keep).sum())
    if dropped:
        logg.info(
            f"    {dropped:,} of {len(n_cells):,} pairs are co-expressed in fewer than min_cells={min_cells} cells: "
            "not scored"
        )
    return keep
