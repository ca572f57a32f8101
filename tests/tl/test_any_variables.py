"""Pair images of any measured variables: the rank and standard recipes, on real protein data (Sachs et al.)."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from scipy import sparse, stats

import cnnc
from cnnc._engine._params import PairImageParams
from cnnc._scoring import ClusterImager
from cnnc.tl import pair_histograms

PAIRS = [("praf", "pmek"), ("PKA", "P38"), ("PIP3", "plcg")]


@pytest.fixture(scope="module")
def sachs_raw():
    return cnnc.datasets.sachs()


@pytest.fixture
def sachs(sachs_raw):
    return sachs_raw.copy()


def reference(xa, xb, bins, scaling):
    if scaling == "rank":
        xa = (stats.rankdata(xa) - 0.5) / len(xa)
        xb = (stats.rankdata(xb) - 0.5) / len(xb)
    else:
        xa = (xa - xa.mean()) / xa.std()
        xb = (xb - xb.mean()) / xb.std()
    counts = np.histogram2d(xa, xb, bins=bins)[0]
    return ((np.log10(counts.T / len(xa) + 1e-4) + 4) / 4).astype(np.float32)


@pytest.mark.parametrize("scaling", ["rank", "standard"])
def test_recipes_match_numpy_on_sachs(sachs, scaling):
    pair_histograms(sachs, PAIRS, scaling=scaling, bins=16)
    store = sachs.uns["cnnc"]
    assert store["params"]["scaling"] == scaling and store["histograms"].shape == (3, 16, 16)
    x = sachs.X.astype(np.float64)
    for k, (a, b) in enumerate(PAIRS):
        want = reference(x[:, sachs.var_names.get_loc(a)], x[:, sachs.var_names.get_loc(b)], 16, scaling)
        np.testing.assert_allclose(store["histograms"][k], want, atol=1e-6)
    if scaling == "rank":  # bins are quantiles: about n / 16 cells in each bin of each variable
        codes = sachs.obsm["cnnc_bins"].to_numpy()
        per_bin = np.apply_along_axis(np.bincount, 0, codes, minlength=16)
        assert per_bin.min() > 0.8 * sachs.n_obs / 16 and per_bin.max() < 1.2 * sachs.n_obs / 16


def test_rank_images_ignore_increasing_transforms(sachs):
    logged = cnnc.datasets.sachs(log=True)
    pair_histograms(sachs, PAIRS, scaling="rank")
    pair_histograms(logged, PAIRS, scaling="rank")
    np.testing.assert_array_equal(sachs.uns["cnnc"]["histograms"], logged.uns["cnnc"]["histograms"])
    pair_histograms(logged, PAIRS)  # the log recipe is not invariant: it sees other values
    assert not np.array_equal(sachs.uns["cnnc"]["histograms"], logged.uns["cnnc"]["histograms"])


def test_negative_values_need_a_recipe_for_any_variable(sachs):
    sc.pp.log1p(sachs)
    sc.pp.scale(sachs)  # z-scores: negative values
    with pytest.raises(ValueError, match='has negative values.*scaling="rank"'):
        pair_histograms(sachs, PAIRS)
    assert "cnnc" not in sachs.uns
    pair_histograms(sachs, PAIRS, scaling="rank")
    unscaled = cnnc.datasets.sachs()
    pair_histograms(unscaled, PAIRS, scaling="rank")
    np.testing.assert_array_equal(sachs.uns["cnnc"]["histograms"], unscaled.uns["cnnc"]["histograms"])


def test_recipes_refuse_values_they_cannot_read(sachs):
    bad = sachs.copy()
    bad.X[5, 0] = np.nan
    with pytest.raises(ValueError, match="Variable 'praf' contains NaN or infinite values"):
        pair_histograms(bad, PAIRS, scaling="rank")
    constant = sachs.copy()
    constant.X[:, 1] = 3.0
    with pytest.raises(ValueError, match="Variable 'pmek' is constant.*'rank' recipe"):
        pair_histograms(constant, PAIRS, scaling="standard")
    pair_histograms(constant, PAIRS, scaling="rank")  # a constant variable fills one row of bins
    image = constant.uns["cnnc"]["histograms"][0]
    assert (image.sum(axis=1) > 0).sum() == 1
    with pytest.raises(ValueError, match="scaling must be one of"):
        pair_histograms(sachs, PAIRS, scaling="quantile")
    with pytest.raises(ValueError, match="distributed=False"):
        ClusterImager(None, sachs.X, np.arange(3), PairImageParams(scaling="rank"))


def test_sparse_and_dense_agree_with_negative_values():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 4)) * (rng.random((300, 4)) < 0.5)
    dense = ad.AnnData(x.astype(np.float32), var=pd.DataFrame(index=list("abcd")))
    sp = ad.AnnData(sparse.csr_matrix(x.astype(np.float32)), var=pd.DataFrame(index=list("abcd")))
    for scaling in ("rank", "standard"):
        pair_histograms(dense, [("a", "b"), ("c", "d")], scaling=scaling, bins=8)
        pair_histograms(sp, [("a", "b"), ("c", "d")], scaling=scaling, bins=8)
        np.testing.assert_array_equal(dense.uns["cnnc"]["histograms"], sp.uns["cnnc"]["histograms"])


def test_protein_by_rna_across_modalities_with_ranks():
    rng = np.random.default_rng(1)
    cells = [f"c{i}" for i in range(200)]
    rna = ad.AnnData(np.log1p(rng.poisson(2.0, (200, 2))).astype(np.float32), obs=pd.DataFrame(index=cells))
    rna.var_names = ["Cd3e", "Cd4"]
    prot = ad.AnnData(rng.standard_normal((150, 1)).astype(np.float32), obs=pd.DataFrame(index=cells[50:]))
    prot.var_names = ["CD3_clr"]  # centred log-ratios: negative values
    with md.set_options(pull_on_update=False):
        mdata = md.MuData({"rna": rna, "prot": prot})
    with pytest.raises(ValueError, match="negative values"):
        pair_histograms(mdata, [("CD3_clr", "Cd3e")], mod=("prot", "rna"))
    pair_histograms(mdata, [("CD3_clr", "Cd3e")], mod=("prot", "rna"), scaling="rank", bins=8)
    store = mdata.uns["cnnc"]
    assert store["params"]["n_cells"] == 150
    want = reference(prot.X[:, 0].astype(np.float64), rna[cells[50:], "Cd3e"].X.ravel().astype(np.float64), 8, "rank")
    np.testing.assert_allclose(store["histograms"][0], want, atol=1e-6)


def test_raw_count_check_is_for_expression_models_only(sachs, tiny_model, rank_model):
    counts = sachs.copy()
    counts.X = np.round(counts.X)  # integers up to thousands: looks like raw counts
    pairs = [("praf", "pmek")]
    with pytest.raises(ValueError, match="look like raw counts"):
        cnnc.tl.predict_interactions(counts, model=tiny_model, pairs=[("praf", "pmek")], copy=True)
    out = cnnc.tl.predict_interactions(counts, model=rank_model, pairs=pairs, copy=True)
    edges = out.uns["cnnc"]["edges"]
    assert len(edges) == 1 and np.isclose(edges[["p_none", "p_ab", "p_ba"]].sum(axis=1), 1).all()
    assert out.uns["cnnc"]["params"]["image"]["scaling"] == "rank"


def test_predict_across_modalities_equals_the_joined_anndata(cite, rank_model):
    model = rank_model
    pairs = [("CD3", "Gene0"), ("CD4", "Gene1"), ("CD3", "Gene2")]
    cnnc.tl.predict_interactions(cite, model=model, pairs=pairs, mod=("prot", "rna"))
    edges = cite.uns["cnnc"]["edges"]
    assert set(edges["regulator_mod"]) == {"prot"} and set(edges["target_mod"]) == {"rna"}
    assert cite.uns["cnnc"]["params"]["n_cells"] == 340
    # the same cells and variables in one AnnData give the same probabilities
    common = cite.mod["prot"].obs_names
    joined = ad.AnnData(
        np.hstack([cite.mod["prot"][common].X, cite.mod["rna"][common].X]),
        var=pd.DataFrame(index=["CD3", "CD4", "Gene0", "Gene1", "Gene2"]),
    )
    cnnc.tl.predict_interactions(joined, model=model, pairs=pairs)
    want = joined.uns["cnnc"]["edges"].set_index(["regulator", "target"])
    got = edges.set_index(["regulator", "target"])
    np.testing.assert_allclose(got.loc[pairs, ["p_none", "p_ab", "p_ba"]], want.loc[pairs, ["p_none", "p_ab", "p_ba"]])
    varp = cite.varp["cnnc"]
    i, j = cite.var_names.get_loc("CD3"), cite.var_names.get_loc("Gene0")
    assert np.isclose(varp[i, j], got.loc[("CD3", "Gene0"), "score"])


def test_predict_on_mudata_refusals(cite, tiny_model, rank_model):
    model = rank_model
    with pytest.raises(ValueError, match="needs `mod=`"):
        cnnc.tl.predict_interactions(cite, model=model, pairs=[("CD3", "Gene0")])
    with pytest.raises(ValueError, match="needs the candidate pairs"):
        cnnc.tl.predict_interactions(cite, model=model, mod=("prot", "rna"))
    with pytest.raises(KeyError, match="'Gene0' is not in modality 'prot'"):
        cnnc.tl.predict_interactions(cite, model=model, pairs=[("Gene0", "CD3")], mod=("prot", "rna"))
    with pytest.raises(ValueError, match="negative values"):  # an expression model cannot read CLR proteins
        cnnc.tl.predict_interactions(cite, model=tiny_model, pairs=[("CD3", "Gene0")], mod=("prot", "rna"))
    with pytest.raises(ValueError, match="only for MuData"):
        cnnc.tl.predict_interactions(cite.mod["rna"], model=model, pairs=[("Gene0", "Gene1")], mod="rna")
    assert "cnnc" not in cite.uns
    # tfs of the first modality against every variable of the second
    cnnc.tl.predict_interactions(cite, model=model, tfs=["CD3", "CD4"], mod=("prot", "rna"))
    assert len(cite.uns["cnnc"]["edges"]) == 6


def test_train_a_rank_model_on_sachs(sachs):
    """Training reads non-expression values with a rank recipe, and its spec makes prediction use it."""
    import torch

    torch.set_num_threads(1)
    with pytest.raises(ValueError, match="look like raw counts"):
        rounded = sachs.copy()
        rounded.X = np.round(rounded.X)
        cnnc.tl.train(rounded, rounded.uns["ground_truth"], folds=0, epochs=1, bins=16)
    model = cnnc.tl.train(
        sachs,
        sachs.uns["ground_truth"],
        folds=0,
        epochs=1,
        bins=16,
        scaling="rank",
        architecture={"filters": [4], "dense": 8},
        recipe="cnnc-original",  # images only: context features correlate the values themselves, not their ranks
        random_state=0,
    )
    assert model.spec.image_params.scaling == "rank" and "rank" in model.spec.expects
    logged = cnnc.datasets.sachs(log=True)
    a = cnnc.tl.predict_interactions(sachs, model=model, pairs=PAIRS, copy=True).uns["cnnc"]["edges"]
    b = cnnc.tl.predict_interactions(logged, model=model, pairs=PAIRS, copy=True).uns["cnnc"]["edges"]
    model_columns = ["regulator", "target", "p_none", "p_ab", "p_ba", "score"]  # `corr` is the values' own Pearson
    np.testing.assert_array_equal(a[model_columns].to_numpy(), b[model_columns].to_numpy())


def test_plot_labels_follow_the_recipe(sachs):
    import matplotlib

    matplotlib.use("Agg")
    pair_histograms(sachs, PAIRS, scaling="rank", bins=16)
    ax = cnnc.pl.pair_histogram(sachs, "praf", "pmek", bins="model", show=False)
    assert "rank / n_cells" in ax.get_xlabel() and "log10" not in ax.get_xlabel()
    assert float(ax.get_xticklabels()[0].get_text()) < 0.1  # bin centres are rank fractions in (0, 1)
