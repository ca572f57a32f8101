"""Context statistics of whole transcriptomes: each gene's correlations to a chosen set of context genes.

The context features (:mod:`cnnc._features`) z-score a pair's |Pearson| within each gene's correlations to all
genes, which needs a genes × genes correlation: beyond :data:`cnnc._features.MAX_CONTEXT_GENES` genes that is too
large (30,000 genes: 7 GB in float64). There the context is chosen automatically: the
:data:`CONTEXT_VARIABLE_GENES` genes of highest variance of log-expression plus every regulator. Each gene's mean and
spread of |Pearson| are then taken over the context genes, and a pair's |Pearson| is read from the context rows
(regulators are always context genes). Memory: ``n_context × n_genes`` float64, a block of cells at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scanpy import logging as logg

from ._distributed import cluster_context_statistics
from ._engine._source import ExpressionSource
from ._evidence import BLOCK_ENTRIES
from ._features import DENSE_GRAM_BYTES, FEATURES, MAX_CONTEXT_GENES, ContextStatistics

#: Data with more genes than this get a context subset (the exact statistics need genes × genes).
SUBSET_ABOVE = MAX_CONTEXT_GENES
#: Highly variable genes in the automatic context of data with more than ``SUBSET_ABOVE`` genes.
CONTEXT_VARIABLE_GENES = 3_000
#: Output columns multiplied at a time when accumulating the context rows (bounds the temporary product).
COLUMN_BLOCK = 4_096


def context_statistics(
    matrix, must: np.ndarray, *, chunk_cells: int | None = None, features=FEATURES, gene_names=None, client=None
):
    """Context statistics: exact over all genes up to :data:`SUBSET_ABOVE` genes, else over a context subset.

    ``must``: gene positions that have to be context genes (the regulators, or every first gene of the pairs).
    ``features``: the model's features; above :data:`SUBSET_ABOVE` genes only the |Pearson| context features
    (:data:`cnnc._features.FEATURES`) have a subset form. With a dask.distributed ``client`` (and a dask array) the
    exact statistics' Gram matrix is summed on the workers; a context subset is computed here from the chunks.
    """
    kwargs = {} if chunk_cells is None else {"chunk_cells": int(chunk_cells)}
    n = int(matrix.shape[1])
    if n <= SUBSET_ABOVE:
        if client is not None:
            return cluster_context_statistics(client, matrix, features=features)
        return ContextStatistics.from_matrix(matrix, features=features, gene_names=gene_names, **kwargs)
    other = [f for f in features if f not in FEATURES]
    if other:
        raise ValueError(
            f"The model's features {other} need a genes × genes context of at most {SUBSET_ABOVE:,} genes; the data "
            f"have {n:,}. Restrict the data to highly variable genes and the regulators (e.g. "
            "adata[:, adata.var.highly_variable | adata.var_names.isin(tfs)]), or use model='cnnc-context', whose "
            "features have a whole-transcriptome form."
        )
    must = np.unique(np.asarray(must, dtype=np.int64))
    if len(must) > MAX_CONTEXT_GENES:
        raise ValueError(
            f"{len(must):,} regulators is more than the {MAX_CONTEXT_GENES:,} context genes the features can use: "
            "score fewer regulators per call (e.g. in batches of tfs=...)."
        )
    n_variable = max(0, min(CONTEXT_VARIABLE_GENES, MAX_CONTEXT_GENES - len(must)))
    return SubsetContextStatistics.from_matrix(matrix, must, n_variable=n_variable, **kwargs)


@dataclass
class SubsetContextStatistics:
    """|Pearson| of context genes × all genes, and each gene's mean and spread of |Pearson| to the context genes."""

    context: np.ndarray
    rows: np.ndarray
    abs_corr: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def from_matrix(
        cls, matrix, must: np.ndarray, *, n_variable: int = CONTEXT_VARIABLE_GENES, chunk_cells: int = 20_000
    ) -> SubsetContextStatistics:
        """Two passes over the cells: gene variances (to pick the context), then context × all-gene products."""
        n = int(matrix.shape[1])
        source = ExpressionSource(matrix, chunk_cells=min(chunk_cells, max(256, BLOCK_ENTRIES // max(n, 1))))
        cells = source.n_cells
        every = np.arange(n)
        total, squares = np.zeros(n), np.zeros(n)
        for _, block in source.iter_blocks(every):
            total += np.asarray(block.sum(axis=0)).ravel()
            squares += np.asarray(block.multiply(block).sum(axis=0)).ravel()
        mean = total / cells
        var = np.maximum(squares / cells - mean**2, 0)
        order = np.argsort(-var, kind="stable")
        variable = order[~np.isin(order, must)][:n_variable]
        context = np.union1d(np.asarray(must, dtype=np.int64), variable)
        logg.info(
            f"    context features over {len(context):,} of {n:,} genes (more than {SUBSET_ABOVE:,}): the "
            f"{len(variable):,} of highest variance and {len(must):,} regulators"
        )
        gram = np.zeros((len(context), n))
        for _, block in source.iter_blocks(every):
            block = block.tocsr()
            rows = max(1, DENSE_GRAM_BYTES // (8 * n))
            for start in range(0, block.shape[0], rows):
                part = block[start : start + rows]
                left = part[:, context].toarray().T  # context × cells, dense
                part = part.tocsc()
                for first in range(0, n, COLUMN_BLOCK):
                    cols = part[:, first : first + COLUMN_BLOCK]
                    gram[:, first : first + COLUMN_BLOCK] += (cols.T @ left.T).T
        # |Pearson| a few context rows at a time: no genes-sized temporaries beside the Gram rows
        sd = np.sqrt(var)
        abs_corr = np.empty((len(context), n), dtype=np.float32)
        step = max(1, (32 * 2**20) // (8 * n))
        for first in range(0, len(context), step):
            c = context[first : first + step]
            cov = gram[first : first + step] / cells - np.outer(mean[c], mean)
            with np.errstate(divide="ignore", invalid="ignore"):
                corr = cov / np.outer(sd[c], sd)
            corr[~np.isfinite(corr)] = 0.0  # a constant gene correlates with nothing
            abs_corr[first : first + step] = np.abs(np.clip(corr, -1, 1))
        del gram
        diagonal = (np.arange(len(context)), context)
        abs_corr[diagonal] = np.nan  # a gene with itself is not context
        mu = np.nanmean(abs_corr, axis=0, dtype=np.float64)
        spread = np.nanstd(abs_corr, axis=0, dtype=np.float64)
        spread[~(spread > 0)] = 1.0
        abs_corr[diagonal] = 1.0
        rows_of = np.full(n, -1, dtype=np.int64)
        rows_of[context] = np.arange(len(context))
        return cls(context, rows_of, abs_corr, mu.astype(np.float32), spread.astype(np.float32))

    def features(self, a: np.ndarray, b: np.ndarray, names: list[str] | tuple[str, ...] = FEATURES) -> np.ndarray:
        """As :meth:`cnnc._features.ContextStatistics.features`; one gene of each pair must be a context gene."""
        a, b = np.asarray(a), np.asarray(b)
        ra, rb = self.rows[a], self.rows[b]
        if ((ra < 0) & (rb < 0)).any():  # pragma: no cover - regulators are always context genes
            raise ValueError("A pair has no gene among the context genes.")
        r = np.where(ra >= 0, self.abs_corr[np.maximum(ra, 0), b], self.abs_corr[np.maximum(rb, 0), a])
        z_a = (r - self.mean[a]) / self.std[a]
        z_b = (r - self.mean[b]) / self.std[b]
        table = {"abs_pearson": r, "z_regulator": z_a, "z_target": z_b, "z_context": z_a + z_b}
        unknown = [n for n in names if n not in table]
        if unknown:
            raise ValueError(f"Unknown pair features {unknown}; known: {list(FEATURES)}.")
        return np.stack([table[n] for n in names], axis=1).astype(np.float32)
