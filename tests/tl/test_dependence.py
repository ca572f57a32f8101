"""Invariance of dependence (what a perturbation cuts), ``acts_on`` in ``intervention_targets``, feedback loops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import torch
from anndata import AnnData

import cnnc
from cnnc._interventions import parse_interventions
from cnnc.tl import _interventional
from cnnc.tl._dependence import dependence_votes
from cnnc.tl._intervention_rankings import DEPENDENCE_THRESHOLD, rank_pairs


@pytest.fixture(scope="module", autouse=True)
def _threads():
    torch.set_num_threads(1)


def _chain(n: int = 800, seed: int = 0) -> AnnData:
    """x → y → z; condition "inhib_y" cuts y's out-link (z stops reading y), y still follows x."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(["ctrl", "inhib_y"], n)
    x = rng.standard_normal(2 * n)
    y = x + 0.6 * rng.standard_normal(2 * n)
    read = np.where(labels == "inhib_y", 0.0, y)  # what z reads of y: nothing under the inhibitor
    z = read + 0.6 * rng.standard_normal(2 * n) + np.where(labels == "inhib_y", -1.0, 0.0)
    return AnnData(
        X=np.column_stack([x, y, z]).astype(np.float32),
        obs=pd.DataFrame({"cond": pd.Categorical(labels)}, index=[f"c{k}" for k in range(2 * n)]),
        var=pd.DataFrame(index=["x", "y", "z"]),
    )


def _design(adata: AnnData, acts_on: str = "activity"):
    names = np.asarray(adata.var_names)
    targets = {"inhib_y": {"targets": "y", "acts_on": acts_on}}
    return parse_interventions(adata, names, "cond", "ctrl", targets)


def test_an_activity_perturbation_cuts_the_out_link_and_keeps_the_in_link():
    adata = _chain()
    design = _design(adata)
    assert design.kind("inhib_y") == "activity"
    votes = dependence_votes(np.asarray(adata.X, dtype=np.float64), design)
    x, y, z = 0, 1, 2
    assert np.allclose(votes, -votes.T)
    assert votes[y, z] > DEPENDENCE_THRESHOLD  # y - z dependence gone under the inhibitor: y → z
    assert votes[x, y] > DEPENDENCE_THRESHOLD  # y - x dependence kept: x is y's parent, x → y
    # the mean shift alone sees only that z moves under y's inhibition; the dependence also orients x → y
    graph = _interventional.interventional_graph(np.asarray(adata.X, dtype=np.float64), design)
    score = rank_pairs(graph, "dependence")
    assert score[x, y] > score[y, x]
    assert score[y, z] > score[z, y]


def test_votes_need_a_clear_dependence_in_the_controls():
    adata = _chain()
    rng = np.random.default_rng(1)
    adata.X[:, 0] = rng.standard_normal(adata.n_obs)  # x independent of everything
    votes = dependence_votes(np.asarray(adata.X, dtype=np.float64), _design(adata))
    assert votes[0, 1] == 0 and votes[0, 2] == 0


def test_causal_scores_dependence_ranking_records_what_each_condition_acts_on():
    adata = _chain()
    kw = {"interventions": "cond", "control": "ctrl", "n_boot": 0}
    targets = {"inhib_y": {"targets": "y", "acts_on": "activity"}}
    cnnc.tl.causal_scores(adata, intervention_targets=targets, intervention_method="dependence", **kw)
    result = adata.uns["cnnc_causal"]
    assert result["params"]["acts_on"] == {"inhib_y": "activity"}
    assert result["params"]["intervention_targets"] == {"inhib_y": ["y"]}
    assert result["params"]["intervention_method"] == "dependence"
    edges = result["edges"].set_index(["regulator", "target"])
    assert ("x", "y") in edges.index and ("y", "z") in edges.index
    assert (edges.loc[[("x", "y"), ("y", "z")], "direction_evidence"] == "intervention").all()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"target": "y"}, "must have the keys 'targets'"),
        ({"targets": "y", "acts_on": "both"}, "must be 'level'"),
        ({"targets": "y", "acts_on": "activity", "dose": 3}, "must have the keys 'targets'"),
        ({"targets": "w", "acts_on": "activity"}, "not among the variables"),
    ],
)
def test_bad_acts_on_is_refused_and_nothing_is_written(value, message):
    adata = _chain(200)
    with pytest.raises(ValueError, match=message):
        cnnc.tl.causal_scores(
            adata, interventions="cond", control="ctrl", intervention_targets={"inhib_y": value}, n_boot=0
        )
    assert "cnnc_causal" not in adata.uns


def test_a_level_perturbation_that_does_not_move_its_target_is_reported(monkeypatch):
    messages = []
    monkeypatch.setattr(_interventional.logg, "warning", lambda msg, *a, **k: messages.append(msg))
    adata = _chain()  # y's own level does not move under the inhibitor
    _interventional.interventional_graph(np.asarray(adata.X, dtype=np.float64), _design(adata, "level"))
    assert len(messages) == 1 and "'acts_on': 'activity'" in messages[0] and "inhib_y" in messages[0]
    messages.clear()
    _interventional.interventional_graph(np.asarray(adata.X, dtype=np.float64), _design(adata, "activity"))
    assert not messages


def test_simulate_screen_feedback_loops_raise_the_ancestors_of_an_inhibited_gene():
    kw = {"seed": 0, "acts_on": "activity", "perturbed": 1.0, "cells_per_guide": 200, "n_background": 50}
    plain = cnnc.datasets.simulate_screen(12, **kw)
    looped = cnnc.datasets.simulate_screen(12, feedback=3, **kw)
    assert np.array_equal(plain.X, cnnc.datasets.simulate_screen(12, feedback=0, **kw).X)
    assert plain.uns["feedback"].empty and len(looped.uns["feedback"]) == 3
    assert looped.uns["ground_truth"].equals(plain.uns["ground_truth"])  # the cascade; loops listed apart
    for screen in (plain, looped):
        sc.pp.normalize_total(screen, target_sum=1e2)
        sc.pp.log1p(screen)
    control = (looped.obs["guide"] == "non-targeting").to_numpy()
    source, ancestor = looped.uns["feedback"].iloc[0][["regulator", "target"]]
    cells = (looped.obs["guide"] == source).to_numpy()

    def rise(screen):
        return float(screen[cells, ancestor].X.mean() - screen[control, ancestor].X.mean())

    # inhibiting the loop's source releases its repression of the ancestor, upstream of the inhibited gene
    assert rise(looped) > 0.05 and abs(rise(plain)) < 0.03
    with pytest.raises(ValueError, match="feedback must be"):
        cnnc.datasets.simulate_screen(12, feedback=-1)
    with pytest.raises(ValueError, match="exceeds"):
        cnnc.datasets.simulate_screen(4, n_edges=2, feedback=5)
