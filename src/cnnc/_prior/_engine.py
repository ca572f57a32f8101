"""The engine: a band of rows of each measure's genes × genes matrix at a time, and what is kept of it.

A pair's context score under a measure ``M`` is ``z of M[a, b] within gene a's values to all genes + z of M[a, b]
within gene b's`` (a CLR-like normalisation; a gene with itself excluded). The engine walks bands of rows of ``M``
(float32, the self entry NaN) and keeps what a form needs: every row (:class:`ContextStatistics`, the dense form),
or only each gene's mean and spread and the values of the scored pairs (:class:`PairPrior`, the lean form, whose
memory is a band whatever the gene count). Rows are all genes (exact), or a set of context genes (a whole
transcriptome: each gene's mean and spread are then taken over the context genes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._gram import band_slices
from ._measures import FEATURES, MARGINAL_FEATURES, MARGINALS, MEAN_PREFIX, MEASURES, feature_measures


def measure_block(correlations, name: str, rows, band: slice) -> np.ndarray:
    """Rows ``rows[band]`` (``rows=None``: every gene) of measure ``name``, float32, a gene with itself NaN."""
    measure = MEASURES[name]
    genes = band if rows is None else rows[band]
    values = measure.rows(correlations).rows(genes)
    block = (np.abs(values) if measure.absolute else values).astype(np.float32)
    block[np.arange(block.shape[0]), np.arange(values.shape[1])[genes]] = np.nan
    return block


def spread_of(sd: np.ndarray) -> np.ndarray:
    """A spread of 0 (a gene equally associated with all) divides by 1."""
    sd = np.asarray(sd, dtype=np.float32).copy()
    sd[~(sd > 0)] = 1.0
    return sd


def context_z_rows(block: np.ndarray, genes, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Context z of a band of rows (rows ``genes``): z within each row plus z within each column's gene."""
    return (block - mu[genes, None]) / sd[genes, None] + (block - mu[None, :]) / sd[None, :]


def context_z(measure: np.ndarray) -> np.ndarray:
    """``z[a, b] = z of M[a, b] among row a + z of M[a, b] among row b`` (diagonal excluded), float32.

    For a genes × genes matrix in hand (any measure, e.g. partial correlations); the forms below never hold one.
    """
    m = np.array(measure, dtype=np.float32)
    np.fill_diagonal(m, np.nan)
    mu, sd = np.nanmean(m, axis=1), spread_of(np.nanstd(m, axis=1))
    z = (m - mu[:, None]) / sd[:, None]
    z += z.T
    np.fill_diagonal(z, 0.0)
    return z


def marginal_table(sums) -> np.ndarray:
    """Detection rate, mean and variance of each gene, each z-scored over the genes (genes × 3, float32)."""
    detected, total, squares = sums.marginal_sums()
    cells = sums.n_cells
    mean = total / cells
    table = np.stack([detected / cells, mean, squares / cells - mean**2], axis=1)
    spread = table.std(axis=0)
    spread[spread == 0] = 1.0
    return ((table - table.mean(axis=0)) / spread).astype(np.float32)


def _marginal_columns(marginals, a, b, name):
    end, stat = name.split("_")
    return marginals[a if end == "regulator" else b, MARGINALS.index(stat)]


@dataclass
class ContextStatistics:
    """Dense form: gene × gene ``|Pearson|``, each gene's mean and spread of it, and whole ``"z_mean:..."`` features.

    ``positive`` (when asked for) marks the gene pairs that correlate positively.
    """

    abs_corr: np.ndarray | None
    mean: np.ndarray | None
    std: np.ndarray | None
    means: dict[str, np.ndarray] = field(default_factory=dict)
    marginals: np.ndarray | None = None
    positive: np.ndarray | None = None

    @classmethod
    def from_matrix(cls, matrix, *, features=FEATURES, chunk_cells: int = 20_000, gene_names=None):
        """Statistics over all cells, accumulated block by block (memory: a Gram matrix and the features kept)."""
        from ._forms import dense_statistics

        return dense_statistics(matrix, features=features, chunk_cells=chunk_cells, gene_names=gene_names)

    @classmethod
    def from_gram_sums(cls, sums, *, features=FEATURES):
        """Statistics of every feature in ``features`` from one data pass's sums (:class:`._gram.GramSums`)."""
        from ._forms import statistics_from_sums

        return statistics_from_sums(sums, features=features)

    def features(self, a: np.ndarray, b: np.ndarray, names=FEATURES) -> np.ndarray:
        """``(n_pairs, len(names))`` float32 features of pairs (a, b) (gene positions of the data set)."""
        columns = []
        for name in names:
            if name in FEATURES and self.abs_corr is not None:
                r = self.abs_corr[a, b]
                columns.append(_abs_feature(name, r, self.mean, self.std, a, b))
            elif name in self.means:
                columns.append(self.means[name][a, b])
            elif name in MARGINAL_FEATURES and self.marginals is not None:
                columns.append(_marginal_columns(self.marginals, a, b, name))
            else:
                feature_measures(name)  # names the known features
                raise ValueError(
                    f"Feature {name!r} was not computed for these statistics; build them with features=[{name!r}]."
                )
        return np.stack(columns, axis=1).astype(np.float32)


def _abs_feature(name, r, mean, std, a, b):
    if name == "abs_pearson":
        return r
    z_a = (r - mean[a]) / std[a]
    z_b = (r - mean[b]) / std[b]
    return {"z_regulator": z_a, "z_target": z_b, "z_context": z_a + z_b}[name]


@dataclass
class PairPrior:
    """Lean form: each measure's value at the scored pairs and each gene's mean and spread of it.

    Pairs are looked up either way round (every measure is symmetric).
    """

    n_genes: int
    keys: np.ndarray
    values: dict[str, np.ndarray]
    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]
    marginals: np.ndarray | None = None

    def _index(self, a, b) -> np.ndarray:
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        key = np.minimum(a, b) * self.n_genes + np.maximum(a, b)
        pos = np.minimum(np.searchsorted(self.keys, key), max(len(self.keys) - 1, 0))
        if len(key) and (len(self.keys) == 0 or (self.keys[pos] != key).any()):
            raise ValueError("A pair was not among the pairs this context prior was computed for.")
        return pos

    def features(self, a: np.ndarray, b: np.ndarray, names=FEATURES) -> np.ndarray:
        """As :meth:`ContextStatistics.features`, for pairs among those the prior was computed for."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        pos = self._index(a, b)
        columns = []
        for name in names:
            if name in MARGINAL_FEATURES:
                columns.append(_marginal_columns(self.marginals, a, b, name))
            elif name in FEATURES:
                m = "abs_pearson"
                columns.append(_abs_feature(name, self.values[m][pos], self.mean[m], self.std[m], a, b))
            elif name.startswith(MEAN_PREFIX):
                parts = feature_measures(name)
                total = sum(self._z(m, pos, a, b) for m in parts)
                columns.append(total / np.float32(len(parts)))
            else:
                feature_measures(name)
        return np.stack(columns, axis=1).astype(np.float32)

    def _z(self, m, pos, a, b):
        v, mu, sd = self.values[m][pos], self.mean[m], self.std[m]
        return (v - mu[a]) / sd[a] + (v - mu[b]) / sd[b]


def walk_pairs(correlations, measures, n: int, rows, row_pos: np.ndarray, cols: np.ndarray):
    """Each measure's values at the pairs and each gene's mean and spread of it, a band of rows at a time.

    Pair ``i`` is read in row ``row_pos[i]`` of ``rows`` (``None``: every gene, row ``g`` is gene ``g``), column
    ``cols[i]``. A gene's mean and spread are taken over its own row when every gene is a row (exact), else over
    the rows (a context of genes).
    """
    exact = rows is None
    order = np.argsort(row_pos, kind="stable")
    sorted_pos = row_pos[order]
    values = {m: np.empty(len(row_pos), dtype=np.float32) for m in measures}
    mean = {m: np.zeros(n, dtype=np.float32) for m in measures}
    std = {m: np.zeros(n, dtype=np.float32) for m in measures}
    sums = {m: np.zeros((3, n)) for m in measures}
    for band in band_slices(n if exact else len(rows), columns=n):
        lo, hi = np.searchsorted(sorted_pos, [band.start, band.stop])
        sel = order[lo:hi]
        for m in measures:
            block = measure_block(correlations, m, rows, band)
            values[m][sel] = block[row_pos[sel] - band.start, cols[sel]]
            if exact:
                mean[m][band], std[m][band] = np.nanmean(block, axis=1), np.nanstd(block, axis=1)
            else:
                sums[m][0] += (~np.isnan(block)).sum(axis=0)
                sums[m][1] += np.nansum(block, axis=0, dtype=np.float64)
                sums[m][2] += np.nansum(np.square(block, dtype=np.float64), axis=0)
    for m, (count, s1, s2) in [] if exact else sums.items():
        mu = s1 / np.maximum(count, 1)
        mean[m], std[m] = mu.astype(np.float32), np.sqrt(np.maximum(s2 / np.maximum(count, 1) - mu**2, 0))
    return values, mean, {m: spread_of(s) for m, s in std.items()}
