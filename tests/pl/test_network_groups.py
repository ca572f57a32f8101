import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import scanpy as sc
from matplotlib.patches import FancyArrowPatch

import cnnc

TFS = ["SPI1", "IRF8", "GATA3", "JUNB", "FOS"]
TARGETS = ["LYZ", "CD74", "CD3E", "S100A8", "HLA-DRA", "CCL5", "NKG7", "FCER1G", "MS4A1", "IL7R"]


@pytest.fixture(scope="module")
def pbmc(tiny_model):
    adata = sc.datasets.pbmc68k_reduced()
    cnnc.tl.predict_interactions(
        adata, model=tiny_model, tfs=TFS, targets=TARGETS, settings=cnnc.tl.ScoringSettings(min_cells=0)
    )
    cnnc.tl.predict_interactions(
        adata,
        model=tiny_model,
        tfs=TFS,
        targets=TARGETS,
        groupby="bulk_labels",
        settings=cnnc.tl.ScoringSettings(min_cells=0),
        key_added="grouped",
    )
    return adata


def _arrows(ax):
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def test_network_marks_repression_and_labels_evidence(pbmc):
    ax = cnnc.pl.network(pbmc, top=30, show=False)
    edges = cnnc.get.edges(pbmc, top=30)
    arrows = _arrows(ax)
    assert len(arrows) == 30
    # no direction column, but the score is p_ab (a direction model's call): arrowheads regulator → target, a bar
    # where the genes are anti-correlated, whose edges are dashed too
    assert np.allclose(edges["score"], edges["p_ab"])
    bars = sum("BracketB" in type(a.get_arrowstyle()).__name__ for a in arrows)
    assert bars == int((edges["sign"] < 0).sum()) > 0
    assert all(type(a.get_arrowstyle()).__name__ != "Curve" for a in arrows)
    dashed = sum(a.get_linestyle() not in ("-", "solid") for a in arrows)
    assert dashed == int((edges["sign"] < 0).sum())
    labels = {t.get_text() for t in ax.texts}
    assert {str(n) for n in edges["n_cells"]} <= labels  # each edge's co-expressing cells written on it
    plt.close("all")
    ax = cnnc.pl.network(pbmc, top=30, edge_labels=None, show=False)
    assert not ({str(n) for n in edges["n_cells"]} - set(TFS + TARGETS)) & {t.get_text() for t in ax.texts}
    plt.close("all")


def test_network_without_a_direction_call_draws_lines(pbmc):
    """A score that is not p_ab (e.g. the default model's p_ab + p_ba) and no direction column: no arrowheads."""
    adata = pbmc.copy()
    table = adata.uns["cnnc"]["edges"]
    table = table.drop(columns=["direction", "direction_evidence"], errors="ignore")
    adata.uns["cnnc"]["edges"] = table.assign(score=1 - table["p_none"])
    ax = cnnc.pl.network(adata, top=12, show=False)
    assert all(type(a.get_arrowstyle()).__name__ == "Curve" for a in _arrows(ax))
    plt.close("all")


def test_network_arrows_only_where_a_direction_is_called(pbmc):
    """A direction column decides: +1 regulator → target, -1 target → regulator, 0 a line without a head."""
    adata = pbmc.copy()
    table = adata.uns["cnnc"]["edges"]
    adata.uns["cnnc"]["edges"] = table.assign(direction=np.resize([1, 0, -1], len(table)))
    edges = cnnc.get.edges(adata, top=12)
    ax = cnnc.pl.network(adata, top=12, show=False)
    styles = [type(a.get_arrowstyle()).__name__ for a in _arrows(ax)]
    assert sum(s == "Curve" for s in styles) == int((edges["direction"] == 0).sum()) > 0
    assert sum(s != "Curve" for s in styles) == int((edges["direction"] != 0).sum()) > 0
    bar = ax.get_figure().axes[-1]
    assert "edges drawn" in bar.get_ylabel()
    assert bar.get_ylim() == pytest.approx((edges["score"].min(), edges["score"].max()), rel=1e-5)
    plt.close("all")


def test_network_min_cells_and_group(pbmc):
    ax = cnnc.pl.network(pbmc, top=50, min_cells=100, show=False)
    assert len(_arrows(ax)) == int((cnnc.get.edges(pbmc)["n_cells"] >= 100).sum())
    plt.close("all")
    with pytest.raises(ValueError, match="one network per group: pass group="):
        cnnc.pl.network(pbmc, key="grouped", show=False)
    ax = cnnc.pl.network(pbmc, key="grouped", group="CD14+ Monocyte", top=5, show=False)
    assert len(_arrows(ax)) == 5 and "CD14+ Monocyte" in ax.get_title()
    plt.close("all")


def test_network_diff_plot_draws_every_changed_edge(pbmc, tmp_path):
    a, b = "CD14+ Monocyte", "CD4+/CD45RO+ Memory"
    diff = cnnc.get.network_diff(pbmc, a, b, key="grouped", top=8)
    ax = cnnc.pl.network_diff(pbmc, a, b, key="grouped", top=8, show=False, save=tmp_path / "diff.png")
    arrows = _arrows(ax)
    assert len(arrows) == len(diff)
    colors = [matplotlib.colors.to_hex(p.get_edgecolor()) for p in arrows]
    for status, color in cnnc.pl._network_diff.STATUS_COLORS.items():
        assert colors.count(color) == int((diff["status"] == status).sum())
    assert (tmp_path / "diff.png").stat().st_size > 0
    assert np.isin(diff["status"], ["gained", "lost", "shared"]).all()
    plt.close("all")
