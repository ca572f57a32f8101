"""Plot plumbing shared by cnnc's plotting functions (scanpy's show/save conventions)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from scanpy import settings


def finish(fig, ax, *, writekey: str, show: bool | None, save: bool | str | Path | None, return_fig: bool):
    """Save and/or show like scanpy; return the Axes (or Figure) unless the plot was shown.

    ``save`` may be ``True`` (``settings.figdir/<writekey>.<ext>``), a suffix like ``"_mine.png"`` as in
    scanpy, or a path with a directory component, written as given.
    """
    if save:
        if isinstance(save, str | Path) and (Path(save).parent != Path(".") or Path(save).is_absolute()):
            path = Path(save)
        else:
            suffix = "" if save is True else str(save)
            if suffix and Path(suffix).suffix == "":
                suffix += f".{settings.file_format_figs}"
            name = f"{writekey}{suffix}" if suffix else f"{writekey}.{settings.file_format_figs}"
            path = Path(settings.figdir) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150, bbox_inches="tight")
    if show is None:
        show = settings.autoshow
    if show:
        plt.show()
        return None
    return fig if return_fig else ax
