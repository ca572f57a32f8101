"""``cnnc.tl.train``: fit a CNNC model on known regulator → target pairs, with regulator-disjoint CV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from anndata import AnnData
from scanpy import logging as logg

from .._checks import refuse_raw_counts
from .._data import expression_view
from .._engine._images import PairImager
from .._engine._params import PairImageParams
from .._metrics import summarize
from .._scoring import score_pairs
from .._training._fit import FitResult, fit_module
from .._training._labels import (
    DIRECTION_CLASSES,
    INTERACTION_CLASSES,
    LabelledPairs,
    carve_validation,
    labelled_pairs,
    match_edges,
    regulator_folds,
)
from .._utils import package_version
from ..models import CNNC, Model, ModelSpec

MIN_CELLS = 20


def _fit_one(
    images: np.ndarray,
    pairs: LabelledPairs,
    regulators: np.ndarray,
    *,
    architecture: dict,
    validation_fraction: float,
    rng: np.random.Generator,
    seed: int,
    fit_kwargs: dict,
) -> tuple[CNNC, FitResult]:
    fit_regs, val_regs = carve_validation(regulators, validation_fraction, rng)
    is_fit = np.isin(pairs.regulator, fit_regs)
    is_val = np.isin(pairs.regulator, val_regs)
    torch.manual_seed(seed)
    module = CNNC(**architecture)
    result = fit_module(
        module,
        images[is_fit],
        pairs.label[is_fit],
        images[is_val],
        pairs.label[is_val],
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
    adata: AnnData,
    edges,
    *,
    tfs: list[str] | None = None,
    task: str = "direction",
    folds: int = 3,
    final: bool = True,
    negative_ratio: float = 1.0,
    negatives: str = "random",
    architecture: dict | None = None,
    bins: int = 32,
    pseudocount: float = 0.01,
    density_pseudocount: float = 1e-4,
    epochs: int = 30,
    batch_size: int = 256,
    optimizer: str = "adam",
    learning_rate: float | None = None,
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
        Cells × genes with log-normalized expression.
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
    architecture
        :class:`cnnc.models.CNNC` arguments (default: the original network).
    bins, pseudocount, density_pseudocount
        Pair-image recipe (see :func:`cnnc.tl.pair_histograms`).
    epochs, batch_size, optimizer, learning_rate, patience
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
    view = expression_view(adata, layer=layer, use_raw=use_raw)
    if view.matrix.shape[0] < MIN_CELLS:
        raise ValueError(
            f"Only {view.matrix.shape[0]} cells: a pair image needs at least {MIN_CELLS} cells to say anything."
        )
    known = match_edges(edges, view.var_names)
    if tfs is not None:
        lower = view.var_names.str.lower()
        keep = np.isin(lower[known["regulator"]], [str(t).lower() for t in tfs])
        if not keep.any():
            raise ValueError("None of the given `tfs` has a known edge in `edges`.")
        known = known[keep].reset_index(drop=True)
    if folds not in (0, 1) and folds < 2:
        raise ValueError(f"folds must be 0 (no cross-validation) or >= 2, got {folds}.")
    n_genes = len(view.var_names)
    refuse_raw_counts(view.matrix, np.arange(n_genes), what=f"Values in {view.label}")
    rng = np.random.default_rng(seed)
    params = PairImageParams(bins=bins, pseudocount=pseudocount, density_pseudocount=density_pseudocount)
    arch = {"image_size": bins, "n_classes": 3 if task == "direction" else 2, **(architecture or {})}
    classes = DIRECTION_CLASSES if task == "direction" else INTERACTION_CLASSES
    if arch["n_classes"] != len(classes):
        raise ValueError(f"Task {task!r} needs n_classes={len(classes)}, architecture has {arch['n_classes']}.")
    pairs = labelled_pairs(known, n_genes, task=task, negative_ratio=negative_ratio, negatives=negatives, rng=rng)
    regulators = np.unique(pairs.regulator)
    start = logg.info(
        f"training on {len(known):,} known edges of {len(regulators)} regulators ({len(pairs):,} labelled pairs)"
    )
    imager = PairImager(view.matrix, np.arange(n_genes), params, gene_names=view.var_names.astype(str).tolist())
    images = imager.images(pairs.a, pairs.b)
    fit_kwargs = {
        "epochs": epochs,
        "batch_size": batch_size,
        "optimizer": optimizer,
        "learning_rate": learning_rate,
        "patience": patience,
        "device": device,
    }
    spec_kwargs = {
        "task": task,
        "classes": list(classes),
        "image": params.to_dict(),
        "gene_matching": "case-insensitive",
    }

    names = view.var_names.astype(str)
    cv_frames, fold_rows, module = [], [], None
    if folds >= 2:
        for k, test_regs in enumerate(regulator_folds(regulators, folds, rng)):
            train_regs = np.setdiff1d(regulators, test_regs)
            in_train = np.isin(pairs.regulator, train_regs)
            module, fit = _fit_one(
                images[in_train],
                pairs.subset(in_train),
                train_regs,
                architecture=arch,
                validation_fraction=validation_fraction,
                rng=rng,
                seed=seed + k,
                fit_kwargs=fit_kwargs,
            )
            fold_model = Model(module, ModelSpec(name=f"{name}-fold{k}", architecture=module.config, **spec_kwargs))
            a, b = _all_pairs_of(test_regs, n_genes)
            proba = score_pairs(imager, a, b, fold_model, device=device, symmetric=symmetric)
            score = proba[:, 1]
            frame = pd.DataFrame(
                {
                    "regulator": names[a],
                    "target": names[b],
                    "p_none": proba[:, 0],
                    "p_ab": proba[:, 1],
                    "p_ba": proba[:, 2] if task == "direction" else np.nan,
                    "score": score,
                    "fold": k,
                }
            )
            cv_frames.append(frame)
            truth = set(zip(known["regulator"], known["target"], strict=True))
            y = np.fromiter(((i, j) in truth for i, j in zip(a, b, strict=True)), dtype=bool, count=len(a))
            row = {"fold": k, "n_regulators": len(test_regs), "epochs": fit.best_epoch + 1, "seconds": fit.seconds}
            if y.any() and not y.all():
                row.update(summarize(y, score))
            fold_rows.append(row)
            logg.info(f"    fold {k}: {row}")
    fold_table = pd.DataFrame(fold_rows)
    metrics = {}
    if len(fold_table) and "auroc" in fold_table:
        metrics = {
            "cv_folds": int(folds),
            "cv_auroc_mean": float(fold_table["auroc"].mean()),
            "cv_auprc_ratio_mean": float(fold_table["auprc_ratio"].mean()),
        }
    if final or module is None:
        module, fit = _fit_one(
            images,
            pairs,
            regulators,
            architecture=arch,
            validation_fraction=validation_fraction,
            rng=rng,
            seed=seed + 1000,
            fit_kwargs=fit_kwargs,
        )
    training = {
        "n_known_edges": int(len(known)),
        "n_regulators": int(len(regulators)),
        "n_labelled_pairs": int(len(pairs)),
        "n_cells": int(imager.n_cells),
        "n_genes": int(n_genes),
        "negative_ratio": float(negative_ratio),
        "negatives": negatives,
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
        adata.uns[key_added] = {
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
