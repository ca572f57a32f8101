"""``cnnc.tl.predict_interactions``: score gene pairs with a trained model, write a network into the AnnData."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg
from scipy import sparse

from .._checks import (
    check_cells,
    check_result_key,
    constant_genes,
    dedupe_pairs,
    refuse_nonfinite_scores,
    refuse_raw_counts,
    score_no_evidence,
)
from .._context import context_statistics
from .._data import _is_mudata, expression_view, modality_anndata, refuse_foreign_result, resolve_gene
from .._docs import doc_chunk_cells, doc_expression, doc_pair_table, doc_params
from .._evidence import keep_min_cells, pair_evidence, signs
from .._scoring import cluster_client, edge_probabilities, make_imager, prediction_params, score_pairs
from .._tables import read_pairs
from .._utils import cross_pairs
from .._validate import (
    as_integer,
    check_groups_need_groupby,
    drop_previous_matrices,
    previous_matrices,
    refuse_ignored,
    regulator_flags,
)
from ..models import Model
from ..models import load as load_model
from ..models._model import PRECISIONS
from ._groups import predict_groups
from ._regulators import is_species, species_tfs

#: Default ``min_cells``: see the docstring of :func:`predict_interactions` and the changelog for how it was chosen.
DEFAULT_MIN_CELLS = 10


def _resolve_model(model) -> Model:
    if isinstance(model, Model):
        return model
    return load_model(model)


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


@doc_params(doc_pair_table=doc_pair_table, doc_expression=doc_expression, doc_chunk_cells=doc_chunk_cells)
def predict_interactions(
    adata: AnnData,
    *,
    model: str | Model = "default",
    tfs: str | list[str] | None = None,
    targets: list[str] | None = None,
    pairs=None,
    layer: str | None = None,
    use_raw: bool | None = None,
    mod: str | tuple[str, str] | None = None,
    batch_size: int = 1024,
    symmetric: bool = True,
    chunk_cells: int | None = None,
    device: str | None = None,
    precision: str = "float32",
    distributed: bool | None = None,
    min_cells: int = DEFAULT_MIN_CELLS,
    groupby: str | None = None,
    groups: Sequence[str] | None = None,
    key_added: str = "cnnc",
    copy: bool = False,
) -> AnnData | None:
    """Predict which genes regulate which, from pair images, with a trained CNNC model.

    Every candidate pair (regulator, target) becomes a pair image (see :func:`cnnc.tl.pair_histograms`)
    made with the model's own recipe; the network returns the probability of no interaction, of
    regulator → target and of target → regulator. Pairs stream through in batches: memory is bounded
    by ``batch_size``, not by the number of pairs.

    Parameters
    ----------
    adata
        Cells × genes with log-normalized expression (dense, sparse or backed), or a :class:`~mudata.MuData` with
        ``mod``. Raw counts are refused, and so are data with fewer than 20 cells. A model whose image recipe reads
        any variable (``scaling="rank"`` or ``"standard"`` in its spec, e.g. ``"cnnc-causal"``) takes any measured
        values instead: protein intensities, z-scores, discrete values.
    model
        A :class:`cnnc.models.Model`, a registry name (see :func:`cnnc.models.available`) or a file path.
    tfs
        Regulators: gene names, or ``"human"`` / ``"mouse"`` for the transcription factors of
        :func:`cnnc.datasets.tfs` that are in the data (matched case-insensitively; the number found is logged).
        Default: genes flagged in ``adata.var["is_tf"]``, else ``adata.uns["tfs"]``.
    targets
        Targets scored against every regulator (default: all genes).
    pairs
        Explicit ``(regulator, target)`` pairs instead of ``tfs × targets``. A pair given twice is scored once
        (logged). {doc_pair_table}
    {doc_expression}
    mod
        For a :class:`~mudata.MuData`: the modality to score (e.g. ``"rna"``; results are written into that
        modality's AnnData, ``mdata.mod[mod].varp`` and ``.uns``), or ``(mod_a, mod_b)`` for pairs across
        modalities (e.g. ``("prot", "rna")``: regulators from the protein modality, targets from RNA), scored
        over the cells present in both. Needs ``pairs`` or ``tfs``, and a model without context features
        (e.g. ``"cnnc-causal"``); results go to ``mdata.uns[key_added]["edges"]`` (with the modality of each side)
        and, when every variable is in ``mdata.var_names``, ``mdata.varp[key_added]``. Runs in this process;
        ``min_cells`` counts the cells shared by the two modalities (at least 20 are needed); ``groupby`` and
        ``distributed=True`` are refused.
    batch_size
        Pairs per batch of images.
    symmetric
        Also read each pair's transposed image and average (the network sees both orientations).
    {doc_chunk_cells}
    device
        ``None`` picks CUDA when available, else CPU.
    precision
        ``"float32"`` (exact, default) or ``"bfloat16"`` (network under bfloat16 autocast: about twice as fast
        on CPUs with bf16 instructions and on GPUs; probabilities change by ~1e-3).
    distributed
        Run on the workers of the active dask.distributed ``Client``: each worker bins and counts its own chunks of
        cells and runs the model on batches of pairs; only small results travel. ``None`` (default) does so when a
        client is active and the expression is a dask array (e.g. ``X`` from
        :func:`anndata.experimental.read_elem_lazy`); ``False`` keeps the work in this process.
    min_cells
        Score only pairs whose two genes are both detected (> 0) in at least this many cells (of the group, with
        ``groupby``); the others are not scored and not reported. Pairs seen together in a handful of cells make
        confident-looking images out of very little evidence. ``0`` scores every pair.
    groupby
        Key of a categorical ``adata.obs`` column: one network per category, from that category's cells only, with
        the same model (memory as for one network: groups are scored one after the other).
    groups
        With ``groupby``, the categories to score (default: all; refused without ``groupby``). Categories with fewer
        than ``max(min_cells, 3)`` cells are skipped with a warning.
    key_added
        Key of the results in ``adata.varp`` and ``adata.uns``. A previous prediction under that key is replaced
        (logged); other content of ``adata.uns[key_added]`` is refused.
    copy
        Return a modified copy instead of writing in place.

    Returns
    -------
    ``None`` or the copy (of the MuData, for MuData input). Pairs with a gene that never varies over the cells
    (all-zero or constant) carry no evidence of interaction: they are scored ``p_none = 1``, ``score = 0`` (logged).
    Writes

    ``adata.varp[key_added]``
        Sparse ``n_vars × n_vars`` matrix: entry (i, j) = P(gene i regulates gene j) for scored pairs. With
        ``groupby``: one matrix per group, ``adata.varp[f"{key_added}_{group}"]`` (``/`` replaced by ``_``, ``_2``
        appended when two groups give one name; names in ``adata.uns[key_added]["varp_keys"]``, in the order of
        ``params["groups"]``). A key that holds another result's matrix is refused; the matrices of a previous
        prediction under ``key_added`` are removed.
    ``adata.uns[key_added]["edges"]``
        DataFrame ``regulator, target, p_none, p_ab, p_ba, score, sign, corr, n_cells`` sorted by score
        (``p_ab``: regulator → target; ``score`` = ``p_ab`` for direction models, or ``p_ab + p_ba`` when the
        model's spec says ``edge_score="interaction"``, the interaction probability for interaction models;
        ``corr``: Pearson correlation of the two genes' expression over the cells; ``sign``: its sign,
        +1 (the target rises with the regulator, activation-like), -1 (repression-like) or 0 (undefined);
        ``n_cells``: cells where both genes are detected). With ``groupby`` a first column ``group`` (categorical),
        sorted by group, then score.
    ``adata.uns[key_added]["params"]``
        Model name and sha256, package version, image recipe, input used, ``min_cells``; with ``groupby`` the
        key, the groups and, per group, its cells and pairs (``params["per_group"]``).
    """
    check_groups_need_groupby(groups, groupby)
    if isinstance(mod, str) or (mod is None and _is_mudata(adata)):
        # A MuData: score one modality, in place in the (copied) MuData; every other argument passes through.
        arguments = {k: v for k, v in locals().items() if k not in ("adata", "mod", "copy")}
        mdata = adata.copy() if copy else adata
        predict_interactions(modality_anndata(mdata, mod, "cnnc.tl.predict_interactions"), **arguments)
        return mdata if copy else None
    refuse_foreign_result(
        adata,
        key_added,
        marker="histograms",
        owner="pair images (cnnc.tl.pair_histograms)",
        writing="predictions",
        suffix="_network",
    )
    replaced = check_result_key(
        adata, key_added, marker="edges", function="cnnc.tl.predict_interactions", also=[("varp", key_added)]
    )
    mdl = _resolve_model(model)
    _check_species(adata, mdl)
    if mod is not None or type(adata).__name__ == "MuData":
        from ._predict_mudata import predict_mudata

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
        refuse_ignored(
            {k: v for k, v in (("groupby", groupby), ("distributed", distributed)) if v},
            "for pairs across modalities (scored in this process, over the cells of both)",
            "score each group's cells separately, e.g. on mdata[mdata.obs[key] == group]",
        )
        return predict_mudata(
            adata,
            mdl,
            mod=mod,
            tfs=tfs,
            targets=targets,
            pairs=pairs,
            layer=layer,
            use_raw=use_raw,
            batch_size=batch_size,
            symmetric=symmetric,
            chunk_cells=chunk_cells,
            device=device,
            precision=precision,
            min_cells=min_cells,
            key_added=key_added,
            copy=copy,
        )
    view = expression_view(adata, layer=layer, use_raw=use_raw)
    check_cells(view.matrix.shape[0], what=f"{view.label} of the data")
    regulators = None if pairs is not None else _regulators(adata, tfs, view.var_names)
    a, b = candidate_positions(view.var_names, regulators, targets, pairs)
    batch_size = as_integer(batch_size, "batch_size", low=1, example=1024)
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    keep_min_cells(np.zeros(0, dtype=np.int64), min_cells)  # validate before any work
    genes = np.unique(np.concatenate([a, b]))
    if mdl.spec.image_params.scaling == "log":  # an expression model; rank / standard recipes read any values
        # context features read every gene: then so does the check
        read = np.arange(len(view.var_names)) if mdl.spec.features else genes
        refuse_raw_counts(
            view.matrix, read, what=f"Values in {view.label}", label=view.label, gene_names=view.var_names[read]
        )
    client = cluster_client(view.matrix, distributed)
    run = partial(
        _network,
        mdl=mdl,
        client=client,
        min_cells=min_cells,
        batch_size=batch_size,
        symmetric=symmetric,
        precision=precision,
        chunk_cells=chunk_cells,
        device=device,
    )
    names = view.var_names.astype(str)
    params = prediction_params(
        mdl,
        symmetric=symmetric,
        precision=precision,
        layer=layer,
        use_raw=bool(view.label == "raw"),
        min_cells=int(min_cells),
        distributed=client is not None,
    )
    adata = adata.copy() if copy else adata
    if replaced:
        stale = [f"adata.varp[{k!r}]" for k in previous_matrices(adata, key_added) if k != key_added]
        logg.warning(f"replacing the previous prediction in {' and '.join([replaced, *stale])}")
    if groupby is None:
        edges, n_scored, n_cells = run(view, a, b)
        drop_previous_matrices(adata, key_added)  # computed: the previous matrices go (none is left stale)
        adata.varp[key_added] = _varp(adata, edges, names, key_added)
        params.update(
            {
                "n_pairs": n_scored,
                "n_candidates": int(len(a)),
                "n_regulators": int(edges["regulator"].nunique()),
                "n_cells": n_cells,
            }
        )
        adata.uns[key_added] = {"edges": edges, "varp_key": key_added, "params": params}
        written = f"adata.varp[{key_added!r}] (regulator × target scores)"
    else:
        edges, varp_keys, per_group = predict_groups(adata, view, a, b, run, groupby, groups, min_cells, key_added)
        drop_previous_matrices(adata, key_added)
        groups_scored = list(edges["group"].cat.categories)
        for group, varp_key in zip(groups_scored, varp_keys, strict=True):
            adata.varp[varp_key] = _varp(adata, edges[edges["group"] == group], names, key_added)
        params.update(
            {
                "groupby": groupby,
                "groups": groups_scored,
                "per_group": per_group,
                "n_pairs": int(len(edges)),
                "n_candidates": int(len(a)),
                "n_regulators": int(edges["regulator"].nunique()),
            }
        )
        adata.uns[key_added] = {"edges": edges, "varp_keys": varp_keys, "params": params}
        written = f"{len(varp_keys)} adata.varp[{key_added + '_<group>'!r}]"
    logg.info("    finished", deep=f"added {written} and adata.uns[{key_added!r}]['edges']")
    return adata if copy else None


def _network(view, a, b, *, mdl: Model, client, min_cells, batch_size, symmetric, precision, chunk_cells, device):
    """The edge table of pairs (positions ``a``, ``b`` of ``view``), with each pair's evidence.

    Returns the table, the number of pairs scored and the number of cells read.
    """
    corr, coexpressed = pair_evidence(view.matrix, a, b, chunk_cells=chunk_cells, client=client)
    keep = keep_min_cells(coexpressed, min_cells)
    a, b, corr, coexpressed = a[keep], b[keep], corr[keep], coexpressed[keep]
    names = view.var_names.astype(str)
    columns = ["regulator", "target", "p_none", "p_ab", "p_ba", "score", "sign", "corr", "n_cells"]
    if len(a) == 0:
        logg.warning(f"No pair is co-expressed in min_cells={min_cells} cells or more: nothing was scored.")
        return pd.DataFrame({c: [] for c in columns}).astype(_EDGE_DTYPES), 0, int(view.matrix.shape[0])
    genes, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    start = logg.info(
        f"scoring {len(a):,} pairs with model {mdl.name!r}" + (" on the dask cluster" if client is not None else "")
    )
    proba, n_cells = _score(
        view,
        mdl,
        genes,
        inverse[: len(a)],
        inverse[len(a) :],
        client=client,
        batch_size=batch_size,
        symmetric=symmetric,
        precision=precision,
        chunk_cells=chunk_cells,
        device=device,
    )
    edges = pd.DataFrame(
        {
            "regulator": names[a],
            "target": names[b],
            **edge_probabilities(proba, mdl),
            "sign": signs(corr),
            "corr": corr,
            "n_cells": coexpressed,
        }
    ).astype(_EDGE_DTYPES)
    edges = edges.sort_values("score", ascending=False, kind="stable", ignore_index=True)
    edges.index = edges.index.astype(str)
    logg.info("    scored", time=start)
    return edges, int(len(a)), int(n_cells)


_EDGE_DTYPES = {
    "regulator": object,
    "target": object,
    "p_none": np.float32,
    "p_ab": np.float32,
    "p_ba": np.float32,
    "score": np.float32,
    "sign": np.int8,
    "corr": np.float32,
    "n_cells": np.int64,
}


def _varp(adata: AnnData, edges: pd.DataFrame, names: pd.Index, key_added: str) -> sparse.csr_matrix:
    """The edges as an ``n_vars × n_vars`` sparse matrix of scores on ``adata.var_names``."""
    # varp lives on adata.var_names; with use_raw the scored genes may include genes that are not there.
    var_names = pd.Index(adata.var_names)
    ra = var_names.get_indexer(edges["regulator"].astype(str))
    rb = var_names.get_indexer(edges["target"].astype(str))
    placed = (ra >= 0) & (rb >= 0)
    if not placed.all():
        logg.warning(
            f"{int((~placed).sum())} scored pairs involve genes in .raw but not in adata.var_names; they are in "
            f"adata.uns[{key_added!r}]['edges'] but not in adata.varp."
        )
    score = edges["score"].to_numpy(dtype=np.float32)
    return sparse.csr_matrix((score[placed], (ra[placed], rb[placed])), shape=(adata.n_vars, adata.n_vars))


def _score(view, mdl: Model, genes, pa, pb, *, client, batch_size, symmetric, precision, chunk_cells, device):
    """Class probabilities of pairs (positions ``pa``, ``pb`` among ``genes``), in this process or on the cluster.

    Returns the probabilities and the number of cells read.
    """
    gene_names = view.var_names[genes].astype(str).tolist()
    imager = make_imager(
        view.matrix, genes, mdl.spec.image_params, client=client, gene_names=gene_names, chunk_cells=chunk_cells
    )
    extra = None
    if mdl.spec.features:
        # context features compare each pair with every gene of the data, so they use all genes, not only candidates
        stats = context_statistics(
            view.matrix,
            genes[np.unique(pa)],
            chunk_cells=chunk_cells,
            features=mdl.spec.features,
            gene_names=view.var_names.astype(str).tolist(),
            client=client,
        )
        names = tuple(mdl.spec.features)

        def extra(ab, bb):
            return stats.features(genes[ab], genes[bb], names)

    proba = score_pairs(
        imager,
        pa,
        pb,
        mdl,
        batch_size=int(batch_size),
        device=device,
        symmetric=symmetric,
        extra=extra,
        precision=precision,
    )
    refuse_nonfinite_scores(proba, mdl.name)
    proba = score_no_evidence(proba, pa, pb, constant_genes(imager.binner), gene_names)
    return proba, imager.n_cells


def _data_species(adata: AnnData) -> str | None:
    """The species the data declares (``uns["species"]`` or ``uns["dataset"]["species"]``), if any."""
    species = adata.uns.get("species")
    dataset = adata.uns.get("dataset")
    if species is None and isinstance(dataset, dict):
        species = dataset.get("species")
    return str(species) if species is not None else None


def _check_species(adata: AnnData, mdl: Model) -> None:
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
