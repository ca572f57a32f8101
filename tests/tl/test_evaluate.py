from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from cnnc.tl._evaluate import evaluate

GENES = ["Tf1", "Tf2", "Tf3", "G1", "G2", "G3"]
# (regulator, target, score); TRUTH marks the ground-truth edges among them
EDGES = [
    ("Tf1", "Tf2", 0.2),
    ("Tf1", "G1", 0.9),  # true
    ("Tf1", "G2", 0.4),  # true
    ("Tf1", "G3", 0.5),
    ("Tf2", "Tf1", 0.7),  # true
    ("Tf2", "G1", 0.3),
    ("Tf2", "G2", 0.6),
    ("Tf2", "G3", 0.1),  # true
    ("Tf3", "G1", 0.8),  # Tf3 has no true edge among the scored pairs
    ("Tf3", "G2", 0.05),
    ("G1", "G2", 0.99),  # G1 is no ground-truth regulator: not a candidate
    ("Tf1", "Tf1", 0.95),  # self pair: never a candidate
]
TRUTH = pd.DataFrame(
    {
        # lower case as in CNNC's files; a duplicate, a self edge and two edges to genes not in adata
        "Gene1": ["tf1", "tf1", "tf2", "tf2", "tf1", "tf1", "tf1", "tf3"],
        "Gene2": ["g1", "g2", "g3", "tf1", "g1", "tf1", "gx", "gx2"],
    }
)


def _adata(edges=EDGES, key="cnnc") -> ad.AnnData:
    adata = ad.AnnData(np.zeros((3, len(GENES)), dtype=np.float32), var=pd.DataFrame(index=GENES))
    reg, tgt, score = (list(x) for x in zip(*edges, strict=True))
    score = np.asarray(score, dtype=float)
    table = pd.DataFrame(
        {"regulator": reg, "target": tgt, "p_none": 1 - score, "p_ab": score, "p_ba": 0.0, "score": score}
    )
    adata.uns[key] = {"edges": table, "params": {"model": "test"}}
    return adata


def test_hand_computed_metrics():
    adata = _adata()
    result = evaluate(adata, TRUTH)
    assert list(result.columns) == ["n_pairs", "n_positive", "positive_rate", "auroc", "auprc", "auprc_ratio", "epr"]
    assert list(result.index) == ["all", "Tf1", "Tf2"]  # Tf3 has no positive: no row of its own
    # all: 0.9 P, 0.8 N, 0.7 P, 0.6 N, 0.5 N, 0.4 P, 0.3 N, 0.2 N, 0.1 P, 0.05 N
    row = result.loc["all"]
    assert row["n_pairs"] == 10 and row["n_positive"] == 4
    assert row["positive_rate"] == pytest.approx(0.4)
    assert row["auroc"] == pytest.approx((6 + 5 + 3 + 1) / 24)
    ap = (1 + 2 / 3 + 3 / 6 + 4 / 9) / 4
    assert row["auprc"] == pytest.approx(ap)
    assert row["auprc_ratio"] == pytest.approx(ap / 0.4)
    assert row["epr"] == pytest.approx((2 / 4) / 0.4)
    # Tf1: 0.9 P, 0.5 N, 0.4 P, 0.2 N
    tf1 = result.loc["Tf1"]
    assert (tf1["n_pairs"], tf1["n_positive"]) == (4, 2)
    assert tf1["auroc"] == pytest.approx(3 / 4)
    assert tf1["auprc"] == pytest.approx((1 + 2 / 3) / 2)
    assert tf1["epr"] == pytest.approx(1.0)
    # Tf2: 0.7 P, 0.6 N, 0.3 N, 0.1 P
    tf2 = result.loc["Tf2"]
    assert tf2["auroc"] == pytest.approx(0.5)
    assert tf2["auprc"] == pytest.approx((1 + 2 / 4) / 2)

    stored = adata.uns["cnnc"]["evaluation"]
    pd.testing.assert_frame_equal(stored["metrics"], result)
    assert stored["params"] == {"directed": True, "per_regulator": True}
    assert stored["n_truth_edges"] == 6  # duplicate and self edge dropped
    assert stored["n_truth_not_scored"] == 2  # tf1->gx, tf3->gx2
    curves = adata.uns["cnnc"]["evaluation_curves"]
    assert curves["y_true"].dtype == bool and curves["y_true"].sum() == 4 and len(curves["score"]) == 10
    assert skm.roc_auc_score(curves["y_true"], curves["score"]) == pytest.approx(row["auroc"])
    assert adata.uns["cnnc"]["params"] == {"model": "test"}  # the prediction's record is untouched


def test_undirected_counts_reverse_edges():
    adata = _adata()
    result = evaluate(adata, TRUTH, directed=False, per_regulator=False)
    assert list(result.index) == ["all"]
    # Tf1->Tf2 (0.2) is now true as well, because tf2->tf1 is a ground-truth edge
    row = result.loc["all"]
    assert row["n_positive"] == 5
    # 0.9 P, 0.8 N, 0.7 P, 0.6 N, 0.5 N, 0.4 P, 0.3 N, 0.2 P, 0.1 P, 0.05 N
    assert row["auroc"] == pytest.approx((5 + 4 + 2 + 1 + 1) / 25)
    assert adata.uns["cnnc"]["evaluation"]["params"]["directed"] is False


@pytest.mark.parametrize(
    "truth",
    [
        TRUTH.rename(columns={"Gene1": "regulator", "Gene2": "target"}),
        TRUTH.rename(columns={"Gene1": "source", "Gene2": "target"}),
        TRUTH.assign(Gene1=TRUTH["Gene1"].str.upper(), Gene2=TRUTH["Gene2"].str.upper(), Type="+"),
        list(zip(TRUTH["Gene1"], TRUTH["Gene2"], strict=True)),
        "csv",
    ],
)
def test_ground_truth_forms_agree(truth, tmp_path):
    if isinstance(truth, str):
        truth = tmp_path / "BL--network.csv"
        TRUTH.to_csv(truth, index=False)
    expected = evaluate(_adata(), TRUTH)
    pd.testing.assert_frame_equal(evaluate(_adata(), truth), expected)


def test_key_added_and_other_key():
    adata = _adata(key="pearson")
    evaluate(adata, TRUTH, key="pearson", key_added="string_eval")
    assert set(adata.uns["pearson"]) == {"edges", "params", "string_eval", "string_eval_curves"}


def test_h5ad_round_trip(tmp_path):
    adata = _adata()
    result = evaluate(adata, TRUTH)
    path = tmp_path / "evaluated.h5ad"
    adata.write_h5ad(path)
    back = ad.read_h5ad(path)
    stored = back.uns["cnnc"]["evaluation"]
    pd.testing.assert_frame_equal(stored["metrics"], result, check_dtype=False)
    assert stored["metrics"].index.name == "regulator"
    assert int(stored["n_truth_not_scored"]) == 2 and int(stored["n_truth_edges"]) == 6
    assert bool(stored["params"]["directed"]) is True
    curves = back.uns["cnnc"]["evaluation_curves"]
    np.testing.assert_array_equal(curves["y_true"], adata.uns["cnnc"]["evaluation_curves"]["y_true"])
    np.testing.assert_array_equal(curves["score"], adata.uns["cnnc"]["evaluation_curves"]["score"])
    # evaluating the read-back object gives the same numbers
    pd.testing.assert_frame_equal(evaluate(back, TRUTH), result)


def test_beeline_gsd_pearson_baseline(shared_data):
    """A real network: |Pearson| scores on the BEELINE GSD simulation, labels checked independently."""
    folder = shared_data / "beeline-example" / "GSD"
    expr = pd.read_csv(folder / "ex1" / "ExpressionData.csv", index_col=0)
    truth = pd.read_csv(folder / "GroundTruthNetwork.csv")
    adata = ad.AnnData(expr.T.to_numpy(), var=pd.DataFrame(index=expr.index))
    corr = np.corrcoef(adata.X.T)
    genes = list(adata.var_names)
    rows = [(a, b, abs(corr[i, j])) for i, a in enumerate(genes) for j, b in enumerate(genes) if i != j]
    adata = _adata_from(adata, rows)
    result = evaluate(adata, truth)

    truth_set = {(a.lower(), b.lower()) for a, b in zip(truth["Gene1"], truth["Gene2"], strict=True) if a != b}
    regulators = {a for a, _ in truth_set}
    y, s = [], []
    for a, b, score in rows:
        if a.lower() in regulators:
            y.append((a.lower(), b.lower()) in truth_set)
            s.append(score)
    row = result.loc["all"]
    assert row["n_pairs"] == len(y) and row["n_positive"] == sum(y)
    assert row["auroc"] == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert row["auprc"] == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
    assert adata.uns["cnnc"]["evaluation"]["n_truth_not_scored"] == 0


def _adata_from(adata: ad.AnnData, rows) -> ad.AnnData:
    reg, tgt, score = (list(x) for x in zip(*rows, strict=True))
    adata.uns["cnnc"] = {
        "edges": pd.DataFrame({"regulator": reg, "target": tgt, "score": score}),
        "params": {},
    }
    return adata


def _uns_snapshot(adata):
    return {k: sorted(v) if isinstance(v, dict) else v for k, v in adata.uns.items()}


@pytest.mark.parametrize(
    ("truth", "error", "match"),
    [
        (pd.DataFrame({"Gene1": ["x1"], "Gene2": ["g1"]}), ValueError, "No overlap"),
        (pd.DataFrame({"Gene1": ["tf3"], "Gene2": ["g3"]}), ValueError, "None of the 2 candidate pairs"),
        (pd.DataFrame({"Gene1": ["tf1"], "Gene2": ["tf1"]}), ValueError, "no edges"),
        (pd.DataFrame({"from": ["tf1"], "to": ["g1"]}), ValueError, r"\(Gene1, Gene2\)"),
        (pd.DataFrame({"Gene1": ["tf1", None], "Gene2": ["g1", "g2"]}), ValueError, "missing gene name"),
        ([("tf1", "g1", "+")], ValueError, "pairs"),
        (["tf1"], ValueError, "pairs"),
        (42, TypeError, "ground_truth must be"),
        ("does/not/exist.csv", FileNotFoundError, "does not exist"),
    ],
)
def test_errors_write_nothing(truth, error, match):
    adata = _adata()
    before = _uns_snapshot(adata)
    with pytest.raises(error, match=match):
        evaluate(adata, truth)
    assert _uns_snapshot(adata) == before


def test_all_candidates_positive_is_an_error():
    adata = _adata()
    truth = [("tf2", g) for g in ("tf1", "g1", "g2", "g3")]
    with pytest.raises(ValueError, match="no negatives"):
        evaluate(adata, truth)
    assert "evaluation" not in adata.uns["cnnc"]


def test_missing_key_names_the_fix():
    adata = _adata()
    with pytest.raises(KeyError, match="run cnnc.tl.predict_interactions first"):
        evaluate(adata, TRUTH, key="other")


def test_bad_edges_tables():
    adata = _adata(edges=[*EDGES, ("TF1", "g1", 0.3)])  # the same pair in another case
    with pytest.raises(ValueError, match="more than once"):
        evaluate(adata, TRUTH)
    adata = _adata()
    adata.uns["cnnc"]["edges"] = adata.uns["cnnc"]["edges"].drop(columns="score")
    with pytest.raises(ValueError, match="lacks the columns"):
        evaluate(adata, TRUTH)
    adata = _adata()
    adata.uns["cnnc"]["edges"].loc[1, "score"] = np.nan
    with pytest.raises(ValueError, match="NaN score"):
        evaluate(adata, TRUTH)
