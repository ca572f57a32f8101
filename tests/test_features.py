import numpy as np
import pytest
from scipy import sparse

from cnnc._prior import ContextStatistics


def test_context_statistics_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.gamma(1.0, 1.0, (300, 12)) * (rng.random((300, 12)) < 0.5)
    x[:, 3] = 2.0  # constant gene: correlates with nothing
    for m in (x, sparse.csr_matrix(x)):
        stats = ContextStatistics.from_matrix(m, chunk_cells=77)
        with np.errstate(invalid="ignore", divide="ignore"):
            ref = np.abs(np.nan_to_num(np.corrcoef(x.T)))
        off = ~np.eye(12, dtype=bool)
        np.testing.assert_allclose(stats.abs_corr[off], ref[off], atol=1e-5)
        a, b = np.array([0, 1, 5]), np.array([1, 0, 7])
        f = stats.features(a, b)
        row = np.where(off[0], ref[0], np.nan)
        z0 = (ref[0, 1] - np.nanmean(row)) / np.nanstd(row)
        np.testing.assert_allclose(f[0, 1], z0, rtol=1e-4)
        # the swapped pair swaps the regulator and target z-scores, the sum is symmetric
        np.testing.assert_allclose(f[0, [1, 2]], f[1, [2, 1]], rtol=1e-5)
        np.testing.assert_allclose(f[:, 3], f[:, 1] + f[:, 2], rtol=1e-5)
        assert stats.features(np.array([3]), np.array([0]))[0, 0] == 0


def test_context_statistics_errors():
    with pytest.raises(ValueError, match="at least 3 genes"):
        ContextStatistics.from_matrix(np.ones((10, 2)))
    stats = ContextStatistics.from_matrix(np.random.default_rng(0).random((20, 4)))
    with pytest.raises(ValueError, match="Unknown pair feature"):
        stats.features(np.array([0]), np.array([1]), ("nope",))
