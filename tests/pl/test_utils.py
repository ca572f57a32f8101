"""One way to finish a figure: where ``save`` writes, and what a plot returns."""

from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import scanpy as sc

from cnnc.pl._utils import figure_path, finish


@pytest.fixture
def figdir(tmp_path):
    previous = (sc.settings.figdir, sc.settings.plot_suffix, sc.settings.file_format_figs)
    sc.settings.figdir, sc.settings.plot_suffix, sc.settings.file_format_figs = tmp_path, "", "pdf"
    yield tmp_path
    sc.settings.figdir, sc.settings.plot_suffix, sc.settings.file_format_figs = previous


def test_where_save_writes(figdir, tmp_path):
    assert figure_path("roc", True) == figdir / "roc.pdf"
    assert figure_path("roc", "_mine.png") == figdir / "roc_mine.png"
    assert figure_path("roc", "_mine") == figdir / "roc_mine.pdf"
    assert figure_path("roc", tmp_path / "a.svg") == tmp_path / "a.svg"
    assert figure_path("roc", "sub/a.png") == Path("sub/a.png")
    sc.settings.plot_suffix = "_v2"
    assert figure_path("roc", True) == figdir / "roc_v2.pdf"


def test_what_a_plot_returns(figdir):
    fig, ax = plt.subplots()
    assert finish(fig, ax, writekey="x", show=False, save=None, return_fig=False) is ax
    assert finish(fig, ax, writekey="x", show=False, save=True, return_fig=True) is fig
    assert (figdir / "x.pdf").stat().st_size > 0
    sc.settings.autosave = True
    try:
        finish(fig, ax, writekey="auto", show=False, save=None, return_fig=False)
    finally:
        sc.settings.autosave = False
    assert (figdir / "auto.pdf").is_file()
    plt.close(fig)
