"""Where the expression comes from: AnnData/MuData, layer or raw, and gene names."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from anndata import AnnData

from ._tables import as_strings


def _is_mudata(data) -> bool:
    return type(data).__name__ == "MuData"


def check_unique(names: pd.Index, what: str = "var_names") -> None:
    """Refuse duplicated names: a pair must name exactly one column."""
    if not names.is_unique:
        dup = names[names.duplicated()].unique()[:5].tolist()
        raise ValueError(
            f"{what} are not unique (e.g. {dup}); a gene name must identify one column. "
            "Run `adata.var_names_make_unique()` first."
        )


@dataclass
class ExpressionView:
    """The matrix a computation reads: cells × genes values and their names.

    ``obs_index`` maps the view's cells to rows of the object the results are written to
    (``None``: the same rows in the same order).
    """

    matrix: object
    var_names: pd.Index
    label: str
    obs_index: np.ndarray | None = None


def expression_view(adata: AnnData, *, layer: str | None = None, use_raw: bool | None = None) -> ExpressionView:
    """Pick ``.X``, a layer or ``.raw.X`` with scanpy's semantics (``use_raw=None``: raw when present).

    ``layer="X"`` and ``layer="raw"`` name ``.X`` and ``.raw.X`` (unless the AnnData has a layer of that name).
    """
    if not isinstance(adata, AnnData):
        raise TypeError(f"Expected an AnnData, got {type(adata).__name__}.")
    if layer in ("X", "raw") and layer not in adata.layers and use_raw is None:
        layer, use_raw = None, layer == "raw"
    if layer is not None and use_raw:
        raise ValueError("Cannot use `layer` and `use_raw=True` at the same time: choose one.")
    if use_raw is None:
        use_raw = layer is None and adata.raw is not None
    if use_raw:
        if adata.raw is None:
            raise ValueError("use_raw=True but adata.raw is None: pass use_raw=False or a `layer`.")
        names = pd.Index(adata.raw.var_names)
        check_unique(names, "raw.var_names")
        return ExpressionView(adata.raw.X, names, "raw")
    names = pd.Index(adata.var_names)
    check_unique(names)
    if layer is not None:
        if layer not in adata.layers:
            available = list(adata.layers.keys())
            raise KeyError(
                f"Layer {layer!r} not found; available layers: {available or 'none'}. Pass one of them as layer=, "
                "or layer=None to read X."
            )
        return ExpressionView(adata.layers[layer], names, f"layer {layer!r}")
    if adata.X is None:
        raise ValueError("adata.X is None: pass a `layer` that holds log-expression.")
    return ExpressionView(adata.X, names, "X")


def unknown_modality(mdata, mod) -> str:
    """The message for a modality that is not in the MuData."""
    return f"Modality {mod!r} not in the MuData; available: {list(mdata.mod.keys())}: pass one of them as mod=."


def modality_view(mdata, mod: str, *, layer: str | None = None, use_raw: bool | None = None) -> ExpressionView:
    """A modality of a MuData, with rows mapped to the MuData's cells."""
    if mod not in mdata.mod:
        raise KeyError(unknown_modality(mdata, mod))
    view = expression_view(mdata.mod[mod], layer=layer, use_raw=use_raw)
    view.label = f"modality {mod!r} {view.label}"
    pos = mdata.obs_names.get_indexer(mdata.mod[mod].obs_names)
    view.obs_index = pos
    return view


def modality_anndata(data, mod: str | None, function: str) -> AnnData:
    """The AnnData of modality ``mod`` of a MuData (for functions that work on one modality's genes)."""
    if not _is_mudata(data):
        raise ValueError(f"`mod` is only for MuData input; this is a {type(data).__name__}: drop `mod=`.")
    if mod is None:
        raise ValueError(
            f"A MuData needs `mod=` naming the modality to use, one of {list(data.mod.keys())}: "
            f"e.g. {function}(mdata, mod={next(iter(data.mod), 'rna')!r}, ...)."
        )
    if not isinstance(mod, str) or mod not in data.mod:
        raise KeyError(unknown_modality(data, mod))
    return data.mod[mod]


def resolve_gene(names: pd.Index, gene: str, *, where: str = "var_names") -> int:
    """Position of ``gene`` in ``names``: exact match, else a unique case-insensitive match, else an error."""
    gene = str(gene)
    pos = names.get_indexer([gene])[0]
    if pos >= 0:
        return int(pos)
    lower = names.str.lower()
    hits = np.flatnonzero(lower == gene.lower())
    if len(hits) == 1:
        return int(hits[0])
    # Suggest names that start with what was typed (CD3 -> CD3D, CD3E, CD3G), then similar spellings.
    as_str = names.astype(str)
    prefixed = as_str[as_str.str.lower().str.startswith(gene.lower())].tolist()[:3] if gene else []
    close = prefixed + [
        c for c in difflib.get_close_matches(gene, as_str.tolist(), n=3, cutoff=0.6) if c not in prefixed
    ]
    close = close[:3]
    hint = (
        f" Did you mean {close}?"
        if close
        else " Check the spelling, and that the names are of the kind the data uses (symbols or IDs, species)."
    )
    raise KeyError(f"Gene {gene!r} is not in {where}.{hint}")


def resolve_genes(names: pd.Index, genes, *, where: str = "var_names") -> np.ndarray:
    """Positions of many ``genes`` in ``names`` (unique): one vectorised lookup, :func:`resolve_gene` for misses."""
    values = as_strings(np.asarray(genes, dtype=object))
    pos = names.get_indexer(values).astype(np.int64, copy=False)
    missing = pos < 0
    if missing.any():  # each distinct miss resolved (or refused, naming it) once
        codes, uniques = pd.factorize(values[missing])
        found = np.array([resolve_gene(names, g, where=where) for g in uniques], dtype=np.int64)
        pos[missing] = found[codes]
    return pos
