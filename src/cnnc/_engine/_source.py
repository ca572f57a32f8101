"""Cell-chunked access to an expression matrix, whatever its storage.

The histogram engine only ever needs a block of cells × selected genes at a time, so dense
arrays, scipy CSR/CSC, backed AnnData (h5py datasets and sparse datasets) and dask arrays all
look the same from here: an iterator of scipy CSC blocks of raw values.
"""

from __future__ import annotations

from collections.abc import Iterator

import numba
import numpy as np
from scipy import sparse

DEFAULT_CHUNK_CELLS = 20_000


def value_dtype(dtype) -> np.dtype:
    """Floating dtype in which ``log10(x + pseudocount)`` is computed, as numpy computes it on an array of ``dtype``.

    numpy keeps float16/float32/float64 and turns integers (and booleans) into float64 when a Python float is
    added; longer floats are computed in float64 here.
    """
    dtype = np.dtype(dtype)
    if dtype in (np.float16, np.float32, np.float64):
        return dtype
    if dtype.kind in "biuf":
        return np.dtype(np.float64)
    raise TypeError(f"Expression must be numeric, got dtype {dtype}.")


def is_dask_array(x) -> bool:
    """Whether ``x`` is a dask array, without importing dask when it is not installed."""
    return type(x).__module__.startswith("dask.")


class RowSubset:
    """Some rows of a cells × genes matrix, read a block of rows at a time (nothing is copied up front).

    Works for every storage :class:`cnnc._engine._source.ExpressionSource` reads: it asks the matrix only for
    sorted rows of one block of cells.
    """

    def __init__(self, matrix, rows: np.ndarray) -> None:
        self.matrix = matrix
        self.rows = np.asarray(rows, dtype=np.int64)
        self.shape = (len(self.rows), int(matrix.shape[1]))
        self.dtype = matrix.dtype

    def __getitem__(self, key):
        if not isinstance(key, slice):
            raise TypeError("RowSubset reads blocks of rows: index it with a slice.")
        return self.matrix[self.rows[key]]


def subset_rows(matrix, rows: np.ndarray):
    """The cells at positions ``rows`` (sorted) of any matrix :class:`ExpressionSource` reads, read lazily.

    A dask array stays a (lazy) dask array, so its chunks can still be read where they are; other storage is
    wrapped in a :class:`RowSubset`.
    """
    return matrix[rows] if is_dask_array(matrix) else RowSubset(matrix, rows)


class ExpressionSource:
    """A cells × genes matrix read in blocks of cells.

    Parameters
    ----------
    matrix
        Dense :class:`numpy.ndarray`, scipy sparse matrix or array, an AnnData backed dataset
        (h5py dataset or anndata's sparse dataset) or a dask array.
    chunk_cells
        Number of cells read at a time; memory of one block is bounded by this.
    """

    def __init__(self, matrix, *, chunk_cells: int = DEFAULT_CHUNK_CELLS) -> None:
        if len(getattr(matrix, "shape", ())) != 2:
            raise ValueError(f"Expected a 2-d cells × genes matrix, got shape {getattr(matrix, 'shape', None)}.")
        if chunk_cells < 1:
            raise ValueError(f"chunk_cells must be >= 1, got {chunk_cells}.")
        if sparse.issparse(matrix) and matrix.format not in ("csr", "csc"):
            matrix = matrix.tocsr()  # COO, LIL, ...: row blocks need a row-compressed layout
        self.matrix = matrix
        self.n_cells, self.n_genes = (int(s) for s in matrix.shape)
        self.chunk_cells = int(chunk_cells)
        self.value_dtype = value_dtype(getattr(matrix, "dtype", np.float64))
        # float16 values are held as float32 (exactly), as scipy.sparse has no float16.
        self.storage_dtype = np.dtype(np.float64) if self.value_dtype == np.float64 else np.dtype(np.float32)

    def iter_blocks(self, genes: np.ndarray) -> Iterator[tuple[int, sparse.csc_matrix]]:
        """Yield ``(first_cell, block)`` where block is CSC of ``cells_in_chunk × len(genes)``.

        Values are :attr:`storage_dtype` (exactly the input values). Explicit zeros are removed and cell indices
        are sorted within each gene, so a block's stored entries are exactly the nonzero values, in cell order.
        """
        genes = np.asarray(genes, dtype=np.int64)
        gene_pos = None
        if len(np.unique(genes)) == len(genes):
            gene_pos = np.full(self.n_genes, -1, dtype=np.int64)
            gene_pos[genes] = np.arange(len(genes))
        for start in range(0, self.n_cells, self.chunk_cells):
            stop = min(start + self.chunk_cells, self.n_cells)
            yield start, self._block(start, stop, genes, gene_pos)

    def _block(self, start: int, stop: int, genes: np.ndarray, gene_pos: np.ndarray | None) -> sparse.csc_matrix:
        x = self.matrix
        if is_dask_array(x):
            return self._to_csc(x[start:stop][:, genes].compute())
        if sparse.issparse(x) and x.format == "csc":  # columns first: CSC slices columns cheaply, rows expensively
            x = x[:, genes]
            return self._to_csc(x if (start == 0 and stop == self.n_cells) else x[start:stop])
        if isinstance(x, np.ndarray) or sparse.issparse(x):  # in memory, dense or CSR: rows read in place
            first, last = start, stop
        else:
            # Backed AnnData: an h5py dataset (dense) or anndata's sparse dataset (CSR) read a block of rows of
            # all genes; genes are picked in memory (h5py fancy indexing needs sorted unique indices).
            x = x[start:stop]
            x = x.tocsr() if sparse.issparse(x) else np.asarray(x)
            first, last = 0, stop - start
        if gene_pos is None or x.dtype == np.float16:  # a gene asked twice, or a dtype numba lacks: numpy selects
            return self._to_csc(x[first:last][:, genes])
        if sparse.issparse(x):
            if not x.has_canonical_format:  # duplicated entries are summed, as scipy does when converting
                x = x[first:last].copy()
                x.sum_duplicates()
                first, last = 0, x.shape[0]
            if first == 0 and last == x.shape[0] and np.array_equal(genes, np.arange(x.shape[1])):
                return self._to_csc(x)  # every cell of every column: scipy's transpose beats our own
            return self._csr_rows_to_csc(x, first, last, gene_pos, len(genes))
        return self._dense_rows_to_csc(x, first, last, genes)

    def _to_csc(self, block) -> sparse.csc_matrix:
        if sparse.issparse(block):
            block = sparse.csc_matrix(block)  # a CSR block is transposed once (scipy's compiled transpose)
            if block.dtype != self.storage_dtype:  # (asking csc_matrix for a dtype copies even when it matches)
                block = block.astype(self.storage_dtype)
            block.sum_duplicates()  # also sorts indices
            block.eliminate_zeros()
        else:
            block = sparse.csc_matrix(np.asarray(block, dtype=self.storage_dtype))
        block.sort_indices()
        return block

    def _csr_rows_to_csc(self, x, first: int, last: int, gene_pos: np.ndarray, n_selected: int) -> sparse.csc_matrix:
        indptr = np.zeros(n_selected + 1, dtype=np.int64)
        _count_csr(x.indptr, x.indices, x.data, first, last, gene_pos, indptr)
        np.cumsum(indptr, out=indptr)
        indices = np.empty(indptr[-1], dtype=np.int32)
        data = np.empty(indptr[-1], dtype=self.storage_dtype)
        _fill_csr(x.indptr, x.indices, x.data, first, last, gene_pos, indptr[:-1].copy(), indices, data)
        return _csc(data, indices, indptr, (last - first, n_selected))

    def _dense_rows_to_csc(self, x: np.ndarray, first: int, last: int, genes: np.ndarray) -> sparse.csc_matrix:
        indptr = np.zeros(len(genes) + 1, dtype=np.int64)
        _count_dense(x, first, last, genes, indptr)
        np.cumsum(indptr, out=indptr)
        indices = np.empty(indptr[-1], dtype=np.int32)
        data = np.empty(indptr[-1], dtype=self.storage_dtype)
        _fill_dense(x, first, last, genes, indptr[:-1].copy(), indices, data)
        return _csc(data, indices, indptr, (last - first, len(genes)))


def _csc(data, indices, indptr, shape) -> sparse.csc_matrix:
    block = sparse.csc_matrix((data, indices, indptr), shape=shape, copy=False)
    block.has_sorted_indices = True  # cells were visited in order
    return block


@numba.njit(cache=True, nogil=True)
def _count_csr(indptr, indices, data, first, last, gene_pos, counts):  # pragma: no cover - compiled
    """``counts[1 + g]`` = nonzero entries of selected gene ``g`` in rows ``first:last``."""
    # (Unsigned positions spare numba's negative-index wraparound checks.)
    for r in range(first, last):
        for k in range(indptr[r], indptr[r + 1]):
            g = gene_pos[np.uint32(indices[k])]
            if g >= 0 and data[k] != 0:
                counts[np.uint64(g) + np.uint64(1)] += 1


@numba.njit(cache=True, nogil=True)
def _fill_csr(indptr, indices, data, first, last, gene_pos, write_pos, out_indices, out_data):  # pragma: no cover
    for r in range(first, last):
        for k in range(indptr[r], indptr[r + 1]):
            g = gene_pos[np.uint32(indices[k])]
            if g >= 0 and data[k] != 0:
                p = np.uint64(write_pos[np.uint64(g)])
                out_indices[p] = r - first
                out_data[p] = data[k]
                write_pos[np.uint64(g)] = p + np.uint64(1)


@numba.njit(cache=True, nogil=True)
def _count_dense(x, first, last, genes, counts):  # pragma: no cover - compiled
    for r in range(first, last):
        for g in range(genes.shape[0]):
            if x[r, genes[g]] != 0:
                counts[g + 1] += 1


@numba.njit(cache=True, nogil=True)
def _fill_dense(x, first, last, genes, write_pos, out_indices, out_data):  # pragma: no cover - compiled
    for r in range(first, last):
        for g in range(genes.shape[0]):
            v = x[r, genes[g]]
            if v != 0:
                p = write_pos[g]
                out_indices[p] = r - first
                out_data[p] = v
                write_pos[g] = p + 1
