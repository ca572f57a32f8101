"""``predict_interactions`` on a MuData: pairs within one modality or across two (e.g. protein × RNA)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scanpy import logging as logg
from scipy import sparse

from .._checks import check_cells, dedupe_pairs, refuse_raw_counts
from .._data import modality_view, refuse_foreign_result, resolve_genes
from .._evidence import keep_min_cells, pair_evidence
from .._pair_data import combined_matrix, used_columns
from .._scoring import edge_probabilities, make_imager, prediction_params, score_pairs
from .._tables import read_pairs
from .._utils import cross_pairs
from .._validate import as_integer


def _candidates(view_a, view_b, *, tfs, targets, pairs, same: bool):
    """Positions (a in modality a, b in modality b) of every candidate pair, self pairs excluded."""
    if pairs is not None:
        frame = read_pairs(pairs)
        a = resolve_genes(view_a.var_names, frame["gene_a"], where=f"{view_a.label} var_names")
        b = resolve_genes(view_b.var_names, frame["gene_b"], where=f"{view_b.label} var_names")
        if same and (a == b).any():
            g = view_a.var_names[a[a == b][0]]
            raise ValueError(f"Pair ({g!r}, {g!r}) pairs a variable with itself; drop it.")
        if same:
            return dedupe_pairs(a, b, view_a.var_names.astype(str))
        # across modalities the two sides index different name lists: the same numbers are the same pair
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
    a, b = cross_pairs(reg, tgt, drop_self=same)
    if len(a) == 0:
        raise ValueError("No candidate pair is left once self pairs are removed.")
    return a, b


def predict_mudata(
    mdata,
    mdl,
    *,
    mod,
    tfs,
    targets,
    pairs,
    layer,
    use_raw,
    batch_size: int,
    symmetric: bool,
    chunk_cells,
    device,
    precision: str,
    key_added: str,
    copy: bool,
    min_cells: int = 0,
):
    """Score pairs of a MuData's variables (see :func:`cnnc.tl.predict_interactions`, ``mod=``)."""
    if type(mdata).__name__ != "MuData":
        raise ValueError("`mod` is only for MuData input; this is an AnnData: drop `mod`.")
    if mod is None:
        raise ValueError(
            f"A MuData needs `mod=` naming a modality, or a pair of them (regulators from the first, targets from "
            f"the second): {list(mdata.mod.keys())}."
        )
    mods = (mod, mod) if isinstance(mod, str) else tuple(mod)
    if len(mods) != 2 or not all(isinstance(m, str) for m in mods):
        raise ValueError(f"`mod` must be a modality name or a pair of them, got {mod!r}.")
    if mdl.spec.features:
        raise ValueError(
            f"Model {mdl.name!r} uses context features ({', '.join(mdl.spec.features)}) computed over one expression "
            "matrix; pairs of a MuData need a model that reads the pair images only (e.g. model='cnnc-causal')."
        )
    refuse_foreign_result(
        mdata,
        key_added,
        marker="histograms",
        owner="pair images (cnnc.tl.pair_histograms)",
        writing="predictions",
        suffix="_network",
    )
    views = [modality_view(mdata, m, layer=layer, use_raw=use_raw) for m in mods]
    same = mods[0] == mods[1]
    ia, ib = _candidates(views[0], views[1], tfs=tfs, targets=targets, pairs=pairs, same=same)
    batch_size = as_integer(batch_size, "batch_size", low=1, example=1024)
    if same:
        cols, (a, b) = used_columns(len(views[0].var_names), ia, ib)
        matrix = views[0].matrix
        names = views[0].var_names[cols].astype(str).tolist()
        checks = [(views[0], cols)]
    else:
        cols_a, (a,) = used_columns(len(views[0].var_names), ia)
        cols_b, (b,) = used_columns(len(views[1].var_names), ib)
        b = b + len(cols_a)
        matrix, _ = combined_matrix(views[0], views[1], cols_a, cols_b)
        names = [f"{mods[0]}:{g}" for g in views[0].var_names[cols_a]] + [
            f"{mods[1]}:{g}" for g in views[1].var_names[cols_b]
        ]
        cols = np.arange(len(names))
        checks = [(views[0], cols_a), (views[1], cols_b)]
    check_cells(matrix.shape[0], what=f"The cells shared by modalities {mods[0]!r} and {mods[1]!r}")
    if mdl.spec.image_params.scaling == "log":  # an expression model; rank / standard recipes read any values
        for view, columns in checks:
            refuse_raw_counts(view.matrix, columns, what=f"Values in {view.label}")
    keep_min_cells(np.zeros(0, dtype=np.int64), min_cells)  # validate before any work
    _, coexpressed = pair_evidence(matrix, cols[a], cols[b], chunk_cells=chunk_cells)
    keep = keep_min_cells(coexpressed, min_cells)
    if not keep.any():
        raise ValueError(
            f"No pair is detected (> 0) together in min_cells={min_cells} cells or more (at most "
            f"{int(coexpressed.max(initial=0))}): lower min_cells, or pass other pairs."
        )
    a, b, ia, ib = a[keep], b[keep], ia[keep], ib[keep]

    start = logg.info(f"scoring {len(a):,} pairs of modalities {mods[0]!r} × {mods[1]!r} with model {mdl.name!r}")
    imager = make_imager(matrix, cols, mdl.spec.image_params, gene_names=names, chunk_cells=chunk_cells)
    proba = score_pairs(
        imager, a, b, mdl, batch_size=int(batch_size), device=device, symmetric=symmetric, precision=precision
    )
    probabilities = edge_probabilities(proba, mdl)
    reg = views[0].var_names[ia].astype(str)
    tgt = views[1].var_names[ib].astype(str)
    edges = pd.DataFrame(
        {
            "regulator": reg,
            "target": tgt,
            "regulator_mod": mods[0],
            "target_mod": mods[1],
            **probabilities,  # ranked by the model's edge score, as predict_interactions ranks an AnnData
        }
    )
    edges = edges.sort_values("score", ascending=False, kind="stable", ignore_index=True)
    edges.index = edges.index.astype(str)

    # The MuData's var_names hold every modality's variables (prefixed "mod:" when names clash).
    var_names = pd.Index(mdata.var_names)

    def position(m, names_):
        pos = var_names.get_indexer(names_)
        prefixed = var_names.get_indexer([f"{m}:{g}" for g in names_])
        return np.where(pos >= 0, pos, prefixed)

    ra, rb = position(mods[0], edges["regulator"]), position(mods[1], edges["target"])
    placed = (ra >= 0) & (rb >= 0)
    mdata = mdata.copy() if copy else mdata
    if placed.all():
        mdata.varp[key_added] = sparse.csr_matrix(
            (edges["score"].to_numpy(np.float32), (ra, rb)), shape=(mdata.n_vars, mdata.n_vars)
        )
    else:
        logg.warning(f"some scored variables are not in mdata.var_names: no mdata.varp[{key_added!r}] is written.")
    mdata.uns[key_added] = {
        "edges": edges,
        "varp_key": key_added if placed.all() else "",
        "params": prediction_params(
            mdl,
            symmetric=symmetric,
            precision=precision,
            layer=layer,
            mod=list(mods),
            min_cells=int(min_cells),
            n_pairs=int(len(a)),
            n_cells=int(imager.n_cells),
            distributed=False,
        ),
    }
    logg.info("    finished", time=start, deep=f"added mdata.uns[{key_added!r}]['edges']")
    return mdata if copy else None
