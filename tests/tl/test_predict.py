import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from scipy import sparse

import cnnc
from cnnc._engine._images import PairImager
from cnnc._scoring import symmetrize


def _assert_same_params(got: dict, want: dict):
    # h5ad stores lists as arrays: compare values, not containers
    assert set(got) == set(want)
    for k, v in want.items():
        if isinstance(v, dict):
            _assert_same_params(got[k], v)
        else:
            assert np.array_equal(np.asarray(got[k]), np.asarray(v)), k


def test_predict_writes_varp_and_edges(gsd, tiny_model, regulators, tmp_path):
    adata = gsd.copy()
    cnnc.tl.predict_interactions(
        adata, model=tiny_model, tfs=regulators, settings=cnnc.tl.ScoringSettings(batch_size=7)
    )
    edges = adata.uns["cnnc"]["edges"]
    assert len(edges) == len(regulators) * (adata.n_vars - 1)
    assert list(edges.columns) == [
        "regulator", "target", "score", "p_none", "p_ab", "p_ba", "sign", "corr", "n_cells", "pvalue", "qvalue",
        "direction", "direction_evidence",
    ]  # fmt: skip
    np.testing.assert_allclose(edges[["p_none", "p_ab", "p_ba"]].sum(1), 1, atol=1e-5)
    assert (edges["score"].diff().dropna() <= 0).all()
    net = adata.varp["cnnc"]
    assert sparse.issparse(net) and net.shape == (adata.n_vars, adata.n_vars)
    r = adata.var_names.get_loc(edges["regulator"].iloc[0])
    t = adata.var_names.get_loc(edges["target"].iloc[0])
    assert net[r, t] == pytest.approx(edges["score"].iloc[0])
    assert adata.uns["cnnc"]["params"]["model"] == "tiny-gsd"
    # h5ad round trip keeps everything
    adata.write_h5ad(tmp_path / "p.h5ad")
    back = ad.read_h5ad(tmp_path / "p.h5ad")
    pd.testing.assert_frame_equal(back.uns["cnnc"]["edges"], edges, check_categorical=False)
    assert (back.varp["cnnc"] != net).nnz == 0
    _assert_same_params(back.uns["cnnc"]["params"], adata.uns["cnnc"]["params"])


def test_batch_size_does_not_change_scores(gsd, tiny_model, regulators):
    a, b = gsd.copy(), gsd.copy()
    cnnc.tl.predict_interactions(a, model=tiny_model, tfs=regulators, settings=cnnc.tl.ScoringSettings(batch_size=3))
    with pytest.warns(FutureWarning, match=r"settings=cnnc.tl.ScoringSettings\(batch_size=1000\)"):
        cnnc.tl.predict_interactions(b, model=tiny_model, tfs=regulators, batch_size=1000)  # the former keyword
    pd.testing.assert_frame_equal(a.uns["cnnc"]["edges"], b.uns["cnnc"]["edges"], atol=1e-6)


def test_symmetric_prediction_reads_both_orientations(gsd, tiny_model):
    adata = gsd.copy()
    pairs = [("SOX9", "AMH"), ("AMH", "SOX9")]
    cnnc.tl.predict_interactions(adata, model=tiny_model, pairs=pairs, settings=cnnc.tl.ScoringSettings(symmetric=True))
    e = adata.uns["cnnc"]["edges"].set_index(["regulator", "target"])
    # the (a, b) and (b, a) predictions mirror each other: p_ab of one is p_ba of the other
    assert e.loc[("SOX9", "AMH"), "p_ab"] == pytest.approx(e.loc[("AMH", "SOX9"), "p_ba"], abs=1e-6)
    # and match a direct computation
    imager = PairImager(adata.X, np.arange(adata.n_vars))
    i, j = adata.var_names.get_loc("SOX9"), adata.var_names.get_loc("AMH")
    img = imager.images(np.array([i]), np.array([j]))
    p = tiny_model.predict_proba(img)
    q = tiny_model.predict_proba(img.transpose(0, 2, 1).copy())
    np.testing.assert_allclose(symmetrize(p, q, "direction")[0, 1], e.loc[("SOX9", "AMH"), "p_ab"], atol=1e-6)


def test_copy_and_targets(gsd, tiny_model):
    adata = gsd.copy()
    out = cnnc.tl.predict_interactions(
        adata, model=tiny_model, tfs=["SOX9"], targets=["AMH", "SOX9", "GATA4"], copy=True
    )
    assert "cnnc" not in adata.uns and "cnnc" not in adata.varp
    assert sorted(out.uns["cnnc"]["edges"]["target"]) == ["AMH", "GATA4"]  # self pair dropped


def test_model_from_file(gsd, tiny_model, tmp_path, regulators):
    path = tiny_model.save(tmp_path / "tiny")
    a = gsd.copy()
    cnnc.tl.predict_interactions(a, model=str(path), tfs=regulators[:2])
    assert a.uns["cnnc"]["params"]["model_sha256"] == cnnc.models.load(path).sha256


def test_predict_bad_input(gsd, tiny_model):
    adata = gsd.copy()
    before = (set(adata.uns), set(adata.varp))
    with pytest.raises(ValueError, match="No regulators given"):
        cnnc.tl.predict_interactions(adata, model=tiny_model)
    with pytest.raises(KeyError, match="Did you mean"):
        cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["SOX99"])
    with pytest.raises(ValueError, match="empty"):
        cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=[])
    with pytest.raises(ValueError, match="itself"):
        cnnc.tl.predict_interactions(adata, model=tiny_model, pairs=[("SOX9", "SOX9")])
    with pytest.raises(ValueError, match="batch_size"):
        cnnc.tl.ScoringSettings(batch_size=0)
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['batchsize'\]"):
        cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["SOX9"], batchsize=10)
    raw = adata.copy()
    raw.X = np.round(raw.X * 300)
    with pytest.raises(ValueError, match="raw counts"):
        cnnc.tl.predict_interactions(raw, model=tiny_model, tfs=["SOX9"])
    neg = adata.copy()
    neg.X = neg.X - 1
    with pytest.raises(ValueError, match="negative"):
        cnnc.tl.predict_interactions(neg, model=tiny_model, tfs=["SOX9"])
    nan = adata.copy()
    nan.X[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cnnc.tl.predict_interactions(nan, model=tiny_model, tfs=["SOX9"])
    dup = adata.copy()
    dup.var_names = ["SOX9"] + list(dup.var_names[1:-1]) + ["SOX9"]
    with pytest.raises(ValueError, match="not unique"):
        cnnc.tl.predict_interactions(dup, model=tiny_model, tfs=["SOX9"])
    assert (set(adata.uns), set(adata.varp)) == before


def test_predict_on_pbmc_raw(tiny_model):
    adata = sc.datasets.pbmc68k_reduced()
    cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["SPI1", "IRF8"], targets=list(adata.var_names[:50]))
    assert adata.uns["cnnc"]["params"]["use_raw"] is True
    assert adata.varp["cnnc"].nnz == len(adata.uns["cnnc"]["edges"])


def test_backed_prediction_matches_memory(gsd, tiny_model, tmp_path, regulators):
    path = tmp_path / "g.h5ad"
    gsd.write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    mem = gsd.copy()
    cnnc.tl.predict_interactions(mem, model=tiny_model, tfs=regulators[:3])
    cnnc.tl.predict_interactions(
        backed, model=tiny_model, tfs=regulators[:3], settings=cnnc.tl.ScoringSettings(chunk_cells=300)
    )
    pd.testing.assert_frame_equal(mem.uns["cnnc"]["edges"], backed.uns["cnnc"]["edges"], atol=1e-6)


def test_predictions_and_pair_images_never_overwrite_each_other(gsd, tiny_model):
    adata = gsd.copy()
    cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["SOX9"])
    with pytest.raises(ValueError, match="holds predicted edges"):
        cnnc.tl.pair_histograms(adata, [("SOX9", "AMH")])
    assert "edges" in adata.uns["cnnc"]
    cnnc.tl.pair_histograms(adata, [("SOX9", "AMH")], key_added="cnnc_images")
    other = gsd.copy()
    cnnc.tl.pair_histograms(other, [("SOX9", "AMH")])
    with pytest.raises(ValueError, match="holds pair images"):
        cnnc.tl.predict_interactions(other, model=tiny_model, tfs=["SOX9"])
    assert "histograms" in other.uns["cnnc"]


def test_bfloat16_prediction_ranks_like_float32(gsd, tiny_model, regulators):
    exact = cnnc.tl.predict_interactions(gsd, model=tiny_model, tfs=regulators, copy=True)
    fast = cnnc.tl.predict_interactions(
        gsd, model=tiny_model, tfs=regulators, settings=cnnc.tl.ScoringSettings(precision="bfloat16"), copy=True
    )
    assert fast.uns["cnnc"]["params"]["precision"] == "bfloat16"
    assert exact.uns["cnnc"]["params"]["precision"] == "float32"
    e = exact.uns["cnnc"]["edges"].set_index(["regulator", "target"])
    f = fast.uns["cnnc"]["edges"].set_index(["regulator", "target"]).loc[e.index]
    np.testing.assert_allclose(f["score"], e["score"], atol=2e-2)
    truth = gsd.uns["ground_truth"]
    auroc_exact = cnnc.tl.evaluate(exact, truth).loc["all", "auroc"]
    auroc_fast = cnnc.tl.evaluate(fast, truth).loc["all", "auroc"]
    assert abs(auroc_fast - auroc_exact) < 0.01
    # (that bfloat16 keeps the decisions of a model that has learned something is tested in tests/models)
    with pytest.raises(ValueError, match="precision must be one of"):
        cnnc.tl.predict_interactions(gsd, model=tiny_model, tfs=regulators, precision="fp8", copy=True)


def test_model_for_another_species_is_refused(gsd, tiny_model):
    from cnnc.models import Model, ModelSpec

    spec = ModelSpec.from_dict({**tiny_model.spec.to_dict(), "species": ["mouse"]})
    mouse = Model(tiny_model.module, spec)
    human = gsd.copy()
    human.uns["species"] = "human"
    before = set(human.uns)
    with pytest.raises(ValueError, match=r"trained for species \['mouse'\], but the data declares species 'human'"):
        cnnc.tl.predict_interactions(human, model=mouse, tfs=["SOX9"])
    assert set(human.uns) == before
    human.uns["species"] = "Mouse"  # names match case-insensitively
    cnnc.tl.predict_interactions(human, model=mouse, tfs=["SOX9"])
    undeclared = gsd.copy()  # the GSD loader declares "synthetic": a mouse model refuses it too
    with pytest.raises(ValueError, match="declares species 'synthetic'"):
        cnnc.tl.predict_interactions(undeclared, model=mouse, tfs=["SOX9"])
    del undeclared.uns["dataset"]  # data that declare nothing are scored
    cnnc.tl.predict_interactions(undeclared, model=mouse, tfs=["SOX9"])


def test_layer_names_x_and_raw(gsd, tiny_model):
    adata = gsd.copy()
    adata.raw = adata.copy()
    adata.X = adata.X.log1p() if sparse.issparse(adata.X) else np.log1p(adata.X)  # X differs from raw
    x = cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["SOX9"], layer="X", copy=True)
    raw = cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["SOX9"], layer="raw", copy=True)
    default = cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["SOX9"], copy=True)  # scanpy: raw first
    assert not x.uns["cnnc"]["params"]["use_raw"] and raw.uns["cnnc"]["params"]["use_raw"]
    assert x.uns["cnnc"]["params"]["layer"] == ""  # .X, as without a layer
    pd.testing.assert_frame_equal(raw.uns["cnnc"]["edges"], default.uns["cnnc"]["edges"])
    assert not np.allclose(x.uns["cnnc"]["edges"]["corr"], raw.uns["cnnc"]["edges"]["corr"])
    with pytest.raises(ValueError, match="groupby=\\('leiden', \\['0', '3'\\]\\)"):
        cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=["SOX9"], groupby=("a", "b", "c"))
