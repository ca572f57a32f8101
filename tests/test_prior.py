"""The context prior's engine: every form gives the numbers of the direct formula, and a measure is one line."""

import numpy as np
import pytest
import scanpy as sc

from cnnc import _prior
from cnnc._prior import MEASURES, ContextStatistics, Measure, _correlation, _forms, context_z, pair_prior

DEFAULT = "z_mean:pearson+abs_scaled+pc1_removed"
ALL = [DEFAULT, "z_mean:abs_pearson+scaled+abs_pc1_removed", *_prior.FEATURES, *_prior.MARGINAL_FEATURES]


@pytest.fixture(scope="module")
def x():
    return sc.datasets.pbmc68k_reduced().raw.X


def _reference(dense: np.ndarray, name: str) -> np.ndarray:
    """The feature from whole genes × genes matrices, the direct formula (numpy only)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(np.corrcoef(dense.T))
        top = dense.max(axis=1, keepdims=True)
        scaled = np.nan_to_num(np.corrcoef(np.divide(dense, top, out=np.zeros_like(dense), where=top > 0).T))
        values, vectors = np.linalg.eigh(corr)
        resid = corr - values[-1] * np.outer(vectors[:, -1], vectors[:, -1])
        sd = np.sqrt(np.clip(np.diag(resid), 0, None))
        pc1 = np.clip(np.nan_to_num(resid / np.outer(sd, sd)), -1, 1)
    base = {"pearson": corr, "scaled": scaled, "pc1_removed": pc1}
    parts = _prior.feature_measures(name)
    return sum(context_z(np.abs(base[m[4:]]) if m.startswith("abs_") else base[m]) for m in parts) / len(parts)


@pytest.mark.parametrize("name", [DEFAULT, "z_mean:abs_pearson+scaled+abs_pc1_removed"])
def test_dense_form_is_the_direct_formula(x, name):
    got = ContextStatistics.from_matrix(x, features=[name]).means[name]
    np.testing.assert_allclose(got, _reference(x.toarray(), name), atol=2e-4)
    assert np.abs(got).max() > 5  # not trivially small


@pytest.mark.parametrize("gram_bytes", [2**30, 0])  # whole Gram matrix, streamed bands
@pytest.mark.parametrize("eigh_max_genes", [10_000, 0])  # full eigendecomposition, Lanczos iterations
def test_pair_form_equals_dense_form(x, monkeypatch, gram_bytes, eigh_max_genes):
    monkeypatch.setattr(_forms, "GRAM_BYTES", gram_bytes)
    monkeypatch.setattr(_correlation, "EIGH_MAX_GENES", eigh_max_genes)
    dense = ContextStatistics.from_matrix(x, features=ALL)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, x.shape[1], (2, 3000))
    a, b = a[a != b], b[a != b]
    prior = pair_prior(x, a, b, features=ALL, chunk_cells=200)
    np.testing.assert_allclose(prior.features(a, b, ALL), dense.features(a, b, ALL), atol=1e-4)
    np.testing.assert_allclose(prior.features(b, a, ALL), dense.features(b, a, ALL), atol=1e-4)  # either way round
    with pytest.raises(ValueError, match="not among the pairs"):
        prior.features(np.array([a[0]]), np.array([a[0]]), ALL)


def test_a_measure_is_one_registry_line(x, monkeypatch):
    """A new measure (Spearman-like: Pearson of the cell-scaled data, squared) works in every form."""

    def squared(correlations):
        class Rows:
            def rows(self, band):
                return correlations.correlation("scaled").rows(band) ** 2

        return Rows()

    monkeypatch.setitem(MEASURES, "squared_scaled", Measure(squared, gram="scaled"))
    name = "z_mean:squared_scaled+pearson"
    dense = ContextStatistics.from_matrix(x, features=[name])
    a, b = np.array([0, 5, 9]), np.array([1, 2, 700])
    prior = pair_prior(x, a, b, features=[name])
    np.testing.assert_allclose(prior.features(a, b, [name]), dense.features(a, b, [name]), atol=1e-4)
    assert not np.allclose(
        dense.means[name], ContextStatistics.from_matrix(x, features=["z_mean:pearson"]).means["z_mean:pearson"]
    )


def test_pair_form_memory_does_not_hold_genes_squared(monkeypatch):
    """Streamed bands: the Gram matrix is never built (bands of 7 rows over 40 genes)."""
    monkeypatch.setattr(_forms, "GRAM_BYTES", 0)
    monkeypatch.setattr(_prior._gram, "BAND_BYTES", 8 * 40 * 7)
    rng = np.random.default_rng(1)
    m = rng.gamma(1.0, 1.0, (200, 40)) * (rng.random((200, 40)) < 0.4)
    a, b = np.repeat(np.arange(3), 39), np.concatenate([np.delete(np.arange(40), i) for i in range(3)])
    got = pair_prior(m, a, b, features=[DEFAULT]).features(a, b, [DEFAULT])[:, 0]
    np.testing.assert_allclose(got, _reference(m, DEFAULT)[a, b], atol=2e-4)


def test_context_bands_do_not_change_the_features(monkeypatch):
    """A context of genes walked in bands of 4 rows (sized by the gene count) gives the one-band numbers."""
    rng = np.random.default_rng(2)
    m = rng.gamma(1.0, 1.0, (200, 30)) * (rng.random((200, 30)) < 0.5)
    a = np.repeat(np.arange(3), 27)
    b = np.concatenate([np.delete(np.arange(30), [0, 1, 2]) for _ in range(3)])
    names = [DEFAULT, *_prior.FEATURES]
    whole = pair_prior(m, a, b, features=names, context=np.r_[0:3, 4:30:2]).features(a, b, names)
    monkeypatch.setattr(_prior._gram, "BAND_BYTES", 8 * 30 * 4)
    banded = pair_prior(m, a, b, features=names, context=np.r_[0:3, 4:30:2]).features(a, b, names)
    np.testing.assert_allclose(banded, whole, atol=1e-6)
