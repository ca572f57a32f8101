from __future__ import annotations

import matplotlib

matplotlib.use("agg")

from pathlib import Path

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pytest
import scanpy as sc
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import cnnc
from cnnc.pl._function import top_candidates

SHARED_DATA = Path(__file__).parents[2].parent / "shared" / "data"  # as in tests/conftest.py
IFN = "HALLMARK_INTERFERON_ALPHA_RESPONSE"
GAMMA = "HALLMARK_INTERFERON_GAMMA_RESPONSE"


@pytest.fixture(scope="module")
def _scored() -> ad.AnnData:
    adata = sc.datasets.pbmc68k_reduced()
    cnnc.tl.assign_function(adata, SHARED_DATA / "genesets" / "hallmark.human.gmt")
    return adata


@pytest.fixture
def scored(_scored) -> ad.AnnData:
    return _scored.copy()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_top_candidates_are_the_best_non_members(scored):
    best = top_candidates(scored, IFN, n=5)
    scores = scored.varm["cnnc_function"][IFN]
    members = scored.uns["cnnc_function"]["members"][IFN]
    assert len(best) == 5 and list(best["rank"]) == [1, 2, 3, 4, 5]
    assert not members[best["gene"]].any()
    assert best["score"].iloc[0] == pytest.approx(scores[~members].max())
    assert (np.diff(best["score"]) <= 0).all()


def test_function_candidates_draws_candidate_member_images(scored, tmp_path):
    axes = cnnc.pl.function_candidates(
        scored, IFN.lower(), n_genes=2, n_members=3, show=False, save=tmp_path / "cand.png"
    )
    assert (tmp_path / "cand.png").stat().st_size > 0
    assert len(axes) == 6 and all(isinstance(ax, Axes) for ax in axes)
    best = top_candidates(scored, IFN, n=2)["gene"].tolist()
    members = set(scored.uns["cnnc_function"]["members"].index[scored.uns["cnnc_function"]["members"][IFN]])
    for row, gene in enumerate(best):
        for ax in axes[3 * row : 3 * row + 3]:
            candidate, other = ax.get_title().split("  r=")[0].split(" vs ")
            assert candidate == gene and other in members
            # the panel is the pair image: the same pixels as pl.pair_histogram draws for that pair
            ref = cnnc.pl.pair_histogram(scored, candidate, other, use_raw=True, show=False)
            np.testing.assert_array_equal(ax.collections[0].get_array(), ref.collections[0].get_array())
    # members are shown by decreasing correlation with the candidate
    r = [float(ax.get_title().split("r=")[1]) for ax in axes[:3]]
    assert r == sorted(r, reverse=True)


def test_function_heatmap_rows_and_member_marks(scored):
    ax = cnnc.pl.function_heatmap(scored, sets=[IFN, GAMMA], n_genes=3, show=False)
    assert isinstance(ax, Axes)
    rows = [t.get_text() for t in ax.get_yticklabels()]
    expected = list(
        dict.fromkeys(
            top_candidates(scored, IFN, n=3)["gene"].tolist() + top_candidates(scored, GAMMA, n=3)["gene"].tolist()
        )
    )
    assert rows == expected
    values = np.asarray(ax.collections[0].get_array()).reshape(len(rows), 2)
    scores = scored.varm["cnnc_function"][[IFN, GAMMA]]
    z = (scores - scores.mean()) / scores.std()
    np.testing.assert_allclose(values, z.loc[rows].to_numpy(), rtol=1e-5)
    # candidates of one set may be members of the other: those cells carry a dot
    members = scored.uns["cnnc_function"]["members"].loc[rows, [IFN, GAMMA]].to_numpy()
    dots = ax.collections[1].get_offsets() if len(ax.collections) > 1 else np.empty((0, 2))
    assert len(dots) == members.sum()


def test_function_heatmap_given_genes_and_return_fig(scored):
    fig = cnnc.pl.function_heatmap(scored, genes=["irf7", "CD3D"], standard_scale=None, show=False, return_fig=True)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["IRF7", "CD3D"]
    values = np.asarray(ax.collections[0].get_array()).reshape(2, -1)
    np.testing.assert_allclose(values[0], scored.varm["cnnc_function"].loc["IRF7"].to_numpy(), rtol=1e-5)


def test_errors_name_the_fix(scored):
    fresh = sc.datasets.pbmc68k_reduced()
    with pytest.raises(KeyError, match="run `cnnc.tl.assign_function"):
        cnnc.pl.function_heatmap(fresh, show=False)
    with pytest.raises(KeyError, match="Did you mean"):
        cnnc.pl.function_candidates(scored, "INTERFERON", show=False)
    with pytest.raises(KeyError, match="NOTAGENE"):
        cnnc.pl.function_heatmap(scored, genes=["NOTAGENE"], show=False)
    with pytest.raises(ValueError, match="n_genes"):
        cnnc.pl.function_candidates(scored, IFN, n_genes=0, show=False)
