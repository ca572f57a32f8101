"""What ``predict_interactions`` scores, whatever the input: one view of the values, candidate pairs, a host.

An AnnData, one modality of a MuData (``mod="rna"``: results go into that modality's AnnData) and two modalities of
a MuData (``mod=("prot", "rna")``: regulators from the first, targets from the second, over the cells in both;
results go into the MuData) all become a :class:`Task`: the object results are written to, an
:class:`~cnnc._data.ExpressionView` holding every variable of the candidate pairs, and the pairs' positions in it.
From there one pipeline scores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    resolve_gene,
    resolve_genes,
)
from .._interventions import Interventions, parse_interventions
from .._pair_data import combined_matrix, used_columns
from .._tables import read_pairs
from .._time import check_time_key
from .._utils import cross_pairs
from .._validate import group_varp_keys, previous_matrices, refuse_ignored, regulator_flags
from ._groups import group_rows
from ._regulators import is_species, species_tfs


@dataclass
class Task:
    """Everything a prediction reads from the data, resolved and checked; nothing computed from the values yet.

    Candidate pairs are positions ``a``, ``b`` of ``view``; ``host`` is the object results are written to, under
    ``key_added``. ``replaced``: the previous result that is replaced (a phrase for the log), ``stale``: its other
    ``varp`` matrices. ``mods``: for pairs across modalities, the modality of the regulators and of the targets.
    ``regulators``: the genes scored as regulators (a target outside them is not a cause). ``design``: the
    perturbation design (``interventions``); ``times``: each cell's time (``time_key``); ``groups``: the cells of
    each group scored (``groupby``), with their ``varp`` keys in ``varp_keys``.
    """

    host: object
    view: ExpressionView
    a: np.ndarray
    b: np.ndarray
    key_added: str = "cnnc"
    layer: str | None = None
    replaced: str | None = None
    stale: list[str] = field(default_factory=list)
    mods: tuple[str, str] | None = None
    regulators: set[str] = field(default_factory=set)
    design: Interventions | None = None
    times: np.ndarray | None = None
    time_key: str | None = None
    groupby: str | None = None
    groups: dict[str, np.ndarray] | None = None
    varp_keys: list[str] | None = None


def prepare(data, mdl, *, settings, key_added: str, **request) -> Task:
    """The :class:`Task` of ``data`` (AnnData or MuData) for ``predict_interactions``'s ``request``, checked.

    ``request``: the keywords saying what to score: ``tfs``, ``targets``, ``pairs``, ``layer``, ``mod``,
    ``groupby``, ``interventions``, ``control``, ``intervention_targets``, ``time_key``.
    """
    check_species(data, mdl)
    mod, groupby, time_key = request["mod"], request["groupby"], request["time_key"]
    across = _is_mudata(data) and isinstance(mod, tuple | list) and len(mod) == 2 and mod[0] != mod[1]
    if across:
        _refuse_across(request, settings)
    elif _is_mudata(data):
        data = modality_anndata(data, mod[0] if isinstance(mod, tuple | list) and len(mod) == 2 else mod, FUNCTION)
    elif mod is not None:
        raise ValueError("`mod` is only for MuData input; this is an AnnData: drop `mod`.")
    groupby, groups = (groupby, None) if not isinstance(groupby, tuple | list) else _split_groupby(groupby)
    rows = None if groupby is None else group_rows(data, groupby, groups, settings.min_cells)
    times = None if time_key is None else check_time_key(data, time_key)
    replaced = check_result_key(
        data, key_added, marker="edges", function=FUNCTION, also=[("varp", key_added)], foreign=FOREIGN
    )
    previous = previous_matrices(data, key_added)
    varp_keys = None if rows is None else group_varp_keys(data, key_added, list(rows), previous)
    if across:
        task = _across_modalities(data, mdl, tuple(mod), **_candidates(request), layer=request["layer"])
    else:
        if request["interventions"] is not None and groupby is not None:
            raise ValueError("interventions= and groupby= together are not supported: score each group separately.")
        task = _one_matrix(data, **_candidates(request), layer=request["layer"])
        task.design = parse_interventions(
            data, task.view.var_names, request["interventions"], request["control"], request["intervention_targets"]
        )
    check_cells(task.view.matrix.shape[0], what=f"{task.view.label} of the data")
    if mdl.spec.image_params.scaling == "log":  # an expression model; rank / standard recipes read any values
        # context features read every variable: then so does the check
        read = np.arange(len(task.view.var_names)) if mdl.spec.features else np.unique(np.r_[task.a, task.b])
        names = task.view.var_names[read]
        refuse_raw_counts(
            task.view.matrix, read, what=f"Values in {task.view.label}", label=task.view.label, gene_names=names
        )
    task.key_added, task.replaced, task.stale = key_added, replaced, [k for k in previous if k != key_added]
    task.times, task.time_key, task.groupby, task.groups, task.varp_keys = times, time_key, groupby, rows, varp_keys
    return task


FUNCTION = "cnnc.tl.predict_interactions"
#: Another tool's result that a prediction must not replace: its marker, what it is, and a key to suggest.
FOREIGN = ("histograms", "pair images (cnnc.tl.pair_histograms)", "predictions", "_network")


def _candidates(request: dict) -> dict:
    return {k: request[k] for k in ("tfs", "targets", "pairs")}


def _refuse_across(request: dict, settings) -> None:
    """Refuse what pairs across modalities do not support, naming the fix, before any work."""
    if request["interventions"] is not None:
        raise ValueError("interventions= reads one modality: pass mod='rna' (a single modality), not a pair.")
    if request["time_key"] is not None:
        raise ValueError("time_key is read for one modality at a time: pass mod='rna' (a modality name), not a pair.")
    refuse_ignored(
        {k: v for k, v in (("groupby", request["groupby"]), ("distributed", settings.distributed)) if v},
        "for pairs across modalities (scored in this process, over the cells of both)",
        "score each group's cells separately, e.g. on mdata[mdata.obs[key] == group]",
    )


def _split_groupby(groupby) -> tuple[str, list[str]]:
    """``(column, categories)``: the column and the categories of it to score."""
    if len(groupby) != 2 or not isinstance(groupby[0], str):
        raise ValueError(
            f"groupby must be an adata.obs column, or (column, categories) to score some of its categories, "
            f"got {groupby!r}: e.g. groupby=('leiden', ['0', '3'])."
        )
    return groupby[0], groupby[1]


def _one_matrix(adata: AnnData, *, tfs, targets, pairs, layer) -> Task:
    """Candidate pairs of one AnnData's genes."""
    view = expression_view(adata, layer=layer)
    regulators = None if pairs is not None else regulator_names(adata, tfs, view.var_names)
    a, b = candidate_positions(view.var_names, regulators, targets, pairs)
    scored = set(view.var_names.astype(str)[np.unique(a)])  # the genes scored as regulators
    layer = None if layer in ("X", "raw") and layer not in adata.layers else layer
    return Task(adata, view, a, b, layer=layer, regulators=scored)


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
    return Task(mdata, ExpressionView(matrix, pd.Index(names), label), a, b + len(cols_a), layer=layer, mods=mods)


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


def regulator_names(adata: AnnData, tfs, var_names: pd.Index) -> list[str]:
    """The regulators named by ``tfs`` (names or a species), or marked in the data when ``tfs`` is ``None``."""
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


def _data_species(adata) -> str | None:
    """The species the data declares (``uns["species"]`` or ``uns["dataset"]["species"]``), if any."""
    species = adata.uns.get("species")
    dataset = adata.uns.get("dataset")
    if species is None and isinstance(dataset, dict):
        species = dataset.get("species")
    return str(species) if species is not None else None


def check_species(adata, mdl) -> None:
    """Refuse a model trained for other species than the one the data declares."""
    allowed = [s.lower() for s in mdl.spec.species]
    species = _data_species(adata)
    if species is None or "any" in allowed or species.lower() in allowed:
        return
    raise ValueError(
        f"Model {mdl.name!r} was trained for species {mdl.spec.species}, but the data declares species "
        f"{species!r} (adata.uns). Use a model trained on {species} data (see cnnc.models.available()), or train "
        "one with cnnc.tl.train; if the declared species is wrong, correct adata.uns['species']."
    )
