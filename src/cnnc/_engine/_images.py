"""Pair images from binned genes: counts from the kernel, pixels from the lookup table."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ._binning import GeneBinner
from ._kernel import pair_counts, pair_images
from ._params import PairImageParams
from ._scaling import scale_columns
from ._source import ExpressionSource
from ._transform import count_lookup


class PairImager:
    """Turns pairs of genes of one expression matrix into CNNC pair images.

    Parameters
    ----------
    matrix
        Cells × genes expression (any storage :class:`~cnnc._engine._source.ExpressionSource` reads). With a
        ``"rank"`` or ``"standard"`` recipe the values of ``genes`` are read into memory and scaled first.
    genes
        Column indices of every gene that will appear in a pair; each is binned once.
    params
        The pair-image recipe.
    gene_names
        Names of those genes, for error messages.
    chunk_cells
        Cells read at a time: raw values are held for one block of cells only. Results do not depend on it.
    cache
        Keep every cell's bin codes (1 byte per cell and gene, computed once) for all later calls, when they fit
        1 GiB; otherwise every call re-reads the matrix block by block.
    """

    def __init__(
        self,
        matrix,
        genes: np.ndarray,
        params: PairImageParams | None = None,
        *,
        gene_names: list[str] | None = None,
        chunk_cells: int | None = None,
        cache: bool = True,
    ) -> None:
        self.params = params or PairImageParams()
        self._views = None
        if len(self.params.views) > 1:  # one imager per channel, each of one view (e.g. ranks and z-scores)
            self._views = [
                PairImager(
                    matrix,
                    genes,
                    replace(self.params, scaling=view),
                    gene_names=gene_names,
                    chunk_cells=chunk_cells,
                    cache=cache,
                )
                for view in self.params.views
            ]
            first = self._views[0]
            self.source, self.binner, self.n_cells = first.source, first.binner, first.n_cells
            return
        kwargs = {} if chunk_cells is None else {"chunk_cells": chunk_cells}
        genes = np.asarray(genes)
        if self.params.scaling != "log":  # ranks / z-scores need every cell: the variables involved are read once
            names = gene_names if gene_names is not None else [str(g) for g in genes]
            matrix = scale_columns(matrix, genes, self.params, gene_names=list(names))
            genes = np.arange(len(genes))
        self.source = ExpressionSource(matrix, **kwargs)
        self.binner = GeneBinner(self.source, np.asarray(genes), self.params, gene_names=gene_names, cache=cache)
        self.n_cells = self.source.n_cells
        self._lookup = count_lookup(self.params, self.n_cells)

    def counts(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``n × bins × bins`` int32 joint counts, rows = bins of ``a`` (positions among the binned genes).

        For a recipe of several views, the counts of its first view (the ranks).
        """
        if self._views is not None:
            return self._views[0].counts(a, b)
        return pair_counts(self.binner, np.asarray(a), np.asarray(b))

    def codes(self) -> np.ndarray:
        """Every cell's bin code of every binned gene (``n_cells × n_genes`` uint8); of the first view if several."""
        if self._views is not None:
            return self._views[0].codes()
        return self.binner.codes()

    def images(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``n × bins × bins`` float32 images, rows = bins of ``b`` (CNNC's transposed histogram).

        ``n × views × bins × bins`` for a recipe of several views (``"rank+standard"``).
        """
        if self._views is not None:
            return np.stack([v.images(a, b) for v in self._views], axis=1)
        return pair_images(self.binner, np.asarray(a), np.asarray(b), self._lookup)
