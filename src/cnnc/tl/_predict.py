"""``cnnc.tl.predict_interactions``: score gene pairs with a trained model, write a network into the AnnData."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg
from scipy import sparse

from .._checks import constant_genes, drop_previous_matrices, refuse_nonfinite_scores, score_no_evidence
from .._direction import IMAGE_MARGINS, add_directions, constant_columns, prior_scores, reads_images
from .._docs import doc_interventions, doc_pair_table, doc_params
from .._evidence import evidence_from_pass, keep_min_cells, pair_evidence, signs
from .._prior import data_pass, pair_prior
from .._scoring import cluster_client, edge_probabilities, make_imager, prediction_params, score_pairs
from .._significance import add_significance, null_cells
from .._tables import edge_table
from .._validate import check_groups_need_groupby
from ..models import Model
from ..models import load as load_model
from ._groups import predict_groups
from ._inputs import Task, candidate_positions, prepare
from ._inputs import check_species as _check_species  # noqa: F401 (assign_function checks the species too)
from ._settings import ScoringSettings

__all__ = ["candidate_positions", "predict_interactions"]


def _resolve_model(model) -> Model:
    if isinstance(model, Model):
        return model
    return load_model(model)


@doc_params(doc_pair_table=doc_pair_table, doc_interventions=doc_interventions)
def predict_interactions(
    adata: AnnData,
    *,
    model: str | Model = "default",
    tfs: str | list[str] | None = None,
    targets: list[str] | None = None,
    pairs=None,
    layer: str | None = None,
    mod: str | tuple[str, str] | None = None,
    groupby: str | tuple[str, list[str]] | None = None,
    interventions: str | None = None,
    control=None,
    intervention_targets=None,
    time_key: str | None = None,
    settings: ScoringSettings | None = None,
    key_added: str = "cnnc",
    copy: bool = False,
    **deprecated,
) -> AnnData | None:
    """Predict which genes regulate which, with a trained CNNC model.

    Every candidate pair (regulator, target) becomes a pair image (see :func:`cnnc.tl.pair_histograms`)
    made with the model's own recipe; the network returns the probability of no interaction, of
    regulator → target and of target → regulator. Pairs stream through in batches: memory is bounded
    by the batch size, not by the number of pairs; a model's context prior is computed a band of genes at a time,
    so its memory does not grow with genes × genes either. A model whose images do not move its score (the default,
    ``cnnc-pairs``: its score is the context prior's, the images only split ``p_ab`` from ``p_ba``, and that split
    showed no skill on unseen cell types) computes no pair image unless ``settings.direction="images"``.

    Each edge says which way it points only where something measured says so (``direction``,
    ``direction_evidence``): perturbed cells (``interventions``), the target is not a regulator (the regulator list),
    cells ordered in time (``time_key``), or a model's images where they showed skill on held-out cell types (none of
    the shipped models did); elsewhere the direction is 0, undetermined.

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
    layer
        Where the values are: ``None`` reads ``.raw`` when present, else ``.X`` (scanpy's default); a layer name
        reads that layer (e.g. one holding log-expression); ``"X"`` reads ``.X`` and ``"raw"`` reads ``.raw.X`` (a
        layer of that name comes first). The former ``use_raw=True`` / ``use_raw=False`` still work, with a
        FutureWarning: they are ``layer="raw"`` / ``layer="X"``.
    mod
        For a :class:`~mudata.MuData`: the modality to score (e.g. ``"rna"``; results are written into that
        modality's AnnData, ``mdata.mod[mod].varp`` and ``.uns``), or ``(mod_a, mod_b)`` for pairs across
        modalities (e.g. ``("prot", "rna")``: regulators from the protein modality, targets from RNA), scored
        over the cells present in both. Needs ``pairs`` or ``tfs``, and a model without context features
        (e.g. ``"cnnc-causal"``); results go to ``mdata.uns[key_added]["edges"]`` (the same columns, plus the
        modality of each side) and ``mdata.varp[key_added]``. Runs in this process, through the same pipeline as
        an AnnData (``settings.min_cells`` counts the cells where both values are nonzero).
    groupby
        Key of a categorical ``adata.obs`` column: one network per category, from that category's cells only, with
        the same model (memory as for one network: groups are scored one after the other); or ``(key, categories)``
        to score some categories only, e.g. ``("leiden", ["0", "3"])``. Categories with fewer than
        ``max(settings.min_cells, 3)`` cells are skipped with a warning. The former ``groups=`` still works, with a
        FutureWarning: it is ``groupby=(groupby, groups)``.
    {doc_interventions}
        Here the interventions decide the direction of each pair with a perturbed gene on either side (the side
        whose perturbation moves the other's distribution, and is not moved back, regulates): ``direction``
        (1 regulator → target, -1 target → regulator, 0 undetermined) and ``direction_evidence``
        ``"intervention"``, with ``intervention_shift``, ``intervention_reverse_shift`` and
        ``intervention_pvalue``; the link ``score`` stays the model's. Direct effects and orientation through
        the graph need the network search of :func:`cnnc.tl.causal_network` (up to 200 variables).
    time_key
        Numeric ``adata.obs`` column ordering the cells in time (a pseudotime, e.g. ``"dpt_pseudotime"``, or the
        collection time). Pairs of two regulators get the direction of the gene whose trajectory leads the
        other's (evidence ``"time"``; see the documentation's direction page). Right on held-out simulated
        trajectories (BoolODE), at chance on BEELINE's real time courses: a trajectory must carry the causal
        order. Refused when missing, non-numeric or NaN.
    settings
        How pairs are scored (a :class:`cnnc.tl.ScoringSettings`; default: its defaults): ``min_cells`` (score only
        pairs whose two genes are both detected in at least this many cells, 10 by default; ``0`` scores every
        pair), ``direction`` (``"auto"``: compute pair images only where they add measured value; ``"images"``:
        always), batch size, both orientations, cells per block, device, precision, dask cluster, the genes of the
        context prior. The former keywords ``min_cells``, ``direction``, ``batch_size``, ``symmetric``,
        ``chunk_cells``, ``device``, ``precision`` and ``distributed`` still work, with a FutureWarning.
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
        ``groupby``: one matrix per group, ``adata.varp[f"{key_added}_{group}"]`` (``/`` replaced by ``_``; names in
        ``adata.uns[key_added]["varp_keys"]``, in the order of ``params["groups"]``).
    ``adata.uns[key_added]["edges"]``
        DataFrame ``regulator, target, score, p_none, p_ab, p_ba, sign, corr, n_cells, pvalue, qvalue, direction,
        direction_evidence`` sorted by score (``p_none``: no interaction; ``p_ab``, ``p_ba``: the network's
        regulator → target and target → regulator, NaN when no pair image was computed (``direction="auto"``
        with the default model); ``score`` = ``p_ab`` for direction models, or 1 - ``p_none`` (= ``p_ab + p_ba``)
        when the model's spec says ``edge_score="interaction"``, the interaction probability for interaction
        models; ``direction``: 1 regulator → target, -1 target → regulator, 0 undetermined;
        ``direction_evidence``: what decided it, ``"intervention"``, ``"regulator list"`` (the target is not
        among the regulators scored), ``"time"``, ``"images"`` or ``"none"``;
        ``corr``: Pearson correlation of the two genes' expression over the cells; ``sign``: its sign,
        +1 (the target rises with the regulator, activation-like), -1 (repression-like) or 0 (undefined);
        ``n_cells``: cells where both genes are detected; ``pvalue``: the chance that two independent genes (each
        gene's cells permuted) are as correlated, among pairs co-expressed in ``min_cells`` cells; ``qvalue``: its
        Benjamini–Hochberg adjustment over the table, or the group's: keep ``cnnc.get.edges(adata, max_q=0.05)``
        for a network whose expected fraction of chance associations is at most 5%; see ``cnnc._significance``).
        The p-value tests the association, not the direction nor the score. With ``groupby`` a first column
        ``group`` (categorical), sorted by group, then score.
    ``adata.uns[key_added]["params"]``
        Model name and sha256, package version, image recipe, input used, ``min_cells``, ``direction``,
        ``images`` (whether pair images were computed), ``time_key``; with ``groupby`` the
        key, the groups and, per group, its cells and pairs (``params["per_group"]``).
    """
    layer, groupby = _former_keywords(deprecated, layer, groupby)
    settings = ScoringSettings.resolve(settings, deprecated, FUNCTION)
    mdl = _resolve_model(model)
    out = adata.copy() if copy else adata
    task = prepare(
        out, mdl, settings=settings, key_added=key_added, tfs=tfs, targets=targets, pairs=pairs, layer=layer, mod=mod,
        groupby=groupby, interventions=interventions, control=control, intervention_targets=intervention_targets,
        time_key=time_key,
    )  # fmt: skip
    edges, measured = _predict(task, mdl, settings)
    _write(task, edges, measured, mdl, settings)
    return out if copy else None


FUNCTION = "cnnc.tl.predict_interactions"


def _former_keywords(deprecated: dict, layer, groupby):
    """``layer`` and ``groupby`` with the former ``use_raw=`` and ``groups=`` folded in (each in a FutureWarning)."""
    use_raw, groups = deprecated.pop("use_raw", None), deprecated.pop("groups", None)
    check_groups_need_groupby(groups, groupby)
    if use_raw is not None:
        if layer is not None and use_raw:
            raise ValueError("Cannot use `layer` and `use_raw=True` at the same time: choose one.")
        new = layer if layer is not None else ("raw" if use_raw else "X")
        _warn(f"use_raw={use_raw!r}", f"layer={new!r}")
        layer = new
    if groups is not None:
        if isinstance(groupby, tuple | list):
            raise ValueError("groups= and groupby=(key, categories) both select categories: drop groups=.")
        _warn(f"groups={groups!r}", f"groupby=({groupby!r}, {groups!r})")
        groupby = (groupby, groups)
    return layer, groupby


def _warn(former: str, now: str) -> None:
    warnings.warn(f"{FUNCTION}({former}) is deprecated: pass {now}.", FutureWarning, stacklevel=4)


def _predict(task: Task, mdl: Model, settings: ScoringSettings) -> tuple[pd.DataFrame, dict]:
    """The edge table of ``task`` (one, or one per group in a long table) and what the prediction measured."""
    images = reads_images(mdl, settings.direction)
    client = cluster_client(task.view.matrix, settings.distributed if task.mods is None else False)
    run = partial(_network, mdl=mdl, images=images, client=client, settings=settings, mods=task.mods)
    measured = {"distributed": client is not None, "images": bool(images)}
    if task.replaced:
        logg.warning(f"replacing the previous prediction in {' and '.join([task.replaced, *task.stale])}")
    directions = partial(
        add_directions,
        matrix=task.view.matrix,
        var_names=task.view.var_names,
        regulators=task.regulators,
        times=task.times,
        image_margin=IMAGE_MARGINS.get(mdl.sha256 or ""),
        chunk_cells=settings.chunk_cells,
    )
    if task.groups is None:
        edges, n_scored, n_cells = run(task.view, task.a, task.b)
        edges = directions(edges)
        if task.design is not None:
            from ._interventional import apply_pair_evidence, intervention_evidence  # builds on the causal tools

            names = task.view.var_names.astype(str)
            evidence = intervention_evidence(task.view.matrix, names, task.design, edges["regulator"], edges["target"])
            edges = apply_pair_evidence(edges, evidence)
            measured.update(task.design.params(names))
        measured.update(n_pairs=n_scored, n_candidates=int(len(task.a)), n_regulators=int(edges["regulator"].nunique()))
        measured["n_cells"] = n_cells
        return edges, measured
    edges, per_group = predict_groups(task.view, task.groups, task.a, task.b, run, task.groupby)
    edges = directions(edges, rows_of_groups=task.groups if task.times is not None else None)
    measured.update(groupby=task.groupby, groups=list(task.groups), per_group=per_group, n_pairs=int(len(edges)))
    measured.update(n_candidates=int(len(task.a)), n_regulators=int(edges["regulator"].nunique()))
    return edges, measured


def _write(task: Task, edges: pd.DataFrame, measured: dict, mdl: Model, settings: ScoringSettings) -> None:
    """Write the prediction into ``task.host``: the matrices in ``varp``, the edge table and parameters in ``uns``.

    The previous prediction's matrices go first (none is left stale).
    """
    host, key = task.host, task.key_added
    if task.groups is None:
        matrices = {key: _varp(host, edges, key, task.mods)}
        entry = {"edges": edges, "varp_key": key}
        written = f"varp[{key!r}] (regulator × target scores)"
    else:
        groups = zip(task.groups, task.varp_keys, strict=True)
        matrices = {varp_key: _varp(host, edges[edges["group"] == group], key) for group, varp_key in groups}
        entry = {"edges": edges, "varp_keys": task.varp_keys}
        written = f"{len(task.varp_keys)} varp[{key + '_<group>'!r}]"
    params = prediction_params(
        mdl,
        symmetric=settings.symmetric,
        precision=settings.precision,
        layer=task.layer,
        use_raw=bool(task.view.label == "raw"),
        min_cells=int(settings.min_cells),
        distributed=measured.pop("distributed"),
        **({"mod": list(task.mods)} if task.mods else {}),
        direction=settings.direction,
        images=measured.pop("images"),
        time_key=task.time_key or "",
    )
    params.update(measured)
    drop_previous_matrices(host, key)
    for varp_key, matrix in matrices.items():
        host.varp[varp_key] = matrix
    host.uns[key] = {**entry, "params": params}
    logg.info("    finished", deep=f"added {written} and uns[{key!r}]['edges']")


def _network(view, a, b, *, mdl: Model, images: bool, client, settings: ScoringSettings, mods=None):
    """The edge table of pairs (positions ``a``, ``b`` of ``view``), with each pair's evidence.

    Returns the table, the number of pairs scored and the number of cells read.
    """
    one = _one_pass(view, a, mdl, client, settings)
    if one is None:
        corr, coexpressed = pair_evidence(view.matrix, a, b, chunk_cells=settings.chunk_cells, client=client)
    else:  # read off the pass the context prior makes anyway
        corr, coexpressed = evidence_from_pass(one, a, b)
        one.drop_counts()
    min_cells = int(settings.min_cells)
    keep = keep_min_cells(coexpressed, min_cells)
    a, b, corr, coexpressed = a[keep], b[keep], corr[keep], coexpressed[keep]
    if len(a) == 0:
        logg.warning(f"No pair is co-expressed in min_cells={min_cells} cells or more: nothing was scored.")
        proba, n_cells = np.zeros((0, mdl.n_classes), dtype=np.float32), int(view.matrix.shape[0])
    else:
        start = logg.info(
            f"scoring {len(a):,} pairs with model {mdl.name!r}" + (" on the dask cluster" if client else "")
        )
        genes, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
        proba, n_cells = _score(
            view,
            mdl,
            genes,
            inverse[: len(a)],
            inverse[len(a) :],
            images=images,
            client=client,
            settings=settings,
            one=one,
        )
        logg.info("    scored", time=start)
    names = view.var_names.astype(str)
    probabilities = edge_probabilities(proba, mdl)
    score = probabilities.pop("score")
    if not images:  # no image split p_ab from p_ba: the score is the probability of an interaction either way
        score = 1 - probabilities["p_none"]
    more = {"sign": signs(corr), "corr": corr, "n_cells": coexpressed}
    edges = edge_table(names[a], names[b], score, **probabilities, **more).astype(_EDGE_DTYPES)
    # the rows' order does not matter: the null reads the genes of a, b and each row's own corr
    sample = None if one is None or one.sample_cells is None else one.take_sample  # read by the null, then freed
    edges = add_significance(
        edges, view.matrix, a, b, min_cells=min_cells, chunk_cells=settings.chunk_cells, sample=sample
    )
    if mods is not None:  # names of pairs across modalities carry their modality: "prot:CD3"
        for end, m in zip(("regulator", "target"), mods, strict=True):
            edges[end] = edges[end].str.slice(len(m) + 1)
            edges[f"{end}_mod"] = m
    return edges, int(len(a)), int(n_cells)


def _one_pass(view, a, mdl: Model, client, settings: ScoringSettings):
    """The one pass over the cells that feeds the context prior, the pair evidence and the null, or ``None``.

    ``None`` for a model without a context prior, and where the prior streams bands of its Gram matrices (a context
    of genes, or too many genes to hold them): evidence and null then read the cells on their own. The pass keeps
    the null's cells only for data not in memory (in memory, the null reads them at no cost, without a copy).
    """
    if not mdl.spec.features:
        return None
    matrix = view.matrix
    in_memory = isinstance(matrix, np.ndarray) or sparse.issparse(matrix)
    return data_pass(
        matrix,
        a,
        features=mdl.spec.features,
        context=settings.context_genes,
        chunk_cells=settings.chunk_cells,
        gene_names=view.var_names.astype(str).tolist(),
        client=client,
        sample_cells=None if in_memory else null_cells(matrix.shape[0]),
    )


_EDGE_DTYPES = {
    "regulator": object,
    "target": object,
    "score": np.float32,
    "p_none": np.float32,
    "p_ab": np.float32,
    "p_ba": np.float32,
    "sign": np.int8,
    "corr": np.float32,
    "n_cells": np.int64,
}


def _varp(host, edges: pd.DataFrame, key_added: str, mods=None) -> sparse.csr_matrix:
    """The edges as an ``n_vars × n_vars`` sparse matrix of scores on ``host.var_names``.

    With ``use_raw`` the scored genes may include genes that are not there; a MuData's var_names may prefix a
    variable with its modality (``"prot:CD3"``) when names clash.
    """
    var_names = pd.Index(host.var_names)

    def position(names, m):
        pos = var_names.get_indexer(names.astype(str))
        return pos if m is None else np.where(pos >= 0, pos, var_names.get_indexer(m + ":" + names.astype(str)))

    ra = position(edges["regulator"], None if mods is None else mods[0])
    rb = position(edges["target"], None if mods is None else mods[1])
    placed = (ra >= 0) & (rb >= 0)
    if not placed.all():
        logg.warning(
            f"{int((~placed).sum())} scored pairs involve variables not in var_names (e.g. in .raw only); they are "
            f"in uns[{key_added!r}]['edges'] but not in varp."
        )
    score = edges["score"].to_numpy(dtype=np.float32)
    return sparse.csr_matrix((score[placed], (ra[placed], rb[placed])), shape=(host.n_vars, host.n_vars))


def _score(view, mdl: Model, genes, pa, pb, *, images: bool, client, settings: ScoringSettings, one=None):
    """Class probabilities of pairs (positions ``pa``, ``pb`` among ``genes``), in this process or on the cluster.

    Without ``images`` (a model whose images do not move its score) only the linear path runs: ``p_ab`` and
    ``p_ba`` are NaN. ``one``: the pass already made over the cells (:func:`_one_pass`), read instead of the data.
    Returns the probabilities and the number of cells read.
    """
    gene_names = view.var_names[genes].astype(str).tolist()
    extra = None
    if mdl.spec.features:
        # context features compare each pair with every gene of the data, so they use all genes, not only candidates
        prior = pair_prior(
            view.matrix,
            genes[pa],
            genes[pb],
            features=mdl.spec.features,
            context=settings.context_genes,
            chunk_cells=settings.chunk_cells,
            gene_names=view.var_names.astype(str).tolist(),
            client=client,
            sums=None if one is None else one.take_gram(),  # freed with the prior's walk
        )
        names = tuple(mdl.spec.features)

        def extra(ab, bb):
            return prior.features(genes[ab], genes[bb], names)

    if not images:
        proba = prior_scores(mdl, extra, pa, pb, symmetric=settings.symmetric)
        refuse_nonfinite_scores(proba[:, :1], mdl.name)
        if one is None:
            constant = constant_columns(view.matrix, genes, chunk_cells=settings.chunk_cells)
        else:
            constant = one.constant(genes)
        return score_no_evidence(proba, pa, pb, constant, gene_names), int(view.matrix.shape[0])
    imager = make_imager(
        view.matrix,
        genes,
        mdl.spec.image_params,
        client=client,
        gene_names=gene_names,
        chunk_cells=settings.chunk_cells,
    )
    proba = score_pairs(
        imager,
        pa,
        pb,
        mdl,
        batch_size=int(settings.batch_size),
        device=settings.device,
        symmetric=settings.symmetric,
        extra=extra,
        precision=settings.precision,
    )
    refuse_nonfinite_scores(proba, mdl.name)
    proba = score_no_evidence(proba, pa, pb, constant_genes(imager.binner), gene_names)
    return proba, imager.n_cells
