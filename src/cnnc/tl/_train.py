"""``cnnc.tl.train``: fit a CNNC model on known regulator → target pairs, with regulator-disjoint CV."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from anndata import AnnData
from scanpy import logging as logg

from .._checks import refuse_raw_counts
from .._data import expression_view
from .._engine._params import PairImageParams
from .._metrics import summarize
from .._scoring import score_pairs
from .._training._examples import Examples, build_examples, data_set_context
from .._training._fit import FitResult, fit_module
from .._training._labels import DIRECTION_CLASSES, INTERACTION_CLASSES, carve_validation, regulator_folds
from .._utils import package_version
from ..models import CNNC, Model, ModelSpec

MIN_CELLS = 20


def fit_examples(
    examples: Examples,
    *,
    architecture: dict,
    validation_fraction: float,
    rng: np.random.Generator,
    seed: int,
    fit_kwargs: dict,
    wide_prior: int | None = None,
) -> tuple[CNNC, FitResult]:
    """Fit a new network on examples, early-stopping on regulators carved out of them."""
    regulators = np.unique(examples.pairs.regulator)
    _, val_regs = carve_validation(regulators, validation_fraction, rng)
    is_val = np.isin(examples.pairs.regulator, val_regs)
    fit, val = examples.subset(~is_val), examples.subset(is_val)
    torch.manual_seed(seed)
    module = CNNC(**architecture)
    if wide_prior is not None:
        module.set_wide_prior(wide_prior)
    result = fit_module(
        module,
        fit.images,
        fit.pairs.label,
        val.images,
        val.pairs.label,
        extra=fit.extra,
        val_extra=val.extra,
        seed=seed,
        **fit_kwargs,
    )
    return module, result


def _all_pairs_of(regulators: np.ndarray, n_genes: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.repeat(regulators, n_genes)
    b = np.tile(np.arange(n_genes), len(regulators))
    keep = a != b
    return a[keep], b[keep]


def train(
    adata: AnnData | Sequence[AnnData],
    edges,
    *,
    tfs: list[str] | None = None,
    task: str = "direction",
    folds: int = 3,
    final: bool = True,
    negative_ratio: float = 1.0,
    negatives: str = "random",
    features: Sequence[str] = (),
    wide_prior: str | None = None,
    architecture: dict | None = None,
    bins: int = 32,
    pseudocount: float = 0.01,
    density_pseudocount: float = 1e-4,
    scaling: str = "log",
    max_pairs_per_dataset: int | None = None,
    epochs: int = 30,
    batch_size: int = 256,
    optimizer: str = "adam",
    learning_rate: float | None = None,
    weight_decay: float = 0.0,
    patience: int = 5,
    validation_fraction: float = 0.2,
    symmetric: bool = True,
    layer: str | None = None,
    use_raw: bool | None = None,
    seed: int = 0,
    device: str | None = None,
    name: str = "custom",
    key_added: str = "cnnc_cv",
) -> Model:
    """Train a CNNC model on known regulator → target interactions.

    Labels follow CNNC: each known pair (r, t) is class 1 ("regulator->target"), the swapped pair
    (t, r) class 2, and random pairs (r, g) of the same regulator class 0. With ``folds >= 2``, a
    regulator-disjoint cross-validation runs first (no regulator in both the training and test part
    of a fold); every regulator × gene pair of each test part is then scored by the model that did
    not see that regulator, and written as an edge table for :func:`cnnc.tl.evaluate`. Early stopping
    watches validation regulators carved from the training regulators, never the test ones.

    Parameters
    ----------
    adata
        Cells × genes with log-normalized expression, or a list of data sets to train one model on
        all of them (then ``edges`` is a list too, one table per data set, and ``folds=0``).
    edges
        Known interactions: DataFrame with ``regulator``/``target`` (or ``Gene1``/``Gene2``) columns.
        Gene names are matched case-insensitively; edges with genes not in the data are dropped (logged).
    tfs
        Only use edges of these regulators.
    task
        ``"direction"`` (none / regulator→target / target→regulator) or ``"interaction"`` (none / interaction).
    folds
        Regulator-disjoint cross-validation folds (0 to skip).
    final
        Fit the returned model on all regulators (otherwise the last fold's model is returned).
    negative_ratio
        Negative pairs per known edge of each regulator.
    negatives
        ``"random"`` (CNNC) or ``"non-target"`` (exclude the regulator's known partners).
    features
        Extra per-pair inputs fused into the network's dense layer (see ``cnnc._features.FEATURES``:
        ``"abs_pearson"``, ``"z_regulator"``, ``"z_target"``, ``"z_context"``); none in the original CNNC.
    wide_prior
        With ``architecture={"wide": True, ...}``: fix the linear part of the network to this feature (e.g.
        ``"z_context"``) and train only the image branch's correction to it (see :meth:`cnnc.models.CNNC.set_wide_prior`).
    architecture
        :class:`cnnc.models.CNNC` arguments (default: the original network).
    max_pairs_per_dataset
        Subsample each data set's labelled pairs to at most this many (so large data sets do not dominate).
    bins, pseudocount, density_pseudocount, scaling
        Pair-image recipe (see :func:`cnnc.tl.pair_histograms`). ``scaling="rank"`` or ``"standard"`` trains a
        model of any measured variables (negative or discrete values allowed; no raw-count check), which its
        spec declares so that prediction builds the same images.
    epochs, batch_size, optimizer, learning_rate, weight_decay, patience
        Optimisation: ``"sgd"`` is CNNC's (learning rate 0.02, Nesterov momentum 0.9), ``"adam"`` the default.
    validation_fraction
        Fraction of training regulators held out for early stopping.
    symmetric
        Score each test pair from both orientations of its image.
    layer, use_raw
        Where the log-expression is.
    seed
        Seed of negatives, splits, initialisation and batch order: the same seed gives the same model.
    device
        ``None`` picks CUDA when available, else CPU.
    name
        Name of the model.
    key_added
        With ``folds >= 2``, cross-validated edge scores go to ``adata.uns[key_added]``.

    Returns
    -------
    The trained :class:`cnnc.models.Model`; its spec records the data, the settings and the
    cross-validated metrics. Writes ``adata.uns[key_added]`` (``edges``, ``folds``, ``metrics``, ``params``)
    when ``folds >= 2``.
    """
    datasets = [adata] if isinstance(adata, AnnData) else list(adata)
    edge_tables = [edges] if isinstance(adata, AnnData) else list(edges)
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
    features = list(features)
    if wide_prior is not None and wide_prior not in features:
        raise ValueError(f"wide_prior {wide_prior!r} must be one of the features {features}.")
    prior_index = None if wide_prior is None else features.index(wide_prior)
    rng = np.random.default_rng(seed)
    params = PairImageParams(
        bins=bins, pseudocount=pseudocount, density_pseudocount=density_pseudocount, scaling=scaling
    )
    classes = DIRECTION_CLASSES if task == "direction" else INTERACTION_CLASSES
    arch = {"image_size": bins, "n_classes": len(classes), "n_extra_features": len(features), **(architecture or {})}
    if arch["n_classes"] != len(classes):
        raise ValueError(f"Task {task!r} needs n_classes={len(classes)}, architecture has {arch['n_classes']}.")

    contexts, parts, knowns = [], [], []
    for i, (data, table) in enumerate(zip(datasets, edge_tables, strict=True)):
        view = expression_view(data, layer=layer, use_raw=use_raw)
        if view.matrix.shape[0] < MIN_CELLS:
            raise ValueError(
                f"Only {view.matrix.shape[0]} cells: a pair image needs at least {MIN_CELLS} cells to say anything."
            )
        if scaling == "log":  # an expression model; rank / standard recipes read any values
            refuse_raw_counts(view.matrix, np.arange(len(view.var_names)), what=f"Values in {view.label}")
        context = data_set_context(view.matrix, view.var_names, params, features)
        part, known = build_examples(
            context,
            table,
            features=features,
            task=task,
            negative_ratio=negative_ratio,
            negatives=negatives,
            rng=rng,
            tfs=tfs,
            max_pairs=max_pairs_per_dataset,
            dataset_id=i,
        )
        contexts.append(context)
        parts.append(part)
        knowns.append(known)
    examples = Examples.concat(parts)
    n_regulators = len(np.unique(examples.pairs.regulator))
    start = logg.info(
        f"training on {sum(map(len, knowns)):,} known edges of {n_regulators} regulators "
        f"in {len(datasets)} data set(s) ({len(examples):,} labelled pairs)"
    )
    fit_kwargs = {
        "epochs": epochs,
        "batch_size": batch_size,
        "optimizer": optimizer,
        "learning_rate": learning_rate,
        "weight_decay": weight_decay,
        "patience": patience,
        "device": device,
    }
    spec_kwargs = {
        "task": task,
        "classes": list(classes),
        "image": params.to_dict(),
        "features": features,
        "gene_matching": "case-insensitive",
    }
    if scaling != "log":
        spec_kwargs["expects"] = f"any measured variables (the pair images bin {scaling} values); raw counts allowed"

    cv_frames, fold_rows, module = [], [], None
    if folds >= 2:
        context, known = contexts[0], knowns[0]
        names = context.var_names.astype(str)
        n_genes = len(names)
        truth = set(zip(known["regulator"], known["target"], strict=True))
        regulators = np.unique(examples.pairs.regulator)
        for k, test_regs in enumerate(regulator_folds(regulators, folds, rng)):
            in_train = ~np.isin(examples.pairs.regulator, test_regs)
            module, fit = fit_examples(
                examples.subset(in_train),
                architecture=arch,
                validation_fraction=validation_fraction,
                rng=rng,
                seed=seed + k,
                fit_kwargs=fit_kwargs,
                wide_prior=prior_index,
            )
            fold_model = Model(module, ModelSpec(name=f"{name}-fold{k}", architecture=module.config, **spec_kwargs))
            a, b = _all_pairs_of(test_regs, n_genes)
            extra = None
            if features:
                stats = context.stats

                def extra(ab, bb, stats=stats):
                    return stats.features(ab, bb, tuple(features))

            proba = score_pairs(context.imager, a, b, fold_model, device=device, symmetric=symmetric, extra=extra)
            frame = pd.DataFrame(
                {
                    "regulator": names[a],
                    "target": names[b],
                    "p_none": proba[:, 0],
                    "p_ab": proba[:, 1],
                    "p_ba": proba[:, 2] if task == "direction" else np.nan,
                    "score": proba[:, 1],
                    "fold": k,
                }
            )
            cv_frames.append(frame)
            y = np.fromiter(((i, j) in truth for i, j in zip(a, b, strict=True)), dtype=bool, count=len(a))
            row = {"fold": k, "n_regulators": len(test_regs), "epochs": fit.best_epoch + 1, "seconds": fit.seconds}
            if y.any() and not y.all():
                row.update(summarize(y, proba[:, 1]))
            fold_rows.append(row)
            logg.info(
                f"    fold {k}: "
                + ", ".join(
                    f"{key} {val:.3g}" if isinstance(val, float) else f"{key} {val}" for key, val in row.items()
                )
            )
    fold_table = pd.DataFrame(fold_rows)
    metrics = {}
    if len(fold_table) and "auroc" in fold_table:
        metrics = {
            "cv_folds": int(folds),
            "cv_auroc_mean": float(fold_table["auroc"].mean()),
            "cv_auprc_ratio_mean": float(fold_table["auprc_ratio"].mean()),
            "cv_epr_mean": float(fold_table["epr"].mean()),
        }
    if final or module is None:
        module, fit = fit_examples(
            examples,
            architecture=arch,
            validation_fraction=validation_fraction,
            rng=rng,
            seed=seed + 1000,
            fit_kwargs=fit_kwargs,
            wide_prior=prior_index,
        )
    training = {
        "n_datasets": len(datasets),
        "n_known_edges": int(sum(map(len, knowns))),
        "n_regulators": int(n_regulators),
        "n_labelled_pairs": int(len(examples)),
        "n_cells": [int(c.imager.n_cells) for c in contexts],
        "n_genes": [int(len(c.var_names)) for c in contexts],
        "negative_ratio": float(negative_ratio),
        "negatives": negatives,
        "wide_prior": wide_prior,
        "max_pairs_per_dataset": max_pairs_per_dataset,
        "seed": int(seed),
        **{k: v for k, v in fit_kwargs.items() if k != "device"},
        "best_epoch": int(fit.best_epoch),
        "cnnc_version": package_version(),
    }
    model = Model(
        module, ModelSpec(name=name, architecture=module.config, training=training, metrics=metrics, **spec_kwargs)
    )

    if cv_frames:
        cv = pd.concat(cv_frames, ignore_index=True)
        cv = cv.sort_values("score", ascending=False, kind="stable", ignore_index=True)
        cv.index = cv.index.astype(str)
        fold_table.index = fold_table.index.astype(str)
        datasets[0].uns[key_added] = {
            "edges": cv,
            "folds": fold_table,
            "metrics": metrics,
            "params": {
                "model": name,
                "task": task,
                "folds": int(folds),
                "seed": int(seed),
                "symmetric": bool(symmetric),
            },
        }
    logg.info(
        "    finished", time=start, deep=f"cross-validated edges in adata.uns[{key_added!r}]" if cv_frames else ""
    )
    return model
