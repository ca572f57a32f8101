"""Plot plumbing shared by cnnc's plotting functions: the one way a figure is saved, shown and returned."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import rcParams
from scanpy import logging as logg
from scanpy import settings

#: Resolution of saved figures unless ``rcParams["savefig.dpi"]`` asks for more (scanpy's floor too).
MIN_SAVE_DPI = 150


def figure_path(writekey: str, save: bool | str | PathLike) -> Path:
    """Where ``save`` puts a figure, with scanpy's conventions.

    ``True``: ``settings.figdir/<writekey><plot_suffix>.<file_format_figs>``; a suffix such as ``"_mine.png"``:
    appended to ``writekey`` in ``settings.figdir`` (its extension, if any, sets the format); a
    :class:`~pathlib.Path`, or a string with a directory part: written as given.
    """
    if isinstance(save, PathLike) or (
        isinstance(save, str) and (Path(save).parent != Path(".") or Path(save).is_absolute())
    ):
        return Path(save)
    suffix, ext = ("" if save is True else str(save)), settings.file_format_figs
    for try_ext in (".svg", ".pdf", ".png"):
        if suffix.endswith(try_ext):
            suffix, ext = suffix[: -len(try_ext)], try_ext[1:]
            break
    return Path(settings.figdir) / f"{writekey}{suffix}{settings.plot_suffix}.{ext}"


def finish(fig, ax, *, writekey: str, show: bool | None, save: bool | str | PathLike | None, return_fig: bool):
    """Save and/or show ``fig`` like scanpy's plots; return the Figure (``return_fig``), else the Axes unless shown.

    ``save=None`` follows ``sc.settings.autosave`` and ``show=None`` ``sc.settings.autoshow``; see
    :func:`figure_path` for where a figure is saved.
    """
    save = settings.autosave if save is None else save
    show = settings.autoshow if show is None else show
    if save:
        path = figure_path(writekey, save)
        path.parent.mkdir(parents=True, exist_ok=True)
        dpi = rcParams["savefig.dpi"]
        dpi = dpi if not isinstance(dpi, str) and dpi >= MIN_SAVE_DPI else MIN_SAVE_DPI
        logg.warning(f"saving figure to file {path}")
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    if show:
        plt.show()
    if return_fig:
        return fig
    return None if show else ax
