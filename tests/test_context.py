"""Context statistics over a subset of genes (whole transcriptomes), on real PBMCs."""

import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from scipy import stats

import cnnc
from cnnc._prior import FEATURES, ContextStatistics, _forms, pair_prior


@pytest.fixture(scope="module")
def pbmc():
    return sc.datasets.pbmc68k_reduced()


def test_a_context_of_every_gene_gives_the_exact_features(pbmc):
    x = pbmc.raw.X
    n = x.shape[1]
    exact = ContextStatistics.from_matrix(x)
    a, b = np.repeat(np.arange(10), n), np.tile(np.arange(n), 10)
    keep = a != b
    for p, q in ((a[keep], b[keep]), (b[keep], a[keep])):  # either gene of a pair may be the context gene
        subset = pair_prior(x, p, q, features=FEATURES, context=np.arange(n), chunk_cells=123)
        np.testing.assert_allclose(subset.features(p, q), exact.features(p, q), atol=2e-4)


def test_the_context_is_the_most_variable_genes_and_the_regulators(pbmc, monkeypatch):
    x = pbmc.raw.X.toarray()
    must = np.array([3, 700])
    monkeypatch.setattr(_forms, "SUBSET_ABOVE", 500)
    monkeypatch.setattr(_forms, "CONTEXT_VARIABLE_GENES", 50)
    a, b = np.array([3, 700, 3]), np.array([10, 10, 700])
    s = pair_prior(x, a, b, features=FEATURES)
    top = np.argsort(-x.var(axis=0), kind="stable")
    expected = np.union1d(must, top[~np.isin(top, must)][:50])
    # a gene's mean |Pearson| is over the context genes, itself left out
    g = 10
    others = expected[expected != g]
    r = np.abs([stats.pearsonr(x[:, g], x[:, c])[0] for c in others])
    assert s.mean["abs_pearson"][g] == pytest.approx(np.nanmean(r), abs=1e-5)


@pytest.mark.parametrize("model", ["cnnc-context", "cnnc-pairs"])
def test_prediction_beyond_the_gene_limit_uses_a_context_subset(pbmc, monkeypatch, model):
    tfs = ["SPI1", "IRF8", "GATA3", "JUNB"]
    exact = pbmc.copy()
    cnnc.tl.predict_interactions(exact, model=model, tfs=tfs, settings=cnnc.tl.ScoringSettings(min_cells=0))
    monkeypatch.setattr(_forms, "SUBSET_ABOVE", 500)  # the raw PBMC data have 765 genes
    monkeypatch.setattr(_forms, "CONTEXT_VARIABLE_GENES", 300)
    subset = pbmc.copy()
    cnnc.tl.predict_interactions(subset, model=model, tfs=tfs, settings=cnnc.tl.ScoringSettings(min_cells=0))
    e, s = cnnc.get.edges(exact), cnnc.get.edges(subset)
    merged = e.merge(s, on=["regulator", "target"], suffixes=("_e", "_s"))
    assert len(merged) == len(e) == len(s)
    rho = stats.spearmanr(merged["score_e"], merged["score_s"])[0]
    assert rho > 0.9  # the ranking barely moves with 300 of 765 genes as context
    assert not np.allclose(merged["score_e"], merged["score_s"])  # ... but the subset path did run
    monkeypatch.undo()
    chosen = pbmc.copy()  # the same context asked for at any gene count
    settings = cnnc.tl.ScoringSettings(min_cells=0, context_genes=300)
    cnnc.tl.predict_interactions(chosen, model=model, tfs=tfs, settings=settings)
    pd.testing.assert_frame_equal(cnnc.get.edges(chosen), s)


def test_too_many_regulators_for_a_context(pbmc, monkeypatch):
    monkeypatch.setattr(_forms, "SUBSET_ABOVE", 5)
    monkeypatch.setattr(_forms, "MAX_CONTEXT_GENES", 5)
    with pytest.raises(ValueError, match="more than the 5 context genes.*batches of tfs"):
        pair_prior(pbmc.raw.X, np.arange(6), np.arange(1, 7), features=FEATURES)
