import re

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc

import cnnc

PBMC_TFS = ["SPI1", "IRF8", "GATA3", "JUNB", "FOS"]
PBMC_TARGETS = ["LYZ", "CD74", "CD3E", "S100A8", "HLA-DRA", "CCL5", "NKG7", "FCER1G", "MS4A1", "IL7R"]


@pytest.fixture(scope="module")
def _pbmc():
    return sc.datasets.pbmc68k_reduced()


@pytest.fixture
def pbmc(_pbmc):
    return _pbmc.copy()


def _dense_raw(adata, genes):
    return adata.raw[:, genes].X.toarray()


def test_sign_corr_and_n_cells_are_those_of_the_data(pbmc, tiny_model):
    cnnc.tl.predict_interactions(
        pbmc, model=tiny_model, tfs=PBMC_TFS, targets=PBMC_TARGETS, settings=cnnc.tl.ScoringSettings(min_cells=0)
    )
    edges = cnnc.get.edges(pbmc)
    assert len(edges) == len(PBMC_TFS) * len(PBMC_TARGETS)
    for row in edges.itertuples():
        x, y = _dense_raw(pbmc, [row.regulator, row.target]).T
        assert row.corr == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-5)
        assert row.n_cells == int(((x > 0) & (y > 0)).sum())
        assert row.sign == np.sign(row.corr)
    # the relations everybody knows: PU.1 with lysozyme up, GATA3 with CD3E up, PU.1 with CD3E down
    e = edges.set_index(["regulator", "target"])
    assert e.loc[("SPI1", "LYZ"), "sign"] == 1
    assert e.loc[("GATA3", "CD3E"), "sign"] == 1
    assert e.loc[("SPI1", "CD3E"), "sign"] == -1


def test_signs_agree_with_a_known_signed_network(gsd, tiny_model):
    adata = gsd.copy()
    truth = adata.uns["ground_truth"]
    truth = truth[truth["regulator"] != truth["target"]]
    pairs = list(zip(truth["regulator"], truth["target"], strict=True))
    cnnc.tl.predict_interactions(adata, model=tiny_model, pairs=pairs)
    e = cnnc.get.edges(adata).set_index(["regulator", "target"])
    got = e.loc[pairs, "sign"].to_numpy()
    # GSD's edges are activations (+1) and inhibitions (-1); the correlation's sign matches most of them
    assert (got == truth["sign"].to_numpy()).mean() > 0.85


def test_min_cells_drops_exactly_the_pairs_with_little_evidence(pbmc, tiny_model):
    a, b = pbmc.copy(), pbmc.copy()
    cnnc.tl.predict_interactions(a, model=tiny_model, tfs=PBMC_TFS, settings=cnnc.tl.ScoringSettings(min_cells=0))
    cnnc.tl.predict_interactions(b, model=tiny_model, tfs=PBMC_TFS)  # default min_cells
    full, kept = cnnc.get.edges(a), cnnc.get.edges(b)
    assert b.uns["cnnc"]["params"]["min_cells"] == 10
    assert (kept["n_cells"] >= 10).all()
    expected = full[full["n_cells"] >= 10].reset_index(drop=True)
    assert 0 < len(expected) < len(full)  # PBMCs are sparse: the threshold does remove pairs
    # the same pairs and scores; p-values differ: the null and the BH adjustment are those of the pairs kept
    significance = ["pvalue", "qvalue"]
    pd.testing.assert_frame_equal(kept.drop(columns=significance), expected.drop(columns=significance), atol=1e-6)
    assert b.uns["cnnc"]["params"]["n_pairs"] == len(kept)
    assert b.uns["cnnc"]["params"]["n_candidates"] == len(full)
    assert b.varp["cnnc"].nnz == len(kept)
    np.testing.assert_array_equal(cnnc.get.edges(a, min_cells=10)["score"], kept["score"])


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_min_cells_must_be_a_count(pbmc, tiny_model, bad):
    with pytest.raises(ValueError, match="min_cells must be a non-negative integer"):
        cnnc.tl.predict_interactions(
            pbmc, model=tiny_model, tfs=PBMC_TFS, settings=cnnc.tl.ScoringSettings(min_cells=bad)
        )


def test_signed_network_for_decoupler(pbmc, tiny_model):
    cnnc.tl.predict_interactions(
        pbmc, model=tiny_model, tfs=PBMC_TFS, targets=PBMC_TARGETS, settings=cnnc.tl.ScoringSettings(min_cells=0)
    )
    table = cnnc.get.edges(pbmc, top=20)
    net = cnnc.get.edges(pbmc, top=20, network=True)
    np.testing.assert_allclose(net["weight"], table["score"] * table["sign"])
    assert (net["weight"] < 0).any() and (net["weight"] > 0).any()
    unsigned = cnnc.get.edges(pbmc, top=20, network=True, signed=False)
    np.testing.assert_allclose(unsigned["weight"], table["score"])


def test_groupby_scores_each_group_on_its_own_cells(pbmc, tiny_model, tmp_path):
    cnnc.tl.predict_interactions(
        pbmc,
        model=tiny_model,
        tfs=PBMC_TFS,
        targets=PBMC_TARGETS,
        groupby="bulk_labels",
        settings=cnnc.tl.ScoringSettings(min_cells=5),
    )
    store = pbmc.uns["cnnc"]
    edges = store["edges"]
    assert list(edges.columns[:3]) == ["group", "regulator", "target"]
    counts = pbmc.obs["bulk_labels"].value_counts()
    scored = [g for g in pbmc.obs["bulk_labels"].cat.categories if counts[g] >= 5]
    assert list(edges["group"].cat.categories) == scored == store["params"]["groups"]
    # one group's network is the network of that group's cells alone
    group = "CD14+ Monocyte"
    alone = pbmc[pbmc.obs["bulk_labels"] == group].copy()
    cnnc.tl.predict_interactions(
        alone, model=tiny_model, tfs=PBMC_TFS, targets=PBMC_TARGETS, settings=cnnc.tl.ScoringSettings(min_cells=5)
    )
    mine = cnnc.get.edges(pbmc, groups=group).drop(columns="group")
    pd.testing.assert_frame_equal(mine, cnnc.get.edges(alone), atol=1e-6)
    assert store["params"]["per_group"]["n_cells"][scored.index(group)] == counts[group]
    # per-group matrices in varp, and the whole result survives h5ad
    key = store["varp_keys"][scored.index(group)]
    assert pbmc.varp[key].nnz == len(mine)
    pbmc.write_h5ad(tmp_path / "g.h5ad")
    back = ad.read_h5ad(tmp_path / "g.h5ad")
    pd.testing.assert_frame_equal(
        cnnc.get.edges(back, groups=group).drop(columns="group"), mine, check_categorical=False
    )
    top = cnnc.get.edges(pbmc, top=3)
    assert top.groupby("group", observed=True).size().max() == 3
    net = cnnc.get.edges(pbmc, top=3, network=True)
    assert list(net.columns) == ["group", "source", "target", "weight"]


def test_groupby_backed_equals_in_memory(pbmc, tiny_model, tmp_path):
    pbmc = ad.AnnData(pbmc.raw.X, obs=pbmc.obs[["louvain"]], var=pd.DataFrame(index=pbmc.raw.var_names))
    pbmc.write_h5ad(tmp_path / "p.h5ad")
    backed = ad.read_h5ad(tmp_path / "p.h5ad", backed="r")
    kwargs = {"model": tiny_model, "tfs": PBMC_TFS, "targets": PBMC_TARGETS, "groupby": ("louvain", ["0", "3"])}
    cnnc.tl.predict_interactions(pbmc, layer="X", **kwargs)
    cnnc.tl.predict_interactions(backed, layer="X", settings=cnnc.tl.ScoringSettings(chunk_cells=17), **kwargs)
    pd.testing.assert_frame_equal(cnnc.get.edges(backed), cnnc.get.edges(pbmc), atol=1e-6, check_categorical=False)
    assert set(cnnc.get.edges(pbmc)["group"]) == {"0", "3"}


def test_groupby_errors(pbmc, tiny_model):
    with pytest.raises(KeyError, match="not a column of adata.obs; categorical columns: .*louvain"):
        cnnc.tl.predict_interactions(pbmc, model=tiny_model, tfs=PBMC_TFS, groupby="leiden")
    with pytest.raises(ValueError, match="not categories"):
        cnnc.tl.predict_interactions(pbmc, model=tiny_model, tfs=PBMC_TFS, groupby=("louvain", ["99"]))
    cnnc.tl.predict_interactions(pbmc, model=tiny_model, tfs=PBMC_TFS, targets=PBMC_TARGETS)
    with pytest.raises(ValueError, match="one network, not one per group"):
        cnnc.get.edges(pbmc, groups="0")


def test_network_diff(pbmc, tiny_model):
    cnnc.tl.predict_interactions(
        pbmc,
        model=tiny_model,
        tfs=PBMC_TFS,
        targets=PBMC_TARGETS,
        groupby="bulk_labels",
        settings=cnnc.tl.ScoringSettings(min_cells=0),
    )
    a, b = "CD14+ Monocyte", "CD4+/CD45RO+ Memory"
    diff = cnnc.get.network_diff(pbmc, a, b, top=10)
    top_a = set(map(tuple, cnnc.get.edges(pbmc, groups=a, top=10)[["regulator", "target"]].to_numpy()))
    top_b = set(map(tuple, cnnc.get.edges(pbmc, groups=b, top=10)[["regulator", "target"]].to_numpy()))
    got = {s: set(map(tuple, d[["regulator", "target"]].to_numpy())) for s, d in diff.groupby("status", observed=True)}
    assert got.get("gained", set()) == top_b - top_a
    assert got.get("lost", set()) == top_a - top_b
    assert got.get("shared", set()) == top_a & top_b
    np.testing.assert_allclose(diff["delta"], diff["score_b"] - diff["score_a"])
    with pytest.raises(ValueError, match="not in adata.uns"):
        cnnc.get.network_diff(pbmc, a, "nope")


def test_former_keywords_still_work_and_name_their_replacement(pbmc, tiny_model):
    kwargs = {"model": tiny_model, "tfs": ["SPI1", "GATA3"], "targets": ["CD3E", "LYZ", "CD74", "FCGR3A"]}
    groups = list(pbmc.obs["bulk_labels"].cat.categories[:2])
    new = cnnc.tl.predict_interactions(
        pbmc,
        layer="raw",
        groupby=("bulk_labels", groups),
        settings=cnnc.tl.ScoringSettings(min_cells=3, direction="images"),
        copy=True,
        **kwargs,
    )
    former = [
        r"pass settings=cnnc.tl.ScoringSettings\(min_cells=3, direction='images'\)",
        r"use_raw=True\) is deprecated: pass layer='raw'",
        re.escape(f"pass groupby=('bulk_labels', {groups!r})"),
    ]
    with pytest.warns(FutureWarning) as caught:
        old = cnnc.tl.predict_interactions(
            pbmc, use_raw=True, groupby="bulk_labels", groups=groups, min_cells=3, direction="images", copy=True,
            **kwargs,
        )  # fmt: skip
    messages = [str(w.message) for w in caught]
    for pattern in former:
        assert any(re.search(pattern, m) for m in messages), (pattern, messages)
    pd.testing.assert_frame_equal(old.uns["cnnc"]["edges"], new.uns["cnnc"]["edges"])
    assert set(old.uns["cnnc"]["params"]) == set(new.uns["cnnc"]["params"])
    assert old.uns["cnnc"]["params"]["per_group"] == new.uns["cnnc"]["params"]["per_group"]
    assert list(new.uns["cnnc"]["params"]["groups"]) == groups
