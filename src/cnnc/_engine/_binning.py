"""Bin every gene once into uint8 codes, exactly as :func:`numpy.histogram2d` would bin it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numba
import numpy as np

from ._params import PairImageParams
from ._source import ExpressionSource


@numba.njit(cache=True, nogil=True)
def _searchsorted_codes(values, gene_of_value, edges, out):  # pragma: no cover - compiled
    """``searchsorted(edges[g], v, side="right") - 1`` with the last edge closed, as histogramdd does."""
    n_edges = edges.shape[1]
    last = n_edges - 2
    for i in range(values.shape[0]):
        g = gene_of_value[i]
        v = values[i]
        lo = 0
        hi = n_edges
        # first index with edges[g, idx] > v
        while lo < hi:
            mid = (lo + hi) >> 1
            if edges[g, mid] > v:
                hi = mid
            else:
                lo = mid + 1
        code = lo - 1
        if v == edges[g, n_edges - 1]:
            code = last
        out[i] = code


@dataclass
class BinnedBlock:
    """Bin codes of one block of cells.

    Attributes
    ----------
    first_cell
        Index of the block's first cell.
    codes
        ``n_genes × n_cells_in_block`` uint8 codes (gene-major, so one gene's codes are contiguous).
    indptr, indices
        CSC structure of the block's nonzero cells per gene (``indices`` are cell offsets in the block).
    marginals
        ``n_genes × bins`` int64 count of the block's cells in each bin of each gene.
    """

    first_cell: int
    codes: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    marginals: np.ndarray

    @property
    def n_cells(self) -> int:
        return int(self.codes.shape[1])


class GeneBinner:
    """Per-gene bin edges of a set of genes, and their per-cell codes block by block.

    The first pass over the cells (at construction) finds each gene's range and checks the values;
    :meth:`blocks` then yields codes one block of cells at a time, so memory never holds more than
    one block unless ``cache=True`` and the codes of all cells fit ``cache_bytes``.

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
        Keep the codes of all blocks after the first pass over them (when they fit ``cache_bytes``).
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
        if self.n_cells == 0:
            raise ValueError("The data has no cells: a pair image needs at least one cell.")
        if self.n_cells >= 2**31:
            raise ValueError("More than 2**31 cells are not supported (counts are int32).")
        self._scan()
        n_bytes = self.n_cells * len(self.genes) * 6  # codes (1 byte) + nonzero index (4) + slack
        self._cache: list[BinnedBlock] | None = [] if cache and n_bytes <= cache_bytes else None
        self._cache_complete = False

    # --- pass 1: ranges and validation -----------------------------------------------------------------
    def _scan(self) -> None:
        n_genes = len(self.genes)
        vmin = np.full(n_genes, np.inf)
        vmax = np.full(n_genes, -np.inf)
        nnz = np.zeros(n_genes, dtype=np.int64)
        for _, block in self.source.iter_blocks(self.genes):
            data = block.data
            if data.size:
                bad = ~np.isfinite(data)
                if bad.any():
                    g = int(np.searchsorted(block.indptr, np.flatnonzero(bad)[0], side="right") - 1)
                    raise ValueError(
                        f"Expression of gene {self.gene_names[g]!r} contains NaN or infinite values. "
                        "Pair images need finite log-expression: impute or drop those values "
                        "(e.g. np.nan_to_num) or remove the gene."
                    )
                if data.min() < 0:
                    g = int(np.searchsorted(block.indptr, np.flatnonzero(data < 0)[0], side="right") - 1)
                    raise ValueError(
                        f"Expression of gene {self.gene_names[g]!r} has negative values. Pair images need "
                        "non-negative log-expression (e.g. sc.pp.normalize_total then sc.pp.log1p), "
                        "not scaled or centred data (sc.pp.scale): use `layer=` or `use_raw=True` to pick "
                        "the log-normalized values."
                    )
                counts = np.diff(block.indptr)
                nnz += counts
                has = counts > 0
                starts = block.indptr[:-1][has]
                vmin[has] = np.minimum(vmin[has], np.minimum.reduceat(data, starts))
                vmax[has] = np.maximum(vmax[has], np.maximum.reduceat(data, starts))
        # Genes with a zero somewhere have 0 as their minimum; all-zero genes have range [0, 0].
        has_zero = nnz < self.n_cells
        vmin[has_zero] = np.minimum(vmin[has_zero], 0.0)
        vmax[has_zero] = np.maximum(vmax[has_zero], 0.0)
        self.nnz = nnz
        self.raw_min = vmin
        self.raw_max = vmax
        self.edges = self._edges(vmin, vmax)
        self.zero_code = self._codes(np.zeros(n_genes), np.arange(n_genes))

    def _transform(self, raw: np.ndarray) -> np.ndarray:
        # numpy's log10, as the reference histogram2d input is computed with numpy too (bit-identical edges).
        return np.log10(raw + self.params.pseudocount)

    def _edges(self, vmin: np.ndarray, vmax: np.ndarray) -> np.ndarray:
        lo = self._transform(vmin)
        hi = self._transform(vmax)
        const = lo == hi
        # numpy.histogram's rule for a constant sample: widen the range by 0.5 on each side.
        lo = np.where(const, lo - 0.5, lo)
        hi = np.where(const, hi + 0.5, hi)
        edges = np.empty((len(lo), self.params.bins + 1), dtype=np.float64)
        for g in range(len(lo)):
            edges[g] = np.linspace(lo[g], hi[g], self.params.bins + 1)
        return edges

    def _codes(self, raw: np.ndarray, gene_of_value: np.ndarray) -> np.ndarray:
        out = np.empty(len(raw), dtype=np.uint8)
        _searchsorted_codes(self._transform(np.asarray(raw, dtype=np.float64)), gene_of_value, self.edges, out)
        return out

    # --- pass 2: codes ------------------------------------------------------------------------------------
    def _bin_block(self, first_cell: int, block) -> BinnedBlock:
        n_genes = len(self.genes)
        n_cells = block.shape[0]
        indptr = block.indptr.astype(np.int64)
        indices = block.indices.astype(np.int32)
        gene_of_value = np.repeat(np.arange(n_genes), np.diff(indptr))
        nz_codes = self._codes(block.data, gene_of_value)
        codes = np.repeat(self.zero_code[:, None], n_cells, axis=1)
        codes[gene_of_value, indices] = nz_codes
        bins = self.params.bins
        marginals = np.bincount(
            (np.arange(n_genes, dtype=np.int64)[:, None] * bins + codes).ravel(), minlength=n_genes * bins
        ).reshape(n_genes, bins)
        return BinnedBlock(first_cell, codes, indptr, indices, marginals)

    def blocks(self) -> Iterator[BinnedBlock]:
        """Yield the codes block by block (from the cache when it holds them all)."""
        if self._cache is not None and self._cache_complete:
            yield from self._cache
            return
        building = self._cache is not None
        if building:
            self._cache.clear()  # a previous pass may have stopped half-way
        for first, block in self.source.iter_blocks(self.genes):
            binned = self._bin_block(first, block)
            if building:
                self._cache.append(binned)
            yield binned
        if building:
            self._cache_complete = True

    def codes(self) -> np.ndarray:
        """All cells' codes as a ``n_cells × n_genes`` uint8 array."""
        out = np.empty((self.n_cells, len(self.genes)), dtype=np.uint8)
        for b in self.blocks():
            out[b.first_cell : b.first_cell + b.n_cells] = b.codes.T
        return out

    def marginals(self) -> np.ndarray:
        """``n_genes × bins`` counts over all cells."""
        total = np.zeros((len(self.genes), self.params.bins), dtype=np.int64)
        for b in self.blocks():
            total += b.marginals
        return total

    def bin_centers(self, gene: int) -> np.ndarray:
        """Centre of each bin of gene ``gene`` (its index among this binner's genes), in log10 units."""
        e = self.edges[gene]
        return (e[:-1] + e[1:]) / 2
