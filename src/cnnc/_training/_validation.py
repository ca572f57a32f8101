"""Choices made by validation across data sets: which context prior, and how much the pair images weigh.

Every choice maximises the mean over data sets of the mean over that data set's ground truths of the log
AUPRC ratio on every (regulator, gene) pair of the truth's regulators: each ground truth weighs equally
(pooling the pairs would let the largest truth decide for all), and each data set too. Only the data sets
given to training are looked at; a held-out data set never is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scanpy import logging as logg

from .._metrics import summarize
from .._prior import mean_feature
from .._utils import cross_pairs
from ..models._cnnc import split_direction

#: Regulators of one truth scored per validation data set (a random subset keeps validation affordable).
MAX_VALIDATION_REGULATORS = 60


@dataclass
class Candidates:
    """Every (regulator, gene) pair of some regulators of one ground truth, with its label."""

    a: np.ndarray
    b: np.ndarray
    y: np.ndarray


def candidates(known, n_genes: int, rng: np.random.Generator, max_regulators: int | None = None) -> Candidates:
    """All pairs (r, g), g != r, of the truth's regulators (at most ``max_regulators``, drawn at random)."""
    regulators = np.unique(known["regulator"].to_numpy())
    if max_regulators is not None and len(regulators) > max_regulators:
        regulators = np.sort(rng.choice(regulators, size=max_regulators, replace=False))
    a, b = cross_pairs(regulators, np.arange(n_genes))
    edges = set(zip(known["regulator"].to_numpy().tolist(), known["target"].to_numpy().tolist(), strict=True))
    y = np.fromiter(((i, j) in edges for i, j in zip(a.tolist(), b.tolist(), strict=True)), dtype=bool, count=len(a))
    return Candidates(a, b, y)


def _log_ratio(y: np.ndarray, score: np.ndarray) -> float:
    if not y.any() or y.all():
        return np.nan
    return float(np.log(summarize(y, score)["auprc_ratio"]))


def equal_weight(per_dataset: list[list[float]]) -> float:
    """Mean over data sets of the mean over their truths (NaN truths, e.g. without positives, are skipped)."""
    means = [np.nanmean(v) for v in per_dataset if np.isfinite(v).any()]
    return float(np.mean(means)) if means else -np.inf


def choose_measures(stats_list, truths_list, choices, n_genes_list, rng) -> tuple[tuple[str, ...], dict]:
    """The set of association measures whose mean context score ranks the known edges best (no training).

    ``stats_list[i]`` must hold the single-measure features ``z_mean:<m>`` of every measure in ``choices``.
    """
    measures = sorted({m for c in choices for m in c})
    table = {}
    per_choice = {c: [] for c in choices}
    for stats, truths, n_genes in zip(stats_list, truths_list, n_genes_list, strict=True):
        rows = {c: [] for c in choices}
        for known in truths.values():
            cand = candidates(known, n_genes, rng)
            single = stats.features(cand.a, cand.b, [mean_feature([m]) for m in measures])
            column = {m: single[:, i] for i, m in enumerate(measures)}
            for c in choices:
                rows[c].append(_log_ratio(cand.y, np.mean([column[m] for m in c], axis=0)))
        for c in choices:
            per_choice[c].append(rows[c])
    for c in choices:
        table["+".join(c)] = equal_weight(per_choice[c])
    best = max(choices, key=lambda c: table["+".join(c)])
    logg.info(
        f"    context prior chosen by validation: {'+'.join(best)} (mean log AUPRC ratio {table['+'.join(best)]:.3f})"
    )
    return best, table


@torch.inference_mode()
def branch_logits(module, imager, stats, features, a, b, *, batch_size: int = 2048):
    """The image branch's and the linear path's logits of pairs (a, b) and of the swapped pairs (b, a)."""
    module.eval()
    out = {k: np.empty((len(a), 3), np.float32) for k in ("deep_ab", "deep_ba", "wide_ab", "wide_ba")}
    for start in range(0, len(a), batch_size):
        sl = slice(start, start + batch_size)
        for tag, (x, y) in (("ab", (a[sl], b[sl])), ("ba", (b[sl], a[sl]))):
            if module.config["reads_images"]:
                images = torch.from_numpy(imager.images(x, y))[:, None]
            else:
                side = module.config["image_size"]
                images = torch.zeros((len(x), 1, side, side))
            deep, wide = module.branches(images, torch.from_numpy(stats.features(x, y, features)))
            out[f"deep_{tag}"][sl] = deep.numpy()
            out[f"wide_{tag}"][sl] = wide.numpy()
    return out


def _softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def combine(deep: np.ndarray, wide: np.ndarray, scale: float, direction_from_images: bool) -> np.ndarray:
    """Logits of a wide network at ``deep_scale=scale`` from its branches (as :meth:`cnnc.models.CNNC.forward`)."""
    if not direction_from_images:
        return scale * deep + wide
    return split_direction(torch.from_numpy(deep), scale).numpy() + wide


def symmetric_proba(logits: dict, scale: float, direction_from_images: bool) -> np.ndarray:
    """Probabilities as prediction reads a pair: both orientations, the swapped one's directions exchanged."""
    p_ab = _softmax(combine(logits["deep_ab"], logits["wide_ab"], scale, direction_from_images))
    p_ba = _softmax(combine(logits["deep_ba"], logits["wide_ba"], scale, direction_from_images))
    return (p_ab + p_ba[:, [0, 2, 1]]) / 2


def edge_score(proba: np.ndarray, mode: str) -> np.ndarray:
    """The ranking score of a direction model's pair (regulator a, gene b) (see ``ModelSpec.edge_score``)."""
    return proba[:, 1] if mode == "p_ab" else proba[:, 1] + proba[:, 2]


def choose_deep_scale(
    fitted, contexts, truths_list, features, scales, direction_from_images, rng
) -> tuple[tuple[float, str], dict]:
    """The image branch's weight and the edge score: each data set's own model scores every other data set's truths.

    ``fitted[i]`` is a network trained on data set ``i`` alone. Returns ``(deep_scale, edge_score)``.
    """
    options = [(s, mode) for s in scales for mode in ("p_ab", "interaction")]
    per_option = {o: [] for o in options}
    for i, module in enumerate(fitted):
        for j, (context, truths) in enumerate(zip(contexts, truths_list, strict=True)):
            if i == j:
                continue
            rows = {o: [] for o in options}
            for known in truths.values():
                cand = candidates(known, len(context.var_names), rng, MAX_VALIDATION_REGULATORS)
                logits = branch_logits(module, context.imager, context.stats, features, cand.a, cand.b)
                for s, mode in options:
                    proba = symmetric_proba(logits, s, direction_from_images)
                    rows[(s, mode)].append(_log_ratio(cand.y, edge_score(proba, mode)))
            for o in options:
                per_option[o].append(rows[o])
    table = {f"{s}/{mode}": equal_weight(per_option[(s, mode)]) for s, mode in options}
    best = max(options, key=lambda o: table[f"{o[0]}/{o[1]}"])
    logg.info(f"    image-branch weight and edge score chosen by validation: {best} (mean log AUPRC ratio {table})")
    return (float(best[0]), best[1]), table
