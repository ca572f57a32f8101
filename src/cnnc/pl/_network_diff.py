"""Draw the edges gained and lost between the networks of two groups."""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike

import matplotlib.pyplot as plt
import numpy as np
from anndata import AnnData
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from cnnc.get._edges import network_diff as _network_diff
from cnnc.pl._network import _REGULATOR_COLOR, _TARGET_COLOR, _layout

from ._utils import finish

STATUS_COLORS = {"gained": "#1b9e77", "lost": "#7570b3", "shared": "#9a9a9a"}


def network_diff(
    adata: AnnData,
    group_a: str,
    group_b: str,
    *,
    key: str = "cnnc",
    top: int | None = 30,
    min_score: float | None = None,
    layout: str | Mapping[str, tuple[float, float]] = "spring",
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | PathLike | None = None,
    return_fig: bool = False,
) -> Axes | Figure | None:
    """Draw how the network of ``group_b`` differs from that of ``group_a`` (from ``groupby`` predictions).

    The edges are those of :func:`cnnc.get.network_diff`: each group's ``top`` edges. Edges in ``group_b``'s
    network only are drawn green ("gained"), in ``group_a``'s only purple ("lost"), in both grey; the width grows
    with the higher of the two scores. Edges with a negative correlation in the group that has them end in a bar.

    Parameters
    ----------
    adata
        Annotated data matrix with the output of ``cnnc.tl.predict_interactions(..., groupby=...)``.
    group_a, group_b
        The groups to compare: the reference and the other.
    key
        The key of :attr:`~anndata.AnnData.uns` that holds the predicted edges.
    top, min_score
        Which edges are in a group's network (see :func:`cnnc.get.network_diff`).
    layout
        As in :func:`cnnc.pl.network`.
    ax, show, save, return_fig
        As in :func:`cnnc.pl.network`.

    Returns
    -------
    The Axes, the Figure if ``return_fig``, or ``None`` if the plot was shown.
    """
    diff = _network_diff(adata, group_a, group_b, key=key, top=top, min_score=min_score)
    if diff.empty:
        raise ValueError("Neither network has an edge to draw: raise `top` or lower `min_score`.")
    diff = diff.assign(score=np.fmax(diff["score_a"].fillna(0), diff["score_b"].fillna(0)))
    regulators = list(dict.fromkeys(diff["regulator"]))
    nodes = regulators + [g for g in dict.fromkeys(diff["target"]) if g not in set(regulators)]
    pos = _layout(diff, nodes, regulators, layout)
    if ax is None:
        size = float(np.clip(1.1 * np.sqrt(len(nodes)) + 2.0, 5.0, 11.0))
        fig, ax = plt.subplots(figsize=(size + 1.0, size * 0.8), layout="constrained")
    else:
        fig = ax.figure
    lo, hi = float(diff["score"].min()), float(diff["score"].max())
    pairs = set(zip(diff["regulator"], diff["target"], strict=True))
    for row in diff.itertuples(index=False):
        w = (row.score - lo) / (hi - lo) if hi > lo else 1.0
        sign = row.sign_b if row.status == "gained" else row.sign_a
        ax.add_patch(
            FancyArrowPatch(
                pos[row.regulator],
                pos[row.target],
                arrowstyle="-|>" if not (sign < 0) else "-[, widthB=0.5, lengthB=0",
                mutation_scale=9 + 5 * w,
                connectionstyle=f"arc3,rad={0.18 if (row.target, row.regulator) in pairs else 0.06}",
                shrinkA=9,
                shrinkB=8,
                linewidth=0.8 + 2.4 * w,
                color=STATUS_COLORS[row.status],
                alpha=0.55 + 0.45 * w,
                zorder=1,
            )
        )
    xy = np.array([pos[n] for n in nodes])
    is_regulator = [n in set(regulators) for n in nodes]
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=[260.0 if r else 150.0 for r in is_regulator],
        c=[_REGULATOR_COLOR if r else _TARGET_COLOR for r in is_regulator],
        edgecolors="white",
        zorder=2,
    )
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]
    for n, (x, y) in zip(nodes, xy, strict=True):
        ax.annotate(n, (x, y), xytext=(0, 9), textcoords="offset points", ha="center", fontsize=8, path_effects=halo)
    counts = diff["status"].value_counts()
    handles = [
        Line2D([], [], color=STATUS_COLORS[s], lw=2.5, label=f"{label} ({int(counts.get(s, 0))})")
        for s, label in (("gained", f"only in {group_b}"), ("lost", f"only in {group_a}"), ("shared", "in both"))
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=3, fontsize="small", frameon=False)
    ax.margins(0.08)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_axis_off()
    ax.set_title(f"{group_a} → {group_b}: edges gained and lost ({key})", fontsize="medium")
    return finish(fig, ax, writekey="network_diff", show=show, save=save, return_fig=return_fig)
