"""``cnnc.pl.pair_histogram`` and ``cnnc.pl.pair_histograms``: draw pair images."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes

from .._docs import doc_ax, doc_params, doc_show_save
from .._engine._params import PairImageParams
from .._pair_data import resolve_pairs
from .._tables import read_pairs
from ._utils import finish

_COLORBAR_LABEL = {
    "cnnc": "log density (CNNC scale)",
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


@doc_params(doc_ax=doc_ax, doc_show_save=doc_show_save)
def pair_histogram(
    adata,
    gene_a: str,
    gene_b: str,
    *,
    key: str = "cnnc",
    layer: str | None = None,
    use_raw: bool | None = None,
    mod: str | tuple[str, str] | None = None,
    cmap: str = "viridis",
    colorbar: bool = True,
    tick_every: int = 8,
    title: str | None = None,
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | Path | None = None,
    return_fig: bool = False,
) -> Axes | plt.Figure | None:
    """Draw the CNNC pair image of ``gene_a`` (x axis) against ``gene_b`` (y axis).

    Uses the image stored by :func:`cnnc.tl.pair_histograms` under ``key`` when the pair is there,
    otherwise computes it on the fly with the stored recipe (or CNNC's defaults). Low expression is
    at the bottom left; tick labels are bin centres in ``log10(expression + pseudocount)`` (rank fractions or
    z-scores with the ``"rank"`` or ``"standard"`` recipe). A recipe of two channels (``"rank+standard"``, as
    ``cnnc-causal`` reads) is drawn by its rank channel.

    Parameters
    ----------
    adata
        AnnData (or MuData with ``mod``) holding log-expression.
    gene_a, gene_b
        The pair; ``gene_a`` is the image's columns, ``gene_b`` its rows (CNNC's orientation).
    key
        Where :func:`cnnc.tl.pair_histograms` stored images.
    layer, use_raw, mod
        Where to read expression when the image is computed on the fly (see :func:`cnnc.tl.pair_histograms`).
    cmap
        Colour map.
    colorbar
        Draw a colour bar.
    tick_every
        Label every ``tick_every``-th bin.
    title
        Axes title (default: ``"gene_a vs gene_b"``).
    {doc_ax}
    {doc_show_save}

    Returns
    -------
    The Axes (or Figure with ``return_fig=True``), or ``None`` when shown.
    """
    stored = _stored_image(adata, key, gene_a, gene_b) if layer is None and use_raw is None and mod is None else None
    if stored is None:
        params = _stored_params(adata, key)
        stored = _compute_image(adata, gene_a, gene_b, layer=layer, use_raw=use_raw, mod=mod, params=params)
    image, edges_a, edges_b, name_a, name_b, params = stored
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.6, 3.8))
    else:
        fig = ax.figure
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
    ax.set_title(title if title is not None else f"{name_a} vs {name_b}")
    ax.grid(False)  # scanpy's figure style draws a grid, which would cover the pixels
    return finish(fig, ax, writekey=f"pair_histogram_{name_a}_{name_b}", show=show, save=save, return_fig=return_fig)


@doc_params(doc_show_save=doc_show_save)
def pair_histograms(
    adata,
    pairs,
    *,
    key: str = "cnnc",
    ncols: int = 4,
    layer: str | None = None,
    use_raw: bool | None = None,
    mod: str | tuple[str, str] | None = None,
    cmap: str = "viridis",
    titles: list[str] | None = None,
    show: bool | None = None,
    save: bool | str | Path | None = None,
    return_fig: bool = False,
) -> list[Axes] | plt.Figure | None:
    """Draw a grid of pair images, one panel per ``(gene_a, gene_b)`` pair.

    Parameters
    ----------
    adata
        AnnData (or MuData with ``mod``).
    pairs
        ``(gene_a, gene_b)`` tuples or a DataFrame (as :func:`cnnc.tl.pair_histograms` accepts).
    key, layer, use_raw, mod, cmap
        As in :func:`cnnc.pl.pair_histogram`.
    ncols
        Panels per row.
    titles
        One title per panel (default ``"gene_a vs gene_b"``).
    {doc_show_save}

    Returns
    -------
    The list of Axes (or the Figure with ``return_fig=True``), or ``None`` when shown.
    """
    frame = read_pairs(pairs)
    if titles is not None and len(titles) != len(frame):
        raise ValueError(f"Got {len(titles)} titles for {len(frame)} pairs.")
    n = len(frame)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    # With CNNC's transform every panel has the same 0..1 scale: one colour bar for the figure.
    shared_scale = _stored_params(adata, key).transform == "cnnc"
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(3.9 * ncols + (0.6 if shared_scale else 0.0), 3.8 * nrows),
        squeeze=False,
        layout="constrained",
    )
    for i, (a, b) in enumerate(frame.itertuples(index=False)):
        pair_histogram(
            adata,
            a,
            b,
            key=key,
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
        fig.colorbar(
            axes.flat[0].collections[0], ax=axes, shrink=min(1.0, 0.6 + 0.2 * nrows), label=_COLORBAR_LABEL["cnnc"]
        )
    return finish(fig, list(axes.flat[:n]), writekey="pair_histograms", show=show, save=save, return_fig=return_fig)
