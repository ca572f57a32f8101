"""``cnnc.pl.function_candidates`` and ``cnnc.pl.function_heatmap``: gene-set membership scores and their evidence."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from .._data import expression_view
from .._engine._source import ExpressionSource
from ._pair import pair_histogram
from ._utils import finish


def _result(adata, key: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Scores, member flags and parameters stored by :func:`cnnc.tl.assign_function` under ``key``."""
    store = adata.uns.get(key)
    if key not in adata.varm or not isinstance(store, dict) or "members" not in store:
        raise KeyError(
            f"No gene-set scores under key {key!r}: run `cnnc.tl.assign_function(adata, gene_sets, key_added={key!r})` "
            "first."
        )
    scores = adata.varm[key]
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"adata.varm[{key!r}] is not a genes × sets DataFrame; was it written by assign_function?")
    return scores, store["members"], store.get("params", {})


def _resolve_set(scores: pd.DataFrame, gene_set: str) -> str:
    if gene_set in scores.columns:
        return gene_set
    lower = {str(c).lower(): c for c in scores.columns}
    if gene_set.lower() in lower:
        return lower[gene_set.lower()]
    close = [c for c in scores.columns if gene_set.lower() in str(c).lower()][:3]
    hint = f" Did you mean {close}?" if close else ""
    raise KeyError(f"Gene set {gene_set!r} was not scored.{hint} Scored sets: {len(scores.columns)}.")


def top_candidates(adata, gene_set: str, *, key: str = "cnnc_function", n: int = 10) -> pd.DataFrame:
    """The ``n`` best-scoring non-members of a set: ``gene``, ``score``, ``rank`` (1 = best)."""
    scores, members, _ = _result(adata, key)
    name = _resolve_set(scores, gene_set)
    col = scores[name][~members[name].to_numpy(dtype=bool)].dropna()
    best = col.sort_values(ascending=False, kind="stable").head(n)
    return pd.DataFrame({"gene": best.index.astype(str), "score": best.to_numpy(), "rank": np.arange(1, len(best) + 1)})


def _correlations(adata, genes: list[str], members: list[str], *, layer, use_raw) -> np.ndarray:
    """Pearson correlation of each gene with each member (``len(genes) × len(members)``), read from the data."""
    view = expression_view(adata, layer=layer, use_raw=use_raw)
    pos = view.var_names.get_indexer(genes + members)
    x = np.concatenate([blk.toarray() for _, blk in ExpressionSource(view.matrix).iter_blocks(pos)]).astype(np.float64)
    x -= x.mean(0)
    norm = np.sqrt((x**2).sum(0))
    norm[norm == 0] = np.inf
    corr = (x.T @ x) / np.outer(norm, norm)
    return corr[: len(genes), len(genes) :]


def function_candidates(
    adata,
    gene_set: str,
    *,
    key: str = "cnnc_function",
    n_genes: int = 4,
    n_members: int = 4,
    image_key: str = "cnnc",
    cmap: str = "viridis",
    show: bool | None = None,
    save: bool | str | Path | None = None,
    return_fig: bool = False,
) -> list[Axes] | plt.Figure | None:
    """The best new candidates of a gene set with their evidence: pair images against the set's members.

    One row per candidate (the ``n_genes`` best-scoring non-members of ``gene_set`` in
    :func:`cnnc.tl.assign_function`'s result), one panel per member it is most correlated with (the ``n_members``
    highest Pearson correlations): the CNNC pair image of the candidate (x axis) against the member (y axis), drawn
    by :func:`cnnc.pl.pair_histogram`. Panel titles give the pair's Pearson r; row labels the candidate's score.

    Parameters
    ----------
    adata
        AnnData with the result of :func:`cnnc.tl.assign_function` under ``key``.
    gene_set
        Name of a scored set (case-insensitive).
    key
        ``key_added`` of :func:`cnnc.tl.assign_function`.
    n_genes
        Candidates shown (rows).
    n_members
        Members shown per candidate (columns).
    image_key
        Where :func:`cnnc.tl.pair_histograms` stored images and their recipe (else CNNC's recipe is used).
    cmap
        Colour map of the images.
    show, save, return_fig
        As in :func:`cnnc.pl.pair_histogram`.

    Returns
    -------
    The Axes (a list, rows first), or the Figure with ``return_fig=True``, or ``None`` when shown.
    """
    for label, value in (("n_genes", n_genes), ("n_members", n_members)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{label} must be a positive integer, got {value!r}.")
    scores, members, params = _result(adata, key)
    name = _resolve_set(scores, gene_set)
    best = top_candidates(adata, name, key=key, n=n_genes)
    if best.empty:
        raise ValueError(f"Gene set {name!r} has no scored non-member to show.")
    member_genes = members.index[members[name].to_numpy(dtype=bool)].astype(str).tolist()
    layer = params.get("layer") or None
    use_raw = bool(params.get("use_raw", False)) if layer is None else None
    corr = _correlations(adata, best["gene"].tolist(), member_genes, layer=layer, use_raw=use_raw)
    ncols = min(n_members, len(member_genes))
    fig, axes = plt.subplots(len(best), ncols, figsize=(3.2 * ncols + 0.6, 3.0 * len(best)), squeeze=False)
    for i, row in enumerate(best.itertuples(index=False)):
        order = np.argsort(-np.nan_to_num(corr[i], nan=-np.inf), kind="stable")[:ncols]
        for j, m in enumerate(order):
            ax = axes[i, j]
            pair_histogram(
                adata,
                row.gene,
                member_genes[m],
                key=image_key,
                layer=layer,
                use_raw=use_raw,
                cmap=cmap,
                colorbar=False,
                title=f"{row.gene} vs {member_genes[m]}  r={corr[i, m]:+.2f}",
                ax=ax,
                show=False,
            )
            ax.title.set_fontsize(9)
            if j == 0:
                ax.set_ylabel(f"#{row.rank} {row.gene} (score {row.score:.2f})\n{ax.get_ylabel()}", fontsize=8)
            else:
                ax.set_ylabel(ax.get_ylabel(), fontsize=8)
            ax.set_xlabel(ax.get_xlabel(), fontsize=8)
    fig.suptitle(f"{name}: top candidates and their pair images with members")
    fig.tight_layout()
    return finish(
        fig, list(axes.flat), writekey=f"function_candidates_{name}", show=show, save=save, return_fig=return_fig
    )


def function_heatmap(
    adata,
    *,
    key: str = "cnnc_function",
    sets: list[str] | None = None,
    genes: list[str] | None = None,
    n_genes: int = 5,
    standard_scale: str | None = "set",
    mark_members: bool = True,
    cmap: str = "RdBu_r",
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | Path | None = None,
    return_fig: bool = False,
) -> Axes | plt.Figure | None:
    """Heatmap of gene-set membership scores: genes (rows) × sets (columns).

    Without ``genes``, rows are the ``n_genes`` best-scoring non-members of every shown set, set by set. Scores
    of different sets are on different scales, so by default each set's scores are z-scored over all genes
    (``standard_scale="set"``). Known members are marked with a dot.

    Parameters
    ----------
    adata
        AnnData with the result of :func:`cnnc.tl.assign_function` under ``key``.
    key
        ``key_added`` of :func:`cnnc.tl.assign_function`.
    sets
        Sets to show (default: all scored sets).
    genes
        Genes to show (default: each set's top candidates).
    n_genes
        Top candidates per set when ``genes`` is not given.
    standard_scale
        ``"set"``: z-score each set's scores over all genes; ``None``: raw scores.
    mark_members
        Dot the cells of a set's known members.
    cmap
        Colour map.
    ax, show, save, return_fig
        As in :func:`cnnc.pl.pair_histogram`.

    Returns
    -------
    The Axes (or the Figure with ``return_fig=True``), or ``None`` when shown.
    """
    if standard_scale not in ("set", None):
        raise ValueError(f"standard_scale must be 'set' or None, got {standard_scale!r}.")
    scores, members, _ = _result(adata, key)
    names = list(scores.columns) if sets is None else [_resolve_set(scores, s) for s in sets]
    if not names:
        raise ValueError("No gene set to show: pass `sets` with at least one scored set.")
    values = scores[names].astype(np.float64)
    if standard_scale == "set":
        values = (values - values.mean()) / values.std().replace(0, 1)
    if genes is None:
        rows = []
        for name in names:
            rows += [g for g in top_candidates(adata, name, key=key, n=n_genes)["gene"] if g not in rows]
    else:
        index = pd.Index(scores.index.astype(str))
        upper = pd.Index(index.str.upper())
        pos = upper.get_indexer([str(g).upper() for g in genes])
        missing = [g for g, p in zip(genes, pos, strict=True) if p < 0]
        if missing:
            raise KeyError(f"Genes {missing[:5]} have no scores under adata.varm[{key!r}].")
        rows = index[pos].tolist()
    if not rows:
        raise ValueError("No gene to show: the sets have no scored non-member.")
    shown = values.loc[rows, names]
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.0 + 0.35 * len(names), 1.2 + 0.22 * len(rows)))
    else:
        fig = ax.figure
    finite = shown.to_numpy()[np.isfinite(shown.to_numpy())]
    limit = float(np.abs(finite).max()) if finite.size else 1.0
    sns.heatmap(
        shown,
        ax=ax,
        cmap=cmap,
        center=0.0 if standard_scale == "set" else None,
        vmin=-limit if standard_scale == "set" else None,
        vmax=limit if standard_scale == "set" else None,
        cbar_kws={"label": "score (z over genes)" if standard_scale == "set" else "score"},
        xticklabels=[str(n).removeprefix("HALLMARK_") for n in names],
        yticklabels=rows,
    )
    if mark_members:
        flags = members.loc[rows, names].to_numpy(dtype=bool)
        yy, xx = np.nonzero(flags)
        ax.scatter(xx + 0.5, yy + 0.5, s=8, c="black", marker="o", label="known member")
    ax.set_xlabel("gene set")
    ax.set_ylabel("gene")
    ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(False)
    return finish(fig, ax, writekey="function_heatmap", show=show, save=save, return_fig=return_fig)
