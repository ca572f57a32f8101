"""What ``predict_interactions`` scores, whatever the input: one view of the values, candidate pairs, a host.

An AnnData, one modality of a MuData (``mod="rna"``: results go into that modality's AnnData) and two modalities of
a MuData (``mod=("prot", "rna")``: regulators from the first, targets from the second, over the cells in both;
results go into the MuData) all become a :class:`Task`: the object results are written to, an
:class:`~cnnc._data.ExpressionView` holding every variable of the candidate pairs, and the pairs' positions in it.
From there one pipeline scores them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from .._checks import check_cells, check_result_key, dedupe_pairs, refuse_raw_counts
from .._data import (
    ExpressionView,
    _is_mudata,
    expression_view,
    modality_anndata,
    modality_view,
    refuse_foreign_result,
    resolve_gene,
    resolve_genes,
)
from .._pair_data import combined_matrix, used_columns
from .._tables import read_pairs
from .._utils import cross_pairs
from .._validate import regulator_flags
from ._regulators import is_species, species_tfs


@dataclass
class Task:
    """Candidate pairs (positions ``a``, ``b`` of ``view``) and the object (``host``) results are written to.

    ``mods``: for pairs across modalities, the modality of the regulators and of the targets.
    """

    host: object
    view: ExpressionView
    a: np.ndarray
    b: np.ndarray
    replaced: str | None = None
    mods: tuple[str, str] | None = None


def prepare(data, mdl, *, mod, tfs, targets, pairs, layer, use_raw, key_added: str) -> Task:
    """The :class:`Task` of ``data`` (AnnData or MuData), checked; nothing is computed from the values yet."""
    if _is_mudata(data) and not (isinstance(mod, tuple | list) and len(mod) == 2 and mod[0] != mod[1]):
        if isinstance(mod, tuple | list) and len(mod) == 2:
            mod = mod[0]  # a pair of one modality: pairs within it
        data = modality_anndata(data, mod, "cnnc.tl.predict_interactions")
    elif not _is_mudata(data) and mod is not None:
        raise ValueError("`mod` is only for MuData input; this is an AnnData: drop `mod`.")
    refuse_foreign_result(
        data, key_added, marker="histograms", owner="pair images (cnnc.tl.pair_histograms)", writing="predictions",
        suffix="_network",
    )  # fmt: skip
    replaced = check_result_key(
        data, key_added, marker="edges", function="cnnc.tl.predict_interactions", also=[("varp", key_added)]
    )
    if isinstance(data, AnnData):
        view = expression_view(data, layer=layer, use_raw=use_raw)
        regulators = None if pairs is not None else _regulators(data, tfs, view.var_names)
        a, b = candidate_positions(view.var_names, regulators, targets, pairs)
        task = Task(data, view, a, b, replaced)
    else:
        task = _across_modalities(data, mdl, tuple(mod), tfs=tfs, targets=targets, pairs=pairs, layer=layer)
        task.replaced = replaced
    check_cells(task.view.matrix.shape[0], what=f"{task.view.label} of the data")
    if mdl.spec.image_params.scaling == "log":  # an expression model; rank / standard recipes read any values
        # context features read every variable: then so does the check
        read = np.arange(len(task.view.var_names)) if mdl.spec.features else np.unique(np.r_[task.a, task.b])
        names = task.view.var_names[read]
        refuse_raw_counts(
            task.view.matrix, read, what=f"Values in {task.view.label}", label=task.view.label, gene_names=names
        )
    return task


def _across_modalities(mdata, mdl, mods, *, tfs, targets, pairs, layer) -> Task:
    """Pairs from modality ``mods[0]`` to ``mods[1]``: one matrix of the variables involved, over shared cells."""
    if not all(isinstance(m, str) for m in mods):
        raise ValueError(f"`mod` must be a modality name or a pair of them, got {mods!r}.")
    if mdl.spec.features:
        raise ValueError(
            f"Model {mdl.name!r} uses context features ({', '.join(mdl.spec.features)}) computed over one expression "
            "matrix; pairs across modalities need a model that reads the pair images only (e.g. model='cnnc-causal')."
        )
    views = [modality_view(mdata, m, layer=layer) for m in mods]
    ia, ib = _modality_candidates(views[0], views[1], tfs=tfs, targets=targets, pairs=pairs)
    cols_a, (a,) = used_columns(len(views[0].var_names), ia)
    cols_b, (b,) = used_columns(len(views[1].var_names), ib)
    matrix, _ = combined_matrix(views[0], views[1], cols_a, cols_b)
    names = [f"{mods[0]}:{g}" for g in views[0].var_names[cols_a]] + [
        f"{mods[1]}:{g}" for g in views[1].var_names[cols_b]
    ]
    label = f"modalities {mods[0]!r} × {mods[1]!r}"
    return Task(mdata, ExpressionView(matrix, pd.Index(names), label), a, b + len(cols_a), mods=mods)


def _modality_candidates(view_a, view_b, *, tfs, targets, pairs):
    """Positions (a in modality a, b in modality b) of every candidate pair."""
    if pairs is not None:
        frame = read_pairs(pairs)
        a = resolve_genes(view_a.var_names, frame["gene_a"], where=f"{view_a.label} var_names")
        b = resolve_genes(view_b.var_names, frame["gene_b"], where=f"{view_b.label} var_names")
        # the two sides index different name lists: the same two numbers are the same pair
        keep = ~pd.DataFrame({"a": a, "b": b}).duplicated().to_numpy()
        if not keep.all():
            logg.warning(f"{int((~keep).sum()):,} pairs are given more than once; each pair is scored once.")
        return a[keep], b[keep]
    if tfs is None:
        raise ValueError(
            "A MuData needs the candidate pairs: pass `pairs=[(a, b), ...]`, or `tfs=[...]` (variables of the first "
            "modality, scored against `targets`, by default every variable of the second)."
        )
    tfs = [tfs] if isinstance(tfs, str) else list(dict.fromkeys(map(str, tfs)))
    reg = resolve_genes(view_a.var_names, tfs, where=f"{view_a.label} var_names")
    if targets is None:
        tgt = np.arange(len(view_b.var_names), dtype=np.int64)
    else:
        targets = [targets] if isinstance(targets, str) else list(targets)
        tgt = np.unique(resolve_genes(view_b.var_names, targets, where=f"{view_b.label} var_names"))
    return cross_pairs(reg, tgt, drop_self=False)


def _regulators(adata: AnnData, tfs, var_names: pd.Index) -> list[str]:
    if tfs is None:
        if "is_tf" in adata.var.columns:
            tfs = adata.var_names[regulator_flags(adata.var["is_tf"])].tolist()
        elif "tfs" in adata.uns:
            tfs = list(adata.uns["tfs"])
        else:
            raise ValueError(
                "No regulators given: pass `tfs=[...]` (transcription factors to score against `targets`), "
                "`pairs=[...]`, or mark them in a boolean `adata.var['is_tf']` column."
            )
    if isinstance(tfs, str):
        tfs = species_tfs(tfs, var_names) if is_species(tfs, var_names) else [tfs]
    tfs = list(dict.fromkeys(str(t) for t in tfs))
    if not tfs:
        raise ValueError("The list of regulators (tfs) is empty.")
    return tfs


def candidate_positions(var_names: pd.Index, regulators, targets, pairs):
    """Positions (a, b) of every candidate pair in ``var_names``, self pairs excluded."""
    if pairs is not None:
        frame = read_pairs(pairs)
        a = np.array([resolve_gene(var_names, g) for g in frame["gene_a"]], dtype=np.int64)
        b = np.array([resolve_gene(var_names, g) for g in frame["gene_b"]], dtype=np.int64)
        if (a == b).any():
            g = var_names[a[a == b][0]]
            raise ValueError(f"Pair ({g!r}, {g!r}) pairs a gene with itself; drop it.")
        return dedupe_pairs(a, b, var_names.astype(str))
    reg = np.array([resolve_gene(var_names, g) for g in regulators], dtype=np.int64)
    if len(np.unique(reg)) < len(reg):  # e.g. "SOX9" and "sox9": one gene, scored once
        logg.warning("some regulators name the same gene (names match case-insensitively); each is scored once.")
        reg = pd.unique(reg)
    if targets is None:
        tgt = np.arange(len(var_names), dtype=np.int64)
    else:
        if isinstance(targets, str):
            targets = [targets]
        tgt = np.unique(np.array([resolve_gene(var_names, g) for g in targets], dtype=np.int64))
        if len(tgt) == 0:
            raise ValueError("The list of targets is empty.")
    a, b = cross_pairs(reg, tgt)
    if len(a) == 0:
        raise ValueError("No candidate pair is left once self pairs are removed.")
    return a, b
