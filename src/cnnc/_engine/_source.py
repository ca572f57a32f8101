"""Cell-chunked access to an expression matrix, whatever its storage.

The histogram engine only ever needs a block of cells × selected genes at a time, so dense
arrays, scipy CSR/CSC, backed AnnData (h5py datasets and sparse datasets) and dask arrays all
look the same from here: an iterator of scipy CSC blocks of raw values.
"""

from __future__ import annotations

from collections.abc import Iterator

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
        self.matrix = matrix
        self.n_cells, self.n_genes = (int(s) for s in matrix.shape)
        self.chunk_cells = int(chunk_cells)
        self.value_dtype = value_dtype(getattr(matrix, "dtype", np.float64))
        # float16 values are held as float32 (exactly), as scipy.sparse has no float16.
        self.storage_dtype = np.dtype(np.float64) if self.value_dtype == np.float64 else np.dtype(np.float32)

    def _read_rows(self, start: int, stop: int, genes: np.ndarray):
        x = self.matrix
        whole = start == 0 and stop == self.n_cells
        if isinstance(x, np.ndarray):
            return x[start:stop, genes]
        if sparse.issparse(x):
            if x.format == "csc":  # columns first: CSC slices columns cheaply, rows expensively
                x = x[:, genes]
                return x if whole else x[start:stop]
            return (x if whole else x[start:stop])[:, genes]
        if is_dask_array(x):
            return x[start:stop][:, genes].compute()
        # Backed AnnData: h5py.Dataset or anndata's sparse dataset; both slice rows, then we pick genes in memory
        # (h5py fancy indexing needs sorted unique indices, which the caller's gene order need not be).
        block = x[start:stop]
        return block[:, genes]

    def iter_blocks(self, genes: np.ndarray) -> Iterator[tuple[int, sparse.csc_matrix]]:
        """Yield ``(first_cell, block)`` where block is CSC of ``cells_in_chunk × len(genes)``.

        Values are :attr:`storage_dtype` (exactly the input values). Explicit zeros are removed, so a block's
        stored entries are exactly the nonzero values.
        """
        genes = np.asarray(genes, dtype=np.int64)
        for start in range(0, self.n_cells, self.chunk_cells):
            stop = min(start + self.chunk_cells, self.n_cells)
            block = self._read_rows(start, stop, genes)
            if sparse.issparse(block):
                block = sparse.csc_matrix(block, dtype=self.storage_dtype)
                block.eliminate_zeros()
            else:
                block = sparse.csc_matrix(np.asarray(block, dtype=self.storage_dtype))
            block.sort_indices()
            yield start, block
