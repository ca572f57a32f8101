"""``cnnc.pl.pair_histogram`` and ``cnnc.pl.pair_histograms``: draw pair images."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm

from .._data import _is_mudata
from .._docs import doc_ax, doc_params, doc_show_save
from .._engine._params import PairImageParams
from .._pair_data import resolve_pairs
from .._tables import read_pairs
from ._utils import finish

#: ``bins=`` value that draws the image the model reads (its recipe's bins), not bins in the data's units.
MODEL_BINS = "model"
#: Colour bar of the data-scale image.
_DATA_COLORBAR_LABEL = "cells per bin (log scale)"
_COLORBAR_LABEL = {
    "cnnc": "fraction of cells, log scale (0: none, 1: all)",
    "density": "fraction of cells",
    "counts": "cells",
}


def _stored_image(adata, key: str, gene_a: str, gene_b: str):
    """The stored image of (a, b) and the two genes' bin edges, or None when it was not computed."""
    store = adata.uns.get(key) if hasattr(adata, "uns") else None
    if not isinstance(store, dict) or "histograms" not in store:
        return None
    pairs = store["pairs"]
    hit = np.flatnonzero(
        (pairs["gene_a"].str.lower() == gene_a.lower()).to_numpy()
        & (pairs["gene_b"].str.lower() == gene_b.lower()).to_numpy()
    )
    if len(hit) == 0:
        return None
    genes = [str(g).lower() for g in store["genes"]]

    def edges_of(name):
        for cand in (name.lower(), *(g for g in genes if g.endswith(":" + name.lower()))):
            if cand in genes:
                return np.asarray(store["bin_edges"])[genes.index(cand)]
        return None

    row = pairs.iloc[hit[0]]
    return (
        np.asarray(store["histograms"][hit[0]]),
        edges_of(str(row["gene_a"])),
        edges_of(str(row["gene_b"])),
        str(row["gene_a"]),
        str(row["gene_b"]),
        PairImageParams.from_dict({k: store["params"][k] for k in PairImageParams.__dataclass_fields__}),
    )


def _stored_params(adata, key: str) -> PairImageParams:
    """The recipe stored under ``key`` (pair images, or the model's recipe of a prediction), or CNNC's defaults."""
    store = adata.uns.get(key) if hasattr(adata, "uns") else None
    base = store.get("params") if isinstance(store, dict) else None
    if isinstance(base, dict) and isinstance(base.get("image"), dict):
        base = base["image"]  # a prediction records the image recipe of its model
    fields = PairImageParams.__dataclass_fields__
    if isinstance(base, dict) and all(k in base for k in fields):
        params = PairImageParams.from_dict({k: base[k] for k in fields})
        # a recipe of several channels (e.g. "rank+standard") is drawn by its first view, the ranks
        return PairImageParams.from_dict({**params.to_dict(), "scaling": params.views[0]})
    return PairImageParams()


def _compute_image(adata, gene_a, gene_b, *, layer, use_raw, mod, params):
    resolved = resolve_pairs(adata, [(gene_a, gene_b)], layer=layer, use_raw=use_raw, mod=mod, params=params)
    image = resolved.imager.images(resolved.a, resolved.b)[0]
    edges = resolved.imager.binner.edges
    return image, edges[resolved.a[0]], edges[resolved.b[0]], *resolved.pairs.iloc[0], params


def _tick_labels(edges: np.ndarray | None, bins: int, every: int):
    positions = np.arange(0, bins, every) + 0.5
    if edges is None:
        return positions, [str(int(p)) for p in positions - 0.5]
    centres = (edges[:-1] + edges[1:]) / 2
    return positions, [f"{centres[int(p)] + 0.0:.1f}".replace("-0.0", "0.0") for p in positions - 0.5]


def _pair_values(adata, gene_a, gene_b, *, layer, use_raw, mod):
    """The two genes' values over the cells as the data store them, their names and where they were read."""
    resolved = resolve_pairs(adata, [(gene_a, gene_b)], layer=layer, use_raw=use_raw, mod=mod)
    imager = resolved.imager
    columns = imager.binner.genes[[resolved.a[0], resolved.b[0]]]
    values = np.concatenate([block.toarray() for _, block in imager.source.iter_blocks(columns)])
    name_a, name_b = resolved.pairs.iloc[0]
    return values[:, 0].astype(np.float64), values[:, 1].astype(np.float64), name_a, name_b, resolved.expression


def _edge_call(adata, key: str, name_a: str, name_b: str) -> dict | None:
    """The prediction's row of the pair under ``key`` (either orientation), as seen from ``name_a``, or None."""
    store = adata.uns.get(key) if hasattr(adata, "uns") else None
    table = store.get("edges") if isinstance(store, dict) else None
    if not isinstance(table, pd.DataFrame) or "group" in table.columns or len(table) == 0:
        return None
    reg, tgt = table["regulator"].astype(str).str.lower(), table["target"].astype(str).str.lower()
    for flipped, hit in (
        (False, (reg == name_a.lower()) & (tgt == name_b.lower())),
        (True, (reg == name_b.lower()) & (tgt == name_a.lower())),
    ):
        if hit.any():
            row = table[hit.to_numpy()].iloc[0].to_dict()
            return row | {"flipped": flipped}
    return None


def _direction_text(row: dict, name_a: str, name_b: str) -> str:
    """The model's direction call in words: from a ``direction`` column when the table has one, else p_ab vs p_ba."""
    src, dst = (name_b, name_a) if row["flipped"] else (name_a, name_b)
    if "direction" in row and pd.notna(row["direction"]):
        d = row["direction"]
        d = int(np.sign(float(d))) if isinstance(d, int | float | np.number) else d
        called = {1: f"{src} → {dst}", -1: f"{dst} → {src}", 0: "direction not called"}.get(d, str(d))
        evidence = row.get("direction_evidence")
        if evidence is not None and not (isinstance(evidence, float) and np.isnan(evidence)):
            evidence = f"{evidence:.2f}" if isinstance(evidence, float | np.floating) else str(evidence)
            called += f" ({evidence})"
        return called
    if "p_ab" in row and "p_ba" in row:  # no call: the two probabilities, as x → y and y → x
        forward, backward = (row["p_ba"], row["p_ab"]) if row["flipped"] else (row["p_ab"], row["p_ba"])
        return f"P(x → y) {forward:.2f} · P(y → x) {backward:.2f}"
    return ""


def _call_title(row: dict | None, name_a: str, name_b: str, counted: tuple[int, int] | None) -> str:
    """The pair and how many cells express both genes; the model's score, q-value and direction."""
    first = f"{name_a} vs {name_b}" + ("" if counted is None else f" · n_cells {counted[0]:,} of {counted[1]:,}")
    if row is None:
        return first
    parts = [f"score {row['score']:.2f}"]
    if "qvalue" in row and pd.notna(row["qvalue"]):
        parts.append(f"q {row['qvalue']:.1g}")
    direction = _direction_text(row, name_a, name_b)
    return first + "\n" + " · ".join(parts) + (f"\n{direction}" if direction else "")


def _data_scale(ax, x, y, *, bins: int, cmap, colorbar: bool, norm):
    """A joint histogram in the data's own units: each axis spans the gene's values, cells per bin in colour."""
    edges_x = np.linspace(min(0.0, x.min()), max(x.max(), 1e-9), bins + 1)
    edges_y = np.linspace(min(0.0, y.min()), max(y.max(), 1e-9), bins + 1)
    counts, _, _ = np.histogram2d(x, y, bins=[edges_x, edges_y])
    counts[counts == 0] = np.nan  # empty bins stay blank
    mesh = ax.pcolormesh(edges_x, edges_y, counts.T, cmap=cmap, norm=norm, rasterized=True)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label=_DATA_COLORBAR_LABEL)
    ax.set_xlim(edges_x[0], edges_x[-1])
    ax.set_ylim(edges_y[0], edges_y[-1])
    ax.set_box_aspect(1)
    return mesh


def _is_model(bins) -> bool:
    return isinstance(bins, str) and bins == MODEL_BINS


def _bins_of(bins, deprecated: dict, function: str) -> int | str:
    """``bins`` checked, with the former ``scale=`` keyword folded into it (a FutureWarning names the replacement).

    ``scale`` and ``bins`` said the same thing twice (the bins in the data's units, or the model's; ``bins`` was
    ignored with ``scale="model"``): one keyword now says it.
    """
    unknown = sorted(set(deprecated) - {"scale"})
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument {unknown[0]!r}.")
    if "scale" in deprecated:
        scale = deprecated["scale"]
        if scale not in ("data", "model") or (scale == "data" and _is_model(bins)):
            raise ValueError(
                f"scale must be 'data' (the data's units) or 'model' (the model's image), got {scale!r} with "
                f"bins={bins!r}; pass bins= alone: an integer (the data's units) or 'model'."
            )
        bins = MODEL_BINS if scale == "model" else bins
        warnings.warn(f"{function}(scale={scale!r}) is deprecated: pass bins={bins!r}.", FutureWarning, stacklevel=3)
    if not _is_model(bins) and (isinstance(bins, bool | str) or not isinstance(bins, int | np.integer) or bins < 2):
        raise ValueError(
            f"bins must be an integer >= 2 (bins in the data's units) or 'model' (the image the model reads), "
            f"got {bins!r}."
        )
    return bins


@doc_params(doc_ax=doc_ax, doc_show_save=doc_show_save)
def pair_histogram(
    adata,
    gene_a: str,
    gene_b: str,
    *,
    key: str = "cnnc",
    bins: int | str = 16,
    layer: str | None = None,
    use_raw: bool | None = None,
    mod: str | tuple[str, str] | None = None,
    cmap: str = "viridis",
    colorbar: bool = True,
    title: str | None = None,
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | Path | None = None,
    return_fig: bool = False,
    **deprecated,
) -> Axes | plt.Figure | None:
    """Draw the pair image of ``gene_a`` (x axis) against ``gene_b`` (y axis): how many cells have which values.

    By default (``bins=16``) the two genes' values are binned in the data's own units (e.g. log-normalized
    expression), each axis spanning the gene's range, and each bin is coloured by its number of cells on a log
    scale (empty bins blank). ``bins="model"`` draws the image exactly as the model reads it: the stored image of
    :func:`cnnc.tl.pair_histograms` under ``key``, or one computed with the recipe stored there (or CNNC's
    defaults), in ``log10(expression + pseudocount)`` bins; a recipe of two channels (``"rank+standard"``) is
    drawn by its rank channel.

    The title says how many cells express both genes (``n_cells``) and, when ``key`` holds a prediction of
    :func:`cnnc.tl.predict_interactions` that scored the pair, the model's call: its score, q-value and direction
    (the ``direction`` column when the table has one, else ``p_ab`` against ``p_ba``).

    Parameters
    ----------
    adata
        AnnData (or MuData with ``mod``) holding log-expression.
    gene_a, gene_b
        The pair; ``gene_a`` on the x axis (the image's columns), ``gene_b`` on the y axis.
    key
        A prediction (its call goes into the title) or, with ``bins="model"``, stored pair images.
    bins
        An integer: that many bins per axis in the data's own units; ``"model"``: the image the model reads, in its
        recipe's bins (as :func:`numpy.histogram` takes a number or the name of a rule).
    layer, use_raw, mod
        Where to read expression (see :func:`cnnc.tl.pair_histograms`).
    cmap
        Colour map.
    colorbar
        Draw a colour bar.
    title
        Axes title (default: the pair, ``n_cells`` and the model's call).
    {doc_ax}
    {doc_show_save}
    **deprecated
        ``scale="model"`` (now ``bins="model"``) and ``scale="data"`` (now an integer ``bins``) still work, with a
        FutureWarning.

    Returns
    -------
    The Axes (or Figure with ``return_fig=True``), or ``None`` when shown.
    """
    bins = _bins_of(bins, deprecated, "cnnc.pl.pair_histogram")
    scale = "model" if _is_model(bins) else "data"
    if scale == "data" or mod is not None or not _is_mudata(adata):
        x, y, name_a, name_b, expression = _pair_values(adata, gene_a, gene_b, layer=layer, use_raw=use_raw, mod=mod)
    else:  # a stored image of a MuData's pair: its modalities are known to the store, not here
        x = y = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.8, 4.2), layout="constrained")
    else:
        fig = ax.figure
    if scale == "data":
        norm = LogNorm(vmin=1, vmax=max(len(x), 2))
        _data_scale(ax, x, y, bins=int(bins), cmap=cmap, colorbar=colorbar, norm=norm)
        ax.set_xlabel(f"{name_a} ({_unit(expression)})")
        ax.set_ylabel(f"{name_b} ({_unit(expression)})")
    else:
        name_a, name_b = _model_scale(
            adata, ax, gene_a, gene_b, key=key, layer=layer, use_raw=use_raw, mod=mod, cmap=cmap, colorbar=colorbar
        )
    if title is None:
        counted = None if x is None else (int(((x > 0) & (y > 0)).sum()), len(x))
        title = _call_title(_edge_call(adata, key, name_a, name_b), name_a, name_b, counted)
    ax.set_title(title, fontsize="small" if "\n" in title else "medium")
    ax.grid(False)  # scanpy's figure style draws a grid, which would cover the pixels
    return finish(fig, ax, writekey=f"pair_histogram_{name_a}_{name_b}", show=show, save=save, return_fig=return_fig)


def _unit(expression: str) -> str:
    """Axis unit: the values as stored where they were read (``X``, ``.raw`` or a layer)."""
    return {"X": "values in X", "raw": "values in .raw"}.get(expression, f"values in {expression}")


def _model_scale(adata, ax, gene_a, gene_b, *, key, layer, use_raw, mod, cmap, colorbar, tick_every: int = 4):
    """The image as the model reads it, on ``ax`` (stored under ``key`` or computed with the stored recipe)."""
    stored = _stored_image(adata, key, gene_a, gene_b) if layer is None and use_raw is None and mod is None else None
    if stored is None:
        params = _stored_params(adata, key)
        stored = _compute_image(adata, gene_a, gene_b, layer=layer, use_raw=use_raw, mod=mod, params=params)
    image, edges_a, edges_b, name_a, name_b, params = stored
    vmax = 1.0 if params.transform == "cnnc" else None
    sns.heatmap(
        image[::-1],
        ax=ax,
        cmap=cmap,
        vmin=0.0,
        vmax=vmax,
        cbar=colorbar,
        cbar_kws={"label": _COLORBAR_LABEL[params.transform]} if colorbar else None,
        square=True,
        xticklabels=False,
        yticklabels=False,
    )
    pos, labels = _tick_labels(edges_a, params.bins, tick_every)
    ax.set_xticks(pos, labels, rotation=0)
    pos, labels = _tick_labels(edges_b, params.bins, tick_every)
    ax.set_yticks(params.bins - pos, labels)
    unit = {"rank": "rank / n_cells", "standard": "z-score"}.get(params.scaling, f"log10(x + {params.pseudocount:g})")
    ax.set_xlabel(f"{name_a}  [{unit}]")
    ax.set_ylabel(f"{name_b}  [{unit}]")
    return name_a, name_b


@doc_params(doc_show_save=doc_show_save)
def pair_histograms(
    adata,
    pairs,
    *,
    key: str = "cnnc",
    bins: int | str = 16,
    ncols: int = 4,
    layer: str | None = None,
    use_raw: bool | None = None,
    mod: str | tuple[str, str] | None = None,
    cmap: str = "viridis",
    titles: list[str] | None = None,
    show: bool | None = None,
    save: bool | str | Path | None = None,
    return_fig: bool = False,
    **deprecated,
) -> list[Axes] | plt.Figure | None:
    """Draw a grid of pair images, one panel per ``(gene_a, gene_b)`` pair.

    Parameters
    ----------
    adata
        AnnData (or MuData with ``mod``).
    pairs
        ``(gene_a, gene_b)`` tuples or a DataFrame (as :func:`cnnc.tl.pair_histograms` accepts).
    key, bins, layer, use_raw, mod, cmap
        As in :func:`cnnc.pl.pair_histogram`.
    ncols
        Panels per row.
    titles
        One title per panel (default: the pair, ``n_cells`` and the model's call, as in
        :func:`cnnc.pl.pair_histogram`).
    {doc_show_save}
    **deprecated
        ``scale=`` as in :func:`cnnc.pl.pair_histogram` (a FutureWarning).

    Returns
    -------
    The list of Axes (or the Figure with ``return_fig=True``), or ``None`` when shown.
    """
    bins = _bins_of(bins, deprecated, "cnnc.pl.pair_histograms")
    scale = "model" if _is_model(bins) else "data"
    frame = read_pairs(pairs)
    if titles is not None and len(titles) != len(frame):
        raise ValueError(f"Got {len(titles)} titles for {len(frame)} pairs.")
    n = len(frame)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    # Data scale: cells per bin on one log scale; CNNC's transform: one 0..1 scale. Either way one colour bar.
    shared_scale = scale == "data" or _stored_params(adata, key).transform == "cnnc"
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(3.6 * ncols + (0.6 if shared_scale else 0.0), 3.9 * nrows),
        squeeze=False,
        layout="constrained",
    )
    for i, (a, b) in enumerate(frame.itertuples(index=False)):
        pair_histogram(
            adata,
            a,
            b,
            key=key,
            bins=bins,
            layer=layer,
            use_raw=use_raw,
            mod=mod,
            cmap=cmap,
            colorbar=not shared_scale,
            title=None if titles is None else titles[i],
            ax=axes.flat[i],
            show=False,
        )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    if shared_scale:
        label = _DATA_COLORBAR_LABEL if scale == "data" else _COLORBAR_LABEL["cnnc"]
        fig.colorbar(axes.flat[0].collections[0], ax=axes, shrink=min(1.0, 0.6 + 0.2 * nrows), label=label)
    return finish(fig, list(axes.flat[:n]), writekey="pair_histograms", show=show, save=save, return_fig=return_fig)
