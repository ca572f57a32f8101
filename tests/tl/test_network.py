"""cnnc.tl.causal_network: PC-style skeleton, colliders, Meek's rules, and pair images for what is left."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from anndata import AnnData

import cnnc
from cnnc.tl._network import fisher_z, normal_scores, orient


@pytest.fixture(scope="module", autouse=True)
def _threads():
    torch.set_num_threads(1)


def _collider(n: int = 3000, seed: int = 0) -> AnnData:
    """x -> z <- y, z -> w (non-linear, additive noise): one collider, one edge only Meek's rule 1 orients."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    y = rng.standard_normal(n)
    z = np.tanh(x) + 0.8 * y + 0.4 * rng.standard_normal(n)
    w = np.exp(0.8 * z) + 0.5 * rng.standard_normal(n)
    values = np.column_stack([x, y, z, w]).astype(np.float32)
    return AnnData(values, var=pd.DataFrame(index=["x", "y", "z", "w"]))


def _edges(adata: AnnData, key: str = "cnnc_network") -> dict[tuple[str, str], str]:
    e = adata.uns[key]["edges"]
    return dict(zip(zip(e["regulator"], e["target"], strict=True), e["oriented_by"], strict=True))


def _population_correlation(weights: np.ndarray) -> np.ndarray:
    """Correlation matrix of the linear SEM v = W^T v + e (W[i, j]: i -> j), unit noise variances."""
    inverse = np.linalg.inv(np.eye(len(weights)) - weights)
    cov = inverse.T @ inverse
    d = np.sqrt(np.diag(cov))
    return cov / np.outer(d, d)


def test_fisher_z_matches_regression_residuals():
    rng = np.random.default_rng(1)
    v = rng.standard_normal((500, 4)) @ rng.standard_normal((4, 4))
    corr = np.corrcoef(v.T)
    others = np.column_stack([v[:, [2, 3]], np.ones(len(v))])
    r0 = v[:, 0] - others @ np.linalg.lstsq(others, v[:, 0], rcond=None)[0]
    r1 = v[:, 1] - others @ np.linalg.lstsq(others, v[:, 1], rcond=None)[0]
    r = np.corrcoef(r0, r1)[0, 1]
    z, p = fisher_z(corr, 500, 0, 1, (2, 3))
    assert z == pytest.approx(np.sqrt(500 - 2 - 3) * abs(np.arctanh(r)), rel=1e-8)
    assert 0 <= p <= 1


def test_normal_scores_ignore_monotone_transforms():
    rng = np.random.default_rng(0)
    v = rng.standard_normal((300, 2))
    np.testing.assert_allclose(normal_scores(v), normal_scores(np.column_stack([np.exp(v[:, 0]), v[:, 1] ** 3])))
    assert abs(normal_scores(v).mean()) < 1e-9


def test_collider_and_meek_rule_1():
    adata = _collider()
    cnnc.tl.causal_network(adata)
    edges = _edges(adata)
    # the links are exactly the three direct ones; the causes of z are oriented by the collider, z -> w by rule 1
    assert edges == {("x", "z"): "collider", ("y", "z"): "collider", ("z", "w"): "meek"}
    colliders = adata.uns["cnnc_network"]["colliders"]
    assert len(colliders) == 1 and colliders.loc[0, "effect"] == "z"
    assert {colliders.loc[0, "cause_1"], colliders.loc[0, "cause_2"]} == {"x", "y"}
    params = adata.uns["cnnc_network"]["params"]
    assert params["function"] == "causal_network" and params["skeleton"] == "estimated"
    assert params["alpha"] == 0.01 and params["max_cond"] == 3 and params["n_cells"] == 3000
    assert params["variables"] == ["x", "y", "z", "w"] and params["model"] == "cnnc-causal"


def test_chain_has_no_collider_and_is_oriented_by_images():
    rng = np.random.default_rng(3)
    # monotone transforms of a Gaussian chain: partial correlations of normal scores test it exactly
    x = rng.standard_normal(3000)
    y = x + 0.7 * rng.standard_normal(3000)
    z = np.exp(y + 0.5 * rng.standard_normal(3000))
    adata = AnnData(np.column_stack([x, y, z]).astype(np.float32), var=pd.DataFrame(index=["x", "y", "z"]))
    out = cnnc.tl.causal_network(adata, copy=True)
    e = out.uns["cnnc_network"]["edges"]
    # x and z are separated by y, which is therefore no collider: the graph orients nothing
    assert {frozenset(p) for p in zip(e["regulator"], e["target"], strict=True)} == {
        frozenset("xy"),
        frozenset("yz"),
    }
    assert (e["oriented_by"] == "image").all() and len(out.uns["cnnc_network"]["colliders"]) == 0
    assert (e["direction"] >= 0).all()  # image-oriented edges follow the image's direction score
    np.testing.assert_allclose(e["direction"], e["p_forward"] - e["p_backward"], atol=1e-6)


def test_meek_rule_2_and_conflicts_on_population_correlations():
    # a -> b <- c, b -> d, a -> d: the collider at b, rule 1 orients b -> d, rule 2 then a -> d
    w = np.zeros((4, 4))
    w[0, 1] = w[2, 1] = w[1, 3] = w[0, 3] = 0.8
    adjacent = w.astype(bool) | w.T.astype(bool)
    directed, how, colliders = orient(_population_correlation(w), 10**6, adjacent, None, 0.01)
    assert {(int(i), int(j)) for i, j in zip(*np.nonzero(directed), strict=True)} == {(0, 1), (2, 1), (1, 3), (0, 3)}
    assert how[0, 1] == how[2, 1] == 1 and how[1, 3] == how[0, 3] == 2
    assert colliders == [(0, 1, 2)]
    # a -> b <- L -> c <- d with L hidden: a - b - c - d, colliders at b (a, c) and at c (b, d) claim b - c both
    # ways; the conflicting edge is left undirected, the others are oriented into b and into c
    w = np.zeros((5, 5))
    w[0, 1] = w[4, 1] = w[4, 2] = w[3, 2] = 0.8
    corr = _population_correlation(w)[:4, :4]
    adjacent = np.zeros((4, 4), dtype=bool)
    for i in range(3):
        adjacent[i, i + 1] = adjacent[i + 1, i] = True
    directed, how, colliders = orient(corr, 10**6, adjacent, None, 0.01)
    assert sorted(colliders) == [(0, 1, 2), (1, 2, 3)]
    assert directed[0, 1] and directed[3, 2] and not directed[1, 2] and not directed[2, 1]
    assert how[1, 2] == 0 and how[0, 1] == how[3, 2] == 1


def test_given_skeleton_missing_a_link_makes_no_collider():
    # x -> y, x -> z, y -> z (a triangle): given the skeleton without x - y, x and y stay dependent given every set,
    # so z must not be called their common effect
    rng = np.random.default_rng(5)
    x = rng.standard_normal(4000)
    y = x + rng.standard_normal(4000)
    z = x + y + rng.standard_normal(4000)
    adata = AnnData(np.column_stack([x, y, z]).astype(np.float32), var=pd.DataFrame(index=["x", "y", "z"]))
    cnnc.tl.causal_network(adata, skeleton=[("x", "z"), ("z", "y")])
    result = adata.uns["cnnc_network"]
    assert len(result["colliders"]) == 0 and (result["edges"]["oriented_by"] == "image").all()
    assert result["params"]["skeleton"] == "given" and len(result["edges"]) == 2
    # the collider data with the true skeleton as a DataFrame: the same orientation as the estimated skeleton
    collider = _collider(2000, seed=1)
    given = pd.DataFrame({"a": ["x", "z", "w"], "b": ["z", "y", "z"]})
    cnnc.tl.causal_network(collider, skeleton=given, key_added="given")
    assert _edges(collider, "given") == {("x", "z"): "collider", ("y", "z"): "collider", ("z", "w"): "meek"}


def test_order_of_variables_does_not_matter():
    adata = _collider(1500, seed=2)
    first = _edges(cnnc.tl.causal_network(adata, copy=True))
    second = _edges(cnnc.tl.causal_network(adata, variables=["w", "z", "y", "x"], copy=True))
    assert first == second


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"alpha": 0}, ValueError, "alpha must be a finite number"),
        ({"alpha": True}, ValueError, "alpha must be a finite number"),
        ({"max_cond": -1}, ValueError, "max_cond must be"),
        ({"max_cond": 1.5}, ValueError, "max_cond must be"),
        ({"model": "default"}, ValueError, "needs a direction model|reads log-expression"),
        ({"variables": ["x", "y"]}, ValueError, "at least 3 variables"),
        ({"variables": ["x", "y", "x"]}, ValueError, "more than once"),
        ({"variables": "x"}, TypeError, "not one string"),
        ({"skeleton": "x-y"}, TypeError, "not one string"),
        ({"skeleton": [("x", "q")]}, ValueError, "not among the variables"),
        ({"skeleton": [("x", "x")]}, ValueError, "to itself"),
        ({"skeleton": [("x", "y", "z")]}, ValueError, "pairs of variable names"),
        ({"skeleton": pd.DataFrame({"a": ["x"]})}, ValueError, "two columns"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        cnnc.tl.causal_network(_collider(200), **kwargs)


def test_bad_data():
    adata = _collider(200)
    adata.X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cnnc.tl.causal_network(adata)
    adata = _collider(200)
    adata.X[:, 1] = 1.0
    with pytest.raises(ValueError, match="constant"):
        cnnc.tl.causal_network(adata)
    with pytest.raises(TypeError, match="expects an AnnData"):
        cnnc.tl.causal_network(np.zeros((50, 3)))
    adata = _collider(200)
    adata.uns["cnnc_network"] = {"something": 1}
    with pytest.raises(ValueError, match="did not write"):
        cnnc.tl.causal_network(adata)
