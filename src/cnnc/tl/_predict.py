"""``cnnc.tl.predict_interactions``: score gene pairs with a trained model, write a network into the AnnData."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg
from scipy import sparse

from .._checks import constant_genes, refuse_nonfinite_scores, score_no_evidence
from .._direction import (
    IMAGE_MARGINS,
    add_directions,
    check_direction_mode,
    constant_columns,
    prior_scores,
    reads_images,
)
from .._docs import doc_expression, doc_interventions, doc_pair_table, doc_params
from .._evidence import keep_min_cells, pair_evidence, signs
from .._interventions import parse_interventions
from .._prior import pair_prior
from .._scoring import cluster_client, edge_probabilities, make_imager, prediction_params, score_pairs
from .._significance import add_significance
from .._tables import edge_table
from .._time import check_time_key
from .._validate import check_groups_need_groupby, drop_previous_matrices, previous_matrices, refuse_ignored
from ..models import Model
from ..models import load as load_model
from ._groups import group_rows, predict_groups
from ._inputs import candidate_positions, prepare
from ._settings import ScoringSettings

__all__ = ["candidate_positions", "predict_interactions"]

#: Default ``min_cells``: see the docstring of :func:`predict_interactions` and the changelog for how it was chosen.
DEFAULT_MIN_CELLS = 10


def _resolve_model(model) -> Model:
    if isinstance(model, Model):
        return model
    return load_model(model)


@doc_params(doc_pair_table=doc_pair_table, doc_expression=doc_expression, doc_interventions=doc_interventions)
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
    min_cells: int = DEFAULT_MIN_CELLS,
    groupby: str | None = None,
    groups: Sequence[str] | None = None,
    interventions: str | None = None,
    control=None,
    intervention_targets=None,
    direction: str = "auto",
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
    showed no skill on unseen cell types) computes no pair image unless ``direction="images"``.

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
    {doc_expression}
    mod
        For a :class:`~mudata.MuData`: the modality to score (e.g. ``"rna"``; results are written into that
        modality's AnnData, ``mdata.mod[mod].varp`` and ``.uns``), or ``(mod_a, mod_b)`` for pairs across
        modalities (e.g. ``("prot", "rna")``: regulators from the protein modality, targets from RNA), scored
        over the cells present in both. Needs ``pairs`` or ``tfs``, and a model without context features
        (e.g. ``"cnnc-causal"``); results go to ``mdata.uns[key_added]["edges"]`` (the same columns, plus the
        modality of each side) and ``mdata.varp[key_added]``. Runs in this process, through the same pipeline as
        an AnnData (``min_cells`` counts the cells where both values are nonzero).
    min_cells
        Score only pairs whose two genes are both detected (> 0) in at least this many cells (of the group, with
        ``groupby``); the others are not scored and not reported. Pairs seen together in a handful of cells make
        confident-looking images out of very little evidence. ``0`` scores every pair.
    groupby
        Key of a categorical ``adata.obs`` column: one network per category, from that category's cells only, with
        the same model (memory as for one network: groups are scored one after the other).
    groups
        With ``groupby``, the categories to score (default: all). Categories with fewer than ``max(min_cells, 3)``
        cells are skipped with a warning.
    {doc_interventions}
        Here the interventions decide the direction of each pair with a perturbed gene on either side (the side
        whose perturbation moves the other's distribution, and is not moved back, regulates): ``direction``
        (1 regulator → target, -1 target → regulator, 0 undetermined) and ``direction_evidence``
        ``"intervention"``, with ``intervention_shift``, ``intervention_reverse_shift`` and
        ``intervention_pvalue``; the link ``score`` stays the model's. Direct effects and orientation through
        the graph need the network search of :func:`cnnc.tl.causal_network` (up to 200 variables).
    direction
        ``"auto"``: compute pair images only where they add measured value: when they move the model's score, or
        when the model's images call directions with measured skill (no shipped model's do). Otherwise ``p_ab``
        and ``p_ba`` are NaN and the score comes from the model's context prior alone, at a fraction of the cost.
        ``"images"``: always compute them; ``p_ab`` and ``p_ba`` then hold the model's own split, which for
        ``cnnc-pairs`` was right 0.50 of the time on one-way TF → TF edges of unseen cell types (chance): the
        ``direction`` column still does not call a direction from them.
    time_key
        Numeric ``adata.obs`` column ordering the cells in time (a pseudotime, e.g. ``"dpt_pseudotime"``, or the
        collection time). Pairs of two regulators get the direction of the gene whose trajectory leads the
        other's (evidence ``"time"``; see the documentation's direction page). Right on held-out simulated
        trajectories (BoolODE), at chance on BEELINE's real time courses: a trajectory must carry the causal
        order. Refused when missing, non-numeric or NaN.
    settings
        How pairs are read and the network run: batch size, both orientations, cells per block, device, precision,
        dask cluster, the genes of the context prior (a :class:`cnnc.tl.ScoringSettings`; default: its defaults). The former keywords
        ``batch_size``, ``symmetric``, ``chunk_cells``, ``device``, ``precision`` and ``distributed`` still work,
        with a FutureWarning.
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
    settings = ScoringSettings.resolve(settings, deprecated, "cnnc.tl.predict_interactions")
    keep_min_cells(np.zeros(0, dtype=np.int64), min_cells)  # validate before any work
    check_direction_mode(direction)
    check_groups_need_groupby(groups, groupby)
    mdl = _resolve_model(model)
    _check_species(adata, mdl)
    out = adata.copy() if copy else adata
    task = prepare(
        out, mdl, mod=mod, tfs=tfs, targets=targets, pairs=pairs, layer=layer, use_raw=use_raw, key_added=key_added
    )
    design = _intervention_design(task, interventions, control, intervention_targets, groupby)
    if time_key is not None and task.mods is not None:
        raise ValueError("time_key is read for one modality at a time: pass mod='rna' (a modality name), not a pair.")
    times = None if time_key is None else check_time_key(task.host, time_key)
    images = reads_images(mdl, direction)
    if task.mods is not None:
        refuse_ignored(
            {k: v for k, v in (("groupby", groupby), ("distributed", settings.distributed)) if v},
            "for pairs across modalities (scored in this process, over the cells of both)",
            "score each group's cells separately, e.g. on mdata[mdata.obs[key] == group]",
        )
    client = cluster_client(task.view.matrix, settings.distributed if task.mods is None else False)
    run = partial(
        _network, mdl=mdl, images=images, client=client, min_cells=min_cells, settings=settings, mods=task.mods
    )
    params = prediction_params(
        mdl,
        symmetric=settings.symmetric,
        precision=settings.precision,
        layer=layer,
        use_raw=bool(task.view.label == "raw"),
        min_cells=int(min_cells),
        distributed=client is not None,
        **({"mod": list(task.mods)} if task.mods else {}),
        direction=direction,
        images=bool(images),
        time_key=time_key or "",
    )
    if task.replaced:
        stale = [f"adata.varp[{k!r}]" for k in previous_matrices(task.host, key_added) if k != key_added]
        logg.warning(f"replacing the previous prediction in {' and '.join([task.replaced, *stale])}")
    host, a, b = task.host, task.a, task.b
    directions = partial(
        add_directions,
        matrix=task.view.matrix,
        var_names=task.view.var_names,
        # the genes scored as regulators: a target outside them is not a cause
        regulators=set(task.view.var_names.astype(str)[np.unique(a)]) if task.mods is None else set(),
        times=times,
        image_margin=IMAGE_MARGINS.get(mdl.sha256 or ""),
        chunk_cells=settings.chunk_cells,
    )
    if groupby is None:
        edges, n_scored, n_cells = run(task.view, a, b)
        edges = directions(edges)
        if design is not None:
            from ._interventional import apply_pair_evidence, intervention_evidence  # builds on the causal tools

            names = task.view.var_names.astype(str)
            evidence = intervention_evidence(task.view.matrix, names, design, edges["regulator"], edges["target"])
            edges = apply_pair_evidence(edges, evidence)
            params.update(design.params(names))
        params.update(n_pairs=n_scored, n_candidates=int(len(a)), n_regulators=int(edges["regulator"].nunique()))
        params["n_cells"] = n_cells
        drop_previous_matrices(host, key_added)  # computed: the previous matrices go (none is left stale)
        host.varp[key_added] = _varp(host, edges, key_added, task.mods)
        host.uns[key_added] = {"edges": edges, "varp_key": key_added, "params": params}
        written = f"varp[{key_added!r}] (regulator × target scores)"
    else:
        if task.mods is not None:
            raise ValueError("groupby scores one modality's cells; pairs across modalities have no groupby: drop it.")
        edges, varp_keys, per_group = predict_groups(host, task.view, a, b, run, groupby, groups, min_cells, key_added)
        edges = directions(edges, rows_of_groups=group_rows(host, groupby, groups) if times is not None else None)
        drop_previous_matrices(host, key_added)
        scored = list(edges["group"].cat.categories)
        for group, varp_key in zip(scored, varp_keys, strict=True):
            host.varp[varp_key] = _varp(host, edges[edges["group"] == group], key_added)
        params.update(groupby=groupby, groups=scored, per_group=per_group, n_pairs=int(len(edges)))
        params.update(n_candidates=int(len(a)), n_regulators=int(edges["regulator"].nunique()))
        host.uns[key_added] = {"edges": edges, "varp_keys": varp_keys, "params": params}
        written = f"{len(varp_keys)} varp[{key_added + '_<group>'!r}]"
    logg.info("    finished", deep=f"added {written} and uns[{key_added!r}]['edges']")
    return out if copy else None


def _intervention_design(task, interventions, control, intervention_targets, groupby):
    """The perturbation design of ``task``'s cells (checked before any work), or ``None`` without interventions."""
    if interventions is not None and task.mods is not None:
        raise ValueError("interventions= reads one modality: pass mod='rna' (a single modality), not a pair.")
    if interventions is not None and groupby is not None:
        raise ValueError("interventions= and groupby= together are not supported: score each group separately.")
    return parse_interventions(task.host, task.view.var_names, interventions, control, intervention_targets)


def _network(view, a, b, *, mdl: Model, images: bool, client, min_cells, settings: ScoringSettings, mods=None):
    """The edge table of pairs (positions ``a``, ``b`` of ``view``), with each pair's evidence.

    Returns the table, the number of pairs scored and the number of cells read.
    """
    corr, coexpressed = pair_evidence(view.matrix, a, b, chunk_cells=settings.chunk_cells, client=client)
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
            view, mdl, genes, inverse[: len(a)], inverse[len(a) :], images=images, client=client, settings=settings
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
    edges = add_significance(edges, view.matrix, a, b, min_cells=min_cells, chunk_cells=settings.chunk_cells)
    if mods is not None:  # names of pairs across modalities carry their modality: "prot:CD3"
        for end, m in zip(("regulator", "target"), mods, strict=True):
            edges[end] = edges[end].str.slice(len(m) + 1)
            edges[f"{end}_mod"] = m
    return edges, int(len(a)), int(n_cells)


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


def _score(view, mdl: Model, genes, pa, pb, *, images: bool, client, settings: ScoringSettings):
    """Class probabilities of pairs (positions ``pa``, ``pb`` among ``genes``), in this process or on the cluster.

    Without ``images`` (a model whose images do not move its score) only the linear path runs: ``p_ab`` and
    ``p_ba`` are NaN. Returns the probabilities and the number of cells read.
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
        )
        names = tuple(mdl.spec.features)

        def extra(ab, bb):
            return prior.features(genes[ab], genes[bb], names)

    if not images:
        proba = prior_scores(mdl, extra, pa, pb, symmetric=settings.symmetric)
        refuse_nonfinite_scores(proba[:, :1], mdl.name)
        constant = constant_columns(view.matrix, genes, chunk_cells=settings.chunk_cells)
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
