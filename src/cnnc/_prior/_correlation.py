"""Rows of the base correlations, made on demand from Gram sums (held or streamed): what the measures read.

Every row source has ``n`` and ``rows(band) -> float64 (len(band), n)``; a correlation also multiplies a vector
(``matvec``), which is how the first principal component is found without a genes × genes matrix.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

#: Up to this many genes the first principal component comes from a full eigendecomposition; above, from Lanczos
#: iterations (``scipy.sparse.linalg.eigsh``, the same eigenpair up to float precision, far faster).
EIGH_MAX_GENES = 64


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` clipped to [-1, 1]; a zero denominator (a gene without variance) gives 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    out[~np.isfinite(out)] = 0.0
    return np.clip(out, -1, 1)


class Correlation:
    """Signed Pearson correlation of the genes, from a Gram source (``rows``, ``diag``, ``matvec``)."""

    def __init__(self, gram, total: np.ndarray, n_cells: int) -> None:
        self.gram, self.cells, self.n = gram, n_cells, len(total)
        self.mean = total / n_cells
        self.sd = np.sqrt(np.clip(gram.diag() / n_cells - self.mean**2, 0, None))
        self._last: tuple = (None, None)

    def rows(self, band) -> np.ndarray:
        key = (band.start, band.stop) if isinstance(band, slice) else tuple(np.asarray(band).tolist())
        if self._last[0] != key:  # a measure and its variants (absolute, PC1 removed) read the same band
            cov = self.gram.rows(band) / self.cells - np.outer(self.mean[band], self.mean)
            self._last = (key, _ratio(cov, np.outer(self.sd[band], self.sd)))
        return self._last[1]

    def diag(self) -> np.ndarray:
        return _ratio(self.gram.diag() / self.cells - self.mean**2, self.sd**2)

    def matvec(self, x: np.ndarray) -> np.ndarray:
        ok = self.sd > 0
        y = np.divide(x, self.sd, out=np.zeros_like(x), where=ok)
        cov_y = self.gram.matvec(y) / self.cells - self.mean * (self.mean @ y)
        return np.divide(cov_y, self.sd, out=np.zeros_like(cov_y), where=ok)


class PC1Removed:
    """Correlation of the standardized genes after removing their first principal component.

    The covariance of standardized genes is their correlation matrix ``C``; removing the first component leaves
    ``C - λ v vᵀ`` (top eigenpair), renormalised to a correlation.
    """

    def __init__(self, corr: Correlation) -> None:
        self.corr = corr
        n = corr.n
        if n <= EIGH_MAX_GENES:
            values, vectors = np.linalg.eigh(corr.rows(slice(0, n)))
            self.value, self.vector = values[-1], vectors[:, -1]
        else:
            op = LinearOperator((n, n), matvec=corr.matvec, dtype=np.float64)
            values, vectors = eigsh(op, k=1, which="LA", v0=np.ones(n))
            self.value, self.vector = values[0], vectors[:, 0]
        self.sd = np.sqrt(np.clip(corr.diag() - self.value * self.vector**2, 0, None))

    def rows(self, band) -> np.ndarray:
        resid = self.corr.rows(band) - self.value * np.outer(self.vector[band], self.vector)
        return _ratio(resid, np.outer(self.sd[band], self.sd))


class Correlations:
    """The base correlations of one data set, each made once: what :data:`._measures.MEASURES` read."""

    def __init__(self, grams: dict) -> None:
        self.grams = grams  # kind -> Gram source with ``total`` and ``n_cells``
        self._made: dict = {}

    def correlation(self, kind: str) -> Correlation:
        if ("corr", kind) not in self._made:
            if kind not in self.grams:
                raise ValueError(f"The {kind} measures need the {kind} Gram sums.")
            g = self.grams[kind]
            self._made["corr", kind] = Correlation(g, g.total, g.n_cells)
        return self._made["corr", kind]

    def pc1_removed(self, kind: str) -> PC1Removed:
        if ("pc1", kind) not in self._made:
            self._made["pc1", kind] = PC1Removed(self.correlation(kind))
        return self._made["pc1", kind]
