from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from scipy.special import ndtr

import cnnc
from cnnc._metrics import auroc
from cnnc.tl._function import _features_only, _soft_max_mean, _top_k_mean, gene_sets_dict, read_gmt

IFN = "HALLMARK_INTERFERON_ALPHA_RESPONSE"


@pytest.fixture
def hallmark_human(shared_data) -> dict[str, list[str]]:
    return read_gmt(shared_data / "genesets" / "hallmark.human.gmt")


@pytest.fixture(scope="module")
def _pbmc() -> ad.AnnData:
    return sc.datasets.pbmc68k_reduced()


@pytest.fixture
def pbmc(_pbmc) -> ad.AnnData:
    return _pbmc.copy()


@pytest.fixture(scope="module")
def mesc() -> ad.AnnData:
    return cnnc.datasets.beeline("mESC", "Specific", 500)


def test_read_gmt_reads_hallmark(shared_data):
    sets = read_gmt(shared_data / "genesets" / "hallmark.human.gmt")
    assert len(sets) == 50
    assert sum(len(v) for v in sets.values()) == 7322  # memberships, as the data README counts them
    assert "ISG15" in sets[IFN]
    assert not any(g.startswith("http") for g in sets[IFN])  # the description column is not a gene


def test_gene_set_formats_agree(shared_data, hallmark_human):
    path = shared_data / "genesets" / "hallmark.human.gmt"
    frame = pd.DataFrame(
        [(s, g, 1.0) for s, genes in hallmark_human.items() for g in genes], columns=["source", "target", "weight"]
    )
    from_path, from_str, from_frame = gene_sets_dict(path), gene_sets_dict(str(path)), gene_sets_dict(frame)
    assert from_path == from_str == hallmark_human
    assert {k: sorted(v) for k, v in from_frame.items()} == {k: sorted(v) for k, v in hallmark_human.items()}


def test_writes_scores_members_and_params(pbmc, shared_data):
    cnnc.tl.assign_function(pbmc, shared_data / "genesets" / "hallmark.human.gmt")
    scores = pbmc.varm["cnnc_function"]
    store = pbmc.uns["cnnc_function"]
    assert isinstance(scores, pd.DataFrame)
    assert list(scores.index) == list(pbmc.var_names)
    assert IFN in scores.columns
    members = store["members"]
    assert members.shape == scores.shape and members.dtypes.eq(bool).all()
    # members are the set's genes in the data: IFITM3 and IRF7 are interferon-alpha genes, CD3D is not
    assert members.loc["IRF7", IFN] and members.loc["IFITM3", IFN] and not members.loc["CD3D", IFN]
    assert store["sets"].loc[IFN, "n_members"] == members[IFN].sum()
    params = store["params"]
    assert params["model"] == "cnnc-pairs"  # the model the function benchmark measured
    assert params["aggregate"] == "softmax" and params["temperature"] == 0.5 and params["use_raw"] is True
    assert params["signed"] is False and params["reads_images"] is False  # its features read the sign; exact
    assert params["hub_correction"] == 0.25
    # sets with fewer than min_size members in the data are reported but not scored
    skipped = store["sets"].index[~store["sets"]["scored"]]
    assert len(skipped) > 0 and not set(skipped) & set(scores.columns)
    assert np.isfinite(scores.to_numpy()).all()


def test_hidden_interferon_members_rank_high(pbmc, hallmark_human):
    """Hide a third of the interferon-alpha members: the rest find them far better than chance."""
    names = pd.Index(pbmc.raw.var_names)
    members = [g for g in hallmark_human[IFN] if g in names]
    rng = np.random.default_rng(0)
    hidden = set(rng.choice(members, len(members) // 3, replace=False))
    known = [g for g in members if g not in hidden]
    cnnc.tl.assign_function(pbmc, {"ifn": known})
    score = pbmc.varm["cnnc_function"]["ifn"]
    candidates = score.drop(index=known)
    assert auroc(candidates.index.isin(list(hidden)), candidates.to_numpy()) > 0.7  # chance: 0.5


def test_members_are_scored_leave_self_out(pbmc):
    """A member's score ignores its own (non-existent) self pair: adding a gene to the set leaves its score."""
    base = ["IRF7", "IFITM1", "BST2", "ISG20", "IFITM3", "LY6E", "IFI30"]
    cnnc.tl.assign_function(pbmc, {"a": base, "b": [*base, "GBP2"]}, min_size=3)
    score = pbmc.varm["cnnc_function"]
    assert score.loc["GBP2", "a"] == pytest.approx(score.loc["GBP2", "b"])
    assert score.loc["IRF7", "a"] != pytest.approx(score.loc["IRF7", "b"])


def test_top_k_mean():
    block = np.array([[1.0, 5.0, np.nan, 3.0], [np.nan, np.nan, np.nan, np.nan], [2.0, -1.0, np.nan, np.nan]])
    np.testing.assert_allclose(_top_k_mean(block, 2), [4.0, np.nan, 0.5])
    np.testing.assert_allclose(_top_k_mean(block, None), [3.0, np.nan, 0.5])


def test_context_method_and_top_k_none_is_mean_context_z(pbmc):
    sets = {"ifn": ["IRF7", "IFITM1", "BST2", "ISG20", "IFITM3"]}
    cnnc.tl.assign_function(
        pbmc, sets, method="context", aggregate="top_k", top_k=None, signed=False, hub_correction=0, key_added="ctx"
    )
    from cnnc._prior import ContextStatistics

    stats = ContextStatistics.from_matrix(pbmc.raw.X)
    pos = pbmc.raw.var_names.get_indexer(sets["ifn"])
    gene = int(pbmc.raw.var_names.get_loc("FCGR3A"))
    expected = stats.features(np.full(len(pos), gene), pos, ("z_context",))[:, 0].mean()
    assert pbmc.varm["ctx"].loc["FCGR3A", "ifn"] == pytest.approx(expected, rel=1e-4)
    assert pbmc.uns["ctx"]["params"]["method"] == "context" and pbmc.uns["ctx"]["params"]["model"] == ""


def test_soft_max_mean_against_logsumexp():
    from scipy.special import logsumexp

    rng = np.random.default_rng(0)
    block = rng.normal(size=(6, 9))
    block[0, [1, 4]] = np.nan
    block[3] = np.nan
    out = _soft_max_mean(block, 0.5)
    for i, row in enumerate(block):
        row = row[np.isfinite(row)]
        expected = 0.5 * (logsumexp(row / 0.5) - np.log(len(row))) if len(row) else np.nan
        np.testing.assert_allclose(out[i], expected, rtol=1e-12)
    finite = np.where(np.isfinite(block), block, np.nan)
    # a soft maximum: between the mean and the maximum, the maximum as T -> 0 and the mean as T -> inf
    ok = ~np.isnan(out)
    assert (out[ok] <= np.nanmax(finite[ok], 1) + 1e-12).all() and (out[ok] >= np.nanmean(finite[ok], 1)).all()
    np.testing.assert_allclose(_soft_max_mean(block, 1e-3)[ok], np.nanmax(finite[ok], 1), atol=0.01)
    np.testing.assert_allclose(_soft_max_mean(block, 1e4)[ok], np.nanmean(finite[ok], 1), atol=1e-3)
    # huge values do not overflow
    assert np.isfinite(_soft_max_mean(np.array([[800.0, 790.0]]), 0.5)).all()


def test_default_pair_scores_are_the_models_predicted_interactions(pbmc):
    """With one member, a gene's score is its pair's log-odds of interaction, as predict_interactions gives it."""
    targets = ["CFD", "FCGR3A", "IFITM2", "CD3D", "LYZ"]
    cnnc.tl.predict_interactions(pbmc, tfs=["IRF7"], targets=targets, key_added="net")
    edges = cnnc.get.edges(pbmc, key="net").set_index("target")
    expected = np.log((1 - edges["p_none"]) / edges["p_none"])
    cnnc.tl.assign_function(pbmc, {"s": ["IRF7"]}, min_size=1, hub_correction=0)
    got = pbmc.varm["cnnc_function"]["s"]
    np.testing.assert_allclose(got[targets].to_numpy(), expected[targets].to_numpy(), rtol=1e-4, atol=1e-5)
    assert np.isnan(got["IRF7"])  # the member has no other member to be scored against


def test_hub_correction_subtracts_each_genes_score_against_all_genes(pbmc):
    """A set of every gene scores each gene leave-self-out against all others: the hub term, uncorrected."""
    genes = pbmc.raw.var_names.tolist()
    sets = {"ifn": ["IRF7", "IFITM1", "BST2", "ISG20", "IFITM3", "LY6E"], "all": genes}
    cnnc.tl.assign_function(pbmc, sets, hub_correction=0, key_added="raw")
    cnnc.tl.assign_function(pbmc, {"ifn": sets["ifn"]}, key_added="hub")
    raw, hub = pbmc.varm["raw"], pbmc.varm["hub"]["ifn"]
    np.testing.assert_allclose(hub, raw["ifn"] - 0.25 * raw["all"], rtol=1e-5, atol=1e-5)
    assert pbmc.uns["raw"]["params"]["hub_correction"] == 0.0


def test_which_models_are_scored_exactly():
    # cnnc-pairs reads images only to split the direction: its evidence of an interaction is feature-only
    assert _features_only(cnnc.models.load("cnnc-pairs"))
    assert _features_only(cnnc.models.load("cnnc-context"))
    assert not _features_only(cnnc.models.load("cnnc-original"))


def test_aggregate_top_k_is_the_mean_of_the_strongest_links(pbmc):
    sets = {"ifn": ["IRF7", "IFITM1", "BST2", "ISG20", "IFITM3", "LY6E"]}
    cnnc.tl.assign_function(pbmc, sets, aggregate="top_k", top_k=2, hub_correction=0, key_added="top")
    cnnc.tl.assign_function(pbmc, sets, aggregate="softmax", temperature=1e-3, hub_correction=0, key_added="max")
    cnnc.tl.assign_function(pbmc, sets, aggregate="top_k", top_k=1, hub_correction=0, key_added="one")
    top, best = pbmc.varm["top"]["ifn"], pbmc.varm["one"]["ifn"]
    np.testing.assert_allclose(pbmc.varm["max"]["ifn"], best, atol=0.01)  # T -> 0: the strongest link
    assert (top <= best + 1e-6).all() and not np.allclose(top, best)
    assert pbmc.uns["top"]["params"]["aggregate"] == "top_k" and pbmc.uns["top"]["params"]["top_k"] == 2


def test_mouse_sets_match_upper_case_beeline(mesc, shared_data):
    """BEELINE writes mouse symbols in upper case; Hallmark mouse in MGI case: matching ignores case."""
    adata = mesc.copy()
    cnnc.tl.assign_function(adata, shared_data / "genesets" / "hallmark.mouse.gmt", min_size=10)
    store = adata.uns["cnnc_function"]
    assert store["sets"]["scored"].sum() == 34  # sets with >= 10 members in mESC TFs+500 (data README)
    assert adata.varm["cnnc_function"].shape == (adata.n_vars, 34)


def test_copy_leaves_input(pbmc):
    out = cnnc.tl.assign_function(pbmc, {"ifn": ["IRF7", "IFITM1", "BST2", "ISG20", "IFITM3"]}, copy=True)
    assert "cnnc_function" in out.varm and "cnnc_function" not in pbmc.varm


def test_image_model_reads_only_candidates(pbmc):
    sets = {"ifn": ["IRF7", "IFITM1", "BST2", "ISG20", "IFITM3", "LY6E"]}
    cnnc.tl.assign_function(pbmc, sets, model="cnnc-original", n_candidates=8, max_members=3, key_added="img")
    score = pbmc.varm["img"]["ifn"]
    assert score.notna().sum() == 8 + len(sets["ifn"])
    assert score[sets["ifn"]].notna().all()
    assert pbmc.uns["img"]["params"]["reads_images"] is True


@pytest.mark.parametrize(
    ("gene_sets", "error", "match"),
    [
        (42, TypeError, "Unknown gene set format"),
        ({}, ValueError, "No gene set given"),
        ({"a": [], "b": []}, ValueError, "Every gene set is empty"),
        ({"a": "IRF7"}, ValueError, "is a string"),
        ({"a": ["NOTAGENE1", "NOTAGENE2"]}, ValueError, "No member of any gene set is in the data"),
        ({"a": ["IRF7", "BST2"]}, ValueError, "lower min_size"),
        (pd.DataFrame({"x": ["a"], "y": ["IRF7"]}), ValueError, "'source'"),
        ("/no/such/file.gmt", FileNotFoundError, "does not exist"),
    ],
)
def test_clear_errors(pbmc, gene_sets, error, match):
    with pytest.raises(error, match=match):
        cnnc.tl.assign_function(pbmc, gene_sets)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"top_k": 0}, "top_k"),
        ({"method": "x"}, "method"),
        ({"aggregate": "max"}, "aggregate"),
        ({"temperature": 0}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"signed": "yes"}, "signed"),
        ({"hub_correction": -0.1}, "hub_correction"),
        ({"signed": True}, "carry the sign"),  # the default model's features read the sign already
        ({"cv_folds": 1}, "cv_folds"),
        ({"cv_folds": -1}, "cv_folds"),
        ({"method": "propagation", "cv_folds": 0}, "out of fold"),
        ({"method": "propagation", "temperature": 1.0}, "temperature"),  # propagation aggregates nothing
        ({"method": "combined", "model": "cnnc-original"}, "every gene pair scored"),
    ],
)
def test_bad_options(pbmc, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cnnc.tl.assign_function(pbmc, {"ifn": ["IRF7", "IFITM1", "BST2", "ISG20", "IFITM3"]}, **kwargs)


def test_unmatched_members_are_logged(pbmc, monkeypatch):
    from cnnc.tl import _function

    messages = []
    monkeypatch.setattr(_function.logg, "info", lambda msg, *args, **kwargs: messages.append(msg))
    cnnc.tl.assign_function(pbmc, {"ifn": ["IRF7", "IFITM1", "BST2", "ISG20", "IFITM3", "NOTAGENE1"]})
    assert any("NOTAGENE1" in m for m in messages)
    table = pbmc.uns["cnnc_function"]["sets"]
    assert table.loc["ifn", "n_members"] == 5 and table.loc["ifn", "n_unmatched"] == 1


def test_random_walk_is_the_closed_form():
    """Iterated walk = restart · (I - (1 - restart) W)^-1 s on a small graph (W column-normalised)."""
    from cnnc.tl import _function_methods as fm

    rng = np.random.default_rng(0)
    score = rng.normal(size=(30, 30))
    score = score + score.T
    np.fill_diagonal(score, np.nan)
    graph = fm.knn_graph(lambda rows: score[rows], 30, k=4, rows_per_block=7)
    dense = graph.toarray()
    assert np.array_equal(dense, dense.T) and (dense.sum(0) >= 4).all() and not np.diag(dense).any()
    seeds = np.zeros((30, 2))
    seeds[[1, 5, 7], 0], seeds[[2, 3], 1] = 1.0, 1.0
    walk = fm.random_walk(graph, seeds, restart=0.3)
    operator = 0.3 * np.linalg.inv(np.eye(30) - 0.7 * dense / dense.sum(0))
    np.testing.assert_allclose(walk, operator @ (seeds / seeds.sum(0)), rtol=1e-4)
    assert np.allclose(walk.sum(0), 1.0)


def test_reliability_is_the_mean_held_out_percentile():
    from cnnc.tl import _function_methods as fm

    score = np.arange(10.0)  # gene i scores i
    members = np.array([9, 8, 0])
    pct = fm.held_out_percentiles(score, members, np.arange(1, 8))
    np.testing.assert_allclose(pct, [1.0, 1.0, 0.0])
    value, p = fm.reliability(pct)
    assert value == pytest.approx(2 / 3)
    assert p == pytest.approx(1 - ndtr((2 / 3 - 0.5) * np.sqrt(36)))
    assert np.isnan(fm.reliability(np.array([]))[0])


@pytest.mark.parametrize("method", ["model", "propagation", "combined"])
def test_hidden_interferon_members_rank_high_every_method(pbmc, hallmark_human, method):
    """The new methods find hidden interferon-alpha members as guilt by association does, and report reliability."""
    names = pd.Index(pbmc.raw.var_names)
    members = [g for g in hallmark_human[IFN] if g in names]
    hidden = set(np.random.default_rng(0).choice(members, len(members) // 3, replace=False))
    known = [g for g in members if g not in hidden]
    random = list(np.random.default_rng(1).choice(names, 12, replace=False))
    cnnc.tl.assign_function(pbmc, {"ifn": known, "all ifn": members, "random": random}, method=method)
    score = pbmc.varm["cnnc_function"]["ifn"]
    candidates = score.drop(index=known)
    found = auroc(candidates.index.isin(list(hidden)), candidates.to_numpy())
    assert found > (0.6 if method == "propagation" else 0.7)  # chance: 0.5; the walk alone finds fewer here
    sets = pbmc.uns["cnnc_function"]["sets"]
    assert np.isfinite(sets["cv_auroc"]).all() and sets["cv_pvalue"].between(0, 1).all()
    if method != "propagation":  # the walk alone does not find the 15 members again at p < 0.05 (0.58, p = 0.14)
        assert sets.loc["all ifn", "reliable"] and sets.loc["all ifn", "cv_auroc"] > 0.65
    assert not sets.loc["random", "reliable"] and sets.loc["random", "cv_pvalue"] >= 0.05
    assert pbmc.uns["cnnc_function"]["params"]["cv_folds"] == 3
    assert np.isfinite(score.loc[known]).all()  # members scored out of fold (walks) or leave-self-out


def test_reliability_column_is_the_cross_validated_auroc(pbmc):
    """cv_auroc equals hiding each fold of members in turn and ranking it against the non-members by hand."""
    from cnnc.tl import _function_methods as fm

    known = ["IRF7", "IFITM1", "BST2", "ISG20", "IFITM3", "LY6E", "IFI30", "CD74", "HLA-DRA"]
    cnnc.tl.assign_function(pbmc, {"s": known})
    table = pbmc.uns["cnnc_function"]["sets"]
    names = pd.Index(pbmc.raw.var_names)
    mem = np.sort(names.get_indexer(known))
    folds = fm.fold_ids(len(mem), 3, np.random.default_rng(0))
    outside = ~names.isin(known)
    pct = []
    for f in range(3):
        cnnc.tl.assign_function(pbmc, {"f": names[mem[folds != f]].tolist()}, min_size=1, cv_folds=0, key_added="f")
        score = pbmc.varm["f"]["f"].to_numpy()
        for g in mem[folds == f]:
            pct.append(np.mean(score[g] > score[outside]) + 0.5 * np.mean(score[g] == score[outside]))
    assert table.loc["s", "cv_auroc"] == pytest.approx(np.mean(pct))


def test_propagation_members_are_scored_out_of_fold(pbmc):
    """A member's walk score comes from the other folds: adding it to the set leaves a non-member's order alone."""
    base = ["IRF7", "IFITM1", "BST2", "ISG20", "IFITM3", "LY6E", "IFI30"]
    cnnc.tl.assign_function(pbmc, {"a": base}, method="propagation")
    score = pbmc.varm["cnnc_function"]["a"]
    full = score.drop(index=base)
    assert np.isfinite(score.loc[base]).all()
    # members do not get the walk's restart mass: they rank among the other genes, not all on top
    assert (score.loc[base] < full.max()).any()


def test_soft_max_subsets_is_the_soft_max_of_each_subset():
    from cnnc.tl import _function_methods as fm

    rng = np.random.default_rng(0)
    block = rng.normal(scale=20, size=(50, 9)).astype(np.float32)
    block[3, :] = np.nan
    block[5, [0, 1, 2]] = np.nan
    keep = np.column_stack([np.ones(9, bool), np.arange(9) % 3 != 0, np.arange(9) >= 3])
    got = fm.soft_max_subsets(block, keep, 0.5)
    for j in range(keep.shape[1]):
        np.testing.assert_allclose(got[:, j], _soft_max_mean(block[:, keep[:, j]].astype(np.float64), 0.5), rtol=1e-6)
    assert np.isnan(got[3]).all()


def test_settings_object_and_former_keywords_give_the_same_scores(pbmc):
    """The grouped settings and the former keywords (with a FutureWarning naming the replacement) run the same."""
    sets = {"ifn": ["IRF7", "IFITM1", "BST2", "ISG20", "IFITM3"]}
    settings = cnnc.tl.FunctionSettings(aggregate="top_k", top_k=2, hub_correction=0.5)
    cnnc.tl.assign_function(pbmc, sets, settings=settings, key_added="new")
    with pytest.warns(FutureWarning, match=r"settings=cnnc.tl.FunctionSettings\(aggregate='top_k', top_k=2"):
        cnnc.tl.assign_function(pbmc, sets, aggregate="top_k", top_k=2, hub_correction=0.5, key_added="old")
    pd.testing.assert_frame_equal(pbmc.varm["new"], pbmc.varm["old"])
    assert pbmc.uns["new"]["params"] == pbmc.uns["old"]["params"]
    assert pbmc.uns["new"]["params"]["hub_correction"] == 0.5 and pbmc.uns["new"]["params"]["top_k"] == 2
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        cnnc.tl.assign_function(pbmc, sets, hub=0.5)
    with pytest.raises(TypeError, match="must be a cnnc.tl.FunctionSettings"):
        cnnc.tl.assign_function(pbmc, sets, settings={"hub_correction": 0.5})
    with pytest.raises(ValueError, match="temperature"):
        cnnc.tl.FunctionSettings(temperature=0)
    assert cnnc.tl.FunctionSettings(temperature=np.float32(0.5)).changed() == {}
