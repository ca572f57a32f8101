"""Context statistics over a subset of genes (whole transcriptomes), on real PBMCs."""

import numpy as np
import pytest
import scanpy as sc
from scipy import stats

import cnnc
from cnnc import _context
from cnnc._context import SubsetContextStatistics, context_statistics
from cnnc._features import ContextStatistics


@pytest.fixture(scope="module")
def pbmc():
    return sc.datasets.pbmc68k_reduced()


def test_a_context_of_every_gene_gives_the_exact_features(pbmc):
    x = pbmc.raw.X
    n = x.shape[1]
    exact = ContextStatistics.from_matrix(x)
    subset = SubsetContextStatistics.from_matrix(x, np.arange(10), n_variable=n, chunk_cells=123)
    a, b = np.repeat(np.arange(10), n), np.tile(np.arange(n), 10)
    keep = a != b
    for p, q in ((a[keep], b[keep]), (b[keep], a[keep])):  # either gene of a pair may be the context gene
        np.testing.assert_allclose(subset.features(p, q), exact.features(p, q), atol=2e-4)


def test_the_context_is_the_most_variable_genes_and_the_regulators(pbmc):
    x = pbmc.raw.X.toarray()
    must = np.array([3, 700])
    s = SubsetContextStatistics.from_matrix(x, must, n_variable=50)
    top = np.argsort(-x.var(axis=0), kind="stable")
    expected = np.union1d(must, top[~np.isin(top, must)][:50])
    np.testing.assert_array_equal(s.context, expected)
    # a gene's mean |Pearson| is over the context genes, itself left out
    g = 10
    others = expected[expected != g]
    r = np.abs([stats.pearsonr(x[:, g], x[:, c])[0] for c in others])
    assert s.mean[g] == pytest.approx(np.nanmean(r), abs=1e-5)


def test_prediction_beyond_the_gene_limit_uses_a_context_subset(pbmc, monkeypatch, caplog):
    tfs = ["SPI1", "IRF8", "GATA3", "JUNB"]
    exact = pbmc.copy()
    cnnc.tl.predict_interactions(exact, model="cnnc-context", tfs=tfs, min_cells=0)
    monkeypatch.setattr(_context, "SUBSET_ABOVE", 500)  # the raw PBMC data have 765 genes
    monkeypatch.setattr(_context, "CONTEXT_VARIABLE_GENES", 300)
    sc.settings.verbosity = 2
    subset = pbmc.copy()
    cnnc.tl.predict_interactions(subset, model="cnnc-context", tfs=tfs, min_cells=0)
    e, s = cnnc.get.edges(exact), cnnc.get.edges(subset)
    merged = e.merge(s, on=["regulator", "target"], suffixes=("_e", "_s"))
    assert len(merged) == len(e) == len(s)
    rho = stats.spearmanr(merged["score_e"], merged["score_s"])[0]
    assert rho > 0.9  # the ranking barely moves with 300 of 765 genes as context
    assert not np.allclose(merged["score_e"], merged["score_s"])  # ... but the subset path did run


def test_too_many_regulators_for_a_context(pbmc, monkeypatch):
    monkeypatch.setattr(_context, "SUBSET_ABOVE", 5)
    monkeypatch.setattr(_context, "MAX_CONTEXT_GENES", 5)
    with pytest.raises(ValueError, match="more than the 5 context genes.*batches of tfs"):
        context_statistics(pbmc.raw.X, np.arange(6))
