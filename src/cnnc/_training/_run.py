"""The steps of training one recipe: read each data set, choose the context prior, fit, choose the image weight."""

from __future__ import annotations

import numpy as np
import torch
from scanpy import logging as logg

from .._checks import refuse_nonfinite_weights, refuse_raw_counts
from .._data import expression_view
from .._prior import mean_feature
from ..models import CNNC
from ._examples import Examples, build_examples, data_set_context, match_truths
from ._fit import fit_module
from ._labels import carve_validation
from ._validation import choose_deep_scale, choose_measures

MIN_CELLS = 20


def statistics_features(recipe) -> list[str]:
    """Features the context statistics must hold: the recipe's own and, to choose a prior, each single measure."""
    singles = sorted({m for choice in recipe.measure_choices for m in choice})
    return [*(mean_feature([m]) for m in singles), *recipe.features]


def read_dataset(data, table, recipe, *, layer, use_raw, tfs):
    """One data set's imager and context statistics, and its ground truths as gene positions."""
    view = expression_view(data, layer=layer, use_raw=use_raw)
    if view.matrix.shape[0] < MIN_CELLS:
        raise ValueError(
            f"Only {view.matrix.shape[0]} cells: a pair image needs at least {MIN_CELLS} cells to say anything."
        )
    if recipe.image.scaling == "log":  # an expression model; rank / standard recipes read any values
        refuse_raw_counts(
            view.matrix,
            np.arange(len(view.var_names)),
            what=f"Values in {view.label}",
            label=view.label,
            gene_names=view.var_names,
        )
    context = data_set_context(view.matrix, view.var_names, recipe.image, statistics_features(recipe))
    context.reads_images = bool(recipe.architecture.get("reads_images", True))
    return context, match_truths(context, table, tfs)


def choose_prior(recipe, contexts, truths_list, rng, regulators=None) -> list[str]:
    """The features of the model: the chosen context prior first (when the recipe chooses one), then its own.

    ``regulators`` (one array per data set) restricts the choice to those regulators' edges (cross-validation
    must not look at its test regulators).
    """
    if not recipe.measure_choices:
        return list(recipe.features)
    knowns = []
    for i, truths in enumerate(truths_list):
        kept = {}
        for name, (known, _) in truths.items():
            if regulators is not None:
                known = known[np.isin(known["regulator"], regulators[i])]
            if len(known):
                kept[name] = known
        knowns.append(kept)
    best, _ = choose_measures(
        [c.stats for c in contexts], knowns, recipe.measure_choices, [len(c.var_names) for c in contexts], rng
    )
    feature = mean_feature(best)
    for context in contexts:
        singles = [context.stats.means[mean_feature([m])] for m in best]
        context.stats.means[feature] = sum(singles) / np.float32(len(singles))
    return [feature, *recipe.features]


def build_all(contexts, truths_list, recipe, features, task, rng) -> tuple[Examples, list]:
    """Labelled examples of every data set (regulator ids kept apart per data set) and the known edges used."""
    parts, knowns = [], []
    for i, (context, truths) in enumerate(zip(contexts, truths_list, strict=True)):
        part, known = build_examples(
            context, truths, features=features, task=task, sampling=recipe.sampling, rng=rng, dataset_id=i
        )
        parts.append(part)
        knowns.append(known)
    return Examples.concat(parts), knowns


def fit_examples(examples: Examples, *, architecture: dict, recipe, rng, seed: int, device, prior: bool):
    """Fit a new network on examples, early-stopping on regulators carved out of them."""
    regulators = np.unique(examples.pairs.regulator)
    _, val_regs = carve_validation(regulators, recipe.fit.validation_fraction, rng)
    is_val = np.isin(examples.pairs.regulator, val_regs)
    fit, val = examples.subset(~is_val), examples.subset(is_val)
    torch.manual_seed(seed)
    module = CNNC(**architecture)
    if prior:
        module.set_wide_prior(0)
    settings = {k: v for k, v in recipe.fit.to_dict().items() if k != "validation_fraction"}
    result = fit_module(
        module,
        fit.images,
        fit.pairs.label,
        val.images,
        val.pairs.label,
        extra=fit.extra,
        val_extra=val.extra,
        seed=seed,
        device=device,
        **settings,
    )
    refuse_nonfinite_weights(module, learning_rate=recipe.fit.learning_rate, optimizer=recipe.fit.optimizer)
    return module, result


def choose_image_weight(examples, contexts, truths_list, features, *, architecture, recipe, rng, seed, device):
    """Train one network per data set and let each score the others: the image weight and the edge score."""
    fitted = []
    for i in range(len(contexts)):
        logg.info(f"    validation model on data set {i} alone")
        module, _ = fit_examples(
            examples.subset(examples.dataset == i),
            architecture=architecture,
            recipe=recipe,
            rng=rng,
            seed=seed + 100 + i,
            device=device,
            prior=recipe.wide_prior,
        )
        fitted.append(module.cpu())
    knowns = [{name: known for name, (known, _) in truths.items()} for truths in truths_list]
    return choose_deep_scale(
        fitted,
        contexts,
        knowns,
        tuple(features),
        recipe.deep_scales,
        bool(architecture.get("direction_from_images")),
        rng,
    )
