"""The rankings of perturbed pairs (``intervention_method``) and the activity perturbations of the simulator."""

from __future__ import annotations

import numpy as np
import pytest
import scanpy as sc
import torch
from anndata import AnnData

import cnnc
from cnnc._interventions import parse_interventions
from cnnc.tl._intervention_rankings import METHODS, combined_scores, rank_pairs, shift_scores
from cnnc.tl._interventional import interventional_graph


@pytest.fixture(scope="module", autouse=True)
def _threads():
    torch.set_num_threads(1)


def _small_screen(seed: int, **kw) -> AnnData:
    """8 genes, 8 true edges, every gene knocked down."""
    screen = cnnc.datasets.simulate_screen(
        8, n_edges=8, seed=seed, perturbed=1.0, cells_per_guide=100, control_cells=600, n_background=50, **kw
    )
    sc.pp.normalize_total(screen, target_sum=1e2)
    sc.pp.log1p(screen)
    return screen[:, screen.var["in_network"].to_numpy()].copy()


def _graph_and_truth(screen: AnnData) -> tuple[dict, np.ndarray]:
    names = np.asarray(screen.var_names)
    design = parse_interventions(screen, names, "guide", "non-targeting", None)
    graph = interventional_graph(np.asarray(screen.X, dtype=np.float64), design)
    pos = {n: i for i, n in enumerate(names)}
    truth = np.zeros((len(names), len(names)), dtype=bool)
    for r, t in zip(screen.uns["ground_truth"]["regulator"], screen.uns["ground_truth"]["target"], strict=True):
        truth[pos[r], pos[t]] = True
    return graph, truth


@pytest.mark.parametrize("seed", [2, 3])
def test_combined_ranking_recovers_a_small_screens_graph(seed):
    graph, truth = _graph_and_truth(_small_screen(seed))
    score = combined_scores(graph)
    off = ~np.eye(len(truth), dtype=bool)
    top = off & (score >= np.sort(score[off])[-truth.sum()])
    # 8 true of 56 ordered pairs: a random ranking puts about 1 of them in its top 8
    assert (top & truth).sum() >= 6
    assert (score > score.T)[truth].sum() >= 6  # true edges scored above their reverse
    # the orientation is the shift ranking's wherever that one is not tied
    shift = shift_scores(graph)
    called = shift != shift.T
    assert np.array_equal((score > score.T)[called & off], (shift > shift.T)[called & off])


def test_shift_ranking_puts_significant_shifts_first_by_size():
    p = 4
    graph = {
        "adjacent": np.zeros((p, p), dtype=bool),
        "directed": np.zeros((p, p), dtype=bool),
        "shift": np.zeros((p, p)),
        "shift_p": np.ones((p, p)),
        "direct_z": np.zeros((p, p)),
        "partial": np.full((p, p), 0.1),
        "perturbed": np.array([True, True, False, False]),
        "dependence": np.zeros((p, p)),
    }
    graph["shift"][0, 2], graph["shift_p"][0, 2] = -0.3, 1e-6  # significant
    graph["shift"][1, 3], graph["shift_p"][1, 3] = -0.8, 1e-9  # significant, larger
    graph["shift"][0, 3], graph["shift_p"][0, 3] = -0.9, 0.5  # large but not significant
    graph["directed"][2, 3] = graph["adjacent"][2, 3] = graph["adjacent"][3, 2] = True  # never-perturbed 2 -> 3
    score = shift_scores(graph)
    assert score[1, 3] > score[0, 2] > score[2, 3] > score[0, 3]
    assert score[2, 3] > score[3, 2] and np.isneginf(np.diag(score)).all()
    with pytest.raises(ValueError, match="intervention_method must be one of"):
        rank_pairs(graph, "bogus")
    assert all(rank_pairs(graph, m).shape == (p, p) for m in METHODS)


def test_causal_scores_intervention_method_end_to_end_and_bad_input():
    screen = _small_screen(2)
    kw = {"interventions": "guide", "control": "non-targeting", "n_boot": 0, "copy": True}
    truth = set(zip(screen.uns["ground_truth"]["regulator"], screen.uns["ground_truth"]["target"], strict=True))
    tables = {}
    for method in METHODS:
        out = cnnc.tl.causal_scores(screen, intervention_method=method, **kw).uns["cnnc_causal"]
        assert out["params"]["intervention_method"] == method and repr(method) in out["params"]["score"]
        tables[method] = out["edges"]
    for table in tables.values():  # the called direction outranks the other; undecided pairs tie
        decided = (table["direction_evidence"] == "intervention").to_numpy()
        assert (table["score"] > table["reverse_score"]).to_numpy()[decided].all()
        assert (table["score"] == table["reverse_score"]).to_numpy()[~decided].all()
        assert table["score_low"].isna().all()
    top = tables["combined"].head(8)
    assert sum((r, t) in truth for r, t in zip(top["regulator"], top["target"], strict=True)) >= 6
    assert not tables["combined"]["score"].equals(tables["graph"]["score"])
    for bad, match in (("bogus", "must be one of"), (None, "must be one of")):
        with pytest.raises(ValueError, match=match):
            cnnc.tl.causal_scores(screen, intervention_method=bad, **kw)
    plain = screen.copy()
    with pytest.raises(ValueError, match="needs interventions="):
        cnnc.tl.causal_scores(plain, intervention_method="shift", n_boot=0)
    assert "cnnc_causal" not in plain.uns


def test_simulate_screen_activity_perturbations_leave_the_gene_alone():
    kw = {"seed": 3, "cells_per_guide": 150, "control_cells": 800, "perturbed": 1.0}
    level = cnnc.datasets.simulate_screen(10, **kw)
    activity = cnnc.datasets.simulate_screen(10, acts_on="activity", **kw)
    assert activity.uns["simulation"]["acts_on"] == "activity"
    control = activity.obs["guide"] == "non-targeting"
    truth = activity.uns["ground_truth"]
    regulator = truth["regulator"].value_counts().index[0]  # the gene with the most targets
    cells = activity.obs["guide"] == regulator
    own = activity[cells, regulator].X.mean() / activity[control, regulator].X.mean()
    assert 0.8 < own < 1.25  # its measured level stays
    assert level[cells, regulator].X.mean() < 0.4 * level[control, regulator].X.mean()
    # what its targets read falls the same way in both: the targets move alike
    targets = list(truth.loc[truth["regulator"] == regulator, "target"])

    def moved(screen):
        return np.log(screen[cells][:, targets].X.mean(0) / screen[control][:, targets].X.mean(0))

    assert np.abs(moved(level)).max() > 0.05
    assert np.allclose(moved(activity), moved(level), atol=0.03)
    with pytest.raises(ValueError, match="acts_on must be"):
        cnnc.datasets.simulate_screen(10, acts_on="both")
