"""cnnc.tl.causal_scores: link and direction scores of every pair of variables, with bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from anndata import AnnData

import cnnc
from cnnc.tl._causal import partial_correlation


@pytest.fixture(scope="module", autouse=True)
def _threads():
    torch.set_num_threads(1)


def _chain(n: int = 3000, seed: int = 0) -> AnnData:
    """x -> y -> z (non-linear, additive noise) and an independent w."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n)
    y = np.tanh(1.5 * x) + 0.3 * rng.standard_normal(n)
    z = y**3 + 0.3 * rng.standard_normal(n)
    w = rng.standard_normal(n)
    return AnnData(np.column_stack([x, y, z, w]).astype(np.float32), var=pd.DataFrame(index=["x", "y", "z", "w"]))


def test_partial_correlation_matches_regression_residuals():
    rng = np.random.default_rng(1)
    v = rng.standard_normal((2000, 4)) @ rng.standard_normal((4, 4))
    got = partial_correlation(v)
    for i, j in [(0, 1), (1, 3), (2, 3)]:
        others = np.column_stack([v[:, [k for k in range(4) if k not in (i, j)]], np.ones(len(v))])
        ri = v[:, i] - others @ np.linalg.lstsq(others, v[:, i], rcond=None)[0]
        rj = v[:, j] - others @ np.linalg.lstsq(others, v[:, j], rcond=None)[0]
        assert got[i, j] == pytest.approx(np.corrcoef(ri, rj)[0, 1], abs=1e-8)
        assert got[j, i] == pytest.approx(got[i, j])
    assert np.allclose(np.diag(got), 1.0)
    constant = np.column_stack([v, np.ones(len(v))])
    assert np.allclose(partial_correlation(constant)[4, :4], 0.0)


def test_chain_links_and_directions():
    adata = _chain()
    cnnc.tl.causal_scores(adata, n_boot=4, random_state=3)
    result = adata.uns["cnnc_causal"]
    edges = result["edges"]
    assert len(edges) == 6 and set(map(frozenset, zip(edges["regulator"], edges["target"], strict=True))) == {
        frozenset(p) for p in [("x", "y"), ("x", "z"), ("x", "w"), ("y", "z"), ("y", "w"), ("z", "w")]
    }
    assert edges["score"].is_monotonic_decreasing
    assert ((edges["score"] > 0) & (edges["score"] <= 1)).all()
    top = {frozenset(p) for p in zip(edges["regulator"][:2], edges["target"][:2], strict=True)}
    assert top == {frozenset(("x", "y")), frozenset(("y", "z"))}  # the direct links, not x-z nor w
    assert (edges["direction"] >= 0).all()  # oriented: regulator is the variable said to drive
    assert np.allclose(edges["direction"], edges["p_forward"] - edges["p_backward"], atol=1e-6)
    assert (edges["score_low"] <= edges["score_high"]).all()
    assert (edges["direction_low"] <= edges["direction_high"]).all()
    assert edges["p_direction"].between(0, 1).all()
    params = result["params"]
    assert params["model"] == "cnnc-causal" and params["n_boot"] == 4 and params["seed"] == 3
    assert params["variables"] == ["x", "y", "z", "w"] and params["n_cells"] == 3000


def test_order_of_variables_does_not_matter():
    adata = _chain(1500, seed=2)
    first = cnnc.tl.causal_scores(adata, n_boot=0, copy=True).uns["cnnc_causal"]["edges"]
    other = cnnc.tl.causal_scores(adata, variables=["w", "z", "y", "x"], n_boot=0, copy=True)
    second = other.uns["cnnc_causal"]["edges"]
    key = ["regulator", "target"]
    columns = ["score", "direction", "p_none", "p_forward", "p_backward", "partial_corr"]
    merged = first.merge(second, on=key, suffixes=("", "_2"))
    assert len(merged) == 6  # every pair oriented the same way
    for c in columns:
        np.testing.assert_allclose(merged[c], merged[f"{c}_2"], atol=1e-5)
    assert first[["score_low", "direction_low", "p_direction"]].isna().all().all()  # no bootstrap, no interval


def test_copy_and_bootstrap_reproducible():
    adata = _chain(800)
    a = cnnc.tl.causal_scores(adata, n_boot=3, random_state=5, copy=True)
    b = cnnc.tl.causal_scores(adata, n_boot=3, random_state=5, copy=True)
    assert "cnnc_causal" not in adata.uns
    pd.testing.assert_frame_equal(a.uns["cnnc_causal"]["edges"], b.uns["cnnc_causal"]["edges"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_boot": -1}, ValueError, "n_boot must be an integer"),
        ({"model": "default"}, ValueError, "needs a direction model|reads log-expression"),
        ({"variables": ["x", "y"]}, ValueError, "at least 3 variables"),
        ({"variables": ["x", "y", "x"]}, ValueError, "more than once"),
        ({"variables": "x"}, TypeError, "not one string"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        cnnc.tl.causal_scores(_chain(200), **kwargs)


def test_foreign_result_key_is_refused():
    adata = _chain(200)
    adata.uns["cnnc_causal"] = {"something": 1}
    with pytest.raises(ValueError, match="did not write"):
        cnnc.tl.causal_scores(adata, n_boot=0)


def test_sparse_layer_and_dense_x_agree():
    from scipy import sparse

    dense = _chain(600, seed=4)
    other = dense.copy()
    other.layers["values"] = sparse.csr_matrix(other.X)
    other.X = np.zeros_like(other.X)
    a = cnnc.tl.causal_scores(dense, n_boot=0, copy=True).uns["cnnc_causal"]
    b = cnnc.tl.causal_scores(other, layer="values", n_boot=0, copy=True).uns["cnnc_causal"]
    columns = ["regulator", "target", "score", "direction", "p_none", "partial_corr"]
    pd.testing.assert_frame_equal(a["edges"][columns], b["edges"][columns])
    assert b["params"]["layer"] == "values" and a["params"]["layer"] == ""


def test_causal_tables_carry_significance_of_the_association():
    adata = _chain()
    cnnc.tl.causal_scores(adata, n_boot=0)
    cnnc.tl.causal_network(adata)
    for key in ("cnnc_causal", "cnnc_network"):
        edges = adata.uns[key]["edges"]
        assert edges[["pvalue", "qvalue"]].apply(lambda c: c.between(0, 1)).all().all()
        linked = edges.set_index(["regulator", "target"])
        pairs = {frozenset(p): q for p, q in linked["qvalue"].items()}
        if frozenset(("x", "y")) in pairs:
            assert pairs[frozenset(("x", "y"))] < 0.01  # a strong association
        if frozenset(("x", "w")) in pairs:
            assert pairs[frozenset(("x", "w"))] > 0.01  # independent variables
        kept = cnnc.get.edges(adata, key=key, max_q=0.05)
        assert (kept["qvalue"] <= 0.05).all() and len(kept) >= 1
