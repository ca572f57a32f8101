"""Bin every gene once into uint8 codes, exactly as :func:`numpy.histogram2d` would bin it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numba
import numpy as np
from numba import prange

from ._params import PairImageParams
from ._source import ExpressionSource
from ._threads import jobs, parallel_allowed

# Below these sizes a parallel region costs more than it saves (threads must wake up, and on a busy machine
# the region waits for the slowest of them).
_PARALLEL_VALUES = 200_000
_PARALLEL_CODES = 2_000_000


@numba.njit(cache=True, nogil=True, inline="always")
def _code_of(v, edges, g, last):  # pragma: no cover - compiled
    """``searchsorted(edges[g], v, side="right") - 1`` with the last edge closed, as histogramdd does.

    The bin is guessed from the value's position in the range, then moved until
    ``edges[code] <= v < edges[code + 1]`` (or ``code`` is the last bin): exactly the searchsorted bin,
    found in O(1) on non-decreasing edges.
    """
    lo = edges[g, 0]
    return _settle(v, edges, g, last, (v - lo) / (edges[g, last + 1] - lo) * (last + 1))


@numba.njit(cache=True, nogil=True, inline="always")
def _settle(v, edges, g, last, guess):  # pragma: no cover - compiled
    """The searchsorted bin of ``v`` (see :func:`_code_of`), starting from the fractional bin ``guess``.

    Any guess gives the exact bin (a NaN or infinite one too): it is only where the search starts.
    """
    if not guess > 0:
        code = 0
    elif guess >= last:
        code = last
    else:
        code = int(guess)
    while code > 0 and edges[g, code] > v:
        code -= 1
    while code < last and edges[g, code + 1] <= v:
        code += 1
    return code


@numba.njit(cache=True, nogil=True)
def _codes_serial(values, gene_of_value, edges, out):  # pragma: no cover - compiled
    last = edges.shape[1] - 2
    for i in range(values.shape[0]):
        out[i] = _code_of(values[i], edges, gene_of_value[i], last)


@numba.njit(parallel=True, cache=True, nogil=True)
def _codes_parallel(values, gene_of_value, edges, out):  # pragma: no cover - compiled
    last = edges.shape[1] - 2
    for i in prange(values.shape[0]):
        out[i] = _code_of(values[i], edges, gene_of_value[i], last)


def walk_dtype(n_cells: int) -> np.dtype:
    """The dtype of a block's walk entries ``cell << 8 | code``: 4 bytes while the cell offsets fit 24 bits."""
    return np.dtype(np.uint32) if n_cells <= 2**24 else np.dtype(np.uint64)


@numba.njit(cache=True, nogil=True, inline="always")
def _bin_gene(g, indptr, indices, values, edges, zero_code, walk, codes, marginals):  # pragma: no cover - compiled
    """Gene ``g``'s codes and its count per bin, in one pass over its nonzero values.

    Each value's cell and code go to ``walk`` (``cell << 8 | code``), the code also to the gene's row of ``codes``
    (the zero code elsewhere).
    """
    last = edges.shape[1] - 2
    z = zero_code[g]
    codes[g, :] = z
    marginals[g, :] = 0
    # A product per value rather than a division: the guess may differ, the settled bin does not.
    lo = edges[g, 0]
    scale = (last + 1) / (edges[g, last + 1] - lo)
    for k in range(indptr[g], indptr[g + 1]):
        c = _settle(values[k], edges, g, last, (values[k] - lo) * scale)
        walk[k] = (np.int64(indices[k]) << 8) | c
        codes[g, indices[k]] = c
        marginals[g, c] += 1
    marginals[g, z] += codes.shape[1] - (indptr[g + 1] - indptr[g])


@numba.njit(cache=True, nogil=True)
def _bin_genes_serial(indptr, indices, values, edges, zero_code, walk, codes, marginals):  # pragma: no cover
    for g in range(codes.shape[0]):
        _bin_gene(g, indptr, indices, values, edges, zero_code, walk, codes, marginals)


@numba.njit(parallel=True, cache=True, nogil=True)
def _bin_genes_parallel(indptr, indices, values, edges, zero_code, walk, codes, marginals):  # pragma: no cover
    for g in prange(codes.shape[0]):
        _bin_gene(g, indptr, indices, values, edges, zero_code, walk, codes, marginals)


@numba.njit(cache=True, nogil=True)
def _scatter_block(first_cell, indptr, walk, write_pos, codes, walk_all):  # pragma: no cover - compiled
    """Append one block's nonzero cells of every gene to the all-cells walk entries and code matrix."""
    for g in range(indptr.shape[0] - 1):
        pos = write_pos[g]
        for k in range(indptr[g], indptr[g + 1]):
            c = np.int64(walk[k] & np.uint32(255))
            cell = first_cell + np.int64(walk[k] >> np.uint32(8))
            walk_all[pos] = (cell << 8) | c
            codes[g, cell] = c
            pos += 1
        write_pos[g] = pos


def scan_block(
    block, gene_names: list[str], *, allow_negative: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum and maximum of the nonzero values and the number of nonzero cells of each gene of a CSC block.

    Raises a ValueError naming the gene if a value is NaN, infinite or (unless ``allow_negative``) negative.
    """
    n_genes = block.shape[1]
    vmin = np.full(n_genes, np.inf)
    vmax = np.full(n_genes, -np.inf)
    data = block.data
    counts = np.diff(block.indptr)
    if data.size:
        bad = ~np.isfinite(data)
        if bad.any():
            g = int(np.searchsorted(block.indptr, np.flatnonzero(bad)[0], side="right") - 1)
            raise ValueError(
                f"Expression of gene {gene_names[g]!r} contains NaN or infinite values. "
                "Pair images need finite log-expression: impute or drop those values "
                "(e.g. np.nan_to_num) or remove the gene."
            )
        if not allow_negative and data.min() < 0:
            g = int(np.searchsorted(block.indptr, np.flatnonzero(data < 0)[0], side="right") - 1)
            raise ValueError(
                f"Expression of gene {gene_names[g]!r} has negative values. Pair images need "
                "non-negative log-expression (e.g. sc.pp.normalize_total then sc.pp.log1p), "
                "not scaled or centred data (sc.pp.scale): use `layer=` or `use_raw=True` to pick "
                "the log-normalized values. Variables that are not expression (e.g. protein intensities, "
                'z-scores) need an image recipe for any continuous values: pass `scaling="rank"` to '
                'cnnc.tl.pair_histograms, or use a model whose recipe reads ranks (e.g. model="cnnc-causal").'
            )
        has = counts > 0
        starts = block.indptr[:-1][has]
        vmin[has] = np.minimum.reduceat(data, starts)
        vmax[has] = np.maximum.reduceat(data, starts)
    return vmin, vmax, counts.astype(np.int64)


@dataclass
class BinnedBlock:
    """Bin codes of one block of cells (or of all cells).

    Attributes
    ----------
    first_cell
        Index of the block's first cell.
    codes
        ``n_genes × n_cells_in_block`` uint8 codes (gene-major, so one gene's codes are contiguous).
    indptr, walk
        CSC structure of the block's nonzero cells per gene: ``walk`` holds ``cell << 8 | code`` of each nonzero
        cell (cell offset in the block, sorted within each gene; :func:`walk_dtype`), so the pair kernel reads a
        cell and its code in one load.
    marginals
        ``n_genes × bins`` int64 count of the block's cells in each bin of each gene.
    """

    first_cell: int
    codes: np.ndarray
    indptr: np.ndarray
    walk: np.ndarray
    marginals: np.ndarray

    @property
    def n_cells(self) -> int:
        return int(self.codes.shape[1])


def _center_constant_genes(edges: np.ndarray, const: np.ndarray, value: np.ndarray, bins: int) -> np.ndarray:
    """Put every cell of a constant gene (all-zero genes included) in bin ``bins // 2``, whatever the float rounding.

    numpy widens a constant range to ``[c - 0.5, c + 0.5]``; with an even number of bins its middle edge is
    ``c`` up to rounding, so the value (``value``, in the data's dtype) falls in bin ``bins // 2`` or ``bins // 2 - 1`` depending on the dtype, the
    value and the numpy version (numpy 2.4 moved some float32 constants down a bin). The recipe fixes it: the
    middle edge is set to ``c`` exactly, so the value always lands in bin ``bins // 2`` (bin 16 of 32). With an
    odd number of bins ``c`` is the centre of bin ``bins // 2`` already, far from any edge.
    """
    if bins % 2 == 0 and const.any():
        edges[const, bins // 2] = value[const]
    return edges


class GeneBinner:
    """Per-gene bin edges of a set of genes, and their per-cell codes.

    The first pass over the cells (at construction) finds each gene's range and checks the values.
    Codes are then computed block by block of ``source.chunk_cells`` cells, so raw values are never held
    for more than one block. When the codes of all cells fit ``cache_bytes`` (``cache=True``), they are
    assembled once into a single all-cells :class:`BinnedBlock` (:meth:`whole`) and reused by every call;
    otherwise every pass re-reads the source one block at a time.

    Values are binned exactly as :func:`numpy.histogram2d` bins ``log10(x + pseudocount)`` computed with numpy
    in the data's own floating dtype (float32 data: float32 logarithms and float32 bin edges, as numpy does).

    Parameters
    ----------
    source
        Where the expression comes from.
    genes
        Column indices (into the source) of the genes to bin.
    params
        The pair-image recipe.
    gene_names
        Names for error messages.
    cache
        Keep the codes of all cells after the first pass over them (when they fit ``cache_bytes``).
    cache_bytes
        Largest size of the cached codes.
    """

    def __init__(
        self,
        source: ExpressionSource,
        genes: np.ndarray,
        params: PairImageParams,
        *,
        gene_names: list[str] | None = None,
        cache: bool = True,
        cache_bytes: int = 2**30,
    ) -> None:
        self.source = source
        self.genes = np.asarray(genes, dtype=np.int64)
        self.params = params
        self.gene_names = list(gene_names) if gene_names is not None else [str(g) for g in self.genes]
        self.n_cells = source.n_cells
        self.value_dtype = source.value_dtype
        if self.n_cells == 0:
            raise ValueError("The data has no cells: a pair image needs at least one cell.")
        if self.n_cells >= 2**31:
            raise ValueError("More than 2**31 cells are not supported (cell indices are int32).")
        if len(self.genes) == 0:
            raise ValueError("No genes to bin.")
        self._scan()
        # codes (1 byte per cell and gene) + walk entries of nonzero cells + indptr
        n_bytes = (
            self.n_cells * len(self.genes)
            + walk_dtype(self.n_cells).itemsize * int(self.nnz.sum())
            + 8 * (len(self.genes) + 1)
        )
        self.cached = bool(cache) and n_bytes <= cache_bytes
        self._whole: BinnedBlock | None = None
        if not self.cached:
            self._scanned = None

    # --- pass 1: ranges and validation -----------------------------------------------------------------
    def _scan(self) -> None:
        n_genes = len(self.genes)
        vmin = np.full(n_genes, np.inf)
        vmax = np.full(n_genes, -np.inf)
        nnz = np.zeros(n_genes, dtype=np.int64)
        self._scanned = None
        for _, block in self.source.iter_blocks(self.genes):
            if self.source.chunk_cells >= self.n_cells:
                self._scanned = block  # the only block: kept for binning (see whole())
            b_min, b_max, b_nnz = scan_block(block, self.gene_names, allow_negative=self.params.scaling != "log")
            np.minimum(vmin, b_min, out=vmin)
            np.maximum(vmax, b_max, out=vmax)
            nnz += b_nnz
        self._set_ranges(vmin, vmax, nnz)

    def _set_ranges(self, vmin: np.ndarray, vmax: np.ndarray, nnz: np.ndarray) -> None:
        """Bin edges from the nonzero values' ranges and counts of every gene over all cells."""
        vmin, vmax = np.array(vmin, dtype=np.float64), np.array(vmax, dtype=np.float64)
        # Genes with a zero somewhere have 0 as their minimum; all-zero genes have range [0, 0].
        has_zero = nnz < self.n_cells
        vmin[has_zero] = np.minimum(vmin[has_zero], 0.0)
        vmax[has_zero] = np.maximum(vmax[has_zero], 0.0)
        self.nnz = np.asarray(nnz, dtype=np.int64)
        self.raw_min = vmin
        self.raw_max = vmax
        self.edges = self._edges(vmin, vmax)
        self.zero_code = self._codes(np.zeros(len(self.genes)), np.arange(len(self.genes)))

    @classmethod
    def from_ranges(
        cls,
        genes: np.ndarray,
        params: PairImageParams,
        *,
        n_cells: int,
        value_dtype,
        vmin: np.ndarray,
        vmax: np.ndarray,
        nnz: np.ndarray,
        gene_names: list[str] | None = None,
    ) -> GeneBinner:
        """A binner whose ranges were scanned elsewhere (e.g. block by block on a cluster's workers).

        It has no source: it bins blocks handed to :meth:`bin_block`; it cannot read cells itself.
        """
        self = cls.__new__(cls)
        self.source = None
        self.genes = np.asarray(genes, dtype=np.int64)
        self.params = params
        self.gene_names = list(gene_names) if gene_names is not None else [str(g) for g in self.genes]
        self.n_cells = int(n_cells)
        self.value_dtype = np.dtype(value_dtype)
        self.cached = False
        self._whole = None
        self._scanned = None
        self._set_ranges(vmin, vmax, nnz)
        return self

    def bin_block(self, first_cell: int, block) -> BinnedBlock:
        """Codes of one CSC block of cells × this binner's genes (as :meth:`blocks` yields them)."""
        return self._bin_block(first_cell, block)

    def _transform(self, raw: np.ndarray) -> np.ndarray:
        if self.params.scaling != "log":  # the values were ranked or standardized already (see scale_columns)
            return np.asarray(raw, dtype=np.float64)
        # numpy's log10 in the data's dtype (float64 values are exact copies of float32/float16 inputs), as the
        # reference `np.log10(x + 0.01)` computes it: same values, hence the same edges and bins.
        values = np.array(raw, dtype=self.value_dtype)  # a copy, worked in place (one array, not two)
        values += float(self.params.pseudocount)
        return np.log10(values, out=values)

    def _edges(self, vmin: np.ndarray, vmax: np.ndarray) -> np.ndarray:
        lo = self._transform(vmin)
        hi = self._transform(vmax)
        const = lo == hi
        value = lo.astype(np.float64)  # a constant gene's only value (exact in float64)
        # numpy.histogram's rule for a constant sample: widen the range by 0.5 on each side (in the data's dtype).
        lo = np.where(const, lo - 0.5, lo)
        hi = np.where(const, hi + 0.5, hi)
        # np.linspace in the data's dtype, as numpy.histogramdd calls it per gene (float64 holds the values exactly).
        # On arrays it computes the same elementwise `arange * step + start`, unless a step underflows to 0, where
        # numpy switches formula for the whole call: then go gene by gene.
        if np.all((hi - lo) / self.params.bins != 0):
            edges = np.linspace(lo, hi, self.params.bins + 1, axis=1).astype(np.float64)
        else:
            edges = np.empty((len(lo), self.params.bins + 1), dtype=np.float64)
            for g in range(len(lo)):
                edges[g] = np.linspace(lo[g], hi[g], self.params.bins + 1)
        return _center_constant_genes(edges, const, value, self.params.bins)

    def _codes(self, raw: np.ndarray, gene_of_value: np.ndarray) -> np.ndarray:
        out = np.empty(len(raw), dtype=np.uint8)
        # float32/float16 logarithms are compared with the float64 edges exactly (the conversion is exact).
        values = self._transform(raw)
        if values.dtype == np.float16:
            values = values.astype(np.float32)
        codes = _codes_parallel if len(values) >= _PARALLEL_VALUES and parallel_allowed() else _codes_serial
        with jobs():  # sc.settings.n_jobs threads
            codes(values, np.asarray(gene_of_value, dtype=np.int64), self.edges, out)
        return out

    # --- pass 2: codes ------------------------------------------------------------------------------------
    def _bin_block(self, first_cell: int, block) -> BinnedBlock:
        n_genes = len(self.genes)
        indptr = block.indptr.astype(np.int64, copy=False)
        indices = block.indices.astype(np.int32, copy=False)
        values = self._transform(block.data)  # numpy's log10, as the reference computes it
        if values.dtype == np.float16:
            values = values.astype(np.float32)  # exact
        walk = np.empty(len(values), dtype=walk_dtype(block.shape[0]))
        codes = np.empty((n_genes, block.shape[0]), dtype=np.uint8)
        marginals = np.empty((n_genes, self.params.bins), dtype=np.int64)
        parallel = (codes.size >= _PARALLEL_CODES or len(values) >= _PARALLEL_VALUES) and parallel_allowed()
        with jobs():
            (_bin_genes_parallel if parallel else _bin_genes_serial)(
                indptr, indices, values, self.edges, self.zero_code, walk, codes, marginals
            )
        return BinnedBlock(first_cell, codes, indptr, walk, marginals)

    def whole(self) -> BinnedBlock:
        """The codes of all cells as one block (computed once, then kept)."""
        if self._whole is not None:
            return self._whole
        n_genes = len(self.genes)
        if self.source.chunk_cells >= self.n_cells:
            # One chunk: bin the block the scan already read rather than reading the source again.
            block = self._scanned if self._scanned is not None else next(iter(self.source.iter_blocks(self.genes)))[1]
            self._scanned = None
            self._whole = self._bin_block(0, block)
            return self._whole
        indptr = np.zeros(n_genes + 1, dtype=np.int64)
        np.cumsum(self.nnz, out=indptr[1:])
        walk = np.empty(indptr[-1], dtype=walk_dtype(self.n_cells))
        codes = np.repeat(self.zero_code[:, None], self.n_cells, axis=1)
        write_pos = indptr[:-1].copy()
        marginals = np.zeros((n_genes, self.params.bins), dtype=np.int64)
        for first, block in self.source.iter_blocks(self.genes):
            binned = self._bin_block(first, block)
            _scatter_block(first, binned.indptr, binned.walk, write_pos, codes, walk)
            marginals += binned.marginals  # each block's cells per bin, its zeros included
        self._whole = BinnedBlock(0, codes, indptr, walk, marginals)
        return self._whole

    def blocks(self) -> Iterator[BinnedBlock]:
        """Yield the codes block by block: the single all-cells block when cached, else one per chunk of cells."""
        if self.cached:
            yield self.whole()
            return
        for first, block in self.source.iter_blocks(self.genes):
            yield self._bin_block(first, block)

    def codes(self) -> np.ndarray:
        """All cells' codes as a ``n_cells × n_genes`` uint8 array."""
        out = np.empty((self.n_cells, len(self.genes)), dtype=np.uint8)
        for b in self.blocks():
            out[b.first_cell : b.first_cell + b.n_cells] = b.codes.T
        return out
