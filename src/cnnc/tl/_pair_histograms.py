"""``cnnc.tl.pair_histograms``: CNNC pair images of chosen gene pairs, stored in the AnnData."""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from .._checks import check_result_key
from .._docs import doc_chunk_cells, doc_expression, doc_pair_table, doc_params
from .._engine._params import PairImageParams
from .._pair_data import resolve_pairs
from .._scoring import ClusterImager
from .._utils import package_version


@doc_params(doc_pair_table=doc_pair_table, doc_expression=doc_expression, doc_chunk_cells=doc_chunk_cells)
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
        The pairs to image. {doc_pair_table}
        A DataFrame without such column names gives its first two columns.
    {doc_expression}
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
    {doc_chunk_cells}
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
        DataFrame with ``gene_a``, ``gene_b``; row ``i`` (index ``i``) is the pair of image ``i``.
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
    replaced = check_result_key(
        adata,
        key_added,
        marker="histograms",
        function="cnnc.tl.pair_histograms",
        also=[("obsm", f"{key_added}_bins")] if store_bins else [],
        foreign=("edges", "predicted edges (cnnc.tl.predict_interactions)", "pair images", "_images"),
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
    adata.uns[key_added] = {
        # Row i is the pair of image i: the row labels are the image positions (a RangeIndex).
        "pairs": resolved.pairs.reset_index(drop=True),
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
