import numpy as np
import pandas as pd
import pytest
import torch

import cnnc
from cnnc._training._labels import carve_validation, labelled_pairs, match_edges, regulator_folds

SMALL = {"filters": [4, 8, 8], "dense": 16}


def test_labels_follow_cnnc():
    known = pd.DataFrame({"regulator": [0, 0, 1], "target": [2, 3, 4]})
    pairs = labelled_pairs(known, 10, rng=np.random.default_rng(0))
    lab = dict(zip(zip(pairs.a, pairs.b, strict=True), pairs.label, strict=True))
    assert lab[(0, 2)] == 1 and lab[(2, 0)] == 2 and lab[(1, 4)] == 1 and lab[(4, 1)] == 2
    neg = pairs.label == 0
    assert neg.sum() == 3  # one negative per known edge
    assert set(pairs.a[neg]) <= {0, 1}  # negatives are pairs of the same regulator
    assert (pairs.a != pairs.b).all()
    inter = labelled_pairs(known, 10, task="interaction", rng=np.random.default_rng(0))
    assert set(inter.label) == {0, 1} and len(inter) == 6


def test_non_target_negatives_avoid_known_partners():
    known = pd.DataFrame({"regulator": [0] * 5, "target": [1, 2, 3, 4, 5]})
    pairs = labelled_pairs(known, 8, negatives="non-target", negative_ratio=2, rng=np.random.default_rng(1))
    neg_targets = set(pairs.b[pairs.label == 0])
    assert neg_targets <= {6, 7}


def test_folds_are_regulator_disjoint():
    regs = np.arange(10)
    folds = regulator_folds(regs, 3, np.random.default_rng(0))
    assert sorted(np.concatenate(folds).tolist()) == regs.tolist()
    for i in range(3):
        for j in range(i + 1, 3):
            assert not set(folds[i]) & set(folds[j])
    fit, val = carve_validation(regs, 0.2, np.random.default_rng(0))
    assert len(val) == 2 and not set(fit) & set(val)
    with pytest.raises(ValueError, match="regulator-disjoint"):
        regulator_folds(np.arange(2), 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="at least 2 regulators"):
        carve_validation(np.array([3]), 0.2, np.random.default_rng(0))


def test_match_edges_drops_unknown_genes_and_is_case_insensitive():
    names = pd.Index(["Sox9", "Amh", "Gata4"])
    known = match_edges(pd.DataFrame({"Gene1": ["SOX9", "GATA4", "FOO"], "Gene2": ["AMH", "AMH", "AMH"]}), names)
    assert known.values.tolist() == [[0, 1], [2, 1]]
    with pytest.raises(ValueError, match="None of the 1 known edges"):
        match_edges(pd.DataFrame({"regulator": ["FOO"], "target": ["BAR"]}), names)
    with pytest.raises(ValueError, match="regulator and target columns"):
        match_edges(pd.DataFrame({"x": ["a"]}), names)


def test_train_cv_writes_heldout_edges_and_is_reproducible(gsd):
    torch.set_num_threads(1)
    truth = gsd.uns["ground_truth"]
    a1, a2 = gsd.copy(), gsd.copy()
    m1 = cnnc.tl.train(
        a1, truth, folds=2, epochs=2, architecture=SMALL, random_state=3, final=False, recipe="cnnc-original"
    )
    m2 = cnnc.tl.train(
        a2, truth, folds=2, epochs=2, architecture=SMALL, random_state=3, final=False, recipe="cnnc-original"
    )
    cv = a1.uns["cnnc_cv"]["edges"]
    # every regulator × gene pair of the known regulators was scored once, by the fold that did not train on it
    regs = truth["regulator"].unique()
    assert len(cv) == len(regs) * (gsd.n_vars - 1)
    assert cv.groupby("regulator")["fold"].nunique().max() == 1
    pd.testing.assert_frame_equal(cv, a2.uns["cnnc_cv"]["edges"])
    for k, v in m1.module.state_dict().items():
        assert torch.equal(v, m2.module.state_dict()[k])
    # the cross-validated edges evaluate like a prediction
    result = cnnc.tl.evaluate(a1, truth, key="cnnc_cv")
    assert 0 <= result.loc["all", "auroc"] <= 1
    assert m1.spec.training["n_regulators"] == len(regs)


def test_train_bad_input(gsd):
    with pytest.raises(ValueError, match="has both genes in the data"):
        cnnc.tl.train(gsd.copy(), pd.DataFrame({"regulator": ["NOPE"], "target": ["AMH"]}), folds=0)
    few = gsd[:10].copy()
    with pytest.raises(ValueError, match="at least 20 cells"):
        cnnc.tl.train(few, gsd.uns["ground_truth"], folds=0)
    with pytest.raises(ValueError, match="folds"):
        cnnc.tl.train(gsd.copy(), gsd.uns["ground_truth"], folds=-1)
    counts = gsd.copy()
    counts.X = np.round(counts.X * 100)
    with pytest.raises(ValueError, match="raw counts"):
        cnnc.tl.train(counts, gsd.uns["ground_truth"], folds=0)


def test_train_with_context_features_on_several_datasets(gsd):
    torch.set_num_threads(1)
    truth = gsd.uns["ground_truth"]
    halves = [gsd[:1000].copy(), gsd[1000:].copy()]
    model = cnnc.tl.train(
        halves,
        [truth, truth],
        folds=0,
        epochs=2,
        bins=16,
        features=["abs_pearson", "z_regulator", "z_target", "z_context"],
        architecture={"filters": [4, 8], "dense": 8, "wide": True},
        name="ctx",
    )
    assert model.spec.features == ["abs_pearson", "z_regulator", "z_target", "z_context"]
    assert model.spec.training["n_datasets"] == 2
    assert model.module.wide is not None
    adata = gsd.copy()
    cnnc.tl.predict_interactions(adata, model=model, tfs=["SOX9", "GATA4"])
    edges = adata.uns["cnnc"]["edges"]
    assert len(edges) == 2 * (adata.n_vars - 1) and edges["score"].between(0, 1).all()
    with pytest.raises(ValueError, match="one table per data set"):
        cnnc.tl.train(halves, [truth], folds=0)
    with pytest.raises(ValueError, match="Cross-validation runs on one data set"):
        cnnc.tl.train(halves, [truth, truth], folds=3)


def test_wide_prior_with_image_branch_off_ranks_by_the_prior(gsd):
    torch.set_num_threads(1)
    truth = gsd.uns["ground_truth"]
    model = cnnc.tl.train(
        gsd.copy(),
        truth,
        folds=0,
        epochs=1,
        bins=16,
        features=["abs_pearson", "z_regulator", "z_target", "z_context"],
        wide_prior="z_context",
        architecture={"filters": [4, 8], "dense": 8, "wide": True},
    )
    assert not any(p.requires_grad for p in model.module.wide.parameters())
    model.set_deep_scale(0.0)
    adata = gsd.copy()
    cnnc.tl.predict_interactions(adata, model=model, tfs=["SOX9", "GATA4"])
    edges = adata.uns["cnnc"]["edges"]
    from cnnc._prior import ContextStatistics

    stats = ContextStatistics.from_matrix(adata.X)
    names = adata.var_names
    z = stats.features(names.get_indexer(edges["regulator"]), names.get_indexer(edges["target"]), ("z_context",))[:, 0]
    # the score is a monotone function of the prior alone: same ranking
    assert (np.diff(z) <= 1e-5).all()
    with pytest.raises(ValueError, match="must be one of the features"):
        cnnc.tl.train(gsd.copy(), truth, folds=0, features=["abs_pearson"], wide_prior="z_context")


def test_seed_is_a_deprecated_name_of_random_state():
    from cnnc._utils import resolve_random_state

    with pytest.warns(FutureWarning, match="random_state=4"):
        assert resolve_random_state(0, 4, "cnnc.tl.train") == 4
    with pytest.raises(ValueError, match="pass `random_state` only"):
        with pytest.warns(FutureWarning):
            resolve_random_state(2, 4, "cnnc.tl.train")
    with pytest.raises(ValueError, match="non-negative integer"):
        resolve_random_state(-1, None, "cnnc.tl.train")
    assert resolve_random_state(7, None, "cnnc.tl.train") == 7
