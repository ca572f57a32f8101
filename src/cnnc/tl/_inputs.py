"""What ``predict_interactions`` scores, whatever the input: read from the data and checked in one step.

An AnnData, one modality of a MuData (``mod="rna"``: results go into that modality's AnnData) and two modalities of
a MuData (``mod=("prot", "rna")``: regulators from the first, targets from the second, over the cells in both;
results go into the MuData) all become a :class:`Task`: the object results are written to, an
:class:`~cnnc._data.ExpressionView` holding every variable of the candidate pairs, the pairs' positions in it, and
everything else the prediction reads from the data (regulators, groups, times, the perturbation design, the
previous result under the key). :func:`prepare` makes it before any value is computed; from there one pipeline
scores the task, and the results are written back in one step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scanpy import logging as logg

from .._checks import check_cells, check_result_key, group_varp_keys, previous_matrices, refuse_raw_counts
from .._data import ExpressionView, _is_mudata, expression_view, modality_anndata, resolve_genes
from .._groupby import group_rows
from .._interventions import Interventions, parse_interventions
from .._pair_data import modality_pairs
from .._tables import read_pairs
from .._time import check_time_key
from .._utils import cross_pairs, dedupe_pairs
from .._validate import refuse_ignored
from ._regulators import regulator_names


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
    ``groupby``, ``interventions``, ``control``, ``intervention_targets``, ``time_key``. Everything is read and
    checked here, before any value is computed; the rest of the prediction reads the task only.
    """
    check_species(data, mdl)
    mod, groupby, time_key, layer = request["mod"], request["groupby"], request["time_key"], request["layer"]
    candidates = {k: request[k] for k in ("tfs", "targets", "pairs")}
    across = _is_mudata(data) and isinstance(mod, tuple | list) and len(mod) == 2 and mod[0] != mod[1]
    groupby, groups = _split_groupby(groupby)
    if across:
        _refuse_across(request, settings, mdl, tuple(mod))
        view, a, b = modality_pairs(data, tuple(mod), **candidates, layer=layer)
        task = Task(data, view, a, b, layer=layer, mods=tuple(mod))
    else:
        if _is_mudata(data):
            data = modality_anndata(data, mod[0] if isinstance(mod, tuple | list) and len(mod) == 2 else mod, FUNCTION)
        elif mod is not None:
            raise ValueError("`mod` is only for MuData input; this is an AnnData: drop `mod`.")
        if request["interventions"] is not None and groupby is not None:
            raise ValueError("interventions= and groupby= together are not supported: score each group separately.")
        view = expression_view(data, layer=layer)
        a, b = candidate_positions(view.var_names, **candidates, adata=data)
        layer = None if layer in ("X", "raw") and layer not in data.layers else layer
        task = Task(data, view, a, b, layer=layer, regulators=set(view.var_names.astype(str)[np.unique(a)]))
    rows = None if groupby is None else group_rows(data, groupby, groups, settings.min_cells)
    task.times = None if time_key is None else check_time_key(data, time_key)
    task.replaced = check_result_key(
        data, key_added, marker="edges", function=FUNCTION, also=[("varp", key_added)], foreign=FOREIGN
    )
    previous = previous_matrices(data, key_added)
    task.varp_keys = None if rows is None else group_varp_keys(data, key_added, list(rows), previous)
    check_cells(view.matrix.shape[0], what=f"{view.label} of the data")
    if mdl.spec.image_params.scaling == "log":  # an expression model; rank / standard recipes read any values
        # context features read every variable: then so does the check
        read = np.arange(len(view.var_names)) if mdl.spec.features else np.unique(np.r_[a, b])
        refuse_raw_counts(
            view.matrix, read, what=f"Values in {view.label}", label=view.label, gene_names=view.var_names[read]
        )
    if not across:
        design = (request["interventions"], request["control"], request["intervention_targets"])
        task.design = parse_interventions(data, view.var_names, *design)
    task.key_added, task.stale, task.time_key, task.groupby, task.groups = (
        key_added, [f"adata.varp[{k!r}]" for k in previous if k != key_added], time_key, groupby, rows
    )  # fmt: skip
    return task


FUNCTION = "cnnc.tl.predict_interactions"
#: Another tool's result that a prediction must not replace: its marker, what it is, and a key to suggest.
FOREIGN = ("histograms", "pair images (cnnc.tl.pair_histograms)", "predictions", "_network")


def _refuse_across(request: dict, settings, mdl, mods) -> None:
    """Refuse what pairs across modalities do not support, naming the fix, before any work."""
    if not all(isinstance(m, str) for m in mods):
        raise ValueError(f"`mod` must be a modality name or a pair of them, got {mods!r}.")
    if mdl.spec.features:
        raise ValueError(
            f"Model {mdl.name!r} uses context features ({', '.join(mdl.spec.features)}) computed over one expression "
            "matrix; pairs across modalities need a model that reads the pair images only (e.g. model='cnnc-causal')."
        )
    if request["interventions"] is not None:
        raise ValueError("interventions= reads one modality: pass mod='rna' (a single modality), not a pair.")
    if request["time_key"] is not None:
        raise ValueError("time_key is read for one modality at a time: pass mod='rna' (a modality name), not a pair.")
    refuse_ignored(
        {k: v for k, v in (("groupby", request["groupby"]), ("distributed", settings.distributed)) if v},
        "for pairs across modalities (scored in this process, over the cells of both)",
        "score each group's cells separately, e.g. on mdata[mdata.obs[key] == group]",
    )


def _split_groupby(groupby) -> tuple[str | None, list[str] | None]:
    """``groupby`` as (column, the categories of it to score or ``None`` for all)."""
    if not isinstance(groupby, tuple | list):
        return groupby, None
    if len(groupby) != 2 or not isinstance(groupby[0], str):
        raise ValueError(
            f"groupby must be an adata.obs column, or (column, categories) to score some of its categories, "
            f"got {groupby!r}: e.g. groupby=('leiden', ['0', '3'])."
        )
    return groupby[0], groupby[1]


def candidate_positions(var_names: pd.Index, tfs=None, targets=None, pairs=None, *, adata=None):
    """Positions (a, b) of every candidate pair in ``var_names``, self pairs excluded.

    ``pairs``, or regulators (``tfs``: names, a species, or ``None`` for those marked in ``adata``) × ``targets``.
    """
    if pairs is None:
        regulators = regulator_names(adata, tfs, var_names)
        reg = resolve_genes(var_names, regulators)
        tgt = None if targets is None else resolve_genes(var_names, [targets] if isinstance(targets, str) else targets)
    else:
        frame = read_pairs(pairs)
        a, b = resolve_genes(var_names, frame["gene_a"]), resolve_genes(var_names, frame["gene_b"])
    if pairs is not None:
        if (a == b).any():
            g = var_names[a[a == b][0]]
            raise ValueError(f"Pair ({g!r}, {g!r}) pairs a gene with itself; drop it.")
        return dedupe_pairs(a, b, var_names.astype(str))
    if len(np.unique(reg)) < len(reg):  # e.g. "SOX9" and "sox9": one gene, scored once
        logg.warning("some regulators name the same gene (names match case-insensitively); each is scored once.")
        reg = pd.unique(reg)
    tgt = np.arange(len(var_names), dtype=np.int64) if tgt is None else np.unique(tgt)
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
