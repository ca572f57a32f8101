from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from cnnc._metrics import auprc, auroc, early_precision, precision_recall_curve, roc_curve, summarize


def _random_case(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    y = rng.random(n) < rng.uniform(0.02, 0.6)
    y[:2] = [True, False]  # at least one of each
    # informative scores rounded to few decimals: many ties, some across classes
    s = np.round(rng.random(n) + 0.7 * y * rng.random(n), int(rng.integers(0, 3)))
    s[1] = s[0]  # a tie between a positive and a negative in every case
    return y, s


@pytest.mark.parametrize("seed", range(40))
def test_areas_match_sklearn_with_ties(seed):
    y, s = _random_case(seed)
    assert auroc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert auprc(y, s) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_curves_match_sklearn(seed):
    y, s = _random_case(seed)
    fpr, tpr, thr = roc_curve(y, s)
    sk_fpr, sk_tpr, sk_thr = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr, atol=1e-12)
    np.testing.assert_allclose(tpr, sk_tpr, atol=1e-12)
    np.testing.assert_array_equal(thr[1:], sk_thr[1:])

    precision, recall, thr = precision_recall_curve(y, s)
    sk_p, sk_r, sk_thr = skm.precision_recall_curve(y, s)
    # scikit-learn lists the points by decreasing recall, ending with (precision 1, recall 0)
    np.testing.assert_allclose(precision, sk_p[::-1], atol=1e-12)
    np.testing.assert_allclose(recall, sk_r[::-1], atol=1e-12)
    np.testing.assert_array_equal(thr[1:], sk_thr[::-1])


def test_hand_computed_values():
    # ranking: 0.9 P, 0.7 P, 0.6 N, 0.5 N, 0.4 P, 0.3 N, 0.2 N, 0.1 P
    y = np.array([1, 1, 0, 0, 1, 0, 0, 1])
    s = np.array([0.9, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    assert auroc(y, s) == pytest.approx(10 / 16)
    assert auprc(y, s) == pytest.approx((1 + 1 + 3 / 5 + 4 / 8) / 4)
    assert early_precision(y, s) == pytest.approx(2 / 4)
    assert early_precision(y, s, k=1) == 1.0
    assert early_precision(y, s, k=5) == pytest.approx(3 / 5)
    # a perfect and a reversed ranking
    assert auroc(y, y.astype(float)) == 1.0
    assert auroc(y, -y.astype(float)) == 0.0
    assert auprc(y, y.astype(float)) == 1.0
    # all scores tied: the ROC curve is the diagonal, the PR curve one point at the positive rate
    assert auroc(y, np.zeros(8)) == 0.5
    assert auprc(y, np.zeros(8)) == 0.5


def test_early_precision_keeps_ties_at_the_cutoff_like_beeline():
    y = np.array([1, 0, 1, 0, 0, 1])
    s = np.array([0.9, 0.8, 0.8, 0.8, 0.1, 0.0])
    # k = 3 positives; the 3rd score is 0.8, shared by 3 pairs -> 4 pairs kept, 2 true
    assert early_precision(y, s) == pytest.approx(2 / 4)
    assert early_precision(y, s, k=2) == pytest.approx(2 / 4)
    assert early_precision(y, s, k=1) == 1.0
    # without ties it is the precision among the top k
    rng = np.random.default_rng(3)
    y = rng.random(200) < 0.2
    s = rng.random(200)
    for k in (1, 7, 40, 200):
        top = np.argsort(-s)[:k]
        assert early_precision(y, s, k=k) == pytest.approx(y[top].mean())


def test_summarize():
    y = np.array([True, True, False, False, True, False, False, True, False, False])
    s = np.array([0.9, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.8])
    out = summarize(y, s)
    assert set(out) == {"n_pairs", "n_positive", "positive_rate", "auroc", "auprc", "auprc_ratio", "epr"}
    assert out["n_pairs"] == 10 and out["n_positive"] == 4
    assert out["positive_rate"] == pytest.approx(0.4)
    assert out["auroc"] == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert out["auprc"] == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
    assert out["auprc_ratio"] == pytest.approx(out["auprc"] / 0.4)
    # top 4: 0.9 P, 0.8 N, 0.7 P, 0.6 N -> precision 0.5, EPR 0.5 / 0.4
    assert out["epr"] == pytest.approx(1.25)
    assert isinstance(out["n_pairs"], int) and isinstance(out["auroc"], float)


@pytest.mark.parametrize(
    ("y", "s", "match"),
    [
        ([0, 0, 0], [0.1, 0.2, 0.3], "no positives"),
        ([1, 1], [0.1, 0.2], "only positives"),
        ([1, 0, 1], [0.1, np.nan, 0.3], "NaN"),
        ([1, 0, 1], [0.1, np.inf, 0.3], "NaN or infinite"),
        ([1, 0, 1], [0.1, 0.3], "same length"),
        ([1, 0, 2], [0.1, 0.2, 0.3], "binary"),
        ([], [], "empty"),
        ([[1, 0]], [[0.1, 0.2]], "1-d"),
        ([1, 0], ["a", "b"], "numeric"),
    ],
)
def test_degenerate_input_raises(y, s, match):
    for fn in (auroc, auprc, early_precision, summarize):
        with pytest.raises(ValueError, match=match):
            fn(y, s)


@pytest.mark.parametrize("k", [0, 5, 1.5, True])
def test_early_precision_rejects_bad_k(k):
    with pytest.raises(ValueError, match="k must be an integer"):
        early_precision([1, 0, 1, 0], [0.4, 0.3, 0.2, 0.1], k=k)


def test_public_namespace_and_evaluate_agree():
    import anndata as ad
    import pandas as pd

    import cnnc

    rng = np.random.default_rng(0)
    score = rng.random(40)
    regulators, targets = np.repeat(["r0", "r1"], 20), [f"g{i}" for i in range(40)]
    truth = [(r, t) for r, t, s in zip(regulators, targets, score, strict=True) if s > 0.6 or t in ("g0", "g21")]
    adata = ad.AnnData(np.zeros((2, 2), dtype=np.float32))
    edges = pd.DataFrame({"regulator": regulators, "target": targets, "score": score})
    adata.uns["cnnc"] = {"edges": edges}
    y = np.array([(r, t) in set(truth) for r, t in zip(regulators, targets, strict=True)])
    reported = cnnc.tl.evaluate(adata, truth, per_regulator=False).loc["all"]
    for name, value in cnnc.metrics.summarize(y, score).items():
        assert reported[name] == pytest.approx(value)
    assert cnnc.metrics.auroc(y, score) == pytest.approx(reported["auroc"])
