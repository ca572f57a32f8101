"""The direction columns of predict_interactions: what decides each edge's direction, and what is not computed."""

import numpy as np
import pandas as pd
import pytest
from anndata import AnnData

import cnnc
from cnnc._direction import EVIDENCE, call_directions
from cnnc.tl import _predict


def _cascade(n_cells: int = 600, seed: int = 0) -> AnnData:
    """g0 -> g1 -> g2 -> g3 switched on one after the other along time; g4 unrelated; positive log-like values."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 1, n_cells))
    x = np.empty((n_cells, 5))
    for k, onset in enumerate((0.15, 0.35, 0.55, 0.75)):
        x[:, k] = 2 / (1 + np.exp(-(t - onset) / 0.04))
    x[:, 4] = 1.0
    x = np.log1p(np.expm1(x) + rng.gamma(2.0, 0.2, size=x.shape))
    adata = AnnData(x.astype(np.float32), obs=pd.DataFrame({"time": t}, index=[f"c{i}" for i in range(n_cells)]))
    adata.var_names = [f"g{k}" for k in range(5)]
    return adata


def test_columns_and_regulator_list(gsd):
    adata = gsd.copy()
    tfs = ["SOX9", "FGF9", "WT1mKTS"]
    cnnc.tl.predict_interactions(adata, tfs=tfs, settings=cnnc.tl.ScoringSettings(min_cells=0))
    edges = adata.uns["cnnc"]["edges"]
    assert list(edges.columns[-2:]) == ["direction", "direction_evidence"]
    assert list(edges["direction_evidence"].cat.categories) == list(EVIDENCE)
    listed = ~edges["target"].isin(tfs)
    assert (edges.loc[listed, "direction"] == 1).all()
    assert (edges.loc[listed, "direction_evidence"] == "regulator list").all()
    # between two regulators nothing measured says which way: undetermined
    assert (edges.loc[~listed, "direction"] == 0).all() and (edges.loc[~listed, "direction_evidence"] == "none").all()
    assert (~listed).sum() == len(tfs) * (len(tfs) - 1)


def test_no_pair_images_where_they_add_nothing(gsd, monkeypatch):
    auto, images = gsd.copy(), gsd.copy()
    cnnc.tl.predict_interactions(images, tfs=["SOX9", "WT1mKTS"], settings=cnnc.tl.ScoringSettings(direction="images"))
    assert images.uns["cnnc"]["params"]["images"] is True
    assert images.uns["cnnc"]["edges"][["p_ab", "p_ba"]].notna().all().all()

    def no_images(*args, **kwargs):
        raise AssertionError("pair images were computed")

    monkeypatch.setattr(_predict, "make_imager", no_images)
    cnnc.tl.predict_interactions(auto, tfs=["SOX9", "WT1mKTS"])
    params, edges = auto.uns["cnnc"]["params"], auto.uns["cnnc"]["edges"]
    assert params["images"] is False and params["direction"] == "auto"
    assert edges[["p_ab", "p_ba"]].isna().all().all()
    # the same ranking score as the full model: the images only split p_ab from p_ba
    both = edges.merge(images.uns["cnnc"]["edges"], on=["regulator", "target"])
    np.testing.assert_allclose(both["score_x"], both["score_y"], atol=1e-6)
    np.testing.assert_allclose(both["score_x"], 1 - both["p_none_x"], atol=1e-6)
    assert (auto.varp["cnnc"] - images.varp["cnnc"]).max() < 1e-6


def test_a_model_whose_images_rank_still_reads_them(gsd, tiny_model, regulators):
    adata = gsd.copy()
    cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=regulators)
    assert adata.uns["cnnc"]["params"]["images"] is True
    assert adata.uns["cnnc"]["edges"]["p_ab"].notna().all()


def test_time_key_orders_a_simulated_cascade():
    adata = _cascade()
    cnnc.tl.predict_interactions(
        adata, tfs=["g0", "g1", "g2"], time_key="time", settings=cnnc.tl.ScoringSettings(min_cells=0)
    )
    edges = adata.uns["cnnc"]["edges"].set_index(["regulator", "target"])
    for a, b in (("g0", "g1"), ("g1", "g2"), ("g0", "g2")):
        assert edges.loc[(a, b), "direction"] == 1 and edges.loc[(a, b), "direction_evidence"] == "time"
        assert edges.loc[(b, a), "direction"] == -1 and edges.loc[(b, a), "direction_evidence"] == "time"
    assert edges.loc[("g2", "g3"), "direction_evidence"] == "regulator list"
    assert adata.uns["cnnc"]["params"]["time_key"] == "time"


def test_time_key_per_group():
    adata = _cascade()
    adata.obs["half"] = pd.Categorical(np.where(np.arange(adata.n_obs) % 2 == 0, "even", "odd"))
    cnnc.tl.predict_interactions(
        adata, tfs=["g0", "g1", "g2"], time_key="time", groupby="half", settings=cnnc.tl.ScoringSettings(min_cells=0)
    )
    edges = adata.uns["cnnc"]["edges"]
    row = edges[(edges["regulator"] == "g0") & (edges["target"] == "g1")]
    assert len(row) == 2 and (row["direction"] == 1).all() and (row["direction_evidence"] == "time").all()


@pytest.mark.parametrize(
    ("column", "error", "match"),
    [
        ("absent", KeyError, "not a column of adata.obs; numeric columns: \\['time'"),
        ("label", ValueError, "not numbers"),
        ("gappy", ValueError, "NaN or infinite for 1 of"),
        ("flag", ValueError, "not numbers"),
        ("few", ValueError, "at least 4 time points"),
    ],
)
def test_bad_time_key_is_refused_before_anything_is_written(column, error, match):
    adata = _cascade()
    adata.obs["label"] = adata.obs["time"].round(1).astype(str)
    adata.obs["gappy"] = adata.obs["time"].where(np.arange(adata.n_obs) != 3)
    adata.obs["flag"] = adata.obs["time"] > 0.5
    adata.obs["few"] = (adata.obs["time"] * 2).round()
    with pytest.raises(error, match=match):
        cnnc.tl.predict_interactions(adata, tfs=["g0", "g1"], time_key=column)
    assert "cnnc" not in adata.uns and "cnnc" not in adata.varp


def test_bad_direction_mode_is_refused(gsd):
    with pytest.raises(ValueError, match="direction must be one of"):
        cnnc.tl.predict_interactions(gsd.copy(), tfs=["SOX9"], settings=cnnc.tl.ScoringSettings(direction="guess"))


def test_stronger_evidence_comes_first():
    edges = pd.DataFrame(
        {"regulator": ["a", "a", "b", "c"], "target": ["b", "x", "a", "a"],
         "p_ab": [0.9, 0.9, 0.2, 0.5], "p_ba": [0.1, 0.1, 0.7, 0.5]}
    )  # fmt: skip
    lead = np.array([-0.3, 0.4, 0.3, np.nan])
    decided = (np.array([0]), np.array([1]), "intervention")
    direction, evidence = call_directions(
        edges, {"a", "b", "c"}, time_lead=lead, time_margin=0.1, image_margin=0.2, decided=decided
    )
    assert direction.tolist() == [1, 1, 1, 0]
    assert evidence.tolist() == ["intervention", "regulator list", "time", "none"]
    # images call only with a margin from a measured rule, and never on a tie
    direction, evidence = call_directions(edges, {"a", "b", "c"}, image_margin=0.2)
    assert direction.tolist() == [1, 1, -1, 0] and evidence.tolist() == ["images", "regulator list", "images", "none"]
