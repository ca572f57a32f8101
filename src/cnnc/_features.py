"""Per-pair context features: how a pair's association stands among each gene's associations to all genes.

Measured on BEELINE (leave-one-cell-type-out): a pair's |Pearson| z-scored within the regulator's
correlations to all genes plus z-scored within the target's correlations to all genes transfers to
unseen cell types far better than the raw correlation or the pair image alone (a CLR-like context
normalisation). The same normalisation applies to other association measures (below); a feature
``"z_mean:<m1>+<m2>+..."`` averages the context scores of several measures, which is how the default
model combines them (equal weights: learned weights did not transfer between cell types).

Association measures (gene × gene, over cells):

- ``abs_pearson`` / ``pearson``: |Pearson| / signed Pearson of log expression;
- ``abs_scaled`` / ``scaled``: the same after scaling each cell to a maximum of 1 (removes depth-like
  per-cell factors; regdiffusion's preprocessing);
- ``abs_pc1_removed`` / ``pc1_removed``: correlation of the standardized genes after removing their first
  principal component (a shared axis such as cell size or the main trajectory).

All are computed from sums over cells (the Gram matrix of the data and of the cell-scaled data), so one pass
over the data serves every measure, block by block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._engine._source import ExpressionSource

FEATURES = ("abs_pearson", "z_regulator", "z_target", "z_context")
#: Each gene's own statistics, z-scored over the genes of the data set (an ablation: what a pair image holds
#: beyond its two marginals is what a model on these cannot see).
MARGINALS = ("detection", "mean", "variance")
MARGINAL_FEATURES = tuple(f"{end}_{m}" for end in ("regulator", "target") for m in MARGINALS)
MEASURES = ("abs_pearson", "pearson", "abs_scaled", "scaled", "abs_pc1_removed", "pc1_removed")
MEAN_PREFIX = "z_mean:"
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


def mean_feature(measures) -> str:
    """The name of the feature that averages the context scores of ``measures``."""
    return MEAN_PREFIX + "+".join(measures)


def feature_measures(name: str) -> tuple[str, ...]:
    """The association measures a ``"z_mean:..."`` feature averages (error on an unknown feature)."""
    if name in MARGINAL_FEATURES:
        return ()
    if name in FEATURES:
        return ("abs_pearson",)
    if name.startswith(MEAN_PREFIX):
        measures = tuple(name[len(MEAN_PREFIX) :].split("+"))
        unknown = [m for m in measures if m not in MEASURES]
        if measures and not unknown:
            return measures
    raise ValueError(
        f"Unknown pair feature {name!r}; known: {list(FEATURES)}, {list(MARGINAL_FEATURES)} or "
        f"'z_mean:<m1>+<m2>...' with measures from {list(MEASURES)}."
    )


def needs_scaled(features) -> bool:
    """Whether any feature reads the cell-scaled Gram matrix (one more accumulator in the data pass)."""
    return any(m.endswith("scaled") for f in features for m in feature_measures(f))


@dataclass
class GramSums:
    """Sums over cells that every measure is computed from: ``X^T X`` and column sums, raw and cell-scaled."""

    gram: np.ndarray
    total: np.ndarray
    n_cells: int = 0
    scaled_gram: np.ndarray | None = None
    scaled_total: np.ndarray | None = None
    detected: np.ndarray | None = None

    @classmethod
    def zeros(cls, n_genes: int, *, scaled: bool) -> GramSums:
        z = (np.zeros((n_genes, n_genes)), np.zeros(n_genes)) if scaled else (None, None)
        return cls(np.zeros((n_genes, n_genes)), np.zeros(n_genes), 0, *z, np.zeros(n_genes))

    def add(self, block, gene_names=None) -> None:
        """Add a cells × genes sparse block (float64 sums: the result does not depend on the block size).

        Refuses NaN, infinite and negative values (naming the gene, by ``gene_names`` or column): context features
        read every gene, so a bad value outside the candidate pairs would otherwise pass as a gene that correlates
        with nothing.
        """
        n = block.shape[1]
        _refuse_bad_values(block.tocsc(), gene_names)
        rows = max(1, DENSE_GRAM_BYTES // (8 * max(n, 1)))
        block = block.tocsr()
        for start in range(0, block.shape[0], rows):
            dense = block[start : start + rows].toarray().astype(np.float64, copy=False)
            self.gram += dense.T @ dense
            self.total += dense.sum(axis=0)
            self.n_cells += dense.shape[0]
            if self.detected is not None:
                self.detected += (dense > 0).sum(axis=0)
            if self.scaled_gram is not None:
                top = dense.max(axis=1, keepdims=True)
                scaled = np.divide(dense, top, out=np.zeros_like(dense), where=top > 0)
                self.scaled_gram += scaled.T @ scaled
                self.scaled_total += scaled.sum(axis=0)

    def __add__(self, other: GramSums) -> GramSums:
        both = self.scaled_gram is not None and other.scaled_gram is not None
        return GramSums(
            self.gram + other.gram,
            self.total + other.total,
            self.n_cells + other.n_cells,
            self.scaled_gram + other.scaled_gram if both else None,
            self.scaled_total + other.scaled_total if both else None,
            self.detected + other.detected if self.detected is not None and other.detected is not None else None,
        )


def _refuse_bad_values(block, gene_names) -> None:
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


def accumulate_gram(block, gram: np.ndarray, total: np.ndarray, gene_names=None) -> None:
    """Add a cells × genes CSC/CSR block's ``X^T X`` and column sums to ``gram`` and ``total`` (float64)."""
    sums = GramSums(gram, total)
    sums.add(block, gene_names)


def _to_correlation(cov: np.ndarray) -> np.ndarray:
    """A covariance matrix scaled to a correlation; a gene without variance correlates with nothing (0)."""
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(sd, sd)
    corr[~np.isfinite(corr)] = 0.0
    return np.clip(corr, -1, 1)


def _correlation(gram: np.ndarray, total: np.ndarray, cells: int) -> np.ndarray:
    """Signed Pearson correlation (float64) from sums."""
    mean = total / cells
    return _to_correlation(gram / cells - np.outer(mean, mean))


def _pc1_removed(corr: np.ndarray) -> np.ndarray:
    """Correlation of standardized genes after removing their first principal component.

    The covariance of standardized genes is their correlation matrix ``C``; removing the first component
    leaves ``C - λ v vᵀ`` (top eigenpair), renormalised to a correlation.
    """
    values, vectors = np.linalg.eigh(corr)
    top = vectors[:, -1]
    return _to_correlation(corr - values[-1] * np.outer(top, top))


def context_z(measure: np.ndarray) -> np.ndarray:
    """``z[a, b] = z of M[a, b] among row a + z of M[a, b] among row b`` (diagonal excluded), float32."""
    m = measure.astype(np.float32, copy=True)
    np.fill_diagonal(m, np.nan)
    mu = np.nanmean(m, axis=1)
    sd = np.nanstd(m, axis=1)
    sd[sd == 0] = 1.0
    z = (m - mu[:, None]) / sd[:, None]
    z += z.T
    np.fill_diagonal(z, 0.0)
    return z


@dataclass
class ContextStatistics:
    """Gene × gene |Pearson| of one data set, each gene's mean and spread of |Pearson| to the others.

    Also the context scores of any ``"z_mean:..."`` features asked for.
    """

    abs_corr: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    means: dict[str, np.ndarray] = field(default_factory=dict)
    marginals: np.ndarray | None = None

    @classmethod
    def from_matrix(cls, matrix, *, features=FEATURES, chunk_cells: int = 20_000, gene_names=None) -> ContextStatistics:
        """Statistics over all cells, accumulated block by block (memory: one block + a few genes × genes).

        ``gene_names`` name a gene whose values are refused (NaN, infinite, negative).
        """
        source = ExpressionSource(matrix, chunk_cells=chunk_cells)
        n = source.n_genes
        check_context_genes(n)
        sums = GramSums.zeros(n, scaled=needs_scaled(features))
        for _, block in source.iter_blocks(np.arange(n)):
            sums.add(block, gene_names)
        sums.n_cells = source.n_cells
        return cls.from_gram_sums(sums, features=features)

    @classmethod
    def from_gram_sums(cls, sums: GramSums, *, features=FEATURES) -> ContextStatistics:
        """Statistics of every feature in ``features`` from one data pass's sums."""
        for name in features:
            feature_measures(name)  # unknown names fail before any work
        corr = _correlation(sums.gram, sums.total, sums.n_cells)
        abs_corr = np.abs(corr).astype(np.float32)
        np.fill_diagonal(abs_corr, np.nan)
        mu = np.nanmean(abs_corr, axis=1)
        spread = np.nanstd(abs_corr, axis=1)
        spread[spread == 0] = 1.0
        np.fill_diagonal(abs_corr, 1.0)
        means = {}
        wanted = [f for f in features if f.startswith(MEAN_PREFIX)]
        if wanted:
            measured = _measures(corr, sums, {m for f in wanted for m in feature_measures(f)})
            for name in wanted:
                parts = feature_measures(name)
                means[name] = sum(measured[m] for m in parts) / np.float32(len(parts))
        return cls(abs_corr, mu.astype(np.float32), spread.astype(np.float32), means, _marginals(sums))

    def features(self, a: np.ndarray, b: np.ndarray, names: list[str] | tuple[str, ...] = FEATURES) -> np.ndarray:
        """``(n_pairs, len(names))`` float32 features of pairs (a, b) (gene positions of the data set)."""
        r = self.abs_corr[a, b]
        z_a = (r - self.mean[a]) / self.std[a]
        z_b = (r - self.mean[b]) / self.std[b]
        table = {"abs_pearson": r, "z_regulator": z_a, "z_target": z_b, "z_context": z_a + z_b}
        columns = []
        for name in names:
            if name in table:
                columns.append(table[name])
            elif name in self.means:
                columns.append(self.means[name][a, b])
            elif name in MARGINAL_FEATURES and self.marginals is not None:
                end, stat = name.split("_")
                columns.append(self.marginals[a if end == "regulator" else b, MARGINALS.index(stat)])
            else:
                feature_measures(name)  # names the known features
                raise ValueError(
                    f"Feature {name!r} was not computed for these statistics; build them with features=[{name!r}]."
                )
        return np.stack(columns, axis=1).astype(np.float32)


def _marginals(sums: GramSums) -> np.ndarray | None:
    """Detection rate, mean and variance of each gene, each z-scored over the genes (genes × 3, float32)."""
    if sums.detected is None or sums.n_cells == 0:
        return None
    mean = sums.total / sums.n_cells
    table = np.stack([sums.detected / sums.n_cells, mean, np.diag(sums.gram) / sums.n_cells - mean**2], axis=1)
    spread = table.std(axis=0)
    spread[spread == 0] = 1.0
    return ((table - table.mean(axis=0)) / spread).astype(np.float32)


def _measures(corr: np.ndarray, sums: GramSums, wanted: set[str]) -> dict[str, np.ndarray]:
    """Context scores (float32 genes × genes) of the wanted measures, computing each base correlation once."""
    out = {}
    bases = {"pearson": lambda: corr}
    if any(m.endswith("scaled") for m in wanted):
        if sums.scaled_gram is None:
            raise ValueError("The cell-scaled measures need the cell-scaled sums (GramSums.zeros(..., scaled=True)).")
        bases["scaled"] = lambda: _correlation(sums.scaled_gram, sums.scaled_total, sums.n_cells)
    bases["pc1_removed"] = lambda: _pc1_removed(corr)
    for base in ("pearson", "scaled", "pc1_removed"):
        if base not in wanted and f"abs_{base}" not in wanted:
            continue
        values = bases[base]()
        if base in wanted:
            out[base] = context_z(values)
        if f"abs_{base}" in wanted:
            out[f"abs_{base}"] = context_z(np.abs(values))
    return out
