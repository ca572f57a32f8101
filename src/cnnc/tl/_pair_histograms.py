"""``cnnc.tl.pair_histograms``: CNNC pair images of chosen gene pairs, stored in the AnnData."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from .._checks import check_result_key
from .._data import (
    ExpressionView,
    _is_mudata,
    expression_view,
    modality_view,
    pairs_frame,
    refuse_foreign_result,
    resolve_genes,
)
from .._engine._params import PairImageParams
from .._scoring import ClusterImager, Imager, cluster_client, make_imager
from .._utils import package_version


@dataclass
class ResolvedPairs:
    """Pairs mapped to columns of one matrix holding every gene involved."""

    pairs: pd.DataFrame
    imager: Imager
    a: np.ndarray
    b: np.ndarray
    genes: list[str]
    obs_index: np.ndarray | None
    expression: str = "X"


def _used_columns(n_vars: int, *positions: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted columns used by any of ``positions`` and each position's index among them (O(n), unlike np.unique)."""
    used = np.zeros(n_vars, dtype=bool)
    for p in positions:
        used[p] = True
    cols = np.flatnonzero(used)
    index = np.full(n_vars, -1, dtype=np.int64)
    index[cols] = np.arange(len(cols))
    return cols, [index[p] for p in positions]


def _combined_matrix(view_a: ExpressionView, view_b: ExpressionView, cols_a, cols_b):
    """Cells present in both modalities, with the columns of both: only the genes involved are read."""
    from scipy import sparse

    common = np.intersect1d(view_a.obs_index[view_a.obs_index >= 0], view_b.obs_index[view_b.obs_index >= 0])
    if len(common) == 0:
        raise ValueError("The two modalities share no cells: a pair image needs the same cells in both.")
    pos_a = pd.Series(np.arange(len(view_a.obs_index)), index=view_a.obs_index).loc[common].to_numpy()
    pos_b = pd.Series(np.arange(len(view_b.obs_index)), index=view_b.obs_index).loc[common].to_numpy()

    def take(matrix, rows, cols):
        x = matrix[:, cols] if not hasattr(matrix, "compute") else matrix[:, cols].compute()
        x = x[rows]
        return sparse.csr_matrix(x) if sparse.issparse(x) else np.asarray(x)

    parts = [take(view_a.matrix, pos_a, cols_a), take(view_b.matrix, pos_b, cols_b)]
    if any(sparse.issparse(p) for p in parts):
        return sparse.hstack([sparse.csr_matrix(p) for p in parts], format="csr"), common
    return np.hstack(parts), common


def resolve_pairs(
    data,
    pairs,
    *,
    layer: str | None = None,
    use_raw: bool | None = None,
    mod: str | tuple[str, str] | None = None,
    params: PairImageParams | None = None,
    chunk_cells: int | None = None,
    distributed: bool | None = False,
) -> ResolvedPairs:
    """Check the input, find each pair's genes and bin them; raises before anything is written."""
    frame = pairs_frame(pairs)
    if _is_mudata(data):
        if mod is None:
            raise ValueError(f"A MuData needs `mod=` naming a modality (or a pair of them): {list(data.mod.keys())}.")
        mods = (mod, mod) if isinstance(mod, str) else tuple(mod)
        views = [modality_view(data, m, layer=layer, use_raw=use_raw) for m in mods]
    else:
        if mod is not None:
            raise ValueError("`mod` is only for MuData input; this is an AnnData.")
        views = [expression_view(data, layer=layer, use_raw=use_raw)] * 2
    same_matrix = views[0] is views[1] or (isinstance(mod, tuple) and mod[0] == mod[1]) or isinstance(mod, str)
    ia = resolve_genes(views[0].var_names, frame["gene_a"], where=f"{views[0].label} var_names")
    ib = resolve_genes(views[1].var_names, frame["gene_b"], where=f"{views[1].label} var_names")
    # Report genes by their names in the data (case-insensitive matches are written as the data spells them).
    frame["gene_a"] = views[0].var_names[ia].astype(str)
    frame["gene_b"] = views[1].var_names[ib].astype(str)
    if same_matrix:
        self_pairs = ia == ib
        if self_pairs.any():
            g = frame["gene_a"][self_pairs].iloc[0]
            raise ValueError(
                f"Pair ({g!r}, {g!r}) pairs a gene with itself; its image is a diagonal, not an interaction."
            )
        cols, (a, b) = _used_columns(len(views[0].var_names), ia, ib)
        genes = views[0].var_names[cols].astype(str).tolist()
        matrix = views[0].matrix
        obs_index = views[0].obs_index
    else:
        cols_a, (a,) = _used_columns(len(views[0].var_names), ia)
        cols_b, (b,) = _used_columns(len(views[1].var_names), ib)
        b = b + len(cols_a)
        genes = [f"{mods[0]}:{g}" for g in views[0].var_names[cols_a]] + [
            f"{mods[1]}:{g}" for g in views[1].var_names[cols_b]
        ]
        matrix, obs_index = _combined_matrix(views[0], views[1], cols_a, cols_b)
        cols = np.arange(len(genes))
    client = cluster_client(matrix, distributed)
    imager = make_imager(matrix, cols, params, client=client, gene_names=genes, chunk_cells=chunk_cells)
    labels = dict.fromkeys(v.label for v in views)
    return ResolvedPairs(frame, imager, a, b, genes, obs_index, expression=" and ".join(labels))


def pair_histograms(
    adata,
    pairs,
    *,
    layer: str | None = None,
    use_raw: bool | None = None,
    mod: str | tuple[str, str] | None = None,
    bins: int = 32,
    pseudocount: float = 0.01,
    density_pseudocount: float = 1e-4,
    transform: str = "cnnc",
    scaling: str = "log",
    store_bins: bool = True,
    chunk_cells: int | None = None,
    distributed: bool | None = None,
    key_added: str = "cnnc",
    copy: bool = False,
) -> AnnData | None:
    """Compute CNNC pair images (normalized empirical joint densities) of gene pairs.

    For a pair (a, b), each gene's values become ``log10(x + pseudocount)`` and are cut into ``bins``
    equal bins over that gene's own range (as :func:`numpy.histogram2d` does; a gene that never varies has all its
    cells in bin ``bins // 2``, whatever the numpy version); the joint counts ``H`` over
    all cells are transposed so that rows follow gene b, and mapped to pixels by ``transform``
    (CNNC: ``(log10(H / n_cells + 1e-4) + 4) / 4``). Counts are exactly those of :func:`numpy.histogram2d`.

    Parameters
    ----------
    adata
        Cells × genes :class:`~anndata.AnnData` (dense, sparse or backed) with log-normalized expression,
        or a :class:`~mudata.MuData` with ``mod``.
    pairs
        ``(gene_a, gene_b)`` tuples, or a DataFrame with gene columns (``regulator``/``target``,
        ``gene_a``/``gene_b``, ``source``/``target`` or the first two columns).
    layer
        Layer holding log-expression instead of ``.X``.
    use_raw
        Use ``.raw`` (default: when ``.raw`` is present and no ``layer`` is given, as scanpy does).
    mod
        For a MuData: the modality to take genes from, or ``(mod_a, mod_b)`` to pair a feature of one
        modality (e.g. a CITE-seq protein) with a feature of another; the cells of both are used.
    bins
        Bins per gene.
    pseudocount
        Added before ``log10``.
    density_pseudocount
        Added to the cell fraction before ``log10`` (``transform="cnnc"``).
    transform
        ``"cnnc"`` (log density scaled to [0, 1]), ``"density"`` (``H / n_cells``) or ``"counts"``.
    scaling
        How each variable is placed on its axis before binning. ``"log"`` (CNNC, for log-normalized expression:
        ``log10(x + pseudocount)``, non-negative values only); ``"rank"`` (any variable, e.g. protein
        intensities, z-scores, discrete values: the mid-rank over the cells divided by ``n_cells``, so the bins
        are quantiles); ``"standard"`` (any non-constant variable: ``(x - mean) / sd``). ``"rank"`` and
        ``"standard"`` read the values of the variables involved into memory and do not run on a cluster.
    store_bins
        Also store each cell's bin code of every gene involved in ``adata.obsm[f"{key_added}_bins"]``.
    chunk_cells
        Cells read at a time; memory is bounded by one chunk (default 20,000).
    distributed
        Count on the workers of the active dask.distributed ``Client`` (each bins its own chunks of cells; only
        counts travel). ``None``: when a client is active and the expression is a dask array; ``False``: never.
    key_added
        Where results go. Previous pair images under that key are replaced (logged); other content of
        ``adata.uns[key_added]`` is refused.
    copy
        Return a modified copy instead of writing in place.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes

    ``adata.uns[key_added]["pairs"]``
        DataFrame with ``gene_a``, ``gene_b``.
    ``adata.uns[key_added]["histograms"]``
        ``n_pairs × bins × bins`` float32 images; image ``[i, j]`` is bin i of gene b and bin j of gene a.
    ``adata.uns[key_added]["genes"]``, ``["bin_edges"]``
        The genes involved and their ``bins + 1`` bin edges in ``log10(x + pseudocount)`` units (``"log"``),
        in rank fractions (``"rank"``) or in z-scores (``"standard"``).
    ``adata.uns[key_added]["params"]``
        The recipe (``bins``, ``pseudocount``, ...), the arguments ``layer``/``use_raw``/``mod``, the matrix
        actually read (``expression``, e.g. ``"raw"``, ``"X"``, ``"layer 'log1p'"``) and ``n_cells``.
    ``adata.obsm[f"{key_added}_bins"]``
        DataFrame (cells × genes involved) of uint8 bin codes (255 for cells missing from a modality).

    Examples
    --------
    >>> import scanpy as sc, cnnc
    >>> adata = sc.datasets.pbmc68k_reduced()
    >>> cnnc.tl.pair_histograms(adata, [("SPI1", "FCGR3A"), ("GATA3", "CD3E")])
    >>> adata.uns["cnnc"]["histograms"].shape
    (2, 32, 32)
    """
    params = PairImageParams(
        bins=bins,
        pseudocount=pseudocount,
        density_pseudocount=density_pseudocount,
        transform=transform,
        scaling=scaling,
    )
    start = logg.info("computing pair images")
    refuse_foreign_result(
        adata,
        key_added,
        marker="edges",
        owner="predicted edges (cnnc.tl.predict_interactions)",
        writing="pair images",
        suffix="_images",
    )
    replaced = check_result_key(
        adata,
        key_added,
        marker="histograms",
        function="cnnc.tl.pair_histograms",
        also=[("obsm", f"{key_added}_bins")] if store_bins else [],
    )
    resolved = resolve_pairs(
        adata,
        pairs,
        layer=layer,
        use_raw=use_raw,
        mod=mod,
        params=params,
        chunk_cells=chunk_cells,
        distributed=distributed,
    )
    images = resolved.imager.images(resolved.a, resolved.b)
    codes = resolved.imager.codes() if store_bins else None

    # Everything is computed: only now touch the object, so an error above leaves it unchanged.
    adata = adata.copy() if copy else adata
    if replaced:
        logg.warning(f"replacing the previous pair images in {replaced}")
    stored_pairs = resolved.pairs.copy()
    stored_pairs.index = stored_pairs.index.astype(str)
    adata.uns[key_added] = {
        "pairs": stored_pairs,
        "histograms": images,
        "genes": np.asarray(resolved.genes, dtype=object),
        "bin_edges": resolved.imager.binner.edges,
        "params": {
            **params.to_dict(),
            "layer": layer,
            "use_raw": bool(use_raw) if use_raw is not None else None,
            "mod": list(mod) if isinstance(mod, tuple) else mod,
            "expression": resolved.expression,
            "n_cells": int(resolved.imager.n_cells),
            "distributed": isinstance(resolved.imager, ClusterImager),
            "cnnc_version": package_version(),
        },
    }
    added = f"adata.uns[{key_added!r}]"
    if codes is not None:
        if resolved.obs_index is not None:
            full = np.full((adata.n_obs, codes.shape[1]), 255, dtype=np.uint8)
            full[resolved.obs_index] = codes
            codes = full
        adata.obsm[f"{key_added}_bins"] = pd.DataFrame(codes, index=adata.obs_names, columns=resolved.genes)
        added += f", adata.obsm[{key_added + '_bins'!r}]"
    logg.info("    finished", time=start, deep=f"added {added}")
    return adata if copy else None
