"""Pairs of genes of an AnnData or MuData → one matrix that holds both genes of every pair, binned for images.

Shared by the tools that compute pair images or scores (:func:`cnnc.tl.pair_histograms`,
:func:`cnnc.tl.predict_interactions` on a MuData) and the plots that draw an image on the fly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scanpy import logging as logg
from scipy import sparse

from ._data import ExpressionView, _is_mudata, expression_view, modality_view, resolve_genes
from ._engine._params import PairImageParams
from ._scoring import Imager, cluster_client, make_imager
from ._tables import read_pairs
from ._utils import cross_pairs


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


def used_columns(n_vars: int, *positions: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted columns used by any of ``positions`` and each position's index among them (O(n), unlike np.unique)."""
    used = np.zeros(n_vars, dtype=bool)
    for p in positions:
        used[p] = True
    cols = np.flatnonzero(used)
    index = np.full(n_vars, -1, dtype=np.int64)
    index[cols] = np.arange(len(cols))
    return cols, [index[p] for p in positions]


def combined_matrix(view_a: ExpressionView, view_b: ExpressionView, cols_a, cols_b):
    """Cells present in both modalities, with the columns of both: only the genes involved are read."""
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
    frame = read_pairs(pairs)
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
    if same_matrix:
        self_pairs = ia == ib
        if self_pairs.any():
            g = str(views[0].var_names[ia[np.flatnonzero(self_pairs)[0]]])
            raise ValueError(
                f"Pair ({g!r}, {g!r}) pairs a gene with itself; its image is a diagonal, not an interaction."
            )
        cols, (a, b) = used_columns(len(views[0].var_names), ia, ib)
        genes = views[0].var_names[cols].astype(str).tolist()
        # Report genes by their names in the data (case-insensitive matches are written as the data spells them);
        # the names of the genes involved are converted once, not once per pair.
        names = np.asarray(genes, dtype=object)
        # A new frame rather than two column assignments, which make pandas copy and merge its blocks.
        frame = pd.DataFrame({"gene_a": names[a], "gene_b": names[b]}, copy=False)
        matrix = views[0].matrix
        obs_index = views[0].obs_index
    else:
        frame["gene_a"] = views[0].var_names[ia].astype(str)
        frame["gene_b"] = views[1].var_names[ib].astype(str)
        cols_a, (a,) = used_columns(len(views[0].var_names), ia)
        cols_b, (b,) = used_columns(len(views[1].var_names), ib)
        b = b + len(cols_a)
        genes = [f"{mods[0]}:{g}" for g in views[0].var_names[cols_a]] + [
            f"{mods[1]}:{g}" for g in views[1].var_names[cols_b]
        ]
        matrix, obs_index = combined_matrix(views[0], views[1], cols_a, cols_b)
        cols = np.arange(len(genes))
    client = cluster_client(matrix, distributed)
    imager = make_imager(matrix, cols, params, client=client, gene_names=genes, chunk_cells=chunk_cells)
    labels = dict.fromkeys(v.label for v in views)
    return ResolvedPairs(frame, imager, a, b, genes, obs_index, expression=" and ".join(labels))


def modality_pairs(
    mdata, mods: tuple[str, str], *, tfs, targets, pairs, layer
) -> tuple[ExpressionView, np.ndarray, np.ndarray]:
    """Pairs from modality ``mods[0]`` to ``mods[1]``: one matrix of their variables, and their positions in it.

    The matrix holds the variables involved, over the cells both modalities share. ``pairs``, or ``tfs`` (variables of the first modality) × ``targets`` (of the second; default: all).
    """
    views = [modality_view(mdata, m, layer=layer) for m in mods]
    names_a, names_b = views[0].var_names, views[1].var_names
    where_a, where_b = f"{views[0].label} var_names", f"{views[1].label} var_names"
    if pairs is not None:
        frame = read_pairs(pairs)
        ia = resolve_genes(names_a, frame["gene_a"], where=where_a)
        ib = resolve_genes(names_b, frame["gene_b"], where=where_b)
        # the two sides index different name lists: the same two numbers are the same pair
        keep = ~pd.DataFrame({"a": ia, "b": ib}).duplicated().to_numpy()
        if not keep.all():
            logg.warning(f"{int((~keep).sum()):,} pairs are given more than once; each pair is scored once.")
        ia, ib = ia[keep], ib[keep]
    elif tfs is None:
        raise ValueError(
            "A MuData needs the candidate pairs: pass `pairs=[(a, b), ...]`, or `tfs=[...]` (variables of the first "
            "modality, scored against `targets`, by default every variable of the second)."
        )
    else:
        reg = resolve_genes(
            names_a, [tfs] if isinstance(tfs, str) else list(dict.fromkeys(map(str, tfs))), where=where_a
        )
        if targets is None:
            tgt = np.arange(len(names_b), dtype=np.int64)
        else:
            targets = [targets] if isinstance(targets, str) else list(targets)
            tgt = np.unique(resolve_genes(names_b, targets, where=where_b))
        ia, ib = cross_pairs(reg, tgt, drop_self=False)
    cols_a, (a,) = used_columns(len(names_a), ia)
    cols_b, (b,) = used_columns(len(names_b), ib)
    matrix, _ = combined_matrix(views[0], views[1], cols_a, cols_b)
    names = pd.Index([f"{mods[0]}:{g}" for g in names_a[cols_a]] + [f"{mods[1]}:{g}" for g in names_b[cols_b]])
    return ExpressionView(matrix, names, f"modalities {mods[0]!r} × {mods[1]!r}"), a, b + len(cols_a)
