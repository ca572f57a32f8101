from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import cnnc
from cnnc.datasets._causal_pairs import CAUSES, FUNCTIONS, NOISES


@pytest.fixture(scope="module")
def pairs():
    return cnnc.datasets.causal_pairs(600, n_cells=400, seed=7)


def _values(adata, name):
    return adata.X[:, adata.var_names.get_loc(name)].astype(np.float64)


def test_layout_and_labels(pairs):
    assert pairs.shape == (400, 1200)
    assert pairs.X.dtype == np.float32 and np.isfinite(pairs.X).all()
    table = pairs.uns["pairs"]
    assert len(table) == 600
    assert (table["gene_a"].str.endswith("_a") & table["gene_b"].str.endswith("_b")).all()
    counts = table["label"].value_counts()
    assert set(counts.index) == {"none", "a->b", "b->a"}
    assert 150 <= counts["none"] <= 250  # p_none = 1/3
    assert abs(counts["a->b"] - counts["b->a"]) < 80  # both orientations equally likely
    truth = pairs.uns["ground_truth"]
    assert len(truth) == (table["label"] != "none").sum()
    forward = table[table["label"] == "a->b"]
    assert set(zip(forward["gene_a"], forward["gene_b"], strict=True)) <= set(
        zip(truth["regulator"], truth["target"], strict=True)
    )
    causal = table[table["label"] != "none"]
    assert set(causal["mechanism"]) == set(FUNCTIONS)
    assert set(causal["cause"]) == set(CAUSES)
    assert set(causal["noise"]) == set(NOISES)
    none = table[table["label"] == "none"]
    assert {m.split(" ")[0] for m in none["mechanism"]} == {"independent", "confounded"}
    assert 0.15 < table["interventions"].mean() < 0.45


def test_discrete_causes_are_on_the_cause_side(pairs):
    table = pairs.uns["pairs"]
    discrete = table[(table["cause"] == "discrete") & (table["label"] != "none") & ~table["interventions"]]
    assert len(discrete) > 10
    for _, row in discrete.iterrows():
        cause, effect = (row["gene_a"], row["gene_b"]) if row["label"] == "a->b" else (row["gene_b"], row["gene_a"])
        assert len(np.unique(_values(pairs, cause))) <= 10
        assert len(np.unique(_values(pairs, effect))) > 10 or row["noise"] == "poisson"


def test_dependence_follows_the_labels(pairs):
    table = pairs.uns["pairs"]

    def rho(row):
        return abs(stats.spearmanr(_values(pairs, row["gene_a"]), _values(pairs, row["gene_b"])).statistic)

    independent = table[table["mechanism"] == "independent"]
    linear = table[(table["mechanism"] == "linear") & (table["noise"] == "additive")]
    assert len(independent) > 20 and len(linear) > 5
    assert np.median([rho(r) for _, r in independent.iterrows()]) < 0.1
    assert np.median([rho(r) for _, r in linear.iterrows()]) > 0.6


def test_seed_reproducible():
    a = cnnc.datasets.causal_pairs(20, n_cells=50, seed=3)
    b = cnnc.datasets.causal_pairs(20, n_cells=50, seed=3)
    c = cnnc.datasets.causal_pairs(20, n_cells=50, seed=4)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.uns["pairs"].equals(b.uns["pairs"])
    assert not np.array_equal(a.X, c.X)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_pairs": 0}, "n_pairs must be an integer >= 1"),
        ({"n_cells": 5}, "n_cells must be an integer >= 10"),
        ({"p_none": 1.5}, "p_none must be a finite number in \\[0, 1\\]"),
        ({"p_interventions": -0.1}, "p_interventions must be a finite number in \\[0, 1\\]"),
        ({"readout": 2}, "readout must be a finite number in \\[0, 1\\]"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cnnc.datasets.causal_pairs(**{"n_pairs": 5, **kwargs})


def test_only_none_or_only_causal():
    assert (cnnc.datasets.causal_pairs(30, n_cells=50, p_none=1.0).uns["pairs"]["label"] == "none").all()
    assert len(cnnc.datasets.causal_pairs(30, n_cells=50, p_none=0.0).uns["ground_truth"]) == 30


def test_readout_like_a_cytometer():
    read = cnnc.datasets.causal_pairs(40, n_cells=800, seed=11, readout=1.0)
    assert read.uns["pairs"]["readout"].all()
    assert not cnnc.datasets.causal_pairs(40, n_cells=80, seed=11).uns["pairs"]["readout"].any()
    x = read.X.astype(np.float64)
    assert (x > 0).all()  # positive intensities
    floors = [(x[:, j] == x[:, j].min()).mean() for j in range(x.shape[1])]
    assert max(floors) > 0.03  # a detection floor: cells tied at the minimum
    assert np.median([len(np.unique(x[:, j])) for j in range(x.shape[1])]) < 790  # rounding makes ties
    half = cnnc.datasets.causal_pairs(300, n_cells=50, seed=2, readout=0.5).uns["pairs"]["readout"].mean()
    assert 0.35 < half < 0.65


def test_readout_measures_with_noise():
    from cnnc.datasets._causal_pairs import _readout

    rng = np.random.default_rng(0)
    level = rng.standard_normal(5000)
    rho = [stats.spearmanr(level, _readout(rng, level)).statistic for _ in range(30)]
    assert 0.5 < min(rho) and max(rho) < 0.9999  # related to the level, but not a monotone function of it


def test_readout_off_changes_nothing():
    a = cnnc.datasets.causal_pairs(15, n_cells=60, seed=9)
    b = cnnc.datasets.causal_pairs(15, n_cells=60, seed=9, readout=0.0)
    np.testing.assert_array_equal(a.X, b.X)


def test_varied_generator_layout_and_labels():
    adata = cnnc.datasets.causal_pairs(60, n_cells=300, seed=5, generator="varied")
    pairs = adata.uns["pairs"]
    assert adata.shape == (300, 120) and np.isfinite(adata.X).all()
    assert set(pairs["label"]) <= {"none", "a->b", "b->a"} and (pairs["label"] != "none").sum() > 20
    assert adata.uns["dataset"]["generator"] == "varied"
    again = cnnc.datasets.causal_pairs(60, n_cells=300, seed=5, generator="varied")
    np.testing.assert_array_equal(adata.X, again.X)
    # ties from rounding and discretisation: some variables take far fewer values than there are samples
    levels = np.array([len(np.unique(adata.X[:, j])) for j in range(adata.n_vars)])
    assert (levels < 100).any() and (levels == 300).any()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"generator": "other"}, "generator must be one of"),
        ({"generator": "varied", "readout": 0.5}, "options of the 'cells' generator"),
        ({"generator": "varied", "p_interventions": 0.3}, "options of the 'cells' generator"),
        ({"generator": "rcc", "inhibition": 0.3}, "options of the 'cells' generator"),
    ],
)
def test_varied_generator_refuses_cells_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cnnc.datasets.causal_pairs(3, **kwargs)


def test_rcc_generator_layout_and_dependence():
    adata = cnnc.datasets.causal_pairs(60, n_cells=400, seed=3, generator="rcc")
    pairs = adata.uns["pairs"]
    assert adata.shape == (400, 120) and np.isfinite(adata.X).all()
    assert adata.uns["dataset"]["generator"] == "rcc"
    np.testing.assert_array_equal(adata.X, cnnc.datasets.causal_pairs(60, n_cells=400, seed=3, generator="rcc").X)
    # a cause and its effect through a spline are dependent; two independent mixtures are not
    x = adata.X.astype(np.float64)
    dep = []
    for i, row in enumerate(pairs.itertuples()):
        a, b = np.argsort(np.argsort(x[:, 2 * i])), np.argsort(np.argsort(x[:, 2 * i + 1]))
        u, v = np.digitize(a, np.quantile(a, [0.25, 0.5, 0.75])), np.digitize(b, np.quantile(b, [0.25, 0.5, 0.75]))
        table = np.histogram2d(u, v, bins=4)[0] / len(u)
        dep.append((row.label, np.abs(table - table.sum(0) * table.sum(1)[:, None]).sum()))
    causal = np.median([d for label, d in dep if label != "none"])
    independent = [d for (label, d), m in zip(dep, pairs["mechanism"], strict=True) if m == "independent"]
    assert causal > 2 * np.median(independent)
