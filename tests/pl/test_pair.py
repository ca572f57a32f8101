from __future__ import annotations

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

import cnnc
from cnnc.pl import pair_histogram, pair_histograms

PAIRS = [("SPI1", "FCGR3A"), ("GATA3", "CD3E"), ("S100A8", "S100A9")]


@pytest.fixture(scope="module")
def _pbmc() -> ad.AnnData:
    return sc.datasets.pbmc68k_reduced()


@pytest.fixture
def pbmc(_pbmc) -> ad.AnnData:
    return _pbmc.copy()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _pixels(ax: Axes) -> np.ndarray:
    """The drawn image (the heatmap's QuadMesh values, as the viewer sees them: top row first)."""
    return np.asarray(ax.collections[0].get_array()).reshape(32, 32)


def _rgba(fig: Figure) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def test_pair_histogram_returns_axes_and_draws_the_image(pbmc):
    cnnc.tl.pair_histograms(pbmc, PAIRS)
    ax = pair_histogram(pbmc, "S100A8", "S100A9", bins="model", show=False)
    assert isinstance(ax, Axes)
    image = pbmc.uns["cnnc"]["histograms"][2]
    np.testing.assert_array_equal(_pixels(ax), image[::-1])  # high expression of gene b at the top
    assert ax.get_title().startswith("S100A8 vs S100A9 · n_cells ")
    assert ax.get_xlabel().startswith("S100A8") and ax.get_ylabel().startswith("S100A9")
    # tick labels are bin centres in log10(x + 0.01): the first one is the zero bin of the gene
    edges_a = pbmc.uns["cnnc"]["bin_edges"][list(pbmc.uns["cnnc"]["genes"]).index("S100A8")]
    assert ax.get_xticklabels()[0].get_text() == f"{(edges_a[0] + edges_a[1]) / 2:.1f}"


def test_stored_and_on_the_fly_give_the_same_pixels(pbmc):
    fresh = pbmc.copy()
    cnnc.tl.pair_histograms(pbmc, PAIRS)
    stored_ax = pair_histogram(pbmc, "GATA3", "CD3E", bins="model", show=False)
    fly_ax = pair_histogram(fresh, "GATA3", "CD3E", bins="model", show=False)
    assert "cnnc" not in fresh.uns  # drawing does not store anything
    np.testing.assert_array_equal(_pixels(stored_ax), _pixels(fly_ax))
    np.testing.assert_array_equal(_rgba(stored_ax.figure), _rgba(fly_ax.figure))
    # an explicit use_raw recomputes from that matrix, with the same result for the same data
    np.testing.assert_array_equal(
        _pixels(pair_histogram(pbmc, "GATA3", "CD3E", bins="model", use_raw=True, show=False)), _pixels(fly_ax)
    )


def test_on_the_fly_uses_the_stored_recipe(pbmc):
    cnnc.tl.pair_histograms(pbmc, [("SPI1", "FCGR3A")], transform="density", bins=16)
    ax = pair_histogram(pbmc, "LYZ", "CST3", bins="model", show=False)  # not stored: computed with the stored recipe
    values = np.asarray(ax.collections[0].get_array())
    assert values.size == 16 * 16
    assert abs(values.sum() - 1.0) < 1e-5  # densities over all cells
    assert ax.collections[0].colorbar.ax.get_ylabel() == "fraction of cells"


def test_save_and_return_fig(pbmc, tmp_path):
    path = tmp_path / "sub" / "pair.png"
    fig = pair_histogram(pbmc, "SPI1", "FCGR3A", save=path, return_fig=True, show=False)
    assert isinstance(fig, Figure)
    assert path.is_file() and path.stat().st_size > 5_000
    assert plt.imread(path).shape[2] in (3, 4)


def test_save_to_figdir_scanpy_style(pbmc, tmp_path):
    previous = sc.settings.figdir
    sc.settings.figdir = tmp_path
    try:
        pair_histogram(pbmc, "SPI1", "FCGR3A", save="_mine.png", show=False)
    finally:
        sc.settings.figdir = previous
    assert (tmp_path / "pair_histogram_SPI1_FCGR3A_mine.png").is_file()


def test_show_returns_none(pbmc):
    assert pair_histogram(pbmc, "SPI1", "FCGR3A", show=True) is None


def test_existing_axes(pbmc):
    fig, (left, right) = plt.subplots(1, 2)
    assert pair_histogram(pbmc, "SPI1", "FCGR3A", ax=right, colorbar=False, title="mine", show=False) is right
    assert right.get_title() == "mine" and not left.collections


def test_grid(pbmc, tmp_path):
    cnnc.tl.pair_histograms(pbmc, PAIRS)
    path = tmp_path / "grid.pdf"
    axes = pair_histograms(pbmc, PAIRS, bins="model", ncols=2, save=path, show=False)
    assert isinstance(axes, list) and len(axes) == 3 and all(isinstance(a, Axes) for a in axes)
    assert path.is_file() and path.read_bytes()[:4] == b"%PDF"
    for ax, image in zip(axes, pbmc.uns["cnnc"]["histograms"], strict=True):
        np.testing.assert_array_equal(_pixels(ax), image[::-1])
    fig = axes[0].figure
    hidden = [a for a in fig.axes if not a.get_visible()]
    assert len(hidden) == 1  # 3 panels on a 2 × 2 grid
    # one shared colour bar for CNNC's fixed 0..1 scale
    assert sum(a.get_ylabel() == "fraction of cells, log scale (0: none, 1: all)" for a in fig.axes) == 1


def test_grid_titles_dataframe_and_per_panel_colorbars(pbmc):
    cnnc.tl.pair_histograms(pbmc, PAIRS, transform="counts")
    frame = pd.DataFrame({"regulator": ["SPI1", "GATA3"], "target": ["FCGR3A", "CD3E"]})
    fig = pair_histograms(pbmc, frame, bins="model", titles=["one", "two"], return_fig=True, show=False)
    assert isinstance(fig, Figure)
    assert [a.get_title() for a in fig.axes if a.get_title()] == ["one", "two"]
    assert sum(a.get_ylabel() == "cells" for a in fig.axes) == 2  # counts differ in scale: one bar each
    with pytest.raises(ValueError, match="3 titles for 2 pairs"):
        pair_histograms(pbmc, frame, titles=["a", "b", "c"], show=False)


def test_scale_keyword_still_works_with_a_future_warning(pbmc):
    """``scale=`` and ``bins=`` said one thing twice; the old keyword draws the same pixels and names its successor."""
    cnnc.tl.pair_histograms(pbmc, PAIRS)
    with pytest.warns(FutureWarning, match=r"pair_histogram\(scale='model'\) is deprecated: pass bins='model'"):
        old = pair_histogram(pbmc, "GATA3", "CD3E", scale="model", show=False)
    np.testing.assert_array_equal(
        _rgba(old.figure), _rgba(pair_histogram(pbmc, "GATA3", "CD3E", bins="model", show=False).figure)
    )
    with pytest.warns(FutureWarning, match=r"pair_histograms\(scale='data'\) is deprecated: pass bins=8"):
        old = pair_histograms(pbmc, PAIRS[:2], scale="data", bins=8, return_fig=True, show=False)
    np.testing.assert_array_equal(
        _rgba(old), _rgba(pair_histograms(pbmc, PAIRS[:2], bins=8, return_fig=True, show=False))
    )
    with pytest.raises(ValueError, match="pass bins= alone"):
        pair_histogram(pbmc, "GATA3", "CD3E", scale="data", bins="model", show=False)
    with pytest.raises(ValueError, match="scale must be 'data'"):
        pair_histogram(pbmc, "GATA3", "CD3E", scale="image", show=False)
    with pytest.raises(TypeError, match="unexpected keyword argument 'scales'"):
        pair_histogram(pbmc, "GATA3", "CD3E", scales="model", show=False)
    with pytest.raises(ValueError, match="bins must be an integer >= 2 .* or 'model'"):
        pair_histogram(pbmc, "GATA3", "CD3E", bins="data", show=False)


def test_plot_errors(pbmc):
    with pytest.raises(KeyError, match="'NOPE' is not in raw var_names"):
        pair_histogram(pbmc, "NOPE", "SPI1", show=False)
    with pytest.raises(ValueError, match="negative values"):
        pair_histogram(pbmc, "SPI1", "FCGR3A", use_raw=False, show=False)
    assert "cnnc" not in pbmc.uns


def test_beeline_pair(shared_data):
    path = shared_data / "beeline-genelink" / "Specific" / "mESC" / "TFs+500" / "BL--ExpressionData.csv.gz"
    expression = pd.read_csv(path, index_col=0).T
    adata = ad.AnnData(expression.to_numpy(), obs=pd.DataFrame(index=expression.index))
    adata.var_names = expression.columns
    a, b = adata.var_names[0], adata.var_names[1]
    ax = pair_histogram(adata, a, b, bins="model", show=False)
    xa, xb = expression[a].to_numpy(), expression[b].to_numpy()
    H = np.histogram2d(np.log10(xa + 0.01), np.log10(xb + 0.01), bins=32)[0]
    expected = ((np.log10(H.T / len(xa) + 1e-4) + 4) / 4).astype(np.float32)
    np.testing.assert_array_equal(_pixels(ax), expected[::-1])


def test_mudata_protein_against_rna():
    import mudata as md

    rng = np.random.default_rng(1)
    rna = ad.AnnData(
        ((rng.random((80, 2)) < 0.4) * rng.gamma(2.0, 1.0, (80, 2))).astype(np.float32),
        obs=pd.DataFrame(index=[f"c{i}" for i in range(80)]),
        var=pd.DataFrame(index=["Cd3e", "Cd4"]),
    )
    prot = ad.AnnData(
        np.log1p(rng.gamma(3.0, 20.0, (90, 1))).astype(np.float32),
        obs=pd.DataFrame(index=[f"c{i}" for i in range(30, 120)]),
        var=pd.DataFrame(index=["CD3"]),
    )
    with md.set_options(pull_on_update=False):
        mdata = md.MuData({"rna": rna, "prot": prot})
    on_the_fly = pair_histogram(mdata, "CD3", "Cd3e", mod=("prot", "rna"), bins="model", show=False)
    cnnc.tl.pair_histograms(mdata, [("CD3", "Cd3e")], mod=("prot", "rna"))
    stored = pair_histogram(mdata, "CD3", "Cd3e", bins="model", show=False)
    np.testing.assert_array_equal(_pixels(stored), _pixels(on_the_fly))
    common = prot.obs_names.intersection(rna.obs_names)
    xa, xb = prot[common, "CD3"].X.ravel(), rna[common, "Cd3e"].X.ravel()
    H = np.histogram2d(np.log10(xa + 0.01), np.log10(xb + 0.01), bins=32)[0]
    np.testing.assert_array_equal(_pixels(stored), ((np.log10(H.T / len(xa) + 1e-4) + 4) / 4).astype(np.float32)[::-1])
    with pytest.raises(ValueError, match="needs `mod=`"):
        pair_histogram(mdata, "CD3", "Cd4", show=False)


def test_data_scale_spans_each_gene_in_its_own_units(pbmc):
    """Default: cells per bin of the values as stored (.raw here), each axis from 0 to the gene's maximum."""
    ax = pair_histogram(pbmc, "SPI1", "FCGR3A", bins=10, show=False)
    x = pbmc.raw[:, "SPI1"].X.toarray().ravel() if hasattr(pbmc.raw.X, "toarray") else pbmc.raw[:, "SPI1"].X.ravel()
    y = pbmc.raw[:, "FCGR3A"].X.toarray().ravel() if hasattr(pbmc.raw.X, "toarray") else pbmc.raw[:, "FCGR3A"].X.ravel()
    assert ax.get_xlim() == pytest.approx((0.0, x.max())) and ax.get_ylim() == pytest.approx((0.0, y.max()))
    counts = np.histogram2d(x, y, bins=[np.linspace(0, x.max(), 11), np.linspace(0, y.max(), 11)])[0].T
    drawn = np.ma.filled(ax.collections[0].get_array(), np.nan).reshape(10, 10)
    np.testing.assert_array_equal(np.nan_to_num(drawn), counts)
    assert ax.get_xlabel() == "SPI1 (values in .raw)"
    assert f"n_cells {int(((x > 0) & (y > 0)).sum())} of 700" in ax.get_title()
    assert ax.collections[0].colorbar.ax.get_ylabel() == "cells per bin (log scale)"
    with pytest.raises(ValueError, match="scale must be"):
        pair_histogram(pbmc, "SPI1", "FCGR3A", scale="log", show=False)


def test_title_carries_the_model_call(pbmc):
    """With a prediction under key: score, q-value and the direction (a called one from a direction column)."""
    edges = pd.DataFrame(
        {"regulator": ["SPI1"], "target": ["FCGR3A"], "score": [0.9], "p_ab": [0.6], "p_ba": [0.3], "qvalue": [0.001]}
    )
    pbmc.uns["pred"] = {"edges": edges}
    title = pair_histogram(pbmc, "FCGR3A", "SPI1", key="pred", show=False).get_title()
    assert "score 0.90" in title and "q 0.001" in title and "P(x → y) 0.30 · P(y → x) 0.60" in title
    pbmc.uns["pred"]["edges"] = edges.assign(direction=[-1], direction_evidence=["images"])
    title = pair_histogram(pbmc, "SPI1", "FCGR3A", key="pred", show=False).get_title()
    assert "FCGR3A → SPI1 (images)" in title
