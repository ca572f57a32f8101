"""``cnnc.tl.train``: fit a model by a named recipe on known regulator → target pairs, with regulator-disjoint CV."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from .._checks import check_epochs, check_result_key
from .._data import _is_mudata
from .._docs import doc_expression, doc_pair_table, doc_params
from .._training._cv import cross_validate
from .._training._labels import DIRECTION_CLASSES, INTERACTION_CLASSES
from .._training._recipes import DEFAULT_RECIPE, RECIPES, Recipe, resolve_recipe
from .._training._run import build_all, choose_image_weight, choose_prior, fit_examples, read_dataset
from .._utils import package_version, resolve_random_state
from ..models import Model, ModelSpec


def recipes() -> dict[str, Recipe]:
    """The named training recipes (``cnnc.tl.train(..., recipe=name)``); the first is the default.

    Each :class:`~cnnc._training._recipes.Recipe` holds the pair-image recipe, the network, the features, how
    labelled pairs are drawn and how the network is fitted. Every model in the registry was trained by one.
    """
    return {DEFAULT_RECIPE: RECIPES[DEFAULT_RECIPE], **{k: v for k, v in RECIPES.items() if k != DEFAULT_RECIPE}}


def _check_datasets(adata, edges) -> None:
    """Refuse what ``train`` cannot read as data sets and their tables, before any work is done."""
    if _is_mudata(adata):
        raise TypeError(
            "cnnc.tl.train reads one AnnData (or a list of them), not a MuData: pass the modality that holds the "
            f"expression, e.g. cnnc.tl.train(mdata.mod[{next(iter(adata.mod), 'rna')!r}], edges)."
        )
    if isinstance(adata, AnnData):
        return
    if isinstance(adata, str | bytes) or not isinstance(adata, Sequence):
        raise TypeError(f"adata must be an AnnData or a list of AnnData, got {type(adata).__name__}.")
    wrong = [type(d).__name__ for d in adata if not isinstance(d, AnnData)]
    if wrong:
        raise TypeError(f"adata must be a list of AnnData; it holds {wrong[0]}.")
    if isinstance(edges, pd.DataFrame | dict) or not isinstance(edges, Sequence) or isinstance(edges, str):
        raise ValueError(
            f"With {len(adata)} data sets, edges must be a list of {len(adata)} tables (or dicts of tables), one per "
            f"data set, got one {type(edges).__name__}; to use the same known edges for every data set pass "
            f"[edges] * {len(adata)}."
        )


def _check_arguments(datasets, edge_tables, folds, task) -> None:
    if len(datasets) != len(edge_tables):
        raise ValueError(
            f"Got {len(datasets)} data sets but {len(edge_tables)} edge tables: give one table per data set."
        )
    if not datasets:
        raise ValueError("No data set given.")
    if folds < 0 or folds == 1:
        raise ValueError(f"folds must be 0 (no cross-validation) or >= 2, got {folds}.")
    if folds >= 2 and len(datasets) > 1:
        raise ValueError("Cross-validation runs on one data set; with several data sets use folds=0.")
    if task not in ("direction", "interaction"):
        raise ValueError(f"task must be 'direction' or 'interaction', got {task!r}.")


def _classes(task: str) -> list[str]:
    """The output classes of a model of ``task``."""
    return DIRECTION_CLASSES if task == "direction" else INTERACTION_CLASSES


def _architecture(rec: Recipe, task: str) -> dict:
    """The network's arguments: sized by the recipe's image and features, then the recipe's own overrides.

    Refuses an override whose number of classes does not fit ``task``.
    """
    classes = _classes(task)
    n_features = len(rec.features) + (1 if rec.measure_choices else 0)
    arch = {"image_size": rec.image.bins, "n_classes": len(classes), "n_extra_features": n_features}
    arch.update(rec.architecture)
    if arch["n_classes"] != len(classes):
        raise ValueError(f"Task {task!r} needs n_classes={len(classes)}, architecture has {arch['n_classes']}.")
    if task != "direction":
        arch["direction_from_images"] = False
    return arch


def _spec_fields(rec: Recipe, task: str, features, edge_score: str = "p_ab") -> dict:
    """The :class:`~cnnc.models.ModelSpec` fields a trained model declares: task, classes, image recipe, features.

    A model of images of ranks or z-scores says it reads any measured variables; only a direction model ranks
    edges by a score other than ``p_ab``.
    """
    expects = {}
    if rec.image.scaling != "log":
        expects["expects"] = f"any measured variables (the pair images bin {rec.image.scaling} values)"
    return {
        **expects,
        "task": task,
        "classes": list(_classes(task)),
        "image": rec.image.to_dict(),
        "features": list(features),
        "gene_matching": "case-insensitive",
        "edge_score": edge_score if task == "direction" else "p_ab",
    }


def _training_record(rec: Recipe, contexts, truths_list, knowns, examples, *, seed: int, result, validation) -> dict:
    """What the model's spec records of its training: recipe, data sizes, seed, best epoch and validation."""
    return {
        "recipe": rec.to_dict(),
        "n_datasets": len(contexts),
        "truths": [sorted(t) for t in truths_list],
        "n_known_edges": int(sum(map(len, knowns))),
        "n_regulators": int(len(np.unique(examples.pairs.regulator))),
        "n_labelled_pairs": int(len(examples)),
        "n_cells": [int(c.imager.n_cells) for c in contexts],
        "n_genes": [int(len(c.var_names)) for c in contexts],
        "seed": int(seed),
        "best_epoch": int(result.best_epoch),
        "epochs": rec.fit.epochs,
        "validation": validation,
        "cnnc_version": package_version(),
    }


@doc_params(doc_pair_table=doc_pair_table, doc_expression=doc_expression)
def train(
    adata: AnnData | Sequence[AnnData],
    edges,
    *,
    recipe: str | Recipe = DEFAULT_RECIPE,
    tfs: list[str] | None = None,
    task: str = "direction",
    folds: int = 3,
    final: bool = True,
    symmetric: bool = True,
    layer: str | None = None,
    use_raw: bool | None = None,
    random_state: int = 0,
    device: str | None = None,
    name: str | None = None,
    key_added: str = "cnnc_cv",
    seed: int | None = None,
    **settings,
) -> Model:
    """Train a CNNC model on known regulator → target interactions, by a named recipe.

    Labels follow CNNC: each known pair (r, t) is class 1 ("regulator->target"), the swapped pair
    (t, r) class 2, and random pairs (r, g) of the same regulator class 0 (a ``label`` column is read as CNNC's:
    0 none, 1 first → second, 2 second → first). With ``folds >= 2``, a regulator-disjoint cross-validation runs
    first (no regulator in both the training and test part of a fold); every regulator × gene pair of each test
    part is then scored by the model that did not see that regulator, and written as an edge table for
    :func:`cnnc.tl.evaluate`. Early stopping watches validation regulators carved from the training regulators.

    The default recipe (``"cnnc-pairs"``) is the one the shipped default model was trained with: with several
    data sets it chooses its context prior and the weight of the pair images by validation across them (train
    on one, score the others; each ground truth weighs equally). ``recipe="cnnc-original"`` is CNNC's own.

    Parameters
    ----------
    adata
        Cells × genes with log-normalized expression, or a list of data sets to train one model on
        all of them (then ``edges`` is a list too, one per data set, and ``folds=0``).
    edges
        Known interactions, or a dict ``{truth name: table}`` of several ground truths (each then weighs about
        equally). {doc_pair_table}
        A ``label`` column (or third tuple entry) is read as CNNC's: 1 = first gene regulates the second, 2 = the
        reverse, 0 = no interaction. Gene names are matched case-insensitively; edges with genes not in the data are
        dropped (logged).
    recipe
        Name of a recipe (see :func:`cnnc.tl.recipes`) or a :class:`~cnnc._training._recipes.Recipe`.
    tfs
        Only use edges of these regulators.
    task
        ``"direction"`` (none / regulator→target / target→regulator) or ``"interaction"`` (none / interaction).
    folds
        Regulator-disjoint cross-validation folds (0 to skip).
    final
        Fit the returned model on all regulators (otherwise the last fold's model is returned).
    symmetric
        Score each cross-validation pair from both orientations of its image.
    {doc_expression}
    random_state
        Seed of negatives, splits, initialisation and batch order: the same seed gives the same model.
    device
        ``None`` picks CUDA when available, else CPU.
    name
        Name of the model (default: the recipe's).
    key_added
        With ``folds >= 2``, cross-validated edge scores go to ``adata.uns[key_added]`` (each held-out pair's
        ``score``, the model's probabilities, ``fold``, ``corr``, and ``pvalue``/``qvalue`` of its association, as
        in :func:`cnnc.tl.predict_interactions`).
    seed
        Deprecated name of ``random_state`` (a FutureWarning).
    **settings
        Overrides of the recipe's settings: pair image (``bins``, ``pseudocount``, ``density_pseudocount``,
        ``transform``, ``scaling``: ``"rank"`` or ``"standard"`` trains a model of any measured variables, negative
        or discrete values allowed and no raw-count check, which its spec declares), fit (``epochs``, ``batch_size``, ``optimizer``, ``learning_rate``,
        ``weight_decay``, ``patience``, ``validation_fraction``), labelled pairs (``negative_ratio``,
        ``negatives``, ``max_pairs_per_dataset``, ``max_edges_per_truth``), ``architecture`` (merged into the
        recipe's :class:`cnnc.models.CNNC` arguments), ``features`` and ``wide_prior`` (extra per-pair inputs and
        the one the linear path is fixed to), ``deep_scales`` (candidate image weights).

    Returns
    -------
    The trained :class:`cnnc.models.Model`; its spec records the recipe, the data, the choices made by
    validation and the cross-validated metrics. Writes ``adata.uns[key_added]`` (``edges``, ``folds``,
    ``metrics``, ``params``) when ``folds >= 2``.
    """
    seed = resolve_random_state(random_state, seed, "cnnc.tl.train")
    _check_datasets(adata, edges)
    if "epochs" in settings:
        check_epochs(settings["epochs"])
    rec = resolve_recipe(recipe, settings)
    datasets = [adata] if isinstance(adata, AnnData) else list(adata)
    edge_tables = [edges] if isinstance(adata, AnnData) else list(edges)
    _check_arguments(datasets, edge_tables, folds, task)
    replaced = None
    if folds >= 2:  # one data set (checked above), maybe given as a list of one
        replaced = check_result_key(datasets[0], key_added, marker="folds", function="cnnc.tl.train")
    name = name or rec.name
    rng = np.random.default_rng(seed)
    read = [
        read_dataset(d, t, rec, layer=layer, use_raw=use_raw, tfs=tfs)
        for d, t in zip(datasets, edge_tables, strict=True)
    ]
    contexts, truths_list = [r[0] for r in read], [r[1] for r in read]
    arch = _architecture(rec, task)

    def fit(examples, fit_seed):
        return fit_examples(
            examples, architecture=arch, recipe=rec, rng=rng, seed=fit_seed, device=device, prior=rec.wide_prior
        )

    def spec_kwargs(features, edge_score="p_ab"):
        return _spec_fields(rec, task, features, edge_score)

    cv = None
    if folds >= 2:
        cv = _cross_validate(
            contexts[0], truths_list[0], rec, task, folds, fit, spec_kwargs, rng, seed, name, device, symmetric
        )
    features = choose_prior(rec, contexts, truths_list, rng)
    examples, knowns = build_all(contexts, truths_list, rec, features, task, rng)
    start = logg.info(
        f"training recipe {rec.name!r} on {sum(map(len, knowns)):,} known edges of "
        f"{len(np.unique(examples.pairs.regulator))} regulators in {len(datasets)} data set(s) "
        f"({len(examples):,} labelled pairs)"
    )
    choice, validation = (None, "p_ab"), None
    if rec.deep_scales and len(datasets) > 1 and rec.wide_prior:
        choice, validation = choose_image_weight(
            examples, contexts, truths_list, features, architecture=arch, recipe=rec, rng=rng, seed=seed, device=device
        )
    module, result = fit(examples, seed + 1000) if final or cv is None else cv[1]
    model = Model(module, ModelSpec(name=name, architecture=module.config, **spec_kwargs(features, choice[1])))
    if choice[0] is not None:
        model.set_deep_scale(choice[0])
    model.spec.training.update(
        _training_record(rec, contexts, truths_list, knowns, examples, seed=seed, result=result, validation=validation)
    )
    if cv is not None:
        model.spec.metrics.update(cv[0].metrics)
        if replaced:
            logg.warning(f"replacing the previous cross-validation in {replaced}")
        params = {"model": name, "recipe": rec.name, "task": task, "folds": int(folds), "seed": int(seed)}
        datasets[0].uns[key_added] = {
            "edges": cv[0].edges,
            "folds": cv[0].folds,
            "metrics": cv[0].metrics,
            "params": params,
        }
    logg.info("    finished", time=start, deep=f"cross-validated edges in adata.uns[{key_added!r}]" if cv else "")
    return model


def _cross_validate(context, truths, rec, task, folds, fit, spec_kwargs, rng, seed, name, device, symmetric):
    """Cross-validation on one data set; the context prior is chosen on each fold's training regulators only."""
    chosen = {}

    def fit_fold(examples, fold_seed):
        regulators = np.unique(examples.pairs.regulator)
        chosen["features"] = choose_prior(rec, [context], [truths], rng, regulators=[regulators])
        if chosen["features"]:
            examples.extra = context.stats.features(examples.pairs.a, examples.pairs.b, tuple(chosen["features"]))
        chosen["last"] = fit(examples, fold_seed)
        return chosen["last"]

    examples, knowns = build_all([context], [truths], rec, list(rec.features), task, rng)
    result = cross_validate(
        context,
        examples,
        knowns[0],
        folds=folds,
        fit_fold=fit_fold,
        spec_kwargs=lambda: spec_kwargs(chosen["features"]),
        options={"name": name, "seed": seed, "device": device, "symmetric": symmetric},
        rng=rng,
    )
    return result, chosen["last"]
