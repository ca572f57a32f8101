"""Sums over cells that every association measure is made from: the one place a Gram product is computed.

Two ways to hold them. :class:`GramSums` keeps the whole genes × genes ``XᵀX`` (one data pass; 8 bytes per gene pair
and Gram kind). :class:`StreamedGram` keeps only per-gene sums and computes a band of rows of ``XᵀX`` with one data
pass per band, so memory is bounded by the band, whatever the gene count. Both read dense chunks of cells (the Gram
of sparse scRNA blocks is ~50x faster as dense BLAS) and give the same numbers up to float64 rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._engine._source import ExpressionSource

#: Dense float64 cells × genes entries multiplied at a time.
DENSE_GRAM_BYTES = 64 * 2**20
#: Float64 entries of one band of Gram rows (bands × genes).
BAND_BYTES = 64 * 2**20
KINDS = ("raw", "scaled")


def refuse_bad_values(block, gene_names=None) -> None:
    """Refuse NaN, infinite and negative values of a CSC block, naming the gene (by ``gene_names`` or column)."""
    bad = ~np.isfinite(block.data) | (block.data < 0)
    if bad.any():
        col = int(np.searchsorted(block.indptr, np.flatnonzero(bad)[0], side="right") - 1)
        gene = repr(str(gene_names[col])) if gene_names is not None else f"at column {col}"
        what = "negative values" if np.isfinite(block.data[bad][0]) else "NaN or infinite values"
        raise ValueError(
            f"Expression of gene {gene} contains {what}. The model's context features correlate every gene of the "
            "data (not only the scored pairs), so every gene needs finite, non-negative log-expression: impute or "
            "drop those values (e.g. np.nan_to_num), or remove the gene (adata[:, mask])."
        )


def scale_cells(dense: np.ndarray) -> np.ndarray:
    """Each cell (row) of a dense chunk divided by its maximum (a cell without expression stays 0)."""
    top = dense.max(axis=1, keepdims=True)
    return np.divide(dense, top, out=np.zeros_like(dense), where=top > 0)


def dense_chunks(block, kind: str = "raw"):
    """Dense float64 chunks of cells of a cells × genes block; ``kind="scaled"``: each cell divided by its maximum."""
    n = block.shape[1]
    rows = max(1, DENSE_GRAM_BYTES // (8 * max(n, 1)))
    block = block.tocsr()
    for start in range(0, block.shape[0], rows):
        dense = block[start : start + rows].toarray().astype(np.float64, copy=False)
        yield scale_cells(dense) if kind == "scaled" else dense


def band_slices(n: int, columns: int | None = None):
    """Contiguous bands of ``n`` rows, each at most ``BAND_BYTES`` of float64 rows of ``columns`` (default ``n``)."""
    step = max(1, BAND_BYTES // (8 * max(columns or n, 1)))
    for s in range(0, n, step):
        yield slice(s, min(s + step, n))


@dataclass
class GramSums:
    """``XᵀX`` and column sums per Gram kind (raw, cell-scaled), each gene's detections and the cell count."""

    grams: dict[str, np.ndarray]
    totals: dict[str, np.ndarray]
    detected: np.ndarray
    n_cells: int = 0

    @classmethod
    def zeros(cls, n_genes: int, kinds=("raw",)) -> GramSums:
        return cls(
            {k: np.zeros((n_genes, n_genes)) for k in kinds}, {k: np.zeros(n_genes) for k in kinds}, np.zeros(n_genes)
        )

    def add(self, block, gene_names=None) -> None:
        """Add a cells × genes sparse block (float64 sums: the result does not depend on the block size)."""
        refuse_bad_values(block.tocsc(), gene_names)
        for dense in dense_chunks(block):
            self.add_dense(dense)
        self.n_cells += int(block.shape[0])

    def add_dense(self, dense: np.ndarray) -> None:
        """Add a dense float64 chunk of cells (raw values) to the sums of every kind; the cell count is the caller's."""
        for kind, gram in self.grams.items():
            x = scale_cells(dense) if kind == "scaled" else dense
            self.totals[kind] += x.sum(axis=0)
            for rows in band_slices(x.shape[1]):
                gram[rows] += x[:, rows].T @ x
        if "raw" in self.grams:
            self.detected += (dense > 0).sum(axis=0)

    def __add__(self, other: GramSums) -> GramSums:
        kinds = [k for k in self.grams if k in other.grams]
        return GramSums(
            {k: self.grams[k] + other.grams[k] for k in kinds},
            {k: self.totals[k] + other.totals[k] for k in kinds},
            self.detected + other.detected,
            self.n_cells + other.n_cells,
        )

    def source(self, kind: str) -> HeldGram:
        if kind not in self.grams:
            raise ValueError(f"The {kind} measures need the {kind} Gram sums (GramSums.zeros(n, kinds=[{kind!r}])).")
        return HeldGram(self.grams[kind], self.totals[kind], self.n_cells)

    def marginal_sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per gene: detections, sum and sum of squares of the raw values."""
        return self.detected, self.totals["raw"], np.diag(self.grams["raw"]).copy()


@dataclass
class HeldGram:
    """A whole Gram matrix in memory: rows are read, products are one matrix-vector product."""

    gram: np.ndarray
    total: np.ndarray
    n_cells: int

    def rows(self, band) -> np.ndarray:
        return self.gram[band]

    def diag(self) -> np.ndarray:
        return np.diag(self.gram)

    def matvec(self, y: np.ndarray) -> np.ndarray:
        return self.gram @ y


@dataclass
class GeneSums:
    """Per-gene sums over cells, per Gram kind, from one data pass (no genes × genes product)."""

    totals: dict[str, np.ndarray]
    squares: dict[str, np.ndarray]
    detected: np.ndarray
    n_cells: int = 0

    @classmethod
    def from_source(cls, source: ExpressionSource, kinds, gene_names=None) -> GeneSums:
        n = source.n_genes
        out = cls({k: np.zeros(n) for k in kinds}, {k: np.zeros(n) for k in kinds}, np.zeros(n))
        for _, block in source.iter_blocks(np.arange(n)):
            refuse_bad_values(block, gene_names)
            for kind in kinds:
                for dense in dense_chunks(block, kind):
                    out.totals[kind] += dense.sum(axis=0)
                    out.squares[kind] += np.einsum("ij,ij->j", dense, dense)
                    if kind == kinds[0]:
                        out.detected += (dense > 0).sum(axis=0)
            out.n_cells += int(block.shape[0])
        return out

    def marginal_sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.detected, self.totals["raw"], self.squares["raw"]


@dataclass
class StreamedGram:
    """Rows of ``XᵀX`` computed on demand, one data pass per band (memory: a band, never genes × genes)."""

    source: ExpressionSource
    kind: str
    total: np.ndarray
    squares: np.ndarray
    n_cells: int
    _last: tuple = field(default=(None, None), repr=False)

    def rows(self, band) -> np.ndarray:
        key = (band.start, band.stop) if isinstance(band, slice) else tuple(np.asarray(band).tolist())
        if self._last[0] == key:  # several measures read the same band
            return self._last[1]
        n = self.source.n_genes
        width = len(range(n)[band]) if isinstance(band, slice) else len(band)
        out = np.zeros((width, n))
        for _, block in self.source.iter_blocks(np.arange(n)):
            for dense in dense_chunks(block, self.kind):
                out += dense[:, band].T @ dense
        self._last = (key, out)
        return out

    def diag(self) -> np.ndarray:
        return self.squares

    def matvec(self, y: np.ndarray) -> np.ndarray:
        """``XᵀX y`` from the sparse blocks (no dense copy: one data pass of two sparse products)."""
        out = np.zeros(self.source.n_genes)
        for _, block in self.source.iter_blocks(np.arange(self.source.n_genes)):
            block = block.tocsr().astype(np.float64)
            if self.kind == "scaled":
                top = block.max(axis=1).toarray().ravel()
                scale = np.divide(1.0, top, out=np.zeros_like(top), where=top > 0)
                out += block.T @ (scale**2 * (block @ y))
            else:
                out += block.T @ (block @ y)
        return out
