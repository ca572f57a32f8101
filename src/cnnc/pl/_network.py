"""Draw the top predicted edges as a directed graph."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from anndata import AnnData
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from scanpy import logging as logg

from .._docs import doc_ax, doc_params, doc_show_save
from .._tables import predicted_edges
from ._utils import finish

LAYOUTS = ("spring", "kamada_kawai", "circular", "shell")
#: Per-edge evidence columns of the edge table drawn when present.
EVIDENCE_COLUMNS = ("sign", "corr", "n_cells", "direction", "p_ab")
EDGE_LABELS = ("auto", "n_cells", "score", "corr")
#: With ``edge_labels="auto"``, edges are labelled with their co-expressing cells up to this many edges.
AUTO_LABEL_EDGES = 30
#: Smallest distance between two nodes of a component, in layout units (a component of n nodes spans ~1.5·sqrt(n)).
MIN_NODE_GAP = 0.8
_REGULATOR_COLOR = "#d95f02"
_TARGET_COLOR = "#7fa7cf"
_EDGE_CMAP = ListedColormap(plt.get_cmap("Greys")(np.linspace(0.35, 1.0, 256)), name="cnnc_edges")


def _select_edges(
    edges: pd.DataFrame, genes: list[str] | None, top: int, min_score: float | None, key: str
) -> pd.DataFrame:
    """Pick the ``top`` highest-scoring edges (touching ``genes`` if given) with ``score >= min_score``."""
    table = pd.DataFrame(
        {
            "regulator": edges["regulator"].astype(str).to_numpy(),
            "target": edges["target"].astype(str).to_numpy(),
            "score": pd.to_numeric(edges["score"]).to_numpy(dtype=np.float64),
        }
    )
    for column in EVIDENCE_COLUMNS:
        if column in edges.columns:
            table[column] = edges[column].to_numpy()
    table = table[(table["regulator"] != table["target"]) & np.isfinite(table["score"])]
    if genes is not None:
        wanted = {g.lower() for g in genes}
        reg, tgt = table["regulator"].str.lower(), table["target"].str.lower()
        unknown = sorted(wanted - set(reg) - set(tgt))
        if unknown:
            raise ValueError(
                f"Genes {unknown} are in no scored pair of adata.uns[{key!r}]['edges']; pass genes that were "
                "scored as a regulator or a target."
            )
        table = table[reg.isin(wanted) | tgt.isin(wanted)]
    if min_score is not None:
        passing = table["score"] >= min_score
        if not passing.any():
            raise ValueError(
                f"No edge has score >= min_score={min_score} (the highest is {table['score'].max():.4g}); "
                "lower min_score."
            )
        table = table[passing]
    table = table.sort_values("score", ascending=False, kind="mergesort")
    if genes is None:
        return table.head(top).reset_index(drop=True)
    # share `top` among the genes: each gene's best edge first, then each gene's second best, ...
    rank = pd.Series(np.inf, index=table.index)
    for column in ("regulator", "target"):
        touching = table[column].str.lower().isin(wanted)
        rank[touching] = np.minimum(
            rank[touching], table.loc[touching].groupby(table.loc[touching, column].str.lower()).cumcount()
        )
    order = np.lexsort((-table["score"].to_numpy(), rank.to_numpy()))
    selected = table.iloc[order[:top]]
    shown = set(selected["regulator"].str.lower()) | set(selected["target"].str.lower())
    left_out = sorted(wanted - shown)
    if left_out:
        logg.warning(f"No edge of the genes {left_out} passes min_score={min_score}; they are not drawn.")
    return selected.sort_values("score", ascending=False, kind="mergesort").reset_index(drop=True)


def _group_edges(edges: pd.DataFrame, group: str | None, key: str) -> pd.DataFrame:
    """The edges of one group of a ``groupby`` prediction (all edges of a single network)."""
    if "group" not in edges.columns:
        if group is not None:
            raise ValueError(f"adata.uns[{key!r}] holds one network, not one per group: drop `group`.")
        return edges
    known = [str(g) for g in pd.unique(edges["group"].astype(str))]
    if group is None or str(group) not in known:
        raise ValueError(
            f"adata.uns[{key!r}] holds one network per group: pass group= one of {known}"
            + ("" if group is None else f" (got {group!r})")
            + "."
        )
    return edges[edges["group"].astype(str) == str(group)]


def _label_edge(ax: Axes, start: np.ndarray, end: np.ndarray, rad: float, label) -> None:
    """Write ``label`` at the middle of the arc from ``start`` to ``end`` (arc3 with curvature ``rad``)."""
    middle = (start + end) / 2
    d = end - start
    point = middle + rad * np.array([d[1], -d[0]]) / 2
    text = f"{label:.2f}" if isinstance(label, float | np.floating) else str(label)
    ax.annotate(
        text,
        point,
        ha="center",
        va="center",
        fontsize=7,
        color="0.25",
        path_effects=[patheffects.withStroke(linewidth=2, foreground="white")],
        zorder=2.5,
    )


def _circle(nodes: list[str]) -> dict[str, np.ndarray]:
    angles = np.pi / 2 - 2 * np.pi * np.arange(len(nodes)) / max(len(nodes), 1)
    return {n: np.array([np.cos(a), np.sin(a)]) for n, a in zip(nodes, angles, strict=True)}


def _pack_components(graph, layout: str) -> dict[str, np.ndarray]:
    """Lay out each connected component alone, then pack them in rows (largest first).

    Force-directed layouts push unconnected parts of a graph far apart, which squeezes each part
    into a corner of the plot; here each component gets an area in proportion to its size.
    """
    import networkx as nx

    components = sorted(nx.connected_components(graph), key=lambda c: (-len(c), sorted(c)))
    placed = []  # (positions centred on 0, radius)
    for component in components:
        sub = graph.subgraph(component)
        nodes = sorted(component)
        if len(nodes) == 1:
            pos = {nodes[0]: np.zeros(2)}
        elif len(nodes) == 2:
            pos = {nodes[0]: np.array([-0.5, 0.0]), nodes[1]: np.array([0.5, 0.0])}
        elif layout == "spring":
            # started from Kamada-Kawai's even spacing: hubs' targets spread around them instead of bunching
            start = nx.kamada_kawai_layout(sub)
            pos = nx.spring_layout(sub, pos=start, k=3.0 / np.sqrt(len(nodes)), iterations=100, seed=0)
        else:
            pos = nx.kamada_kawai_layout(sub)
        xy = np.array([pos[n] for n in nodes], dtype=float)
        xy -= xy.mean(axis=0)
        extent = np.abs(xy).max()
        radius = 0.75 * np.sqrt(len(nodes))
        if extent > 0:
            xy *= radius / extent
        if len(nodes) > 2:  # spread crowded parts (a hub's targets): nearest nodes at least MIN_NODE_GAP apart
            gaps = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
            nearest = gaps[~np.eye(len(nodes), dtype=bool)].min()
            if 0 < nearest < MIN_NODE_GAP:
                xy *= min(MIN_NODE_GAP / nearest, 2.5)
                radius = float(np.abs(xy).max())
        placed.append((dict(zip(nodes, xy, strict=True)), max(radius, 0.5)))
    gap = 1.6
    # rows about 1.5 times as wide as the packing is tall, to suit a landscape figure
    row_width = max(max(2 * r for _, r in placed), 1.5 * np.sqrt(sum((2 * r + gap) ** 2 for _, r in placed)))
    out, x, y, row_height = {}, 0.0, 0.0, 0.0
    for pos, r in placed:
        if x > 0 and x + 2 * r > row_width:
            x, y, row_height = 0.0, y - row_height - gap, 0.0
        centre = np.array([x + r, y - r])
        out.update({n: p + centre for n, p in pos.items()})
        x += 2 * r + gap
        row_height = max(row_height, 2 * r)
    return out


def _layout(
    selected: pd.DataFrame, nodes: list[str], regulators: list[str], layout: str | Mapping
) -> dict[str, np.ndarray]:
    """Node positions: a named layout (networkx) or a mapping of gene → (x, y)."""
    if isinstance(layout, Mapping):
        lower = {str(k).lower(): np.asarray(v, dtype=float) for k, v in layout.items()}
        missing = [n for n in nodes if n.lower() not in lower]
        if missing:
            raise ValueError(f"layout gives no position for the genes {missing}.")
        return {n: lower[n.lower()] for n in nodes}
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS} or a mapping of gene to (x, y), got {layout!r}.")
    try:
        import networkx as nx
    except ImportError:
        if layout != "circular":
            logg.warning(f"networkx is not installed: drawing a circular layout instead of {layout!r}.")
        return _circle(nodes)
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_weighted_edges_from(selected[["regulator", "target", "score"]].itertuples(index=False), weight="score")
    if layout in ("spring", "kamada_kawai"):
        pos = _pack_components(graph.to_undirected(), layout)
    elif layout == "shell":
        targets = [n for n in nodes if n not in set(regulators)]
        shells = [regulators, targets] if targets and regulators else [nodes]
        pos = nx.shell_layout(graph, nlist=shells)
    else:
        pos = _circle(nodes)
    return {n: np.asarray(pos[n], dtype=float) for n in nodes}


def _draw_edges(ax: Axes, selected: pd.DataFrame, pos, node_size, norm, edge_labels):
    """Draw the edges (shade and width by score, arrowheads where a direction is called, dashed when corr < 0).

    Returns the edges' signs and directions.
    """
    scores = selected["score"].to_numpy()
    strength = np.clip((scores - norm.vmin) / (norm.vmax - norm.vmin), 0, 1)
    sign = selected["sign"].to_numpy() if "sign" in selected.columns else np.ones(len(selected))
    direction = edge_directions(selected)
    pairs = set(zip(selected["regulator"], selected["target"], strict=True))
    labels = selected[edge_labels] if edge_labels else [None] * len(selected)
    rows = zip(
        selected[["regulator", "target"]].itertuples(index=False), strength, sign, direction, labels, strict=True
    )
    for (reg, tgt), w, sg, d, label in rows:
        rad = 0.18 if (tgt, reg) in pairs else 0.06
        if label is not None:
            _label_edge(ax, pos[reg], pos[tgt], rad, label)
        start, end = (tgt, reg) if d < 0 else (reg, tgt)
        head = ("-|>" if sg >= 0 else "-[, widthB=0.5, lengthB=0") if d != 0 else "-"
        arrow = FancyArrowPatch(
            pos[start],
            pos[end],
            arrowstyle=head,
            mutation_scale=9 + 5 * w,
            connectionstyle=f"arc3,rad={rad if d >= 0 else -rad}",
            shrinkA=np.sqrt(node_size[start]) / 2 + 1,
            shrinkB=np.sqrt(node_size[end]) / 2 + 1,
            linewidth=0.6 + 2.4 * w,
            linestyle="-" if sg >= 0 else (0, (3, 2)),
            color=_EDGE_CMAP(0.15 + 0.85 * w),
            alpha=0.45 + 0.55 * w,
            zorder=1,
        )
        ax.add_patch(arrow)
    return sign, direction


def _legend(ax: Axes, query, sign, direction, edge_labels) -> None:
    handles = [
        Line2D([], [], ls="", marker="o", ms=9, mfc=_REGULATOR_COLOR, mec="white", label="regulator"),
        Line2D([], [], ls="", marker="o", ms=7, mfc=_TARGET_COLOR, mec="white", label="target only"),
    ]
    if query:
        handles.append(Line2D([], [], ls="", marker="o", ms=9, mfc="white", mec="black", mew=2, label="query gene"))
    if (direction != 0).any():
        handles.append(Line2D([], [], color="0.3", marker=">", ms=6, label="direction called"))
    handles.append(Line2D([], [], color="0.3", label="no direction called" if (direction == 0).any() else "corr > 0"))
    if (sign < 0).any():
        handles.append(Line2D([], [], color="0.3", ls=(0, (3, 2)), label="corr < 0"))
    if edge_labels:
        handles.append(Line2D([], [], ls="", marker="$n$", ms=7, color="0.3", label=f"edge label: {edge_labels}"))
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=min(len(handles), 4),
        fontsize="small",
        frameon=False,
    )


#: Offsets (points, as unit directions) tried for a gene's label, after the one pointing away from its neighbours.
_LABEL_DIRECTIONS = [
    np.array(d, dtype=float) / np.hypot(*d)
    for d in ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
]


def edge_directions(selected: pd.DataFrame) -> np.ndarray:
    """Per edge: +1 (regulator → target), -1 (target → regulator) or 0 (no direction called: no arrowhead).

    The ``direction`` column of the edge table decides when there is one. Without it, a table whose score is
    ``p_ab`` (a direction model ranking regulator → target, e.g. ``"cnnc-causal"``) calls every edge's direction
    (+1); any other table (e.g. the default model's ``p_ab + p_ba``) calls none.
    """
    if "direction" not in selected.columns:
        directed = "p_ab" in selected.columns and np.allclose(
            pd.to_numeric(selected["p_ab"]).to_numpy(dtype=float),
            selected["score"].to_numpy(dtype=float),
            equal_nan=False,
        )
        return np.full(len(selected), 1 if directed and len(selected) else 0, dtype=np.int8)
    values = pd.to_numeric(selected["direction"], errors="coerce").to_numpy(dtype=float)
    return np.sign(np.nan_to_num(values, nan=0.0)).astype(np.int8)


def _outward(node: str, pos: dict, neighbours: dict) -> np.ndarray:
    """Unit vector from the centre of a gene's neighbours to the gene (up when they surround it)."""
    around = [pos[m] for m in neighbours.get(node, ()) if m != node]
    if not around:
        return np.array([0.0, 1.0])
    d = pos[node] - np.mean(around, axis=0)
    norm = np.hypot(*d)
    return d / norm if norm > 1e-9 * max(1.0, np.abs(pos[node]).max()) else np.array([0.0, 1.0])


def _place_labels(ax: Axes, nodes, pos, node_size, neighbours, style) -> None:
    """Write each gene's name beside its node where it covers no other name, node or edge label (greedy, in order)."""
    renderer = ax.figure.canvas.get_renderer()
    to_pixels = ax.transData.transform
    boxes = []
    for n in nodes:  # the nodes as boxes, so names do not cover them
        cx, cy = to_pixels(pos[n])
        r = np.sqrt(node_size[n]) / 2 * ax.figure.dpi / 72
        boxes.append((cx - r, cy - r, cx + r, cy + r))
    for text in list(ax.texts):  # the edge labels written so far: names keep clear of them too
        box = text.get_window_extent(renderer)
        boxes.append((box.x0, box.y0, box.x1, box.y1))
    for n in nodes:
        gap = np.sqrt(node_size[n]) / 2 + 2
        first = _outward(n, pos, neighbours)
        text = None
        for direction in [first, *_LABEL_DIRECTIONS]:
            ha = "left" if direction[0] > 0.35 else "right" if direction[0] < -0.35 else "center"
            va = "bottom" if direction[1] > 0.35 else "top" if direction[1] < -0.35 else "center"
            if text is not None:
                text.remove()
            text = ax.annotate(
                n, pos[n], xytext=tuple(gap * direction), textcoords="offset points", ha=ha, va=va, **style(n)
            )
            box = text.get_window_extent(renderer)
            box = (box.x0, box.y0, box.x1, box.y1)
            node_box = boxes[nodes.index(n)]
            if not any(_overlap(box, other) for other in boxes if other is not node_box):
                break
        else:
            text.remove()  # no free place: the first choice, overlapping
            text = ax.annotate(
                n, pos[n], xytext=tuple(gap * first), textcoords="offset points", ha="center", va="center", **style(n)
            )
            box = text.get_window_extent(renderer)
            box = (box.x0, box.y0, box.x1, box.y1)
        boxes.append(box)


def _overlap(a, b, pad: float = 1.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _check_arguments(genes, top, edge_labels) -> list[str] | None:
    """Refuse a bad ``top`` or ``edge_labels`` and an empty gene list; the genes as a list of names (or None)."""
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise ValueError(f"top must be a positive integer (the number of edges to draw), got {top!r}.")
    if isinstance(genes, str):
        genes = [genes]
    elif genes is not None:
        genes = [str(g) for g in genes]
        if not genes:
            raise ValueError("genes is empty: pass gene names, or None for the top edges overall.")
    if edge_labels not in (*EDGE_LABELS, None):
        raise ValueError(f"edge_labels must be one of {EDGE_LABELS} or None, got {edge_labels!r}.")
    return genes


def _edges_to_draw(
    adata, key: str, *, group, min_cells: int | None, genes: list[str] | None, top: int, min_score: float | None
) -> pd.DataFrame:
    """The edges of ``group`` with both genes detected in ``min_cells`` cells, then :func:`_select_edges`."""
    table = _group_edges(predicted_edges(adata, key), group, key)
    if min_cells is not None:
        if "n_cells" not in table.columns:
            raise ValueError(f"adata.uns[{key!r}]['edges'] has no n_cells column: re-run cnnc.tl.predict_interactions.")
        table = table[table["n_cells"] >= min_cells]
        if table.empty:
            raise ValueError(f"No edge has n_cells >= min_cells={min_cells}; lower min_cells.")
    return _select_edges(table, genes, top, min_score, key)


def _figure_for(pos: dict, nodes: list[str]) -> tuple[Figure, Axes]:
    """A figure shaped like the layout (aspect within 0.6-2) and sized with the number of genes."""
    extent = np.ptp(np.array(list(pos.values())), axis=0) if len(nodes) > 1 else np.ones(2)
    aspect = float(np.clip(extent[0] / extent[1], 0.6, 2.0)) if extent[1] > 0 else 2.0
    size = float(np.clip(1.1 * np.sqrt(len(nodes)) + 2.0, 5.0, 11.0))  # the longer side, inches
    width, height = (size, size / aspect) if aspect >= 1 else (size * aspect, size)
    return plt.subplots(figsize=(width + 1.0, max(height, 4.0) + 0.6), layout="constrained")


def _edge_label_column(edge_labels: str | None, selected: pd.DataFrame, key: str) -> str | None:
    """The column written on the edges: ``"auto"`` is ``n_cells`` for a few edges, else none."""
    if edge_labels == "auto":
        edge_labels = "n_cells" if "n_cells" in selected.columns and len(selected) <= AUTO_LABEL_EDGES else None
    if edge_labels is not None and edge_labels not in selected.columns:
        raise ValueError(f"edge_labels={edge_labels!r}: adata.uns[{key!r}]['edges'] has no such column.")
    return edge_labels


def _draw_nodes(ax: Axes, nodes: list[str], pos: dict, node_size: dict, is_regulator: dict, query: set) -> None:
    """The genes as dots (regulators orange, targets only blue, query genes ringed) on an axis-free square plot."""
    xy = np.array([pos[n] for n in nodes])
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=[node_size[n] for n in nodes],
        c=[_REGULATOR_COLOR if is_regulator[n] else _TARGET_COLOR for n in nodes],
        edgecolors=["black" if n.lower() in query else "white" for n in nodes],
        linewidths=[2.0 if n.lower() in query else 0.8 for n in nodes],
        zorder=2,
    )
    ax.margins(0.1)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_axis_off()


def _name_style(n_nodes: int, query: set):
    """The text style of a gene's name: smaller in a crowded graph, bold for query genes, a white halo."""
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]

    def style(n):
        return {
            "fontsize": 8 if n_nodes > 40 else 9,
            "fontweight": "bold" if n.lower() in query else "normal",
            "path_effects": halo,
            "zorder": 3,
        }

    return style


@doc_params(doc_ax=doc_ax, doc_show_save=doc_show_save)
def network(
    adata: AnnData,
    genes: str | Sequence[str] | None = None,
    *,
    key: str = "cnnc",
    top: int = 50,
    min_score: float | None = None,
    layout: str | Mapping[str, tuple[float, float]] = "spring",
    group: str | None = None,
    min_cells: int | None = None,
    edge_labels: str | None = "auto",
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | PathLike | None = None,
    return_fig: bool = False,
) -> Axes | Figure | None:
    """Draw the highest-scoring predicted edges as a directed graph.

    An edge's width, opacity and shade grow with its score; the colour bar spans the scores of the edges drawn.
    An edge has an arrowhead only where a direction was called: the edge table's ``direction`` column decides
    (+1 regulator → target, -1 target → regulator, 0 no arrowhead); without that column, edges scored by ``p_ab``
    (a direction model's regulator → target probability) point regulator → target, and edges scored otherwise (the
    default model's ``p_ab + p_ba``) are drawn as lines. Edges whose expression correlation is negative (``sign`` -1,
    repression-like) are dashed, and a called direction ends in a bar instead of an arrowhead. Genes that regulate
    a drawn edge are orange, genes that are only targets blue; names are placed where they cover no other name.

    Parameters
    ----------
    adata
        Annotated data matrix with the output of :func:`cnnc.tl.predict_interactions`.
    genes
        Draw only edges that touch these genes (as regulator or target; case-insensitive), ``top``
        shared among them: each gene's highest-scoring edge first, then each one's second, and so on.
        ``None``: the top edges overall.
    key
        The key of :attr:`~anndata.AnnData.uns` that holds the predicted edges.
    top
        Maximum number of edges, the highest-scoring first.
    min_score
        Draw only edges with at least this score.
    layout
        ``"spring"``, ``"kamada_kawai"``, ``"circular"`` or ``"shell"`` (regulators inside, targets
        outside), computed with networkx (circular without it), or a mapping of gene to ``(x, y)``.
    group
        For a prediction with ``groupby``: the group whose network to draw (required there).
    min_cells
        Draw only edges whose genes are both detected in at least this many cells (``n_cells``).
    edge_labels
        Write on each edge its ``"n_cells"`` (cells co-expressing the pair: the evidence behind the edge),
        ``"score"`` or ``"corr"``; ``"auto"``: ``n_cells`` when at most 30 edges are drawn; ``None``: no labels.
    {doc_ax}
    {doc_show_save}

    Returns
    -------
    The Axes, the Figure if ``return_fig``, or ``None`` if the plot was shown.

    Examples
    --------
    >>> cnnc.pl.network(adata, ["Gata1", "Spi1"], top=30)  # doctest: +SKIP
    """
    genes = _check_arguments(genes, top, edge_labels)
    selected = _edges_to_draw(
        adata, key, group=group, min_cells=min_cells, genes=genes, top=int(top), min_score=min_score
    )

    regulators = list(dict.fromkeys(selected["regulator"]))
    nodes = regulators + [g for g in dict.fromkeys(selected["target"]) if g not in set(regulators)]
    pos = _layout(selected, nodes, regulators, layout)
    fig, ax = _figure_for(pos, nodes) if ax is None else (ax.figure, ax)

    scores = selected["score"].to_numpy()
    lo, hi = float(scores.min()), float(scores.max())
    norm = Normalize(vmin=lo, vmax=hi) if hi > lo else Normalize(vmin=hi - 0.5, vmax=hi + 0.5)

    query = {g.lower() for g in genes} if genes is not None else set()
    is_regulator = {n: n in set(regulators) for n in nodes}
    node_size = {n: (260.0 if is_regulator[n] else 150.0) for n in nodes}
    edge_labels = _edge_label_column(edge_labels, selected, key)
    sign, direction = _draw_edges(ax, selected, pos, node_size, norm, edge_labels)
    _draw_nodes(ax, nodes, pos, node_size, is_regulator, query)
    neighbours = {}
    for reg, tgt in zip(selected["regulator"], selected["target"], strict=True):
        neighbours.setdefault(reg, []).append(tgt)
        neighbours.setdefault(tgt, []).append(reg)
    fig.canvas.draw()  # final axes limits, so that labels are placed in the figure's pixels
    order = sorted(nodes, key=lambda n: (not is_regulator[n], -len(neighbours.get(n, ()))))
    _place_labels(ax, order, pos, node_size, neighbours, _name_style(len(nodes), query))
    _legend(ax, query, sign, direction, edge_labels)
    colorbar = fig.colorbar(
        ScalarMappable(norm=norm, cmap=ListedColormap(_EDGE_CMAP(np.linspace(0.15, 1.0, 256)))),
        ax=ax,
        shrink=0.45,
        aspect=20,
        pad=0.01,
    )
    colorbar.set_label(f"score (edges drawn: {lo:.2f}–{hi:.2f})")
    around = f" around {', '.join(genes[:4])}{'…' if len(genes) > 4 else ''}" if genes is not None else ""
    where = f"{key}, {group}" if group is not None else key
    ax.set_title(f"Top {len(selected)} predicted edges{around} ({where})", fontsize="medium")
    return finish(fig, ax, writekey="network", show=show, save=save, return_fig=return_fig)
