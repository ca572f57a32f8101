"""Per-pair context features: how a pair's correlation stands among each gene's correlations to all genes.

Measured on BEELINE (leave-one-cell-type-out): a pair's |Pearson| z-scored within the regulator's
correlations to all genes plus z-scored within the target's correlations to all genes transfers to
unseen cell types far better than the raw correlation or the pair image alone (a CLR-like context
normalisation). Models may take these as extra inputs beside the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._engine._source import ExpressionSource

FEATURES = ("abs_pearson", "z_regulator", "z_target", "z_context")
MAX_CONTEXT_GENES = 20_000
#: Dense float64 rows multiplied at a time (the Gram of sparse scRNA blocks is ~50x faster as dense BLAS).
DENSE_GRAM_BYTES = 64 * 2**20


def check_context_genes(n: int) -> None:
    """Refuse gene counts for which a genes × genes correlation is meaningless or too large."""
    if n > MAX_CONTEXT_GENES:
        raise ValueError(
            f"Context features need a genes × genes correlation; {n} genes is more than {MAX_CONTEXT_GENES}. "
            "Restrict the data to highly variable genes and regulators first."
        )
    if n < 3:
        raise ValueError("Context features need at least 3 genes (a gene's correlations to the others).")


def accumulate_gram(block, gram: np.ndarray, total: np.ndarray, gene_names=None) -> None:
    """Add a cells × genes CSC/CSR block's ``X^T X`` and column sums to ``gram`` and ``total`` (float64).

    Refuses NaN, infinite and negative values (naming the gene, by ``gene_names`` or column): context features
    read every gene, so a bad value outside the candidate pairs would otherwise pass as a gene that correlates
    with nothing.
    """
    n = block.shape[1]
    block = block.tocsc()
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
    rows = max(1, DENSE_GRAM_BYTES // (8 * max(n, 1)))
    block = block.tocsr()
    for start in range(0, block.shape[0], rows):
        dense = block[start : start + rows].toarray().astype(np.float64, copy=False)
        gram += dense.T @ dense
        total += dense.sum(axis=0)


@dataclass
class ContextStatistics:
    """Gene × gene |Pearson| of one data set and each gene's mean and spread of |Pearson| to the others."""

    abs_corr: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def from_matrix(cls, matrix, *, chunk_cells: int = 20_000, gene_names=None) -> ContextStatistics:
        """Correlations over all cells, accumulated block by block (memory: one block + genes × genes).

        ``gene_names`` name a gene whose values are refused (NaN, infinite, negative).
        """
        source = ExpressionSource(matrix, chunk_cells=chunk_cells)
        n = source.n_genes
        check_context_genes(n)
        gram = np.zeros((n, n))
        total = np.zeros(n)
        for _, block in source.iter_blocks(np.arange(n)):
            accumulate_gram(
                block, gram, total, gene_names
            )  # float64 sums: the result does not depend on the chunk size
        return cls.from_sums(gram, total, source.n_cells)

    @classmethod
    def from_sums(cls, gram: np.ndarray, total: np.ndarray, cells: int) -> ContextStatistics:
        """Statistics from ``X^T X`` (genes × genes, float64), the column sums and the number of cells."""
        mean = total / cells
        cov = gram / cells - np.outer(mean, mean)
        sd = np.sqrt(np.clip(np.diag(cov), 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = cov / np.outer(sd, sd)
        corr[~np.isfinite(corr)] = 0.0  # a constant gene correlates with nothing
        abs_corr = np.abs(np.clip(corr, -1, 1)).astype(np.float32)
        np.fill_diagonal(abs_corr, np.nan)
        mu = np.nanmean(abs_corr, axis=1)
        spread = np.nanstd(abs_corr, axis=1)
        spread[spread == 0] = 1.0
        np.fill_diagonal(abs_corr, 1.0)
        return cls(abs_corr, mu.astype(np.float32), spread.astype(np.float32))

    def features(self, a: np.ndarray, b: np.ndarray, names: list[str] | tuple[str, ...] = FEATURES) -> np.ndarray:
        """``(n_pairs, len(names))`` float32 features of pairs (a, b) (gene positions of the data set)."""
        r = self.abs_corr[a, b]
        z_a = (r - self.mean[a]) / self.std[a]
        z_b = (r - self.mean[b]) / self.std[b]
        table = {"abs_pearson": r, "z_regulator": z_a, "z_target": z_b, "z_context": z_a + z_b}
        unknown = [n for n in names if n not in table]
        if unknown:
            raise ValueError(f"Unknown pair features {unknown}; known: {list(FEATURES)}.")
        return np.stack([table[n] for n in names], axis=1).astype(np.float32)
