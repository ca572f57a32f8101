from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("agg")

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from cnnc.pl._network import network
from cnnc.pl._roc import pr, roc
from cnnc.tl._evaluate import evaluate

GENES = ["Tf1", "Tf2", "Tf3", "G1", "G2", "G3"]
EDGES = [
    ("Tf1", "Tf2", 0.2),
    ("Tf1", "G1", 0.9),
    ("Tf1", "G2", 0.4),
    ("Tf1", "G3", 0.5),
    ("Tf2", "Tf1", 0.7),
    ("Tf2", "G1", 0.3),
    ("Tf2", "G2", 0.6),
    ("Tf2", "G3", 0.1),
    ("Tf3", "G1", 0.8),
    ("Tf3", "G2", 0.05),
]
TRUTH = [("tf1", "g1"), ("tf1", "g2"), ("tf2", "g3"), ("tf2", "tf1"), ("tf3", "gx")]
# all pairs: 0.9 P, 0.8 N, 0.7 P, 0.6 N, 0.5 N, 0.4 P, 0.3 N, 0.2 N, 0.1 P, 0.05 N
AUROC = (6 + 5 + 3 + 1) / 24
AUPRC = (1 + 2 / 3 + 3 / 6 + 4 / 9) / 4


def _table(edges) -> pd.DataFrame:
    reg, tgt, score = (list(x) for x in zip(*edges, strict=True))
    score = np.asarray(score, dtype=float)
    return pd.DataFrame(
        {"regulator": reg, "target": tgt, "p_none": 1 - score, "p_ab": score, "p_ba": 0.0, "score": score}
    )


@pytest.fixture
def adata() -> ad.AnnData:
    adata = ad.AnnData(np.zeros((3, len(GENES)), dtype=np.float32), var=pd.DataFrame(index=GENES))
    adata.uns["cnnc"] = {"edges": _table(EDGES), "params": {}}
    # a second "method": the reversed ranking
    adata.uns["pearson"] = {"edges": _table([(a, b, 1 - s) for a, b, s in EDGES]), "params": {}}
    return adata


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_roc_from_stored_evaluation(adata):
    evaluate(adata, TRUTH)
    ax = roc(adata, show=False)
    assert isinstance(ax, Axes)
    assert _legend(ax) == [f"cnnc (AUROC {AUROC:.3f})", "random (AUROC 0.500)"]
    fpr, tpr = ax.get_lines()[0].get_data()
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert len(fpr) == 11  # origin + 10 distinct scores
    assert "10 pairs, 4 true edges" in ax.get_title()


def test_pr_from_stored_evaluation(adata):
    evaluate(adata, TRUTH)
    ax = pr(adata, show=False)
    labels = _legend(ax)
    assert labels[0] == f"cnnc (AUPRC {AUPRC:.3f}, {AUPRC / 0.4:.2f}× random)"
    assert labels[1] == "random (AUPRC 0.400)"
    curve, baseline = ax.get_lines()
    assert curve.get_drawstyle() == "steps-pre"
    assert baseline.get_ydata()[0] == pytest.approx(0.4)
    recall, precision = curve.get_data()
    # the area under the drawn steps is the average precision
    assert np.sum(np.diff(recall) * precision[1:]) == pytest.approx(AUPRC)


def test_overlay_keys_with_ground_truth_and_labels(adata):
    ax = roc(adata, key=["cnnc", "pearson"], ground_truth=TRUTH, label=["CNNC", "|r|"], show=False)
    labels = _legend(ax)
    assert labels[0] == f"CNNC (AUROC {AUROC:.3f})"
    assert labels[1] == f"|r| (AUROC {1 - AUROC:.3f})"  # the reversed ranking
    assert len(ax.get_lines()) == 3
    ax = pr(adata, key=["cnnc", "pearson"], ground_truth=TRUTH, show=False)
    assert len(ax.get_lines()) == 3 and _legend(ax)[2].startswith("random")


def test_pr_draws_one_baseline_per_key_when_rates_differ(adata):
    adata.uns["pearson"]["edges"] = adata.uns["pearson"]["edges"].iloc[:8]  # drops Tf3: rate 4 / 8
    ax = pr(adata, key=["cnnc", "pearson"], ground_truth=TRUTH, show=False)
    labels = _legend(ax)
    assert "random for cnnc (0.400)" in labels and "random for pearson (0.500)" in labels


def test_roc_into_given_axes_and_return_fig(adata):
    evaluate(adata, TRUTH)
    fig, (ax1, ax2) = plt.subplots(1, 2)
    assert roc(adata, ax=ax1, show=False) is ax1
    assert pr(adata, ax=ax2, show=False) is ax2
    assert isinstance(roc(adata, show=False, return_fig=True), Figure)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Agg cannot show figures
        assert roc(adata, show=True) is None


def test_save_to_path_and_figdir(adata, tmp_path):
    evaluate(adata, TRUTH)
    path = tmp_path / "sub" / "roc.png"
    roc(adata, show=False, save=path)
    assert path.stat().st_size > 1000
    figdir = sc.settings.figdir
    sc.settings.figdir = tmp_path / "figures"
    try:
        pr(adata, show=False, save="_cnnc.png")
        network(adata, show=False, save="_top.png")
    finally:
        sc.settings.figdir = figdir
    assert (tmp_path / "figures" / "pr_cnnc.png").stat().st_size > 1000
    assert (tmp_path / "figures" / "network_top.png").stat().st_size > 1000


def test_curve_errors(adata):
    with pytest.raises(KeyError, match="run cnnc.tl.evaluate"):
        roc(adata, show=False)
    with pytest.raises(KeyError, match="predict_interactions"):
        pr(adata, key="missing", ground_truth=TRUTH, show=False)
    with pytest.raises(ValueError, match="one label per key"):
        roc(adata, key=["cnnc", "pearson"], ground_truth=TRUTH, label="x", show=False)


def _arrows(ax: Axes) -> list[FancyArrowPatch]:
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def test_network_top_edges(adata):
    ax = network(adata, top=4, show=False)
    assert isinstance(ax, Axes)
    assert len(_arrows(ax)) == 4
    labels = {t.get_text() for t in ax.texts}
    # the four best edges: Tf1->G1, Tf3->G1, Tf2->Tf1, Tf2->G2
    assert labels == {"Tf1", "G1", "Tf3", "Tf2", "G2"}
    widths = [a.get_linewidth() for a in _arrows(ax)]
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]
    assert ax.get_title() == "Top 4 predicted edges (cnnc)"
    assert len(ax.figure.axes) == 2  # the graph and the score colour bar


def test_network_around_genes_shares_top(adata):
    ax = network(adata, ["g3", "TF3"], top=2, layout="circular", show=False)
    # best edge of each gene: Tf1->G3 (0.5) and Tf3->G1 (0.8)
    assert {t.get_text() for t in ax.texts} == {"Tf1", "G3", "Tf3", "G1"}
    assert len(_arrows(ax)) == 2
    ax = network(adata, "G1", min_score=0.35, layout="shell", show=False)
    assert {t.get_text() for t in ax.texts} == {"Tf1", "Tf3", "G1"}


def test_network_layouts(adata):
    positions = {g: (i, i % 2) for i, g in enumerate(GENES)}
    for layout in ("spring", "kamada_kawai", "circular", "shell", positions):
        ax = network(adata, top=6, layout=layout, show=False)
        assert len(_arrows(ax)) == 6
    ax = network(adata, top=3, layout=positions, show=False)
    xy = {t.get_text(): t.xy for t in ax.texts}
    assert tuple(xy["G1"]) == (3, 1)


def test_network_errors(adata):
    with pytest.raises(ValueError, match=r"\['nope'\]"):
        network(adata, ["G1", "nope"], show=False)
    with pytest.raises(ValueError, match="lower min_score"):
        network(adata, min_score=2.0, show=False)
    with pytest.raises(ValueError, match="top must be"):
        network(adata, top=0, show=False)
    with pytest.raises(ValueError, match="layout must be"):
        network(adata, layout="hive", show=False)
    with pytest.raises(ValueError, match="no position"):
        network(adata, layout={"Tf1": (0, 0)}, show=False)
    with pytest.raises(KeyError, match="predict_interactions"):
        network(adata, key="missing", show=False)
