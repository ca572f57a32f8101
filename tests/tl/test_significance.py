"""Edge significance: p-values from a null of independently permuted genes, Benjamini–Hochberg q-values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from scipy import sparse

import cnnc
from cnnc._evidence import keep_min_cells, pair_evidence
from cnnc._significance import add_significance, benjamini_hochberg, pvalues
from cnnc.tl._regulators import species_tfs


@pytest.fixture(scope="module")
def pbmc():
    return sc.datasets.pbmc68k_reduced()


def _tf_pairs(adata):
    names = adata.raw.var_names
    reg = np.flatnonzero(names.isin(species_tfs("human", names)))
    a = np.repeat(reg, len(names))
    b = np.tile(np.arange(len(names)), len(reg))
    return a[a != b], b[a != b]


def _significant(matrix, a, b, min_cells=10):
    """The q-values of the TF pairs of ``matrix`` as predict_interactions computes them (min_cells floor first)."""
    corr, both = pair_evidence(matrix, a, b)
    keep = keep_min_cells(both, min_cells)
    edges = pd.DataFrame({"corr": corr[keep]})
    return add_significance(edges, matrix, a[keep], b[keep], min_cells=min_cells)["qvalue"].to_numpy()


def _shuffle_each_gene(matrix, seed):
    """Each gene's cells permuted independently: every association broken, every gene's distribution kept."""
    rng = np.random.default_rng(seed)
    x = sparse.csc_matrix(matrix, copy=True)
    for j in range(x.shape[1]):
        lo, hi = x.indptr[j], x.indptr[j + 1]
        x.indices[lo:hi] = rng.choice(x.shape[0], hi - lo, replace=False)
    x.has_sorted_indices = False
    x.sort_indices()
    return x.tocsr()


def test_benjamini_hochberg_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.5])
    # sorted 0.01, 0.03, 0.04, 0.5 → 0.04, 0.06, 0.0533, 0.5 → running minimum from the top
    assert np.allclose(benjamini_hochberg(p), [0.04, 0.0533333, 0.0533333, 0.5])
    assert benjamini_hochberg(np.array([])).shape == (0,)


def test_pvalues_count_null_values_at_least_as_large():
    null = np.sort(np.array([0.5, 1.0, 2.0, 3.0]))
    assert np.allclose(pvalues(np.array([0.1, 2.0, 9.0]), null), [5 / 5, 3 / 5, 1 / 5])


def test_calibrated_when_every_gene_is_shuffled(pbmc):
    """With no association left, at most 1% of edges reach q < 0.05 (BH under the global null: usually none)."""
    a, b = _tf_pairs(pbmc)
    for seed in (0, 1, 2):
        q = _significant(_shuffle_each_gene(pbmc.raw.X, seed), a, b)
        assert len(q) > 10_000
        assert (q < 0.05).mean() <= 0.01, f"seed {seed}: {(q < 0.05).mean():.2%} of shuffled edges at q < 0.05"


def test_real_pbmc_associations_are_significant(pbmc):
    a, b = _tf_pairs(pbmc)
    q = _significant(pbmc.raw.X, a, b)
    assert (q < 0.05).sum() >= 50


@pytest.mark.slow
def test_predict_interactions_writes_pvalue_and_qvalue(pbmc):
    adata = pbmc.copy()
    cnnc.tl.predict_interactions(adata, tfs="human")
    table = cnnc.get.edges(adata)
    assert {"pvalue", "qvalue"} <= set(table.columns)
    assert table["pvalue"].between(0, 1).all() and (table["qvalue"] >= table["pvalue"]).all()
    kept = cnnc.get.edges(adata, max_q=0.05)
    assert len(kept) >= 50 and (kept["qvalue"] <= 0.05).all()
    net = cnnc.get.edges(adata, max_q=0.05, network=True)
    assert list(net.columns) == ["source", "target", "weight"] and len(net) == len(kept)
    with pytest.raises(ValueError, match="max_q"):
        cnnc.get.edges(adata, max_q=0)


def test_null_shuffle_keeps_each_column_and_draws_cells_uniformly():
    """The permutation null moves each column's values to distinct, uniformly drawn cells (sparse and full columns)."""
    from cnnc._significance import _shuffle_columns

    rng = np.random.default_rng(1)
    dense = np.zeros((40, 3))
    dense[:5, 0] = np.arange(1, 6)  # sparse column: drawn with rejection
    dense[:30, 1] = np.arange(1, 31)  # column in over a quarter of the cells: one permutation
    x = sparse.csc_matrix(dense)
    hits = np.zeros((40, 2))
    for _ in range(2000):
        y = _shuffle_columns(x, rng)
        for j in range(3):
            cells = y.indices[y.indptr[j] : y.indptr[j + 1]]
            assert len(np.unique(cells)) == len(cells) == x.indptr[j + 1] - x.indptr[j]
            assert sorted(y.data[y.indptr[j] : y.indptr[j + 1]]) == sorted(x.data[x.indptr[j] : x.indptr[j + 1]])
        for j in range(2):
            hits[y.indices[y.indptr[j] : y.indptr[j + 1]], j] += 1
    np.testing.assert_allclose(hits[:, 0] / 2000, 5 / 40, atol=0.03)
    np.testing.assert_allclose(hits[:, 1] / 2000, 30 / 40, atol=0.04)


def test_null_shuffle_in_blocks_of_columns_keeps_columns_and_draws_uniformly(monkeypatch):
    """Columns are redrawn a block of stored values at a time (bounded memory): same guarantees as all at once."""
    import cnnc._significance as significance

    monkeypatch.setattr(significance, "NULL_BLOCK_ENTRIES", 7)  # blocks of one or two columns
    rng = np.random.default_rng(2)
    dense = np.zeros((40, 6))
    for j in range(6):
        dense[: 3 + j, j] = np.arange(1, 4 + j)
    dense[:35, 3] = np.arange(1, 36)  # a full column among the sparse ones
    x = sparse.csc_matrix(dense)
    hits = np.zeros(40)
    for _ in range(1000):
        y = significance._shuffle_columns(x, rng)
        assert y.has_sorted_indices and y.nnz == x.nnz
        for j in range(6):
            cells = y.indices[y.indptr[j] : y.indptr[j + 1]]
            assert len(np.unique(cells)) == len(cells) == x.indptr[j + 1] - x.indptr[j]
            assert sorted(y.data[y.indptr[j] : y.indptr[j + 1]]) == sorted(x.data[x.indptr[j] : x.indptr[j + 1]])
        hits[y.indices[y.indptr[5] : y.indptr[6]]] += 1
    np.testing.assert_allclose(hits / 1000, 8 / 40, atol=0.05)


def test_null_evidence_dense_path_matches_the_streaming_pass():
    """Small permuted copies take dense products: the same correlations and co-detections as the sparse pass."""
    from cnnc._significance import _null_evidence

    rng = np.random.default_rng(3)
    values = rng.poisson(0.7, size=(80, 12)).astype(float)
    values[:, 4] = 0.0  # a constant gene: correlation 0 in both paths
    x = sparse.csc_matrix(values)
    pa, pb = rng.integers(0, 12, 40), rng.integers(0, 12, 40)
    corr, both = _null_evidence(x, pa, pb, 256)
    ref_corr, ref_both = pair_evidence(x, pa, pb)
    np.testing.assert_allclose(corr, ref_corr, atol=1e-6)
    np.testing.assert_array_equal(both, ref_both)
