"""No silent wrong answers: each bad or unusual input gets a clear error or a correct, documented result."""

from __future__ import annotations

import io
import sys

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import torch
from scipy import sparse

import cnnc
from cnnc.models import Model

SMALL = {"filters": [4, 8, 8], "dense": 16}


@pytest.fixture
def log():
    """What cnnc logs (scanpy's logging) during the test."""
    buffer = io.StringIO()
    verbosity = sc.settings.verbosity
    sc.settings.logfile = buffer
    sc.settings.verbosity = 2
    yield buffer
    sc.settings.logfile = sys.stderr
    sc.settings.verbosity = verbosity


@pytest.fixture(scope="module")
def context_model():
    return cnnc.models.load("cnnc-context")


@pytest.fixture(scope="module")
def original_model():
    return cnnc.models.load("cnnc-original")


def _state(adata) -> tuple:
    return (sorted(adata.uns), sorted(adata.varp), sorted(adata.obsm))


UNTOUCHED = (["dataset", "ground_truth"], [], [])  # the GSD's own state: nothing added


# --- raw counts and other non-log values ------------------------------------------------------------------------


def test_shallow_counts_are_refused(gsd, tiny_model):
    rng = np.random.default_rng(0)
    shallow = gsd.copy()
    shallow.X = np.minimum(rng.poisson(np.expm1(gsd.X) * 3), 17).astype(np.float32)  # integers, max 17
    assert 2 <= shallow.X.max() <= 30
    with pytest.raises(ValueError, match="look like raw counts"):
        cnnc.tl.predict_interactions(shallow, model=tiny_model, tfs=["SOX9"])
    assert _state(shallow) == UNTOUCHED


def test_counts_outside_the_candidates_are_refused_when_the_model_reads_every_gene(gsd, tiny_model, context_model):
    mixed = gsd.copy()
    mixed.X[:, 5:] = np.round(np.expm1(mixed.X[:, 5:]) * 50)  # counts in genes that are not scored
    pairs = [(mixed.var_names[0], mixed.var_names[1])]
    cnnc.tl.predict_interactions(mixed, model=tiny_model, pairs=pairs)  # reads only the two genes: fine
    with pytest.raises(ValueError, match=r"look like raw counts \(14 genes hold only integers"):
        cnnc.tl.predict_interactions(mixed, model=context_model, pairs=pairs, key_added="ctx")  # reads every gene
    assert "ctx" not in mixed.uns


def test_boolean_expression_is_refused(gsd, tiny_model):
    boolean = ad.AnnData(gsd.X > 1.0, var=gsd.var)
    with pytest.raises(ValueError, match="boolean"):
        cnnc.tl.predict_interactions(boolean, model=tiny_model, tfs=["SOX9"])


def test_counts_in_raw_name_use_raw_false(gsd, tiny_model):
    adata = gsd.copy()
    counts = adata.copy()
    counts.X = np.round(np.expm1(counts.X) * 20)
    adata.raw = counts  # scanpy's usual layout: log values in .X, counts kept in .raw
    with pytest.raises(ValueError, match="use_raw=False"):
        cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["SOX9"])
    cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["SOX9"], layer="X")


def test_nan_in_a_gene_that_is_not_scored(gsd, tiny_model, context_model):
    nan = gsd.copy()
    nan.X[7, 10] = np.nan
    gene = nan.var_names[10]
    pairs = [(nan.var_names[0], nan.var_names[1])]
    with pytest.raises(ValueError, match=f"gene '{gene}' contains NaN"):
        cnnc.tl.predict_interactions(nan, model=context_model, pairs=pairs)
    assert _state(nan) == UNTOUCHED
    cnnc.tl.predict_interactions(nan, model=tiny_model, pairs=pairs)  # the image-only model never reads it


# --- genes that never vary, too few cells, duplicated pairs ------------------------------------------------------


@pytest.mark.parametrize("which", ["tiny", "context", "original"])
def test_genes_that_never_vary_have_no_evidence(gsd, tiny_model, context_model, original_model, which, log):
    model = {"tiny": tiny_model, "context": context_model, "original": original_model}[which]
    adata = gsd.copy()
    X = np.asarray(adata.X).copy()
    X[:, 3] = 0.0  # all-zero
    X[:, 4] = 1.5  # constant
    adata.X = X
    zero, const = adata.var_names[3], adata.var_names[4]
    cnnc.tl.predict_interactions(adata, model=model, tfs=["SOX9", const], settings=cnnc.tl.ScoringSettings(min_cells=0))
    edges = adata.uns["cnnc"]["edges"]
    idle = edges["regulator"].isin([zero, const]) | edges["target"].isin([zero, const])
    assert idle.sum() == (adata.n_vars - 1) + 2  # every pair of the constant regulator, and SOX9's two
    assert (edges.loc[idle, "score"] == 0).all() and (edges.loc[idle, "p_none"] == 1).all()
    assert (edges.loc[idle, "p_ab"] == 0).all()
    assert (edges.loc[~idle, "score"] > 0).all()
    assert edges.index[idle].astype(int).min() >= (~idle).sum()  # ranked last
    assert "never vary" in log.getvalue()
    assert np.isfinite(edges[["p_none", "p_ab", "p_ba", "score"]].to_numpy()).all()


@pytest.mark.parametrize("n_cells", [0, 1, 19])
def test_too_few_cells_are_refused(gsd, tiny_model, n_cells):
    few = gsd[:n_cells].copy()
    match = "no cells" if n_cells == 0 else "at least 20 cells"
    with pytest.raises(ValueError, match=match):
        cnnc.tl.predict_interactions(few, model=tiny_model, tfs=["SOX9"])
    assert _state(few) == UNTOUCHED
    if n_cells == 0:
        with pytest.raises(ValueError, match="cells"):
            cnnc.tl.train(few, gsd.uns["ground_truth"], folds=0)


def test_duplicated_pairs_are_scored_once(gsd, tiny_model, log):
    adata = gsd.copy()
    once = cnnc.tl.predict_interactions(adata, model=tiny_model, pairs=[("SOX9", "AMH")], copy=True)
    pairs = [("SOX9", "AMH"), ("SOX9", "AMH"), ("AMH", "SOX9"), ("SOX9", "AMH")]
    cnnc.tl.predict_interactions(adata, model=tiny_model, pairs=pairs)
    edges = adata.uns["cnnc"]["edges"]
    assert len(edges) == 2 and set(zip(edges["regulator"], edges["target"], strict=True)) == {
        ("SOX9", "AMH"),
        ("AMH", "SOX9"),
    }
    i, j = adata.var_names.get_loc("SOX9"), adata.var_names.get_loc("AMH")
    assert adata.varp["cnnc"][i, j] == pytest.approx(once.varp["cnnc"][i, j])
    assert adata.varp["cnnc"].max() <= 1
    assert "given more than once" in log.getvalue()
    cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["SOX9", "sox9"], targets=["AMH", "amh"])
    assert len(adata.uns["cnnc"]["edges"]) == 1


# --- training -----------------------------------------------------------------------------------------------------


def test_label_column_follows_cnnc():
    from cnnc._training._labels import edges_frame, labelled_pairs, match_labelled

    table = pd.DataFrame(
        {"gene_a": ["a", "b", "a", "c", "d"], "gene_b": ["b", "a", "c", "a", "a"], "label": [1, 2, 0, 1, 0]}
    )
    frame = edges_frame(table)
    # label 1: a -> b; label 2 on (b, a): a -> b as well (deduplicated later); label 0: not an edge
    assert frame.values.tolist() == [["a", "b"], ["a", "b"], ["c", "a"]]
    names = pd.Index(["a", "b", "c", "d"])
    known, negatives = match_labelled(table, names)
    assert sorted(map(tuple, known.to_numpy().tolist())) == [(0, 1), (2, 0)]
    assert sorted(map(tuple, negatives.to_numpy().tolist())) == [(0, 2), (3, 0)]
    pairs = labelled_pairs(known, 4, negative_ratio=0, rng=np.random.default_rng(0), known_negatives=negatives)
    lab = dict(zip(zip(pairs.a, pairs.b, strict=True), pairs.label, strict=True))
    # (a, c) is labelled 0, but (c, a) is a known edge: the known edge wins, with a warning
    assert lab[(0, 1)] == 1 and lab[(1, 0)] == 2 and lab[(2, 0)] == 1 and lab[(3, 0)] == 0
    triples = list(table.itertuples(index=False, name=None))
    assert edges_frame(triples).values.tolist() == frame.values.tolist()
    with pytest.raises(ValueError, match="pairs, or .* triples"):
        edges_frame([("a", "b"), ("a", "b", 1, 4)])
    with pytest.raises(ValueError, match="label"):
        edges_frame(table.assign(label=[1, 2, 3, 0, 0]))
    with pytest.raises(ValueError, match="no known interaction"):
        edges_frame(table.assign(label=0))


def test_train_reads_a_labelled_table(gsd):
    truth = gsd.uns["ground_truth"]
    rng = np.random.default_rng(0)
    genes = gsd.var_names.tolist()
    negatives = pd.DataFrame({"gene_a": truth["regulator"], "gene_b": rng.choice(genes, len(truth)), "label": 0})
    negatives = negatives[negatives["gene_a"] != negatives["gene_b"]]
    table = pd.concat(
        [
            pd.DataFrame({"gene_a": truth["regulator"], "gene_b": truth["target"], "label": 1}),
            pd.DataFrame({"gene_a": truth["target"], "gene_b": truth["regulator"], "label": 2}),
            negatives,
        ]
    )
    kwargs = {"folds": 0, "epochs": 1, "architecture": SMALL, "random_state": 0, "recipe": "cnnc-original"}
    model = cnnc.tl.train(gsd.copy(), table, negative_ratio=0, **kwargs)
    plain = cnnc.tl.train(gsd.copy(), truth, **kwargs)
    known = plain.spec.training["n_known_edges"]  # (self-loops of the truth dropped)
    assert model.spec.training["n_known_edges"] == known
    # positives and their reverses as in the plain table, plus the labelled negatives that are not known edges
    edges = set(zip(truth["regulator"], truth["target"], strict=True))
    kept = {(a, b) for a, b in zip(negatives["gene_a"], negatives["gene_b"], strict=True)}
    kept = {(a, b) for a, b in kept if (a, b) not in edges and (b, a) not in edges}
    assert model.spec.training["n_labelled_pairs"] == 2 * known + len(kept)


def test_random_negatives_that_are_known_edges(log):
    from cnnc._training._labels import labelled_pairs

    # a regulator with edges to every other gene: every random negative is a known edge
    known = pd.DataFrame({"regulator": [0, 0, 0, 1], "target": [1, 2, 3, 2]})
    with pytest.raises(ValueError, match="All 4 random negatives are known interactions"):
        labelled_pairs(known, 4, rng=np.random.default_rng(0))
    pairs = labelled_pairs(pd.DataFrame({"regulator": [0] * 3, "target": [1, 2, 3]}), 6, rng=np.random.default_rng(1))
    assert (pairs.label == 0).sum() == 3
    assert "random negatives are known interactions" in log.getvalue()
    log.truncate(0)
    labelled_pairs(known, 4, negatives="non-target", negative_ratio=0, rng=np.random.default_rng(0))
    assert "random negatives" not in log.getvalue()


@pytest.mark.parametrize("epochs", [0, -1, 1.5, True])
def test_epochs_must_train(gsd, epochs):
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        cnnc.tl.train(gsd.copy(), gsd.uns["ground_truth"], folds=0, epochs=epochs)


def test_diverged_training_is_refused(gsd):
    with pytest.raises(ValueError, match="learning_rate"):
        cnnc.tl.train(
            gsd.copy(),
            gsd.uns["ground_truth"],
            folds=0,
            epochs=2,
            architecture=SMALL,
            recipe="cnnc-original",
            learning_rate=1e6,
        )


def test_nan_weights_never_become_nan_scores(gsd, tiny_model):
    module = type(tiny_model.module)(**tiny_model.module.config)
    module.load_state_dict(tiny_model.module.state_dict())
    with torch.no_grad():
        next(module.parameters()).fill_(float("nan"))
    broken = Model(module, tiny_model.spec)
    adata = gsd.copy()
    with pytest.raises(ValueError, match="NaN or infinite probabilities"):
        cnnc.tl.predict_interactions(adata, model=broken, tfs=["SOX9"])
    assert _state(adata) == UNTOUCHED


# --- inputs named clearly -----------------------------------------------------------------------------------------


def test_mudata_prediction_via_mod(gsd, tiny_model):
    mudata = pytest.importorskip("mudata")
    mdata = mudata.MuData({"rna": gsd.copy(), "other": ad.AnnData(np.ones((gsd.n_obs, 2)))})
    reference = cnnc.tl.predict_interactions(gsd, model=tiny_model, tfs=["SOX9"], copy=True)
    out = cnnc.tl.predict_interactions(mdata, mod="rna", model=tiny_model, tfs=["SOX9"], copy=True)
    assert "cnnc" not in mdata.mod["rna"].uns
    pd.testing.assert_frame_equal(out.mod["rna"].uns["cnnc"]["edges"], reference.uns["cnnc"]["edges"])
    cnnc.tl.predict_interactions(mdata, mod="rna", model=tiny_model, tfs=["SOX9"])
    assert "cnnc" in mdata.mod["rna"].varp
    with pytest.raises(ValueError, match="needs `mod=`"):
        cnnc.tl.predict_interactions(mdata, model=tiny_model, tfs=["SOX9"])
    with pytest.raises(KeyError, match="available"):
        cnnc.tl.predict_interactions(mdata, mod="atac", model=tiny_model, tfs=["SOX9"])
    with pytest.raises(ValueError, match="only for MuData"):
        cnnc.tl.predict_interactions(gsd.copy(), mod="rna", model=tiny_model, tfs=["SOX9"])
    with pytest.raises(TypeError, match=r"mdata.mod\['rna'\]"):
        cnnc.tl.train(mdata, gsd.uns["ground_truth"], folds=0)


def test_train_on_several_data_sets_needs_one_table_each(gsd):
    with pytest.raises(ValueError, match=r"one per data set.*\[edges\] \* 2"):
        cnnc.tl.train([gsd, gsd], gsd.uns["ground_truth"], folds=0)
    with pytest.raises(TypeError, match="list of AnnData"):
        cnnc.tl.train([gsd, np.zeros((3, 3))], [gsd.uns["ground_truth"]] * 2, folds=0)
    with pytest.raises(TypeError, match="AnnData"):
        cnnc.tl.train(np.asarray(gsd.X), gsd.uns["ground_truth"], folds=0)


def test_reusing_a_key_is_logged_and_foreign_content_refused(gsd, tiny_model, log):
    adata = gsd.copy()
    cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["SOX9"])
    assert "replacing" not in log.getvalue()
    cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["AMH"])
    assert "replacing the previous prediction in adata.uns['cnnc'] and adata.varp['cnnc']" in log.getvalue()
    assert set(adata.uns["cnnc"]["edges"]["regulator"]) == {"AMH"}
    mine = gsd.copy()
    mine.uns["cnnc"] = {"my_notes": "keep me"}
    with pytest.raises(ValueError, match=r"holds something cnnc.tl.predict_interactions did not write.*key_added"):
        cnnc.tl.predict_interactions(mine, model=tiny_model, tfs=["SOX9"])
    assert mine.uns["cnnc"] == {"my_notes": "keep me"} and "cnnc" not in mine.varp
    mine.uns["cnnc"] = "a string"
    with pytest.raises(ValueError, match="did not write"):
        cnnc.tl.predict_interactions(mine, model=tiny_model, tfs=["SOX9"])


def test_sparse_and_dense_agree_on_constant_genes(gsd, tiny_model):
    X = np.asarray(gsd.X).copy()
    X[:, 2] = 0
    dense = ad.AnnData(X, var=gsd.var)
    sp = ad.AnnData(sparse.csr_matrix(X), var=gsd.var)
    a = cnnc.tl.predict_interactions(dense, model=tiny_model, tfs=["SOX9"], copy=True)
    b = cnnc.tl.predict_interactions(sp, model=tiny_model, tfs=["SOX9"], copy=True)
    pd.testing.assert_frame_equal(a.uns["cnnc"]["edges"], b.uns["cnnc"]["edges"], atol=1e-6)


def test_pair_images_and_cross_validation_keys(gsd, log):
    adata = gsd.copy()
    cnnc.tl.pair_histograms(adata, [("SOX9", "AMH")])
    cnnc.tl.pair_histograms(adata, [("SOX9", "GATA4")])
    assert "replacing the previous pair images in adata.uns['cnnc'] and adata.obsm['cnnc_bins']" in log.getvalue()
    adata.uns["mine"] = {"a": 1}
    with pytest.raises(ValueError, match="did not write"):
        cnnc.tl.pair_histograms(adata, [("SOX9", "AMH")], key_added="mine")
    assert adata.uns["mine"] == {"a": 1} and "mine_bins" not in adata.obsm
    adata.uns["cnnc_cv"] = [1, 2]
    with pytest.raises(ValueError, match=r"adata.uns\['cnnc_cv'\] holds something cnnc.tl.train did not write"):
        cnnc.tl.train(adata, gsd.uns["ground_truth"], folds=2, epochs=1)
    assert adata.uns["cnnc_cv"] == [1, 2]
