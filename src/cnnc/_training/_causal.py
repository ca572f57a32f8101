"""The training recipe of ``cnnc-causal``: synthetic cause -> effect pairs only, two-channel unit-free pair images.

Every setting of the shipped model is in :data:`CAUSAL_RECIPE`; :func:`cnnc.models.train_causal` trains it
(``benchmarks/train_causal.py`` calls it and writes the model file).
"""

from __future__ import annotations

import time

import numpy as np
from scanpy import logging as logg

from .._engine._images import PairImager
from .._engine._params import PairImageParams

CLASSES = ["none", "a->b", "b->a"]
#: Every setting that makes cnnc-causal (version 2)
CAUSAL_RECIPE = {
    "image": {"bins": 16, "scaling": "rank+standard"},
    "architecture": {
        "in_channels": 2,
        "image_size": 16,
        "filters": [32, 64],
        "dense": 128,
        "n_classes": 3,
        "conv_dropout": 0.1,
        "dense_dropout": 0.3,
        "batchnorm": True,
    },
    # (samples per pair, share of the pairs): from a small table to a large survey
    "sizes": [[100, 0.15], [300, 0.2], [1000, 0.3], [3000, 0.2], [10000, 0.15]],
    # share of the pairs from each generator of cnnc.datasets.causal_pairs, and its options
    "generators": {"varied": 0.7, "cells": 0.3},
    "cells_options": {"p_interventions": 0.5},
    "p_none": 0.25,
    "n_pairs": 24_000,
    "n_validation": 2_000,
    "epochs": 8,
    "batch_size": 256,
    "learning_rate": 1e-3,
    "weight_decay": 1e-5,
    "seed": 0,
}


def _images(adata, params: PairImageParams) -> tuple[np.ndarray, np.ndarray]:
    pairs = adata.uns["pairs"]
    imager = PairImager(adata.X, np.arange(adata.n_vars), params, gene_names=list(adata.var_names))
    a = adata.var_names.get_indexer(pairs["gene_a"])
    b = adata.var_names.get_indexer(pairs["gene_b"])
    labels = pairs["label"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    images = imager.images(a, b)
    if images.ndim == 3:  # a one-view recipe ("rank" or "standard"): one channel
        images = images[:, None]
    return images, labels, (pairs["mechanism"].to_numpy())


def causal_training_set(recipe: dict, n_pairs: int, seed: int) -> dict[str, np.ndarray]:
    """Images, labels and generator of ``n_pairs`` synthetic pairs drawn as ``recipe`` says (seeded by ``seed``)."""
    return causal_training_sets(recipe, [recipe["image"]], n_pairs, seed)[0]


def causal_training_sets(recipe: dict, images: list[dict], n_pairs: int, seed: int) -> list[dict[str, np.ndarray]]:
    """The pairs of :func:`causal_training_set` made once and imaged by each recipe of ``images`` (one set each)."""
    from ..datasets._causal_pairs import causal_pairs

    params = [PairImageParams(**image) for image in images]
    xs, ys, gens = [[] for _ in params], [], []
    for g, (generator, g_share) in enumerate(recipe["generators"].items()):
        options = recipe["cells_options"] if generator == "cells" else {}
        for k, (n_cells, share) in enumerate(recipe["sizes"]):
            todo, part = max(1, round(n_pairs * g_share * share)), 0
            while todo > 0:  # at most 5 million values per call, to keep memory small
                n = min(todo, max(1, 2_500_000 // n_cells))
                adata = causal_pairs(
                    n,
                    n_cells=n_cells,
                    seed=seed * 100_000 + g * 10_000 + k * 1000 + part,
                    p_none=recipe["p_none"],
                    generator=generator,
                    **options,
                )
                for i, param in enumerate(params):
                    x, y, _ = _images(adata, param)
                    xs[i].append(x)
                ys.append(y)
                gens.append(np.full(len(y), generator))
                todo, part = todo - n, part + 1
    y, gen = np.concatenate(ys), np.concatenate(gens)
    return [{"x": np.concatenate(x), "y": y, "generator": gen} for x in xs]


def _augment(x, y, gen):
    """Reverse either variable's axis (direction kept) and transpose (a->b and b->a swap) at random."""
    import torch

    n = len(x)
    flip_rows = torch.rand(n, generator=gen) < 0.5
    flip_cols = torch.rand(n, generator=gen) < 0.5
    swap = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip_rows[:, None, None, None], x.flip(2), x)
    x = torch.where(flip_cols[:, None, None, None], x.flip(3), x)
    x = torch.where(swap[:, None, None, None], x.transpose(2, 3), x)
    return x, torch.where(swap, torch.tensor([0, 2, 1])[y], y)


def _probabilities(net, x: np.ndarray) -> np.ndarray:
    """Class probabilities read both ways (image and transpose, directed classes swapped), averaged."""
    import torch

    net.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(x), 2048):
            xt = torch.from_numpy(x[start : start + 2048])
            p = torch.softmax(net(xt), 1) + torch.softmax(net(xt.transpose(2, 3)), 1)[:, [0, 2, 1]]
            out.append((p / 2).numpy())
    return np.concatenate(out)


def causal_validation(net, data: dict[str, np.ndarray]) -> dict[str, float]:
    """Direction accuracy of the causal pairs of each generator, and AUROC of 1 - P(none) for a link."""
    from sklearn.metrics import roc_auc_score

    p, y = _probabilities(net, data["x"]), data["y"]
    out = {}
    for generator in np.unique(data["generator"]):
        causal = (y > 0) & (data["generator"] == generator)
        out[f"direction {generator}"] = float(np.mean((p[causal, 1] > p[causal, 2]) == (y[causal] == 1)))
    out["link auroc"] = float(roc_auc_score(y > 0, 1 - p[:, 0]))
    return out


def _fit(net, train: dict, val: dict, recipe: dict, on_epoch=None) -> tuple[dict, list[dict]]:
    """Adam with a cosine schedule; keeps the epoch of best mean direction accuracy on the validation pairs."""
    import torch

    opt = torch.optim.Adam(net.parameters(), lr=recipe["learning_rate"], weight_decay=recipe["weight_decay"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=recipe["epochs"])
    gen = torch.Generator().manual_seed(recipe["seed"])
    xt, yt = torch.from_numpy(train["x"]), torch.from_numpy(train["y"]).long()
    best, best_state, history, t0 = -1.0, None, [], time.time()
    for epoch in range(recipe["epochs"]):
        net.train()
        order = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for start in range(0, len(order), recipe["batch_size"]):
            idx = order[start : start + recipe["batch_size"]]
            xb, yb = _augment(xt[idx], yt[idx], gen)
            loss = torch.nn.functional.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        metrics = causal_validation(net, val)
        history.append(
            {"epoch": epoch, "loss": round(total / len(xt), 4), **{k: round(v, 4) for k, v in metrics.items()}}
        )
        logg.info(f"    epoch {epoch}: {history[-1]} ({time.time() - t0:.0f} s)")
        score = np.mean([v for k, v in metrics.items() if k.startswith("direction")])
        if score > best:
            best, best_state = score, {k: v.clone() for k, v in net.state_dict().items()}
            if on_epoch is not None:
                on_epoch(net, history)
    net.load_state_dict(best_state)
    return max(history, key=lambda h: np.mean([v for k, v in h.items() if k.startswith("direction")])), history


def train_causal(recipe: dict | None = None, *, name: str = "cnnc-causal", on_best=None, **changes):
    """Train a cause-effect direction model on synthetic pairs only, as ``cnnc-causal`` was trained.

    Draws ``recipe["n_pairs"]`` pairs of :func:`cnnc.datasets.causal_pairs` (both generators, several sample
    sizes), makes their two-channel pair images (ranks and z-scores of both variables), and fits the small CNN
    with random reversals of either axis (label kept) and transpositions (direction label swapped). The epoch of
    best direction accuracy on ``recipe["n_validation"]`` pairs of other seeds is kept.

    Parameters
    ----------
    recipe
        The settings (default :data:`CAUSAL_RECIPE`, the shipped model's).
    name
        Name written into the model's spec.
    on_best
        Called as ``on_best(model)`` with the model of each new best epoch (e.g. to save a checkpoint).
    **changes
        Settings of the recipe to change (e.g. ``n_pairs=2000, epochs=2`` for a quick run).

    Returns
    -------
    The trained :class:`cnnc.models.Model`, with the recipe, the validation numbers and the training history in
    its spec.
    """
    import torch

    recipe = {**(recipe or CAUSAL_RECIPE), **changes}
    unknown = set(changes) - set(CAUSAL_RECIPE)
    if unknown:
        raise ValueError(f"Unknown recipe settings {sorted(unknown)}; known: {sorted(CAUSAL_RECIPE)}.")
    torch.manual_seed(recipe["seed"])
    start = logg.info(f"training {name} on {recipe['n_pairs']:,} synthetic pairs")
    train = causal_training_set(recipe, recipe["n_pairs"], seed=recipe["seed"] + 1)
    val = causal_training_set(recipe, recipe["n_validation"], seed=recipe["seed"] + 1000)
    logg.info("    images made", time=start)
    return _train_net(recipe, name, train, val, on_best)


def _train_net(recipe: dict, name: str, train: dict, val: dict, on_best=None):
    """The network of ``recipe`` fitted to ``train`` (best epoch on ``val``), as a :class:`cnnc.models.Model`."""
    import torch

    from ..models import CNNC, Model

    torch.manual_seed(recipe["seed"])
    start = logg.info(f"fitting {name}")
    net = CNNC(**recipe["architecture"])

    def model_of(best: dict, history: list[dict]) -> Model:
        return Model(net.eval(), _spec(net, recipe, name, best, history))

    def checkpoint(net, history):
        if on_best is not None:
            on_best(model_of(history[-1], history))
            net.train()

    best, history = _fit(net, train, val, recipe, checkpoint)
    logg.info("    finished", time=start)
    return model_of(best, history)


def train_causal_resolutions(
    views: dict[str, dict], recipe: dict | None = None, *, on_best=None, **changes
) -> dict[str, object]:
    """Train one cause-effect model per image resolution, all on the same synthetic pairs.

    The pairs are drawn once (as :func:`cnnc.models.train_causal` draws them) and imaged at each member's
    resolution; each member is then fitted as :func:`cnnc.models.train_causal` fits one. The members form an
    ensemble over resolutions: read together, each pair both ways, their direction scores are averaged.

    Parameters
    ----------
    views
        Each member's name mapped to its ``{"image": {...}, "architecture": {...}}`` settings (e.g. 8, 16 and 32
        bins, each with a network that fits its image size).
    recipe
        The other training settings (default ``cnnc._training._causal.CAUSAL_RECIPE``, the shipped model's).
    on_best
        Called as ``on_best(name, model)`` with a member's model at each new best epoch (e.g. to save it as it goes).
    **changes
        Settings of ``recipe`` to change (e.g. ``n_pairs=40_000``); an unknown name is refused.

    Returns
    -------
    ``{name: model}``, one :class:`cnnc.models.Model` per member.
    """
    import torch

    recipe = {**(recipe or CAUSAL_RECIPE), **changes}
    unknown = set(changes) - set(CAUSAL_RECIPE)
    if unknown:
        raise ValueError(f"Unknown recipe settings {sorted(unknown)}; known: {sorted(CAUSAL_RECIPE)}.")
    torch.manual_seed(recipe["seed"])
    images = [v["image"] for v in views.values()]
    start = logg.info(f"{len(views)} resolutions on {recipe['n_pairs']:,} synthetic pairs")
    train = causal_training_sets(recipe, images, recipe["n_pairs"], seed=recipe["seed"] + 1)
    val = causal_training_sets(recipe, images, recipe["n_validation"], seed=recipe["seed"] + 1000)
    logg.info("    images made", time=start)
    out = {}
    for i, (name, view) in enumerate(views.items()):
        member = {**recipe, **view}
        hook = None if on_best is None else (lambda model, name=name: on_best(name, model))
        out[name] = _train_net(member, name, train[i], val[i], hook)
    return out


def _spec(net, recipe: dict, name: str, best: dict, history: list[dict]):
    from ..models import ModelSpec

    return ModelSpec(
        name=name,
        task="direction",
        classes=CLASSES,
        image=PairImageParams(**recipe["image"]).to_dict(),
        architecture=net.config,
        gene_matching="exact",
        species=["any"],
        expects=(
            "any continuous or discrete variables (protein intensities, expression, z-scores, physical measurements;"
            " negative values allowed): the pair image has one channel of ranks and one of z-scores"
        ),
        training={
            "recipe": "cnnc._training._causal.CAUSAL_RECIPE (cnnc.models.train_causal)",
            **recipe,
            "best_epoch": best["epoch"],
            "history": history,
            "augmentation": "random reversal of either axis; transposition with the direction label swapped",
        },
        metrics={f"synthetic validation {k}": v for k, v in best.items() if k not in ("epoch",)},
    )
