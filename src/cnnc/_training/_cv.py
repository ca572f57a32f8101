"""Regulator-disjoint cross-validation on one data set.

Every pair of each test regulator is scored by a model that never saw that regulator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scanpy import logging as logg

from .._evidence import pair_evidence
from .._metrics import summarize
from .._scoring import edge_probabilities, score_pairs
from .._significance import add_significance
from .._tables import edge_table
from .._utils import cross_pairs
from ..models import Model, ModelSpec
from ._labels import regulator_folds


@dataclass
class CrossValidation:
    """Edges scored by the fold models, one row per fold, and the mean metrics."""

    edges: pd.DataFrame
    folds: pd.DataFrame
    metrics: dict


def cross_validate(context, examples, known, *, folds: int, fit_fold, spec_kwargs: dict, options: dict, rng):
    """Run ``folds`` regulator-disjoint folds.

    ``fit_fold(examples, seed)`` returns ``(module, fit_result)``; ``spec_kwargs()`` the fold model's spec
    arguments (its features may be chosen inside ``fit_fold``); ``options`` holds ``name``, ``seed``, ``device``
    and ``symmetric``.
    """
    names = context.var_names.astype(str)
    truth = set(zip(known["regulator"], known["target"], strict=True))
    regulators = np.unique(examples.pairs.regulator)
    frames, rows = [], []
    matrix, scored_a, scored_b = context.imager.source.matrix, [], []
    for k, test_regs in enumerate(regulator_folds(regulators, folds, rng)):
        module, fit = fit_fold(examples.subset(~np.isin(examples.pairs.regulator, test_regs)), options["seed"] + k)
        model = Model(module, ModelSpec(name=f"{options['name']}-fold{k}", architecture=module.config, **spec_kwargs()))
        a, b = cross_pairs(test_regs, np.arange(len(names)))  # every pair of the held-out regulators
        extra = None
        if model.spec.features:
            stats, features = context.stats, tuple(model.spec.features)

            def extra(ab, bb, stats=stats, features=features):
                return stats.features(ab, bb, features)

        proba = score_pairs(
            context.imager, a, b, model, device=options["device"], symmetric=options["symmetric"], extra=extra
        )
        probabilities = edge_probabilities(proba, model)
        score = probabilities.pop("score")
        corr = pair_evidence(matrix, a, b)[0]
        frames.append(edge_table(names[a], names[b], score, **probabilities, fold=k, corr=corr))
        scored_a.append(a)
        scored_b.append(b)
        y = np.fromiter(((i, j) in truth for i, j in zip(a, b, strict=True)), dtype=bool, count=len(a))
        row = {"fold": k, "n_regulators": len(test_regs), "epochs": fit.best_epoch + 1, "seconds": fit.seconds}
        if y.any() and not y.all():
            row.update(summarize(y, score))
        rows.append(row)
        logg.info(
            f"    fold {k}: "
            + ", ".join(f"{key} {val:.3g}" if isinstance(val, float) else f"{key} {val}" for key, val in row.items())
        )
    table = pd.DataFrame(rows)
    metrics = {}
    if len(table) and "auroc" in table:
        metrics = {
            "cv_folds": int(folds),
            "cv_auroc_mean": float(table["auroc"].mean()),
            "cv_auprc_ratio_mean": float(table["auprc_ratio"].mean()),
            "cv_epr_mean": float(table["epr"].mean()),
        }
    edges = pd.concat(frames, ignore_index=True)
    edges = edge_table(edges.pop("regulator"), edges.pop("target"), edges.pop("score"), **edges)
    # the association of each pair, as in every edge table (the null reads the genes of the pairs scored)
    edges = add_significance(edges, matrix, np.concatenate(scored_a), np.concatenate(scored_b), min_cells=0)
    table.index = table.index.astype(str)
    return CrossValidation(edges, table, metrics)
